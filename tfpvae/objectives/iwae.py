"""The importance-weighted bound (Burda et al., arXiv:1509.00519).

    IWAE_L(x) = log 1/L sum_l p(x|z_l) p(z_l)^beta / q(z_l|x)^beta,   z_l ~ q(z|x)

with beta = 1 the bound on log p(x) that tightens as L grows; loss = -mean_x IWAE_L.
"""

from tfpvae.backend import tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight


class Iwae(Objective):
    """The IWAE bound with L = `num_samples` draws; reports it as `iwae`.

    Args:
      beta: weight of log q(z|x) - log p(z) inside each importance weight.
    """

    name = "iwae"
    metric_names = ("iwae",)

    def __init__(self, beta=1.0):
        self.beta = weight(beta, "beta")
        super().__init__(beta=self.beta)

    def __call__(self, batch):
        log_px_z, log_ratio = bounds.log_weight_parts(batch.q, batch.prior, batch.decode, batch.x,
                                                      batch.num_samples, batch.seed)
        bound = bounds.iwae_bound(log_px_z - batch.kl_weight * log_ratio)
        metrics = bounds.elbo_metrics(tf.reduce_mean(log_px_z, 0), tf.reduce_mean(log_ratio, 0))
        metrics["iwae"] = bounds.iwae_bound(log_px_z - log_ratio)
        return Loss(-tf.reduce_mean(bound), metrics)
