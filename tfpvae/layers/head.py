"""A Dense head that turns network features into a distribution."""

import math

import keras
import tensorflow as tf

from tfpvae import families


class DistributionHead(keras.layers.Layer):
    """features -> Dense -> raw parameters -> `family.distribution`.

    The Dense layer computes in float32 whatever the global dtype policy is, so
    under mixed precision distribution parameters and log-probs stay float32.

    Args:
      family: a family spec (name, dict or `Family`).
      role: the family's role, "posterior" or "likelihood".
      event_shape: shape of one draw.
    """

    role = None

    def __init__(self, family, event_shape, **kwargs):
        super().__init__(**kwargs)
        self.family = families.get(family, role=self.role)
        self.supports_jit = self.family.xla
        self.event_shape = tuple(int(d) for d in event_shape)
        size = math.prod(self.event_shape)
        self.params = keras.layers.Dense(
            self.family.num_params(size), dtype="float32", name="params"
        )
        shared = self.family.initial_shared(size)
        self.shared = None
        if shared.size:
            self.shared = self.add_weight(shape=shared.shape, dtype="float32", name="shared",
                                          initializer=keras.initializers.Constant(shared),
                                          trainable=self.family.shared_trainable)

    def pixelwise(self, features_shape):
        """True when features are a map over the event's positions.

        Then a per-position Dense (a 1x1 convolution) gives each element's
        parameters, instead of one Dense from all features to all parameters.
        """
        spatial = tuple(features_shape[1:-1])
        return bool(spatial) and spatial == self.event_shape[:-1] and self.family.elementwise

    def build(self, features_shape):
        if self.pixelwise(features_shape):
            per_element = self.family.num_params(1)
            self.params = keras.layers.Dense(
                per_element * self.event_shape[-1], dtype="float32", name="params"
            )
            self.params.build((None, features_shape[-1]))
        else:
            self.params.build((None, math.prod(features_shape[1:])))

    def call(self, features, batch_shape=None):
        """Features [N, ...] -> a distribution with batch shape `batch_shape`.

        `batch_shape` (default [N]) must have N elements: the model decodes
        z of shape [L, B, d] as [L * B, d] and asks for batch shape [L, B].
        """
        features = tf.cast(features, tf.float32)
        if not self.pixelwise(features.shape):
            features = tf.reshape(features, [-1, math.prod(features.shape[1:])])
        if batch_shape is None:
            batch_shape = tf.shape(features)[:1]
        size = self.family.num_params(math.prod(self.event_shape))
        params = tf.reshape(self.params(features), tf.concat([batch_shape, [size]], axis=0))
        if self.shared is None:
            return self.family.distribution(params, self.event_shape)
        return self.family.distribution(params, self.event_shape, shared=tf.convert_to_tensor(self.shared))

    def get_config(self):
        config = super().get_config()
        config.update({"family": self.family.get_config(), "event_shape": list(self.event_shape)})
        return config
