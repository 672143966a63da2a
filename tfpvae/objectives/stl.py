"""The ELBO with the "sticking the landing" gradient (Roeder et al., arXiv:1703.09194).

The Monte Carlo ELBO's gradient with respect to q's parameters phi has a path
term, through z = z(phi, eps), and a score term, d log q(z; phi) / d phi at
fixed z, whose expectation is zero. STL drops the score term:

    ELBO_STL(x) = 1/L sum_l [log p(x|z_l) + log p(z_l) - log q_stop(z_l|x)]

with q_stop the same q with its parameters cut from the gradient. Its value is
the Monte Carlo ELBO; at q(z|x) = p(z|x) the integrand is log p(x) for every
z, so each draw's encoder gradient is exactly zero.
"""

from tfpvae.backend import tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight


class StickingTheLanding(Objective):
    """The Monte Carlo ELBO with path-derivative gradients for q.

    Needs q's parameters as tensors (`bounds.without_score`): a flow
    posterior (`iaf`) computes them inside its bijector and is refused.

    Args:
      beta: weight of log q(z|x) - log p(z).
    """

    name = "stl"

    def __init__(self, beta=1.0):
        self.beta = weight(beta, "beta")
        super().__init__(beta=self.beta)

    def check(self, q, prior):
        bounds.without_score(q, self.name)

    def __call__(self, batch):
        log_px_z, log_ratio = bounds.path_log_weight_parts(batch.q, batch.prior, batch.decode, batch.x,
                                                           batch.num_samples, batch.seed, self.name)
        reconstruction, kl = tf.reduce_mean(log_px_z, 0), tf.reduce_mean(log_ratio, 0)
        loss = batch.kl_weight * tf.reduce_mean(kl) - tf.reduce_mean(reconstruction)
        return Loss(loss, bounds.elbo_metrics(reconstruction, kl))
