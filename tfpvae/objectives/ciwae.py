"""The combination importance-weighted bound (Rainforth et al., arXiv:1802.04537).

    CIWAE_beta(x) = beta * 1/K sum_k log w_k + (1 - beta) * log 1/K sum_k w_k

with w_k = p(x, z_k) / q(z_k|x), the same K draws in both: beta = 1 is the
Monte Carlo ELBO, beta = 0 the IWAE bound.
"""

from tfpvae.backend import tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight


class Ciwae(Objective):
    """A convex combination of the ELBO and the IWAE bound over the same K = `num_samples` draws.

    Reports the combination as `ciwae` and the IWAE bound as `iwae`. Its
    `beta` is the ELBO's share, not a KL weight: the model's KL weight is
    not used.

    Args:
      beta: the ELBO's weight, in [0, 1].
    """

    name = "ciwae"
    metric_names = ("ciwae", "iwae")

    def __init__(self, beta=0.5):
        share = weight(beta, "beta")
        if share > 1.0:
            raise ValueError(f"beta must be in [0, 1]; received {beta!r}")
        self.share = share
        super().__init__(beta=share)

    def __call__(self, batch):
        log_px_z, log_ratio = bounds.log_weight_parts(batch.q, batch.prior, batch.decode, batch.x,
                                                      batch.num_samples, batch.seed)
        log_w = log_px_z - log_ratio
        iwae = bounds.iwae_bound(log_w)
        bound = self.share * tf.reduce_mean(log_w, axis=0) + (1.0 - self.share) * iwae
        metrics = bounds.elbo_metrics(tf.reduce_mean(log_px_z, 0), tf.reduce_mean(log_ratio, 0))
        metrics.update(ciwae=bound, iwae=iwae)
        return Loss(-tf.reduce_mean(bound), metrics)
