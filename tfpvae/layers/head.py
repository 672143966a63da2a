"""The Dense part every distribution layer shares: features -> raw parameters.

A family turns raw parameters (unconstrained numbers, `family.num_params(n)`
of them for an event of n elements) into a `tfd.Distribution`. `Head` owns the
Dense layer that computes them from network features and, for a family with
weights shared by all examples (a learned per-dimension scale, a flow's
networks), those weights.

The helpers below let a parameter tensor travel between Keras layers and
losses: its last axis holds the family's raw parameters followed by the
shared weights, repeated for every example, so the tensor alone determines
the distribution.
"""

import math

import keras
import numpy as np

from tfpvae import checks, families
from tfpvae.backend import ps, tf

HEAD_ROLES = ("likelihood", "posterior")


def family_for(spec, role=None):
    """The family a spec names, for a layer that maps features to parameters.

    Args:
      spec: a family name, a dict `{"name": ..., **options}`, or a `Family`.
      role: "likelihood" or "posterior"; None looks the name up as a
        likelihood first, then as a posterior.

    Returns:
      A `Family`.

    Raises:
      ValueError: for a role other than those two, or a name neither knows.
    """
    if role is not None:
        if role not in HEAD_ROLES:
            raise ValueError(f"role must be one of {list(HEAD_ROLES)} or None; received {role!r}")
        return families.get(spec, role=role)
    if isinstance(spec, families.Family):
        return spec
    name, _ = checks.spec(spec, "a family spec must be")
    for candidate in HEAD_ROLES:
        if name in families.names()[candidate]:
            return families.get(spec, role=candidate)
    known = {r: families.names()[r] for r in HEAD_ROLES}
    raise ValueError(f"unknown family {name!r}; valid families: {known}")


def role_of(family, role):
    """The role a family was found under: `role` if given, else the first that lists its name."""
    if role is not None:
        return role
    return next((r for r in HEAD_ROLES if family.name in families.names()[r]), HEAD_ROLES[0])


def event_shape_tuple(event_shape, name="event_shape"):
    """`event_shape` as a tuple of positive ints, or a ValueError naming it."""
    if isinstance(event_shape, (int,)) and not isinstance(event_shape, bool):
        event_shape = (event_shape,)
    return checks.shape_tuple(event_shape, name)


def float32(kwargs):
    """A layer's keyword arguments with its dtype policy set to float32.

    Distribution parameters, draws and log-densities are computed in float32
    whatever the global policy: under "mixed_float16" Keras would otherwise
    cast a layer's inputs and weights to float16.
    """
    dtype = kwargs.get("dtype")
    if dtype is not None and keras.dtype_policies.get(dtype).name != "float32":
        raise ValueError(f"dtype: distribution layers compute in float32; received {dtype!r}")
    return {**kwargs, "dtype": "float32"}


def shared_size(family, event_shape):
    """Number of weights the family shares across examples for this event shape."""
    return int(family.initial_shared(math.prod(event_shape)).size)


def width(family, event_shape):
    """Length of the last axis of a parameter tensor: raw parameters + shared weights."""
    return family.num_params(math.prod(event_shape)) + shared_size(family, event_shape)


def check_width(layer, family, event_shape, params_shape):
    """Raises unless a parameter tensor of `params_shape` fits the family over `event_shape`."""
    expected = width(family, event_shape)
    if params_shape[-1] != expected:
        raise ValueError(f"{layer} with family {family.name!r} over {event_shape} needs parameters with "
                         f"{expected} entries on the last axis; received shape {tuple(params_shape)}")


def distribution_from(family, params, event_shape):
    """The distribution that a parameter tensor `[..., width]` describes.

    Args:
      family: a `Family`.
      params: float tensor whose last axis has `width(family, event_shape)`
        entries; cast to float32.
      event_shape: tuple of ints, the shape of one event.

    Returns:
      A `tfd.Distribution` with batch shape `params.shape[:-1]`.
    """
    params = tf.cast(params, tf.float32)
    count = params.shape[-1]
    expected = width(family, event_shape)
    if count is not None and count != expected:
        raise ValueError(f"{family.name!r} over event shape {event_shape} needs parameters with "
                         f"{expected} entries on the last axis; received shape {params.shape}")
    n = family.num_params(math.prod(event_shape))
    if expected == n:
        return family.distribution(params, event_shape)
    raw, shared = params[..., :n], params[..., n:]
    first = tf.reshape(shared, [-1, expected - n])[0]
    return family.distribution(raw, event_shape, shared=first)


