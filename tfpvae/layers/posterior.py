"""The approximate posterior q(z|x) as a Keras layer."""

import keras

from tfpvae import checks
from tfpvae.backend import ps, tf
from tfpvae.layers.head import Head


@keras.saving.register_keras_serializable(package="tfpvae")
class Posterior(Head):
    """Encoder features -> q(z|x), a distribution over z in R^latent_dim.

    For a model that only passes tensors between layers (Sequential or
    functional), use `DistributionHead(family, event_shape=(latent_dim,),
    role="posterior")`, which returns the parameters.

    Args:
      family: a posterior family spec, e.g. "normal" or "mvn_tril".
      latent_dim: size of z, a positive int.

    Example:
      >>> q = Posterior("normal", latent_dim=2)(features)   # tfd.Distribution
      >>> z = q.sample(seed=(1, 2))                          # [N, 2]
    """

    def __init__(self, family="normal", latent_dim=2, **kwargs):
        kwargs.pop("role", None)
        latent_dim = checks.positive_int(latent_dim, "latent_dim")
        super().__init__(family, (latent_dim,), role="posterior", **kwargs)
        self.latent_dim = latent_dim

    def call(self, features, batch_shape=None):
        """Features [N, ...] -> q(z|x) with batch shape `batch_shape` (default [N])."""
        params = self.raw_params(features)
        if batch_shape is not None:
            params = tf.reshape(params, ps.concat([batch_shape, ps.shape(params)[-1:]], axis=0))
        if self.shared is None:
            return self.family.distribution(params, self.event_shape)
        return self.family.distribution(params, self.event_shape, shared=tf.convert_to_tensor(self.shared))

    def get_config(self):
        config = super().get_config()
        del config["event_shape"], config["role"]
        config["latent_dim"] = self.latent_dim
        return config
