"""Power spherical posterior on the sphere (De Cao & Aziz, arXiv:2001.04856)."""

from tfpvae.backend import tfp
from tfpvae.families.hyperspherical import Hyperspherical

tfd = tfp.distributions


class PowerSpherical(Hyperspherical):
    """q(z|x) on S^(d-1) with density proportional to (1 + mu^T z)^kappa.

    Drawn without rejection (a Beta draw for mu^T z, a uniform direction for
    the rest), so z is fully reparameterized and XLA compiles it. TFP
    registers its KL to `spherical_uniform` (and to a von Mises-Fisher).

    Args:
      min_concentration: lower bound of kappa (default 1).

    Example:
      >>> vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=5,
      ...                  posterior="power_spherical", prior="spherical_uniform")

    References:
      De Cao & Aziz, The Power Spherical distribution, arXiv:2001.04856.
    """

    distribution_class = tfd.PowerSpherical
