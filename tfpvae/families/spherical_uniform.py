"""The uniform prior on the unit sphere S^(d-1)."""

from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import Family

tfd = tfp.distributions


class SphericalUniform(Family):
    """The uniform distribution on the unit sphere S^(d-1) in R^d (no parameters).

    log p(z) = -log |S^(d-1)| = -(log 2 + (d/2) log pi - lgamma(d/2)) for
    |z| = 1. The partner of the `von_mises_fisher` and `power_spherical`
    posteriors, whose KLs to it TFP registers in closed form. It scores every
    z by that constant, on the sphere or not, so a posterior off the sphere
    (a Gaussian) has no meaningful KL to it.

    Example:
      >>> p = tfpvae.families.get("spherical_uniform", role="prior")
      >>> p.distribution(np.zeros([0], np.float32), (5,)).sample(3)   # [3, 5], unit rows

    References:
      Davidson et al., Hyperspherical Variational Auto-Encoders, arXiv:1804.00891.
    """

    roles = ("prior",)
    trainable = False
    support = "the unit sphere"

    def __init__(self, name):
        super().__init__(name)

    def latent_space(self):
        return "the unit sphere S^(d-1)"

    def num_params(self, event_size):
        if event_size < 2:
            raise ValueError(f"{self.name!r} lives on the sphere in R^d and needs latent_dim d >= 2; "
                             f"received latent size {event_size}")
        return 0

    def distribution(self, params, event_shape):
        (d,) = event_shape
        return tfd.SphericalUniform(dimension=d, batch_shape=ps.shape(params)[:-1], dtype=tf.float32)
