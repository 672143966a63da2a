"""The ELBO, its analytic and Monte Carlo forms, and importance-weighted bounds.

With z_l ~ q(z|x), l = 1..L, drawn by the reparameterized `q.sample(L)`:

    ELBO(x) = 1/L sum_l log p(x|z_l) - KL(q(z|x) || p(z))                (analytic)
            = 1/L sum_l [log p(x|z_l) + log p(z_l) - log q(z_l|x)]        (Monte Carlo)

    IWAE_L(x) = log 1/L sum_l p(x, z_l) / q(z_l|x)    (Burda et al., arXiv:1509.00519)

and log p(x) is estimated by IWAE_k with large k.

`decode` below is a function from z of shape [L, B, d] to p(x|z) with batch
shape [L, B].
"""

import math
import numbers

from tfpvae import backend
from tfpvae.backend import ps, tf, tfp
from tfpvae.hierarchy import Chain

tfd = tfp.distributions
tfb = tfp.bijectors

KL_FORMS = ("auto", "analytic", "mc")
# Importance samples are drawn in chunks whose decoded x hold about this many floats.
FLOATS_PER_CHUNK = 2**25


def check_kl(kl):
    """`kl`, checked to be one of KL_FORMS."""
    if not isinstance(kl, str) or kl not in KL_FORMS:
        raise ValueError(f"kl must be one of {list(KL_FORMS)}; received {kl!r}")
    return kl


def kl_form(q, p, kl="auto"):
    """"analytic" or "mc": the form of KL(q || p) that `kl` asks for.

    Raises:
      ValueError: `kl` is not one of KL_FORMS, or it is "analytic" and TFP
        registers no closed form for the pair.
    """
    if check_kl(kl) == "mc":
        return "mc"
    try:
        tfd.kl_divergence(q, p)
    except NotImplementedError:
        if kl == "analytic":
            raise ValueError(
                f"kl='analytic' needs a closed-form KL(q || p), and TFP registers none for "
                f"q={type(q).__name__}, p={type(p).__name__}; use kl='auto' or kl='mc'"
            ) from None
        return "mc"
    return "analytic"


def elbo_terms(q, prior, decode, x, num_samples, form, seed):
    """Per-example reconstruction E_q[log p(x|z)] and KL(q || p), each [B]."""
    reconstruction, kl = elbo_parts(q, prior, decode, x, num_samples, form, seed)
    return reconstruction, tf.reduce_sum(kl, axis=-1)


def elbo_parts(q, prior, decode, x, num_samples, form, seed):
    """Reconstruction [B] and the KL split into groups [B, G] (see `kl_groups`)."""
    z = q.sample(num_samples, seed=seed)
    reconstruction = tf.reduce_mean(decode(z).log_prob(x), axis=0)
    return reconstruction, kl_groups(q, prior, z, form)


def is_diagonal(dist):
    return isinstance(dist, tfd.MultivariateNormalDiag)


def kl_groups(q, prior, z, form):
    """KL(q || p) per latent dimension [B, d] when both are diagonal Gaussians
    and the form is analytic; otherwise the whole KL as one group [B, 1].

    For a stack (q and p `hierarchy.Chain`s, `form` one per level), each
    level's groups at the draws z [L, B, d], side by side (`level_kl_groups`):
    per dimension where every level is a pair of diagonal Gaussians.
    """
    if isinstance(q, Chain):
        return tf.concat([level_kl_groups(*level) for level in
                          zip(q.levels(z), prior.levels(z), q.split(z), form)], axis=-1)
    if form == "analytic" and is_diagonal(q) and is_diagonal(prior):
        marginal = lambda d: tfd.Normal(d.mean(), d.stddev())  # noqa: E731
        return tfd.kl_divergence(marginal(q), marginal(prior))
    if form == "analytic":
        return tfd.kl_divergence(q, prior)[..., None]
    return tf.reduce_mean(q.log_prob(z) - prior.log_prob(z), axis=0)[..., None]


