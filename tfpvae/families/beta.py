"""Beta likelihood: p(x) = x^(a-1) (1-x)^(b-1) / B(a, b) on the open interval (0, 1)."""

from tfpvae.backend import tfp
from tfpvae.families.independent import Independent

tfd = tfp.distributions


class Beta(Independent):
    """Independent Beta pixels; both concentrations are softplus(raw) + min_scale.

    min_scale defaults to 0.1: below it float32 draws land on 0 or 1 exactly,
    where the density is infinite.
    """

    roles = ("likelihood",)
    distribution_class = tfd.Beta
    parameters = ("concentration1", "concentration0")
    support = "(0, 1), ends excluded"
    low, high = 0.0, 1.0
    open_interval = True
    hint = "Move x inside (0, 1), e.g. (x * 255 + 0.5) / 256 for 8-bit images."
    fits = "proportions and grey levels strictly inside (0, 1)"

    def __init__(self, name, min_scale=0.1):
        super().__init__(name, min_scale=min_scale)
