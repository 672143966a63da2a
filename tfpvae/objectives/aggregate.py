"""The aggregate posterior q(z) of a batch and the KL decomposition built on it.

For data x_1..x_N and q(z) = 1/N sum_n q(z|x_n), the average KL splits as
(Hoffman & Johnson, "ELBO surgery", 2016; Chen et al., arXiv:1802.04942)

    E_x KL(q(z|x) || p(z)) = I_q(x; z)                       index-code mutual information
                           + KL(q(z) || prod_j q(z_j))          total correlation
                           + KL(prod_j q(z_j) || p(z))          dimension-wise KL

each term an expectation over z ~ q(z|x), x ~ data:

    I  = E[log q(z|x) - log q(z)]
    TC = E[log q(z) - sum_j log q(z_j)]
    DW = E[sum_j log q(z_j) - log p(z)]     (= sum_j KL(q(z_j) || p(z_j)) for a factorized p)

q(z) and its marginals q(z_j) are estimated at each draw z_i (of example i
of a batch of B) by weighted sums over the batch's posteriors:

    log q(z_i) ~ log sum_k W_ik q(z_i|x_k)

with a weight matrix W from `weights`. The terms telescope, so per draw they
sum to log q(z_i|x_i) - log p(z_i), the Monte Carlo KL, whatever W is.
"""

from tfpvae.backend import ps, tf, tfp

tfd = tfp.distributions
SAMPLING = ("mws", "mss")


def marginals(q):
    """The coordinates' distributions of q, batch shape [..., d], or None.

    A Gaussian q (diagonal, full or low-rank covariance) has Gaussian
    marginals N(mean_j, stddev_j^2); a `tfd.Independent` over a vector has
    its elementwise distribution. Other q (a flow) have no closed form.
    """
    if isinstance(q, tfd.MultivariateNormalLinearOperator):
        return tfd.Normal(q.mean(), q.stddev())
    # Static shapes: in a graph, `reinterpreted_batch_ndims` is a tensor.
    if isinstance(q, tfd.Independent) and q.event_shape.rank == 1 and q.distribution.event_shape.rank == 0:
        return q.distribution
    return None


def log_pairs(q, z):
    """log q(z_i | x_k) for draws z [..., B, d] of a q with batch shape [B]: [..., B, B]."""
    return q.log_prob(z[..., :, None, :])


def log_marginal_pairs(marginal, z):
    """log q(z_ij | x_k) for the marginals of q (batch [B, d]) at draws z [..., B, d]: [..., B, B, d]."""
    return marginal.log_prob(z[..., :, None, :])


def weights(batch_size, dataset_size, sampling="mws"):
    """log W [B, B]: row i weights the batch's posteriors in the estimate of q(z_i).

    "mws", minibatch-weighted sampling as Chen et al. define it: every
    W_ik = 1 / (N B). Its estimate of log q(z) is biased by a constant, which
    shifts the terms' values but not their gradients.

    "mss", stratified: z_i's own example is one stratum of weight 1/N and the
    other N - 1 examples, sampled by the batch's B - 1 others, the other:
    W_ii = 1/N, W_ik = (N - 1) / (N (B - 1)). Each row sums to 1, and the
    estimate of q(z_i) is unbiased when the batch is drawn uniformly.

    Args:
      batch_size: B (a tensor or int).
      dataset_size: N >= B, the number of examples q(z) averages over.
      sampling: "mws" or "mss".
    """
    b = tf.cast(batch_size, tf.float32)
    n = tf.cast(dataset_size, tf.float32)
    if sampling == "mws":
        return tf.fill(ps.stack([batch_size, batch_size]), -tf.math.log(n * b))
    own = tf.eye(batch_size, dtype=tf.bool)
    others = tf.math.log(n - 1.0) - tf.math.log(n) - tf.math.log(tf.maximum(b - 1.0, 1.0))
    return tf.where(own, -tf.math.log(n), others)


def decomposition(q, prior, z, log_weights):
    """Mutual information, total correlation and dimension-wise KL at draws z.

    Args:
      q: q(z|x) of the batch, batch shape [B], with `marginals`.
      prior: p(z).
      z: draws [L, B, d], z_li ~ q(z|x_i).
      log_weights: log W [B, B] (`weights`).

    Returns:
      A dict of per-draw terms [L, B]: "mutual_information",
      "total_correlation", "dimension_wise_kl"; they sum to
      log q(z|x) - log p(z).
    """
    log_q = q.log_prob(z)
    log_qz = tf.reduce_logsumexp(log_pairs(q, z) + log_weights, axis=-1)
    pairs = log_marginal_pairs(marginals(q), z)
    log_marginals = tf.reduce_sum(tf.reduce_logsumexp(pairs + log_weights[..., None], axis=-2), axis=-1)
    return {"mutual_information": log_q - log_qz,
            "total_correlation": log_qz - log_marginals,
            "dimension_wise_kl": log_marginals - prior.log_prob(z)}


def check_marginals(q, objective):
    """Raises ValueError unless q's coordinates have closed-form distributions."""
    if marginals(q) is None:
        raise ValueError(f"objective {objective!r} needs the marginals q(z_j|x) of each coordinate, which "
                         f"{type(q).__name__} has no closed form for; use a Gaussian posterior: "
                         f"'normal', 'mvn_tril' or 'low_rank'")
