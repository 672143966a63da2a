"""beta-TCVAE (Chen et al., arXiv:1802.04942): the KL term split in three, each weighted.

    loss = -1/L sum_l log p(x|z_l) + alpha * I + beta * TC + gamma * DW

with I the index-code mutual information, TC the total correlation of the
aggregate posterior q(z) and DW the dimension-wise KL, each estimated on the
batch (see `tfpvae.objectives.aggregate`). With alpha = beta = gamma = 1 the
loss is the negative Monte Carlo ELBO.
"""

from tfpvae import checks
from tfpvae.backend import ps, tf
from tfpvae.objectives import aggregate, bounds
from tfpvae.objectives.base import Loss, Objective, weight


class BetaTc(Objective):
    """The ELBO with its KL split into mutual information, total correlation and dimension-wise KL, each weighted.

    q(z) and its marginals are estimated from the batch by minibatch-weighted
    ("mws") or stratified ("mss") sampling (`aggregate.weights`), over
    `dataset_size` examples. Needs the marginals q(z_j|x): Gaussian
    posteriors ("normal", "mvn_tril", "low_rank"); a flow (`iaf`) is refused.
    Any prior with a log-density works: for a factorized p(z) the third term
    is sum_j KL(q(z_j) || p(z_j)), otherwise KL(prod_j q(z_j) || p(z)).
    Reports the three terms per example.

    Args:
      alpha: weight of the mutual information I(x; z).
      beta: weight of the total correlation; it is the model's KL weight, so
        `callbacks.KLWarmup` ramps it.
      gamma: weight of the dimension-wise KL.
      sampling: "mws" or "mss".
      dataset_size: N, the number of training examples q(z) averages over;
        None takes the batch as the data set (N = B).
    """

    name = "beta_tc"
    metric_names = ("mutual_information", "total_correlation", "dimension_wise_kl")

    def __init__(self, alpha=1.0, beta=6.0, gamma=1.0, sampling="mws", dataset_size=None):
        self.alpha, self.beta, self.gamma = weight(alpha, "alpha"), weight(beta, "beta"), weight(gamma, "gamma")
        if sampling not in aggregate.SAMPLING:
            raise ValueError(f"sampling must be one of {list(aggregate.SAMPLING)}; received {sampling!r}")
        self.sampling = sampling
        self.dataset_size = None if dataset_size is None else checks.positive_int(dataset_size, "dataset_size")
        super().__init__(alpha=self.alpha, beta=self.beta, gamma=self.gamma, sampling=sampling,
                         dataset_size=self.dataset_size)

    def check(self, q, prior):
        aggregate.check_marginals(q, self.name)

    def __call__(self, batch):
        z = batch.q.sample(batch.num_samples, seed=batch.seed)
        reconstruction = tf.reduce_mean(batch.decode(z).log_prob(batch.x), axis=0)
        size = ps.shape(batch.x)[0]
        log_weights = aggregate.weights(size, size if self.dataset_size is None else self.dataset_size,
                                        self.sampling)
        terms = {name: tf.reduce_mean(value, axis=0)
                 for name, value in aggregate.decomposition(batch.q, batch.prior, z, log_weights).items()}
        penalty = (self.alpha * terms["mutual_information"] + batch.kl_weight * terms["total_correlation"]
                   + self.gamma * terms["dimension_wise_kl"])
        kl = tf.reduce_sum(bounds.kl_groups(batch.q, batch.prior, z, batch.kl_form), axis=-1)
        return Loss(tf.reduce_mean(penalty - reconstruction), {**bounds.elbo_metrics(reconstruction, kl), **terms})
