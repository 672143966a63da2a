"""InfoVAE (Zhao et al., arXiv:1706.02262) and WAE-MMD (Tolstikhin et al., arXiv:1711.01558).

    loss = -1/L sum_l log p(x|z_l) + (1 - alpha) * KL(q(z|x) || p(z))
           + (alpha + lambda - 1) * MMD^2(q(z), p(z))

MMD^2 is the maximum mean discrepancy between the batch's draws z ~ q(z|x)
and as many draws from p(z), estimated without bias (Gretton et al., JMLR
2012):

    MMD^2 = mean_{i != j} k(z_i, z_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(z_i, y_j)

with an inverse-multiquadratic kernel k(a, b) = c / (c + |a - b|^2) or an RBF
kernel k(a, b) = exp(-|a - b|^2 / c), c = 2 d s^2 for z of size d and
bandwidth s. alpha = 1 drops the KL term: the MMD-VAE, or WAE-MMD with a
stochastic encoder.
"""

from tfpvae import backend, checks
from tfpvae.backend import ps, tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight

KERNELS = ("imq", "rbf")


def kernel_matrix(a, b, name="imq", bandwidth=1.0):
    """k(a_i, b_j) for vectors a [n, d] and b [m, d]: [n, m]."""
    c = 2.0 * tf.cast(ps.shape(a)[-1], a.dtype) * bandwidth**2
    squared = tf.reduce_sum(tf.square(a[:, None, :] - b[None, :, :]), axis=-1)
    return c / (c + squared) if name == "imq" else tf.exp(-squared / c)


def mmd(a, b, name="imq", bandwidth=1.0):
    """The unbiased estimate of MMD^2 between samples a [n, d] and b [m, d] (n, m >= 2), a scalar."""
    def within(sample):
        n = tf.cast(ps.shape(sample)[0], sample.dtype)
        matrix = kernel_matrix(sample, sample, name, bandwidth)
        return (tf.reduce_sum(matrix) - tf.linalg.trace(matrix)) / (n * (n - 1.0))

    return within(a) + within(b) - 2.0 * tf.reduce_mean(kernel_matrix(a, b, name, bandwidth))


class Mmd(Objective):
    """The reconstruction term with a weighted KL and a weighted MMD between q(z) and p(z) (InfoVAE).

    All L x B draws of the batch are compared with L x B draws of p(z); the
    prior's own weights are trained through the MMD only where p(z) draws
    are reparameterized (not a mixture's). Reports MMD^2 as `mmd`.

    Args:
      alpha: InfoVAE's alpha in [0, 1]; the KL term's weight is 1 - alpha
        (times the model's KL weight).
      lambda_: InfoVAE's lambda; the MMD's weight is alpha + lambda - 1,
        which must be >= 0.
      kernel: "imq" or "rbf".
      bandwidth: s, the kernel's length scale per coordinate (p(z)'s stddev
        suits a standard normal prior).
    """

    name = "mmd"
    metric_names = ("mmd",)

    def __init__(self, alpha=1.0, lambda_=100.0, kernel="imq", bandwidth=1.0):
        self.alpha, self.lambda_ = weight(alpha, "alpha"), weight(lambda_, "lambda_")
        if self.alpha > 1.0:
            raise ValueError(f"alpha must be in [0, 1]; received {alpha!r}")
        if self.alpha + self.lambda_ < 1.0:
            raise ValueError(f"the MMD's weight alpha + lambda_ - 1 must be >= 0; received alpha={alpha!r}, "
                             f"lambda_={lambda_!r}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {list(KERNELS)}; received {kernel!r}")
        self.kernel = kernel
        self.bandwidth = checks.real(bandwidth, "bandwidth", strict=True)
        super().__init__(alpha=self.alpha, lambda_=self.lambda_, kernel=kernel, bandwidth=self.bandwidth)

    def __call__(self, batch):
        q_seed, prior_seed = tf.unstack(backend.split(batch.seed, 2))
        z = batch.q.sample(batch.num_samples, seed=q_seed)
        reconstruction = tf.reduce_mean(batch.decode(z).log_prob(batch.x), axis=0)
        kl = tf.reduce_sum(bounds.kl_groups(batch.q, batch.prior, z, batch.kl_form), axis=-1)
        draws = tf.reshape(z, [-1, ps.shape(z)[-1]])
        divergence = mmd(draws, batch.prior.sample(ps.shape(draws)[0], seed=prior_seed), self.kernel,
                         self.bandwidth)
        loss = (batch.kl_weight * (1.0 - self.alpha) * tf.reduce_mean(kl)
                + (self.alpha + self.lambda_ - 1.0) * divergence - tf.reduce_mean(reconstruction))
        metrics = bounds.elbo_metrics(reconstruction, kl)
        metrics["mmd"] = tf.fill(ps.shape(kl), divergence)
        return Loss(loss, metrics)
