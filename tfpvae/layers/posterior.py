"""The approximate posterior q(z|x) as a Keras layer."""

import keras

from tfpvae.layers.head import DistributionHead


@keras.saving.register_keras_serializable(package="tfpvae")
class Posterior(DistributionHead):
    """Encoder features -> q(z|x), a distribution over z in R^latent_dim.

    Args:
      family: a posterior family spec, e.g. "normal" or "mvn_tril".
      latent_dim: size of z.

    Example:
      >>> q = Posterior("normal", latent_dim=2)(features)   # tfd.Distribution
    """

    role = "posterior"

    def __init__(self, family="normal", latent_dim=2, **kwargs):
        super().__init__(family, (latent_dim,), **kwargs)
        self.latent_dim = latent_dim

    def get_config(self):
        config = super().get_config()
        del config["event_shape"]
        config["latent_dim"] = self.latent_dim
        return config
