"""Continuous Bernoulli likelihood (Loaiza-Ganem & Cunningham, arXiv:1907.06845).

p(x|lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x) on [0, 1]: the Bernoulli
cross-entropy with the normalizing constant C(lambda) that makes it a density
of grey levels.
"""

from tfpvae.backend import tfp
from tfpvae.families.independent import Independent

tfd = tfp.distributions


class ContinuousBernoulli(Independent):
    """Independent continuous Bernoulli pixels, parameterized by logits."""

    roles = ("likelihood",)
    distribution_class = tfd.ContinuousBernoulli
    parameters = ("logits",)
    support = "[0, 1]"
    low, high = 0.0, 1.0
    hint = "Scale x to [0, 1], e.g. x / 255 for 8-bit images."
    fits = "grey levels in [0, 1]"
