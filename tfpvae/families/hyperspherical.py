"""Distributions on the unit sphere S^(d-1) in R^d, for latents z with |z| = 1.

A direction mu = v / |v| and a concentration kappa = softplus(raw) +
min_concentration come from d + 1 raw numbers (v, raw). Davidson et al.
(arXiv:1804.00891) add 1 to kappa (the default floor here) so that q cannot
collapse onto the uniform distribution.
"""

from tfpvae import checks
from tfpvae.backend import tf
from tfpvae.families.base import Family, constraint


class Hyperspherical(Family):
    """A TFP distribution on S^(d-1) with `mean_direction` and `concentration`.

    Subclasses name the TFP class. The KL to a `spherical_uniform` prior is
    analytic where TFP registers it.

    Args:
      min_concentration: lower bound of kappa.
    """

    roles = ("posterior",)
    distribution_class = None
    support = "the unit sphere"

    def latent_space(self):
        return "the unit sphere S^(d-1)"

    def __init__(self, name, min_concentration=1.0):
        self.min_concentration = checks.real(min_concentration, f"{name!r}: min_concentration")
        super().__init__(name, min_concentration=self.min_concentration)

    def num_params(self, event_size):
        if event_size < 2:
            raise ValueError(f"{self.name!r} lives on the sphere in R^d and needs latent_dim d >= 2; "
                             f"received latent size {event_size}")
        return event_size + 1

    def distribution(self, params, event_shape):
        (d,) = event_shape
        direction, raw = tf.split(params, [d, 1], axis=-1)
        softplus = constraint(self.distribution_class, "concentration", self.min_concentration)
        return self.distribution_class(mean_direction=tf.math.l2_normalize(direction, axis=-1),
                                       concentration=softplus(raw[..., 0]))
