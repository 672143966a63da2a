"""DIP-VAE (Kumar et al., arXiv:1711.00848): the ELBO with the covariance of the aggregate posterior pulled towards I.

    loss = -1/L sum_l log p(x|z_l) + beta * KL(q(z|x) || p(z))
           + lambda_od sum_{i != j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2

with q(z|x) = N(mu(x), Sigma(x)) and C, over the batch's x,

    DIP-VAE-I:   C = Cov_x[mu(x)]
    DIP-VAE-II:  C = E_x[Sigma(x)] + Cov_x[mu(x)]   (the covariance of q(z))
"""

from tfpvae.backend import ps, tf, tfp
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight

tfd = tfp.distributions
VARIANTS = ("i", "ii")


def moments(q):
    """(mean [B, d], covariance [B, d, d]) of a Gaussian q(z|x), or None for other q."""
    if isinstance(q, tfd.MultivariateNormalLinearOperator):
        return q.mean(), q.covariance()
    if isinstance(q, tfd.Independent) and isinstance(q.distribution, tfd.Normal) and q.reinterpreted_batch_ndims == 1:
        return q.mean(), tf.linalg.diag(q.variance())
    return None


def covariance_of_means(mean):
    """Cov_x[mu(x)] over the batch: 1/B sum_b (mu_b - m)(mu_b - m)^T, [d, d]."""
    centred = mean - tf.reduce_mean(mean, axis=0)
    return tf.matmul(centred, centred, transpose_a=True) / tf.cast(ps.shape(mean)[0], mean.dtype)


class DipVae(Objective):
    """The ELBO with penalties that pull the covariance of the codes towards the identity.

    Needs q(z|x)'s mean and covariance in closed form: a Gaussian posterior
    ("normal", "mvn_tril", "low_rank"), one level. Reports the two penalties'
    sums, sum_{i != j} C_ij^2 and sum_i (C_ii - 1)^2, unweighted.

    Args:
      variant: "i" (C the covariance of the means) or "ii" (the covariance of q(z)).
      lambda_od: weight of the off-diagonal penalty.
      lambda_d: weight of the diagonal penalty; None takes Kumar et al.'s
        choice, 10 * lambda_od for "i" and lambda_od for "ii".
      beta: weight of the KL term; the model's KL weight.
    """

    name = "dip_vae"
    metric_names = ("dip_off_diagonal", "dip_diagonal")

    def __init__(self, variant="i", lambda_od=10.0, lambda_d=None, beta=1.0):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {list(VARIANTS)}; received {variant!r}")
        self.variant, self.lambda_od, self.beta = variant, weight(lambda_od, "lambda_od"), weight(beta, "beta")
        given = None if lambda_d is None else weight(lambda_d, "lambda_d")
        self.lambda_d = given if given is not None else self.lambda_od * (10.0 if variant == "i" else 1.0)
        super().__init__(variant=variant, lambda_od=self.lambda_od, lambda_d=given, beta=self.beta)

    def check(self, q, prior):
        if moments(q) is None:
            raise ValueError(f"objective {self.name!r} needs the mean and covariance of q(z|x) in closed form, "
                             f"which {type(q).__name__} lacks; use a Gaussian posterior: 'normal', 'mvn_tril' "
                             f"or 'low_rank', with one latent level")

    def covariance(self, q):
        """C of the batch, [d, d]."""
        mean, covariance = moments(q)
        result = covariance_of_means(mean)
        return result if self.variant == "i" else result + tf.reduce_mean(covariance, axis=0)

    def __call__(self, batch):
        reconstruction, kl = bounds.elbo_terms(batch.q, batch.prior, batch.decode, batch.x, batch.num_samples,
                                               batch.kl_form, batch.seed)
        covariance = self.covariance(batch.q)
        diagonal = tf.linalg.diag_part(covariance)
        off_diagonal = tf.reduce_sum(tf.square(covariance)) - tf.reduce_sum(tf.square(diagonal))
        on_diagonal = tf.reduce_sum(tf.square(diagonal - 1.0))
        penalty = self.lambda_od * off_diagonal + self.lambda_d * on_diagonal
        loss = tf.reduce_mean(batch.kl_weight * kl - reconstruction) + penalty
        metrics = {**bounds.elbo_metrics(reconstruction, kl), "dip_off_diagonal": tf.fill(ps.shape(kl), off_diagonal),
                   "dip_diagonal": tf.fill(ps.shape(kl), on_diagonal)}
        return Loss(loss, metrics)
