"""Evaluation of a trained VAE: ELBO, log p(x), active units and new samples.

The functions on tensors here are the one implementation of each quantity:
the `VAE` methods call them batch by batch over arrays, and the exported
SavedModel's signatures trace them. They take the model's parts through the
VAE's methods `posterior_of(x, c)`, `likelihood_of(z, c)`, `prior()` and
its attributes `kl_form`, `num_samples`, `event_shape`.

    ELBO(x)  = E_q[log p(x|z)] - KL(q(z|x) || p(z))
    log p(x) ~ log 1/k sum_i p(x, z_i) / q(z_i|x),   z_i ~ q(z|x)
"""

import math

import numpy as np
import tensorflow as tf

from tfpvae.objectives import bounds

# Importance samples and new x are drawn in chunks that hold about this many floats of x.
FLOATS_PER_CHUNK = bounds.FLOATS_PER_CHUNK


def elbo_terms(vae, x, c, num_samples, seed):
    """Per-example E_q[log p(x|z)] and KL(q(z|x) || p(z)), each [B]."""
    return bounds.elbo_terms(vae.posterior_of(x, c), vae.prior(), lambda z: vae.likelihood_of(z, c), x,
                             num_samples, vae.kl_form, seed)


def log_weight_sums(vae, x, c, k, chunk, seed):
    """log sum_i w_i and log sum_i w_i^2 over k draws, `chunk` at a time, each [B]."""
    return bounds.log_weight_sums(vae.posterior_of(x, c), vae.prior(), lambda z: vae.likelihood_of(z, c),
                                  x, k, chunk, seed)


def log_likelihood(vae, x, c, k, seed, floats_per_chunk=FLOATS_PER_CHUNK):
    """log (1/k) sum_i w_i, [B], in chunks whose decoded x hold about `floats_per_chunk` floats."""
    chunk = bounds.chunk_size(tf.shape(x)[0], math.prod(vae.event_shape), floats_per_chunk)
    total, _ = log_weight_sums(vae, x, c, k, chunk, seed)
    return total - tf.math.log(tf.cast(k, tf.float32))


def generate(vae, n, seed, c=None):
    """p(x|z, c) at n draws z ~ p(z), and the seed left for drawing x.

    The stateless seed pair splits in two: the first draws z, the second is
    returned, so `VAE.sample` and the exported `sample` signature draw alike.
    """
    prior_seed, likelihood_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    return vae.likelihood_of(vae.prior().sample(n, seed=prior_seed), c), likelihood_seed


def reconstruction(vae, x, c=None):
    """E[x | z = E_q[z]], the reconstruction mean."""
    return vae.likelihood_of(center(vae.posterior_of(x, c)), c).mean()


def center(q):
    """E_q[z] where TFP computes it; for a flow, the flow of its base mean."""
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
        part = seed if start == 0 else tf.random.experimental.stateless_fold_in(seed, start)
        yield start, min(chunk, n - start), part