def level_kl_groups(q, prior, z, form):
    """One level's E_q[log q(z_l|.) - log p(z_l|.)] from the draws z [L, B, d_l]
    at which q and p are evaluated, [B, G]: per dimension when both are
    diagonal Gaussians, else one group; in closed form given the levels they
    condition on where `form` is "analytic", else from the draws."""
    if is_diagonal(q) and is_diagonal(prior):
        q, prior = tfd.Normal(q.mean(), q.stddev()), tfd.Normal(prior.mean(), prior.stddev())
        if form == "analytic":
            return tf.reduce_mean(tf.broadcast_to(tfd.kl_divergence(q, prior), ps.shape(z)), axis=0)
        return tf.reduce_mean(q.log_prob(z) - prior.log_prob(z), axis=0)
    if form == "analytic":
        kl = tf.broadcast_to(tfd.kl_divergence(q, prior), ps.shape(z)[:-1])
    else:
        kl = q.log_prob(z) - prior.log_prob(z)
    return tf.reduce_mean(kl, axis=0)[..., None]


def free_bits_kl(kl, nats_per_dim, latent_dim):
    """The KL term with free bits: sum_g max(lambda_g, E_batch[KL_g]).

    Kingma et al. (arXiv:1606.04934): below its floor a group's KL is not
    penalized. `kl` is [B, G] from `kl_groups`; each group's floor is
    `nats_per_dim` times the latent dimensions it covers.
    """
    groups = kl.shape[-1]
    floor = nats_per_dim * latent_dim / groups
    return tf.reduce_sum(tf.maximum(floor, tf.reduce_mean(kl, axis=0)))


def log_weights(q, prior, decode, x, num_samples, seed):
    """log w_l = log p(x|z_l) + log p(z_l) - log q(z_l|x), shape [L, B]."""
    log_px_z, log_ratio = log_weight_parts(q, prior, decode, x, num_samples, seed)
    return log_px_z - log_ratio


def log_weight_parts(q, prior, decode, x, num_samples, seed):
    """log p(x|z_l) and log q(z_l|x) - log p(z_l), each [L, B]."""
    z = q.sample(num_samples, seed=seed)
    return decode(z).log_prob(x), q.log_prob(z) - prior.log_prob(z)


def path_log_weight_parts(q, prior, decode, x, num_samples, seed, objective):
    """`log_weight_parts` with q's parameters cut from the gradient in log q
    (`without_score`): gradients reach q only through the draws z_l."""
    z = q.sample(num_samples, seed=seed)
    return decode(z).log_prob(x), without_score(q, objective).log_prob(z) - prior.log_prob(z)


def log_weight_sums(q, prior, decode, x, k, chunk, seed):
    """log sum_i w_i and log sum_i w_i^2 over k draws z_i ~ q(z|x), each [B].

    The draws are made `chunk` at a time in a `tf.while_loop`, so memory holds
    one chunk's decoded x. The first chunk uses `seed` itself and the chunk
    starting at draw i > 0 the seed folded with i, so for k <= chunk the draws
    are exactly those of `log_weights` with `seed`. k and chunk may be
    tensors (the exported signature's k); as ints, every chunk's shape is
    known when traced (as JAX needs): the loop runs the full chunks and the
    remainder is drawn after it.
    """
    def body(start, total, total2, count):
        chunk_seed = tf.where(start > 0, backend.fold_in(seed, start), seed)
        log_w = log_weights(q, prior, decode, x, count, chunk_seed)
        return (start + count, accumulate(total, log_w), accumulate(total2, 2.0 * log_w))

    empty = tf.fill(ps.shape(x)[:1], tf.constant(-float("inf")))
    if not (isinstance(k, numbers.Integral) and isinstance(chunk, numbers.Integral)):
        def dynamic(start, total, total2):
            return body(start, total, total2, tf.minimum(chunk, k - start))

        _, total, total2 = tf.while_loop(lambda start, *_: start < k, dynamic, [tf.constant(0), empty, empty])
        return total, total2
    full = int(k - k % chunk)
    _, total, total2 = tf.while_loop(lambda start, *_: start < full, lambda *state: body(*state, int(chunk)),
                                     [tf.constant(0), empty, empty])
    if k > full:
        _, total, total2 = body(full, total, total2, int(k - full))
    return total, total2


