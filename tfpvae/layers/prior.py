"""The prior p(z) as a Keras layer that owns its parameters."""

import math

import keras

from tfpvae import checks, families
from tfpvae.backend import tf
from tfpvae.layers.head import float32


@keras.saving.register_keras_serializable(package="tfpvae")
class Prior(keras.layers.Layer):
    """p(z): a family applied to a vector of free (possibly trainable) weights.

    Called with no input, it returns the prior as a `tfd.Distribution` over
    R^latent_dim, in float32 whatever the global dtype policy. `normal` is
    the fixed N(0, I); the other families train their weights with the rest
    of the model. A VampPrior (`vamp`) is the
    posterior at learned pseudo-inputs: its weights are those inputs, of
    shape `data_shape`, and it is called with `encode`, the map from x to
    q(z|x).

    Args:
      family: a prior family spec.
      latent_dim: size of z, a positive int.
      data_shape: shape of one x (needed by `vamp` only).

    Example:
      >>> p = Prior("mixture", latent_dim=2)()
      >>> p.sample(5)   # [5, 2]
    """

    def __init__(self, family="normal", latent_dim=2, data_shape=None, **kwargs):
        super().__init__(**float32(kwargs))
        self.family = families.get(family, role="prior")
        self.supports_jit = self.family.xla
        self.latent_dim = checks.positive_int(latent_dim, "latent_dim")
        self.data_shape = checks.shape_tuple(data_shape, "data_shape") if data_shape is not None else None
        self.needs_encoder = self.family.needs_encoder
        if self.needs_encoder and self.data_shape is None:
            raise ValueError(f"prior {self.family.name!r} needs data_shape, the shape of one x; "
                             f"received data_shape=None")

    def build(self, input_shape=None):
        size = math.prod(self.data_shape) if self.needs_encoder else self.latent_dim
        initial = self.family.initial_params(size)
        self.params = self.add_weight(
            shape=initial.shape,
            initializer=keras.initializers.Constant(initial),
            trainable=self.family.trainable,
            name="params",
        )

    def call(self, *, encode=None):
        """p(z); `encode` (x -> q(z|x)) is needed by priors built from the posterior."""
        params = tf.convert_to_tensor(self.params)
        if not self.needs_encoder:
            return self.family.distribution(params, (self.latent_dim,))
        if encode is None:
            raise ValueError(f"prior {self.family.name!r} needs encode, the map from x to q(z|x); "
                             f"received encode=None")
        return self.family.mixture(encode(self.family.pseudo_inputs(params, self.data_shape)))

    def get_config(self):
        config = super().get_config()
        config.update({"family": self.family.get_config(), "latent_dim": self.latent_dim,
                       "data_shape": list(self.data_shape) if self.data_shape else None})
        return config
