"""Evaluation of a trained VAE: ELBO, log p(x), active units, the latent code's
diagnostics and new samples.

The functions on tensors here are the one implementation of each quantity:
the `VAE` methods call them batch by batch over arrays, and the exported
SavedModel's signatures trace them. They take the model's distributions from
its `stack` (`posterior(x, c)`, `likelihood(z, c)`, `prior()`, `prior_draw(n,
seed)`) and its attributes `kl_form`, `num_samples` and `event_shape`.

    ELBO(x)  = E_q[log p(x|z)] - KL(q(z|x) || p(z))
    log p(x) ~ log 1/k sum_i p(x, z_i) / q(z_i|x),   z_i ~ q(z|x)

The diagnostics treat the N examples evaluated as the data distribution, so
the aggregate posterior is the mixture q(z) = 1/N sum_n q(z|x_n) (Hoffman &
Johnson, "ELBO surgery", 2016), with marginals q(z_j) = 1/N sum_n q(z_j|x_n):

    I(x; z) = E_n E_{q(z|x_n)}[log q(z|x_n) - log q(z)]            <= log N
    TC      = E_{q(z)}[log q(z) - sum_j log q(z_j)]
"""

import math

import numpy as np

from tfpvae import backend
from tfpvae.backend import ps, tf, tfp
from tfpvae.hierarchy import Chain
from tfpvae.objectives import aggregate, bounds

tfd = tfp.distributions
# Importance samples and new x are drawn in chunks that hold about this many floats of x.
FLOATS_PER_CHUNK = bounds.FLOATS_PER_CHUNK


def elbo_terms(vae, x, c, num_samples, seed):
    """Per-example E_q[log p(x|z)] and KL(q(z|x) || p(z)), each [B]."""
    stack = vae.stack
    return bounds.elbo_terms(stack.posterior(x, c), stack.prior(), lambda z: stack.likelihood(z, c), x,
                             num_samples, vae.kl_form, seed)


def log_weight_sums(vae, x, c, k, chunk, seed):
    """log sum_i w_i and log sum_i w_i^2 over k draws, `chunk` at a time, each [B]."""
    stack = vae.stack
    return bounds.log_weight_sums(stack.posterior(x, c), stack.prior(), lambda z: stack.likelihood(z, c),
                                  x, k, chunk, seed)


def log_likelihood(vae, x, c, k, seed, floats_per_chunk=FLOATS_PER_CHUNK):
    """log (1/k) sum_i w_i, [B], in chunks whose decoded x hold about `floats_per_chunk` floats."""
    chunk = bounds.chunk_size(ps.shape(x)[0], math.prod(vae.event_shape), floats_per_chunk)
    total, _ = log_weight_sums(vae, x, c, k, chunk, seed)
    return total - tf.math.log(tf.cast(k, tf.float32))


def generate(vae, n, seed, c=None, sampler=None):
    """p(x|z, c) at n draws z ~ p(z) (z from `sampler`, a `tfpvae.samplers`
    sampler, where given), and the seed left for drawing x.

    The stateless seed pair splits in two: the first draws z, the second is
    returned, so `VAE.sample` and the exported `sample` signature draw alike.
    """
    prior_seed, likelihood_seed = tf.unstack(backend.split(seed, 2))
    z = vae.stack.prior_draw(n, prior_seed) if sampler is None else sampler.draw(n, prior_seed)
    return vae.stack.likelihood(z, c), likelihood_seed


def reconstruction(vae, x, c=None):
    """E[x | z = E_q[z]], the reconstruction mean."""
    return vae.stack.likelihood(center(vae.stack.posterior(x, c)), c).mean()


def center(q):
    """E_q[z] where TFP computes it; for a flow, the flow of its base mean;
    for a stack, the levels' centers passed up the chain (`Chain.center`)."""
    if isinstance(q, Chain):
        return q.center(center)
    try:
        return q.mean()
    except NotImplementedError:
        return q.bijector.forward(q.distribution.mean())


def stddev_of(q):
    """{"stddev": each coordinate's stddev}, or {} where TFP has no closed form (a flow)."""
    try:
        return {"stddev": q.stddev()}
    except NotImplementedError:
        return {}


def active_units(posterior_means, threshold=0.01):
    """Burda et al.'s active units: dimensions u with Cov_x(E_q[z_u]) > threshold.

    Args:
      posterior_means: numpy [N, d], E_q[z] of each example.

    Returns:
      (count, the per-dimension variances of the posterior means).
    """
    variance = posterior_means.var(axis=0)
    return int(np.sum(variance > threshold)), variance


def chunk_size(batch_size, event_size, floats_per_chunk=FLOATS_PER_CHUNK):
    """Draws per chunk that keep a chunk's x near `floats_per_chunk` floats (at least 1)."""
    return int(bounds.chunk_size(batch_size, event_size, floats_per_chunk))