def accumulate(total, log_w):
    """log(exp(total) + sum_l exp(log_w_l)), computed stably."""
    return tf.reduce_logsumexp(tf.stack([total, tf.reduce_logsumexp(log_w, 0)]), 0)


def chunk_size(batch_size, event_size, floats_per_chunk=FLOATS_PER_CHUNK):
    """Draws per chunk that keep a chunk's decoded x near `floats_per_chunk` floats (at least 1)."""
    return ps.maximum(1, floats_per_chunk // (batch_size * event_size))


def log_mean_exp(log_w, axis=0):
    """log (1/L) sum_l exp(log_w_l), computed stably."""
    count = tf.cast(ps.shape(log_w)[axis], log_w.dtype)
    return tf.reduce_logsumexp(log_w, axis=axis) - tf.math.log(count)


def iwae_bound(log_w):
    """The importance-weighted bound from log-weights [L, B], shape [B]."""
    return log_mean_exp(log_w, axis=0)


def standard_error(log_sum_w, log_sum_w2, count):
    """Delta-method standard error of log((1/k) sum w) from running sums.

    With m = mean(w) and v = var(w), SE = sqrt(v / k) / m, all in log space:
    v / m^2 = k * sum(w^2) / sum(w)^2 - 1.
    """
    ratio = tf.exp(math.log(count) + log_sum_w2 - 2.0 * log_sum_w) - 1.0
    return tf.sqrt(tf.maximum(ratio, 0.0) / count)


def elbo_metrics(reconstruction, kl):
    """The per-example metrics every objective reports: elbo, reconstruction and kl, each [B]."""
    return {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}


def without_score(q, objective="this objective"):
    """q with the same parameter values, cut from the gradient.

    log q_stop(z) then passes gradient only through z, not through q's
    parameters: the score term d log q(z; phi) / d phi at fixed z is dropped
    (Roeder et al., arXiv:1703.09194). Distributions and bijectors nested in
    q's parameters are rebuilt the same way.

    Raises:
      ValueError: a parameter is computed by a function (a flow's network),
        so it cannot be cut; `objective` names who asked.
    """
    if isinstance(q, Chain):
        return q.with_levels(without_score(q.first, objective),
                             lambda step, z: path_only(step(z), step(tf.stop_gradient(z)), objective))
    return type(q)(**{name: _stopped(value, q, objective) for name, value in q.parameters.items()})


def path_only(at_z, at_stopped_z, objective="this objective"):
    """A stack level's q(z_l|z_{l-1}), from its values at z_{l-1} and at
    stop_gradient(z_{l-1}), whose parameters pass gradient through z_{l-1}
    only: theta = theta(z) - theta(stop(z)) + stop(theta(stop(z))) has
    theta's value, d theta / d z, and no gradient in the weights at fixed z."""
    return type(at_z)(**{name: _path(value, at_stopped_z.parameters[name], at_z, objective)
                         for name, value in at_z.parameters.items()})


def _path(value, stopped, owner, objective):
    if isinstance(value, (tfd.Distribution, tfb.Bijector)):
        return path_only(value, stopped, objective)
    if tf.is_tensor(value) or isinstance(value, tf.Variable):
        return value - stopped + tf.stop_gradient(stopped)
    return _stopped(value, owner, objective)


def _stopped(value, owner, objective):
    if isinstance(value, (tfd.Distribution, tfb.Bijector)):
        return without_score(value, objective)
    if tf.is_tensor(value) or isinstance(value, tf.Variable):
        return tf.stop_gradient(value)
    if callable(value):
        raise ValueError(f"objective {objective!r} cuts q(z|x)'s parameters from the gradient, but "
                         f"{type(owner).__name__} computes them with a function; use a posterior "
                         f"whose parameters come from the encoder, e.g. 'normal' or 'mvn_tril'")
    return value
