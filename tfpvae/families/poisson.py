"""Poisson likelihood: p(x) = rate^x exp(-rate) / x!, with log_rate from the decoder."""

import tensorflow_probability as tfp

from tfpvae.families.independent import Independent

tfd = tfp.distributions


class Poisson(Independent):
    """Independent Poisson counts, parameterized by log-rates."""

    roles = ("likelihood",)
    distribution_class = tfd.Poisson
    parameters = ("log_rate",)
    support = "non-negative integers"
    low = 0.0
    integer = True
    hint = "Counts must be given as they are, not scaled."
    fits = "count data"
