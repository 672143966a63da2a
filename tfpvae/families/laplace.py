"""Laplace: sparse latents and robust reconstructions; loc and scale per element."""

import numpy as np

from tfpvae.backend import tfp
from tfpvae.families.base import inverse_softplus
from tfpvae.families.independent import Independent

tfd = tfp.distributions


class Laplace(Independent):
    """Independent Laplace elements: density exp(-|x - loc| / scale) / (2 scale).

    As a prior its loc and scale are trained, starting at Laplace(0, 1) (a
    sparsity-favouring prior); as a posterior z = loc + scale * e, e a
    reparameterized Laplace draw. TFP registers the KL between two Laplace
    distributions; with a Gaussian partner `kl="auto"` uses Monte Carlo.

    Args:
      min_scale: lower bound of the scale.

    Example:
      >>> vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=8, prior="laplace", posterior="laplace")
    """

    roles = ("prior", "posterior", "likelihood")
    distribution_class = tfd.Laplace
    parameters = ("loc", "scale")
    trainable = True
    fits = "real-valued data with outliers (absolute-error reconstructions)"

    def initial_params(self, event_size):
        loc_scale = [np.zeros(event_size), np.full(event_size, inverse_softplus(1.0, self.min_scale))]
        return np.stack(loc_scale, axis=-1).reshape(-1).astype(np.float32)
