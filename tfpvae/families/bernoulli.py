"""Bernoulli likelihood with logits: p(x|z) = prod_i p_i^x_i (1 - p_i)^(1 - x_i)."""

import numpy as np

from tfpvae.backend import tf, tfp
from tfpvae.families.independent import Independent

tfd = tfp.distributions
# Marginal means are kept this far from 0 and 1, so their logits stay finite.
MARGINAL_EPSILON = 1e-3


class LogitBernoulli(tfd.Bernoulli):
    """TFP's Bernoulli, its log-density written with one softplus:
    log p(x) = x l - softplus(l), equal to TFP's -x softplus(-l) - (1 - x) softplus(l)
    (softplus(-l) = softplus(l) - l), which computes two."""

    def _log_prob(self, x):
        logits = self._logits_parameter_no_checks()
        return tf.cast(x, logits.dtype) * logits - tf.nn.softplus(logits)


class Bernoulli(Independent):
    """Independent Bernoulli pixels, parameterized by logits.

    For binary data. On grey levels in [0, 1] its log_prob is the cross-entropy
    most VAE code uses, which is not a normalized density of continuous x
    (see `continuous_bernoulli`).
    """

    roles = ("likelihood",)
    distribution_class = LogitBernoulli
    parameters = ("logits",)
    support = "[0, 1]"
    low, high = 0.0, 1.0
    hint = "Scale x to [0, 1], e.g. x / 255 for 8-bit images."
    fits = "binary data in {0, 1}"

    def element(self, logits):
        return LogitBernoulli(logits=logits, dtype=tf.float32)

    def marginal_params(self, x):
        mean = np.clip(np.mean(x, axis=0, dtype=np.float64), MARGINAL_EPSILON, 1.0 - MARGINAL_EPSILON)
        return np.log(mean / (1.0 - mean)).reshape(-1).astype(np.float32)