def log_prob(family, params, y, event_shape):
    """log p(y_n | params_n) per example, float32 [...]; y is reshaped to [..., *event_shape]."""
    shape = ps.concat([ps.shape(params)[:-1], list(event_shape)], axis=0)
    y = tf.reshape(tf.cast(y, tf.float32), shape)
    return distribution_from(family, params, event_shape).log_prob(y)


class Head(keras.layers.Layer):
    """features -> Dense -> raw parameters of a family, in float32.

    The Dense layer computes in float32 whatever the global dtype policy is,
    so under mixed precision distribution parameters and log-probs stay
    float32. When the features are a map over the event's positions (a
    decoder's last feature map for an image), each position gets its own
    parameters from a per-position Dense (a 1x1 convolution).

    Args:
      family: a family spec (name, dict or `Family`).
      event_shape: shape of one draw, a tuple of positive ints.
      role: "likelihood" or "posterior" (None: likelihood, else posterior).
    """

    def __init__(self, family, event_shape, role=None, **kwargs):
        super().__init__(**float32(kwargs))
        self.family = family_for(family, role)
        self.role = role_of(self.family, role)
        self.event_shape = event_shape_tuple(event_shape)
        self.supports_jit = self.family.xla

    def pixelwise(self, features_shape):
        """True when features `[N, *event_shape[:-1], C]` are a map over the event's positions."""
        spatial = tuple(features_shape[1:-1])
        return bool(spatial) and spatial == self.event_shape[:-1] and self.family.elementwise

    def build(self, features_shape):
        size = math.prod(self.event_shape)
        if self.pixelwise(features_shape):
            units, fan_in = self.family.num_params(1) * self.event_shape[-1], features_shape[-1]
        else:
            units, fan_in = self.family.num_params(size), math.prod(features_shape[1:])
        self.params = keras.layers.Dense(units, dtype="float32", name="params")  # not autocast
        self.params.build((None, fan_in))
        shared = self.family.initial_shared(size)
        self.shared = None
        if shared.size:
            self.shared = self.add_weight(shape=shared.shape, dtype="float32", name="shared",
                                          initializer=keras.initializers.Constant(shared),
                                          trainable=self.family.shared_trainable)

    def initialize_from(self, x):
        """Sets the Dense layer's bias to the family's fit of each element's
        marginal in x (`Family.marginal_params`), so the distribution starts
        at the data's marginal whatever the features; a map over positions
        gets each channel's fit averaged over the positions.

        Args:
          x: numpy array [N, *event_shape] of examples.

        Returns:
          True if the bias was set, False where the family has no marginal fit.
        """
        if not self.built:
            raise ValueError(f"{self.name}: initialize_from needs a built layer; call it after the model is built")
        params = self.family.marginal_params(np.asarray(x, np.float32).reshape(-1, *self.event_shape))
        if params is None:
            return False
        bias = self.params.bias
        if params.size != math.prod(bias.shape):
            # A map over positions: parameters [*positions, channels * count] share one bias.
            params = params.reshape(-1, math.prod(bias.shape)).mean(axis=0)
        bias.assign(params.reshape(bias.shape))
        return True

    def raw_params(self, features):
        """Features [N, ...] -> the family's raw parameters [N, num_params], float32."""
        features = tf.cast(features, tf.float32)
        if not self.pixelwise(features.shape):
            features = tf.reshape(features, [-1, math.prod(features.shape[1:])])
        size = self.family.num_params(math.prod(self.event_shape))
        return tf.reshape(self.params(features), [-1, size])

    def get_config(self):
        config = super().get_config()
        config.update({"family": self.family.get_config(), "event_shape": list(self.event_shape),
                       "role": self.role})
        return config
