"""The multiply importance-weighted bound (Rainforth et al., arXiv:1802.04537).

    MIWAE_{M,K}(x) = 1/M sum_m log 1/K sum_k w_mk,    w_mk = p(x, z_mk) / q(z_mk|x)

M independent IWAE_K bounds averaged: M = 1 is the IWAE bound, K = 1 the
Monte Carlo ELBO with M draws.
"""

from tfpvae import checks
from tfpvae.backend import ps, tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective


def group_bounds(log_w, groups):
    """The IWAE bound of each of `groups` consecutive blocks of draws.

    Args:
      log_w: log-weights [M * K, B], block m being draws m K .. (m + 1) K - 1.
      groups: M.

    Returns:
      [M, B].
    """
    blocks = tf.reshape(log_w, ps.concat([[groups, -1], ps.shape(log_w)[1:]], axis=0))
    return bounds.log_mean_exp(blocks, axis=1)


class Miwae(Objective):
    """The average of M = `num_estimates` IWAE bounds, each with K = `num_samples` draws.

    Draws M x K z per example. Reports the bound as `miwae`.

    Args:
      num_estimates: M, the number of IWAE bounds averaged.
    """

    name = "miwae"
    metric_names = ("miwae",)

    def __init__(self, num_estimates=4):
        self.num_estimates = checks.positive_int(num_estimates, "num_estimates")
        super().__init__(num_estimates=self.num_estimates)

    def log_weights(self, batch):
        """log w of the M x K draws [M * K, B], and the metrics every objective reports."""
        log_px_z, log_ratio = bounds.log_weight_parts(batch.q, batch.prior, batch.decode, batch.x,
                                                      self.num_estimates * batch.num_samples, batch.seed)
        metrics = bounds.elbo_metrics(tf.reduce_mean(log_px_z, 0), tf.reduce_mean(log_ratio, 0))
        return log_px_z - log_ratio, metrics

    def __call__(self, batch):
        log_w, metrics = self.log_weights(batch)
        bound = tf.reduce_mean(group_bounds(log_w, self.num_estimates), axis=0)
        metrics["miwae"] = bound
        return Loss(-tf.reduce_mean(bound), metrics)
