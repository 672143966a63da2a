"""Poisson likelihood: p(x) = rate^x exp(-rate) / x!, with log_rate from the decoder."""

import numpy as np

from tfpvae.backend import tfp
from tfpvae.families.independent import Independent

tfd = tfp.distributions
# The smallest rate a marginal fit starts from, so all-zero elements keep a finite log-rate.
MIN_RATE = 1e-3


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

    def marginal_params(self, x):
        rate = np.maximum(np.mean(x, axis=0, dtype=np.float64), MIN_RATE)
        return np.log(rate).reshape(-1).astype(np.float32)