def batches(x, c, size):
    """(x, c) in batches of `size` examples; c may be None."""
    for i in range(0, len(x), size):
        yield x[i:i + size], None if c is None else c[i:i + size]


def over_batches(step, x, c, batch_size):
    """numpy concatenation of step(x_batch, c_batch) over the batches of (x, c)."""
    return np.concatenate([np.asarray(step(*batch)) for batch in batches(x, c, batch_size)])


def chunk_seeds(seed, n, chunk):
    """(start, count, seed) of each chunk of n draws: the first uses `seed`, the
    chunk starting at i > 0 the seed folded with i."""
    for start in range(0, n, chunk):
        part = seed if start == 0 else backend.fold_in(seed, start)
        yield start, min(chunk, n - start), part


def kl_per_dimension(q, prior):
    """KL(q(z_j|x) || p(z_j)) of each coordinate j, [B, d].

    From the marginals of q and p (`aggregate.marginals`), with TFP's
    closed-form KL; they sum to KL(q || p) when both factorize. None where
    q or p has no closed-form marginals (a flow, a mixture) or the pair no
    closed-form KL.
    """
    q_marginals, prior_marginals = aggregate.marginals(q), aggregate.marginals(prior)
    if q_marginals is None or prior_marginals is None:
        return None
    try:
        return tfd.kl_divergence(q_marginals, prior_marginals)
    except NotImplementedError:
        return None


def aggregate_log_densities(posteriors, z):
    """log q(z_i) and sum_j log q(z_ij) under the mixture of `posteriors`, each [n].

    Args:
      posteriors: q(z|x) of consecutive batches of the N examples (batch
        shapes [B_b], summing to N).
      z: draws [n, d].

    Returns:
      (log q(z), sum_j log q(z_j)); the second is None where q has no
      closed-form marginals.
    """
    log_count = tf.math.log(tf.cast(sum(int(q.batch_shape[0]) for q in posteriors), tf.float32))
    # Sums over one batch of posteriors at a time keep memory at [n, B, d].
    joint = [tf.reduce_logsumexp(aggregate.log_pairs(q, z), axis=-1) for q in posteriors]
    log_qz = tf.reduce_logsumexp(tf.stack(joint, axis=-1), axis=-1) - log_count
    marginals = [aggregate.marginals(q) for q in posteriors]
    if any(m is None for m in marginals):
        return log_qz, None
    parts = [tf.reduce_logsumexp(aggregate.log_marginal_pairs(m, z), axis=-2) for m in marginals]
    return log_qz, tf.reduce_sum(tf.reduce_logsumexp(tf.stack(parts, axis=-1), axis=-1) - log_count, axis=-1)


def diagnostics(vae, x, c, batch_size, seed):
    """Per-dimension KL, I(x; z) and the total correlation of q(z) over the examples x.

    One z_n ~ q(z|x_n) per example scores the mixture q(z) of all N
    examples' posteriors; the work grows as N^2 d.

    Args:
      vae: the model.
      x: float32 numpy [N, *event_shape].
      c: context features [N, context_dim], or None.
      batch_size: examples encoded at a time (and draws scored at a time).
      seed: a stateless int32 seed pair; the batch starting at i > 0 uses it folded with i.

    Returns:
      A dict: "kl_per_dimension" (a list of d floats, E_x KL(q(z_j|x) || p(z_j)),
      or None, see `kl_per_dimension`), "mutual_information" (nats) and
      "total_correlation" (nats, or None where q has no closed-form marginals).
    """
    prior = vae.stack.prior()
    posteriors, draws, own, kls = [], [], [], []
    for start, count, part_seed in chunk_seeds(seed, len(x), batch_size):
        q = vae.stack.posterior(tf.constant(x[start:start + count]), None if c is None else c[start:start + count])
        z = q.sample(seed=part_seed)
        posteriors.append(q)
        draws.append(z)
        own.append(q.log_prob(z))
        kls.append(kl_per_dimension(q, prior))
    log_q, log_qz, log_marginals = tf.concat(own, 0), [], []
    for z in draws:
        joint, product = aggregate_log_densities(posteriors, z)
        log_qz.append(joint)
        log_marginals.append(product)
    log_qz = tf.concat(log_qz, 0)
    total_correlation = None
    if log_marginals[0] is not None:
        total_correlation = float(tf.reduce_mean(log_qz - tf.concat(log_marginals, 0)))
    return {"kl_per_dimension": None if kls[0] is None else np.mean(np.concatenate(kls), axis=0).tolist(),
            "mutual_information": float(tf.reduce_mean(log_q - log_qz)),
            "total_correlation": total_correlation}
