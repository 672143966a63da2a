"""The likelihood p(x|z) as a Keras layer."""

import math

import keras

from tfpvae.backend import ps, tf
from tfpvae.layers.head import Head


@keras.saving.register_keras_serializable(package="tfpvae")
class Likelihood(Head):
    """Decoder features -> p(x|z), a distribution with the event shape of x.

    For a model that only passes tensors between layers (Sequential or
    functional), use `DistributionHead`, which returns the parameters.

    Args:
      family: a likelihood family spec, e.g. "bernoulli" or "normal".
      event_shape: shape of one x, e.g. (28, 28, 1).

    Example:
      >>> p = Likelihood("bernoulli", event_shape=(8, 8, 1))(features)   # tfd.Distribution
      >>> p.log_prob(x)   # [N]
    """

    def __init__(self, family="bernoulli", event_shape=(1,), **kwargs):
        kwargs.pop("role", None)
        super().__init__(family, event_shape, role="likelihood", **kwargs)

    def call(self, features, batch_shape=None):
        """Features [N, ...] -> a distribution with batch shape `batch_shape`.

        `batch_shape` (default [N]) must have N elements: the model decodes
        z of shape [L, B, d] as [L * B, d] and asks for batch shape [L, B].
        """
        params = self.raw_params(features)
        if batch_shape is not None:
            size = self.family.num_params(math.prod(self.event_shape))
            params = tf.reshape(params, ps.concat([batch_shape, [size]], axis=0))
        if self.shared is None:
            return self.family.distribution(params, self.event_shape)
        return self.family.distribution(params, self.event_shape, shared=tf.convert_to_tensor(self.shared))

    def get_config(self):
        config = super().get_config()
        del config["role"]
        return config
