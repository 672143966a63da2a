"""The likelihood p(x|z) as a Keras layer."""

import keras

from tfpvae.layers.head import DistributionHead


@keras.saving.register_keras_serializable(package="tfpvae")
class Likelihood(DistributionHead):
    """Decoder features -> p(x|z), a distribution with the event shape of x.

    Args:
      family: a likelihood family spec, e.g. "bernoulli" or "normal".
      event_shape: shape of one x, e.g. (28, 28, 1).
    """

    role = "likelihood"

    def __init__(self, family="bernoulli", event_shape=(1,), **kwargs):
        super().__init__(family, event_shape, **kwargs)
