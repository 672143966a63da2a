"""The IWAE bound with doubly reparameterized gradients (Tucker et al., arXiv:1810.04152).

With log w_l = log p(x|z_l) + log p(z_l) - log q(z_l|x) and normalized weights
w~_l = w_l / sum_m w_m, the IWAE gradient for the inference network is
sum_l w~_l d log w_l / d phi, whose score part is noisy. DReG rewrites it as

    sum_l w~_l^2 (d log w_l / d z_l)(d z_l / d phi)

(the score term reparameterized a second time), computed as the gradient of
the surrogate sum_l stop(w~_l^2) log w_l with q's parameters cut inside
log q. The generative network keeps the IWAE gradient, and the value is the
IWAE bound. At q(z|x) = p(z|x) every log w_l is log p(x), so each draw's
encoder gradient is exactly zero.
"""

from tfpvae.backend import tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective


class DoublyReparameterized(Objective):
    """The IWAE bound with L = `num_samples` draws and DReG encoder gradients.

    Needs q's parameters as tensors (`bounds.without_score`): a flow
    posterior (`iaf`) is refused. Reports the bound as `iwae`.
    """

    name = "dreg"
    metric_names = ("iwae",)

    def check(self, q, prior):
        bounds.without_score(q, self.name)

    def __call__(self, batch):
        log_px_z, log_ratio = bounds.path_log_weight_parts(batch.q, batch.prior, batch.decode, batch.x,
                                                           batch.num_samples, batch.seed, self.name)
        log_w = log_px_z - log_ratio
        bound = bounds.iwae_bound(log_w)
        squared = tf.stop_gradient(tf.square(tf.nn.softmax(log_w, axis=0)))
        encoder_surrogate = -tf.reduce_mean(tf.reduce_sum(squared * log_w, axis=0))
        metrics = bounds.elbo_metrics(tf.reduce_mean(log_px_z, 0), tf.reduce_mean(log_ratio, 0))
        metrics["iwae"] = bound
        return Loss(-tf.reduce_mean(bound), metrics, encoder_value=encoder_surrogate)
