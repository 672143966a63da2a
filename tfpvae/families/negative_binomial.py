"""Negative binomial likelihood: over-dispersed counts, total_count and logits per element."""

from tfpvae.backend import tfp
from tfpvae.families.independent import Independent

tfd = tfp.distributions


class NegativeBinomial(Independent):
    """Independent negative binomial counts (variance above the mean)."""

    roles = ("likelihood",)
    distribution_class = tfd.NegativeBinomial
    parameters = ("total_count", "logits")
    support = "non-negative integers"
    low = 0.0
    integer = True
    hint = "Counts must be given as they are, not scaled."
    fits = "over-dispersed count data"
