"""Direct computations of each family's log-density, with scipy and numpy,
from the same raw parameters the family receives; and independent samplers
of each family (numpy and scipy draws, not TFP's) from those parameters."""

import math

import numpy as np
from scipy import special, stats

from tfpvae.backend import tfp
from tfpvae.families import made

tfb = tfp.bijectors


def softplus(raw, low):
    return np.logaddexp(0.0, raw) + low


def per_element(params, event_shape, count):
    """[B, count * n] -> count arrays [B, *event_shape] (the families' layout)."""
    raw = params.reshape(params.shape[:-1] + tuple(event_shape) + (count,))
    return [raw[..., i] for i in range(count)]


def summed(log_p, batch):
    return log_p.reshape(batch, -1).sum(-1)


def bernoulli(family, params, event_shape, x, shared):
    (logits,) = per_element(params, event_shape, 1)
    return summed(stats.bernoulli.logpmf(x, special.expit(logits)), len(x))


def continuous_bernoulli(family, params, event_shape, x, shared):
    (logits,) = per_element(params, event_shape, 1)
    lam = special.expit(logits.astype(np.float64))
    log_c = np.log(2 * np.arctanh(1 - 2 * lam) / (1 - 2 * lam))
    return summed(log_c + x * np.log(lam) + (1 - x) * np.log1p(-lam), len(x))


def normal_loc_scale(family, params, event_shape, shared):
    """loc and scale of a `normal` family's raw parameters, for each of its scale options."""
    if family.scale == "network":
        loc, raw = per_element(params, event_shape, 2)
        scale = softplus(raw, family.min_scale)
    elif family.scale == "shared":
        (loc,) = per_element(params, event_shape, 1)
        scale = softplus(shared.reshape(event_shape), family.min_scale)
    else:
        (loc,), scale = per_element(params, event_shape, 1), family.scale
    return loc, scale


def normal(family, params, event_shape, x, shared):
    loc, scale = normal_loc_scale(family, params, event_shape, shared)
    return summed(stats.norm.logpdf(x, loc, scale), len(x))


def beta(family, params, event_shape, x, shared):
    a, b = (softplus(r, family.min_scale) for r in per_element(params, event_shape, 2))
    return summed(stats.beta.logpdf(x, a, b), len(x))


def poisson(family, params, event_shape, x, shared):
    (log_rate,) = per_element(params, event_shape, 1)
    return summed(stats.poisson.logpmf(x, np.exp(log_rate)), len(x))


def negative_binomial(family, params, event_shape, x, shared):
    raw_count, logits = per_element(params, event_shape, 2)
    total = softplus(raw_count, family.min_scale)
    # TFP counts successes (probability sigmoid(logits)) before `total` failures.
    return summed(stats.nbinom.logpmf(x, total, 1 - special.expit(logits)), len(x))


def student_t(family, params, event_shape, x, shared):
    raw_df, loc, raw_scale = per_element(params, event_shape, 3)
    df, scale = softplus(raw_df, family.min_df), softplus(raw_scale, family.min_scale)
    return summed(stats.t.logpdf(x, df, loc, scale), len(x))


def mvn_tril(family, params, event_shape, x, shared):
    n = math.prod(event_shape)
    out = []
    for p, xi in zip(params, x.reshape(len(x), n)):
        tril = np.asarray(family.scale_tril()(p[n:])).astype(np.float64)
        out.append(stats.multivariate_normal.logpdf(xi, p[:n], tril @ tril.T))
    return np.array(out)


def low_rank(family, params, event_shape, x, shared):
    n, r = math.prod(event_shape), family.rank
    out = []
    for p, xi in zip(params, x.reshape(len(x), n)):
        d, w = softplus(p[n:2 * n], family.min_scale), p[2 * n:].reshape(n, r)
        scale = np.diag(d) @ (np.eye(n) + w @ w.T)
        out.append(stats.multivariate_normal.logpdf(xi, p[:n], scale @ scale.T))
    return np.array(out)


def mixture(family, params, event_shape, x, shared):
    (d,), k = event_shape, family.components
    logits, rest = params[..., :k], params[..., k:].reshape(params.shape[:-1] + (k, d, 2))
    scale = softplus(rest[..., 1], family.min_scale)
    log_component = stats.norm.logpdf(x[:, None, :], rest[..., 0], scale).sum(-1)
    return special.logsumexp(special.log_softmax(logits, -1) + log_component, axis=-1)


def normal_mixture(family, params, event_shape, x, shared):
    k, n = family.components, math.prod(event_shape)
    logits, rest = params[:, :k], params[:, k:].reshape(len(params), k, 2, n)
    loc, scale = rest[:, :, 0], softplus(rest[:, :, 1], family.min_scale)
    log_component = stats.norm.logpdf(x.reshape(len(x), 1, n), loc, scale).sum(-1)
    return special.logsumexp(special.log_softmax(logits, -1) + log_component, axis=-1)


def levels_pmf(cdf, k, top):
    """P(K = k) of a continuous CDF discretized on 0..top, ends taking the tails."""
    upper = np.where(k >= top, 1.0, cdf(k + 0.5))
    lower = np.where(k <= 0, 0.0, cdf(k - 0.5))
    return upper - lower


def logistic(family, params, event_shape, x, shared):
    raw_loc, raw_scale = per_element(params, event_shape, 2)
    loc, scale = 255 * special.expit(raw_loc), 255 * softplus(raw_scale, family.min_scale)
    pmf = levels_pmf(lambda t: special.expit((t - loc) / scale), np.round(x * 255), 255)
    return summed(np.log(pmf), len(x))


def logistic_mixture(family, params, event_shape, x, shared):
    k = family.components
    raw = params.reshape(params.shape[:-1] + tuple(event_shape) + (3, k))
    weights = special.softmax(raw[..., 0, :], -1)
    loc, scale = 255 * special.expit(raw[..., 1, :]), 255 * softplus(raw[..., 2, :], family.min_scale)
    levels = np.round(x * 255)[..., None]
    pmf = (weights * levels_pmf(lambda t: special.expit((t - loc) / scale), levels, 255)).sum(-1)
    return summed(np.log(pmf), len(x))


def categorical(family, params, event_shape, x, shared):
    logits = params.reshape(params.shape[:-1] + tuple(event_shape) + (256,))
    levels = np.round(x * 255).astype(int)[..., None]
    return summed(np.take_along_axis(special.log_softmax(logits, -1), levels, -1)[..., 0], len(x))


def made_step(weights, y, hidden):
    """shift, log_scale of one MADE at y, in numpy."""
    d = y.shape[-1]
    w1, b1, w2, b2 = np.split(weights, np.cumsum([d * hidden, hidden, hidden * 2 * d]))
    m1, m2 = made.masks(d, hidden)
    h = np.tanh(y @ (w1.reshape(d, hidden) * m1) + b1)
    shift, raw = np.split(h @ (w2.reshape(hidden, 2 * d) * m2) + b2, 2, axis=-1)
    return shift, 3.0 * np.tanh(raw / 3.0)


def chain_inverse(weights, z, hidden, steps):
    """The flow's inverse u = f^-1(z) (MAF steps in reverse, order flipped between)
    and log |det du/dz|."""
    parts = np.split(weights, steps)
    log_det = np.zeros(len(z))
    for i in reversed(range(steps)):
        shift, log_scale = made_step(parts[i], z, hidden)
        z = (z - shift) * np.exp(-log_scale)
        log_det -= log_scale.sum(-1)
        if i:
            z = z[:, ::-1]
    return z, log_det


def flow(family, params, event_shape, x, shared):
    u, log_det = chain_inverse(params, x, family.hidden, family.steps)
    return stats.norm.logpdf(u).sum(-1) + log_det


def iaf(family, params, event_shape, x, shared):
    """q(z) = N(z0; loc, scale) |det dz/dz0|^-1 with z = f^-1(z0): z0 by
    running the flow forward one coordinate at a time."""
    loc, raw = per_element(params, event_shape, 2)
    z0 = maf_chain_forward(shared, x, family.hidden, family.steps)
    _, log_det = chain_inverse(shared, z0, family.hidden, family.steps)
    return stats.norm.logpdf(z0, loc, softplus(raw, family.min_scale)).sum(-1) - log_det


def maf_chain_forward(weights, u, hidden, steps):
    """The flow f(u), each MAF step solved coordinate by coordinate."""
    parts = np.split(weights, steps)
    y = u
    for i in range(steps):
        if i:
            y = y[:, ::-1]
        x, y = y, np.zeros_like(y)
        for _ in range(y.shape[-1]):
            shift, log_scale = made_step(parts[i], y, hidden)
            y = x * np.exp(log_scale) + shift
    return y


def direction_and_concentration(family, params, d):
    """mu = v / |v| and kappa = softplus(raw) + min_concentration from [B, d + 1]."""
    v = params[..., :d]
    return v / np.linalg.norm(v, axis=-1, keepdims=True), softplus(params[..., d], family.min_concentration)


def von_mises_fisher(family, params, event_shape, x, shared):
    mu, kappa = direction_and_concentration(family, params, event_shape[0])
    return np.array([stats.vonmises_fisher(m, k).logpdf(xi / np.linalg.norm(xi))
                     for m, k, xi in zip(mu, kappa, x)])


def power_spherical(family, params, event_shape, x, shared):
    """De Cao & Aziz (arXiv:2001.04856), eq. 1-2: C = [2^(a+b) pi^b G(a) / G(a+b)]^-1,
    a = (d - 1) / 2 + kappa, b = (d - 1) / 2; p(x) = C (1 + mu^T x)^kappa."""
    (d,) = event_shape
    mu, kappa = direction_and_concentration(family, params, d)
    a, b = (d - 1) / 2 + kappa, (d - 1) / 2
    log_c = -((a + b) * np.log(2) + b * np.log(np.pi) + special.gammaln(a) - special.gammaln(a + b))
    return log_c + kappa * np.log1p(np.sum(mu * x, axis=-1))


def spherical_uniform(family, params, event_shape, x, shared):
    """-log of the area of S^(d-1), 2 pi^(d/2) / Gamma(d/2)."""
    (d,) = event_shape
    return np.full(len(x), -(np.log(2) + d / 2 * np.log(np.pi) - special.gammaln(d / 2)))


def concrete(logits, temperature, x, categories):
    """Maddison et al. (arXiv:1611.00712), eq. 3, summed over groups of K:
    log p(x) = log (K-1)! + (K-1) log l + sum_k [a_k - (l+1) log x_k] - K lse_k(a_k - l log x_k)."""
    k = categories
    a = logits.reshape(logits.shape[:-1] + (-1, k))
    log_x = np.log(x.reshape(x.shape[:-1] + (-1, k)))
    per_group = (special.gammaln(k) + (k - 1) * np.log(temperature)
                 + np.sum(a - (temperature + 1) * log_x, -1)
                 - k * special.logsumexp(a - temperature * log_x, axis=-1))
    return per_group.sum(-1)


def relaxed_categorical(family, params, event_shape, x, shared):
    return concrete(params, np.exp(shared[0]), x, family.categories)


def categorical_prior(family, params, event_shape, x, shared):
    return concrete(params, family.temperature, x, family.categories)


def laplace(family, params, event_shape, x, shared):
    loc, raw = per_element(params, event_shape, 2)
    return summed(stats.laplace.logpdf(x, loc, softplus(raw, family.min_scale)), len(x))


REFERENCES = {
    "Bernoulli": bernoulli, "ContinuousBernoulli": continuous_bernoulli, "Normal": normal,
    "StandardNormal": normal, "Beta": beta, "Poisson": poisson, "NegativeBinomial": negative_binomial,
    "StudentT": student_t, "MultivariateNormalTriL": mvn_tril, "LowRank": low_rank,
    "Mixture": mixture, "NormalMixture": normal_mixture, "Logistic": logistic, "LogisticMixture": logistic_mixture,
    "Categorical": categorical, "Flow": flow, "InverseAutoregressiveFlow": iaf,
    "VonMisesFisher": von_mises_fisher, "PowerSpherical": power_spherical,
    "SphericalUniform": spherical_uniform, "RelaxedCategorical": relaxed_categorical,
    "CategoricalPrior": categorical_prior, "Laplace": laplace,
}


# --- independent samplers: numpy and scipy draws from the same raw parameters ------------
# Each returns n draws [n, *batch, *event_shape], batch = params.shape[:-1].


def batched(draws, params, event_shape):
    """[n, *batch, *event] from per-member draws laid out [n, *batch, prod(event)]."""
    return draws.reshape(draws.shape[:1] + params.shape[:-1] + tuple(event_shape))


def sample_bernoulli(family, params, event_shape, shared, n, rng):
    (logits,) = per_element(params, event_shape, 1)
    return (rng.random((n, *logits.shape)) < special.expit(logits)).astype(float)


def sample_continuous_bernoulli(family, params, event_shape, shared, n, rng):
    """The inverse CDF of p(x) proportional to exp(eta x) on [0, 1], eta = logit(lambda)."""
    (eta,) = per_element(params, event_shape, 1)
    u = rng.random((n, *eta.shape))
    return np.log1p(u * np.expm1(eta)) / eta


def sample_normal(family, params, event_shape, shared, n, rng):
    loc, scale = normal_loc_scale(family, params, event_shape, shared)
    return loc + scale * rng.standard_normal((n, *loc.shape))


def sample_beta(family, params, event_shape, shared, n, rng):
    a, b = (softplus(r, family.min_scale) for r in per_element(params, event_shape, 2))
    return rng.beta(a, b, size=(n, *a.shape))


def sample_poisson(family, params, event_shape, shared, n, rng):
    (log_rate,) = per_element(params, event_shape, 1)
    return rng.poisson(np.exp(log_rate), size=(n, *log_rate.shape)).astype(float)


def sample_negative_binomial(family, params, event_shape, shared, n, rng):
    raw_count, logits = per_element(params, event_shape, 2)
    total = softplus(raw_count, family.min_scale)
    return stats.nbinom.rvs(total, 1 - special.expit(logits), size=(n, *total.shape), random_state=rng)


def sample_student_t(family, params, event_shape, shared, n, rng):
    raw_df, loc, raw_scale = per_element(params, event_shape, 3)
    df, scale = softplus(raw_df, family.min_df), softplus(raw_scale, family.min_scale)
    return loc + scale * rng.standard_t(df, size=(n, *df.shape))


def sample_laplace(family, params, event_shape, shared, n, rng):
    loc, raw = per_element(params, event_shape, 2)
    return rng.laplace(loc, softplus(raw, family.min_scale), size=(n, *loc.shape))


def sample_mvn_tril(family, params, event_shape, shared, n, rng):
    size = math.prod(event_shape)
    draws = []
    for p in params.reshape(-1, params.shape[-1]):
        tril = np.asarray(family.scale_tril()(p[size:].astype(np.float32))).astype(np.float64)
        draws.append(p[:size] + rng.standard_normal((n, size)) @ tril.T)
    return batched(np.stack(draws, 1), params, event_shape)


def sample_low_rank(family, params, event_shape, shared, n, rng):
    size, r = math.prod(event_shape), family.rank
    draws = []
    for p in params.reshape(-1, params.shape[-1]):
        d, w = softplus(p[size:2 * size], family.min_scale), p[2 * size:].reshape(size, r)
        scale = np.diag(d) @ (np.eye(size) + w @ w.T)
        draws.append(p[:size] + rng.standard_normal((n, size)) @ scale.T)
    return batched(np.stack(draws, 1), params, event_shape)


def pick(weights, rng, n):
    """n draws of a component index per row of `weights` [..., K]: [n, ...]."""
    cumulative = np.cumsum(weights, -1)
    u = rng.random((n, *weights.shape[:-1], 1))
    return np.minimum((u > cumulative).sum(-1), weights.shape[-1] - 1)


def sample_mixture(family, params, event_shape, shared, n, rng):
    (d,), k = event_shape, family.components
    logits, rest = params[..., :k], params[..., k:].reshape(params.shape[:-1] + (k, d, 2))
    component = pick(special.softmax(logits, -1), rng, n)
    loc, scale = rest[..., 0][component], softplus(rest[..., 1], family.min_scale)[component]
    return loc + scale * rng.standard_normal(loc.shape)


def sample_normal_mixture(family, params, event_shape, shared, n, rng):
    k, size = family.components, math.prod(event_shape)
    logits, rest = params[:, :k], params[:, k:].reshape(len(params), k, 2, size)
    component = pick(special.softmax(logits, -1), rng, n)  # [n, B]
    members = np.arange(len(params))
    loc, scale = rest[members, component, 0], softplus(rest[members, component, 1], family.min_scale)
    return batched(loc + scale * rng.standard_normal(loc.shape), params, event_shape)


def sample_levels(loc, scale, rng, n):
    """k / 255 with k a logistic(loc, scale) draw rounded and clipped to 0..255."""
    return np.clip(np.round(loc + scale * rng.logistic(size=(n, *loc.shape))), 0, 255) / 255


def sample_logistic(family, params, event_shape, shared, n, rng):
    raw_loc, raw_scale = per_element(params, event_shape, 2)
    loc, scale = 255 * special.expit(raw_loc), 255 * softplus(raw_scale, family.min_scale)
    return sample_levels(loc, scale, rng, n)


def sample_logistic_mixture(family, params, event_shape, shared, n, rng):
    k = family.components
    raw = params.reshape(params.shape[:-1] + tuple(event_shape) + (3, k))
    component = pick(special.softmax(raw[..., 0, :], -1), rng, n)[..., None]
    loc = np.take_along_axis(np.broadcast_to(255 * special.expit(raw[..., 1, :]), component.shape[:-1] + (k,)),
                             component, -1)[..., 0]
    scale = np.take_along_axis(np.broadcast_to(255 * softplus(raw[..., 2, :], family.min_scale),
                                               component.shape[:-1] + (k,)), component, -1)[..., 0]
    return np.clip(np.round(loc + scale * rng.logistic(size=loc.shape)), 0, 255) / 255


def sample_categorical(family, params, event_shape, shared, n, rng):
    logits = params.reshape(params.shape[:-1] + tuple(event_shape) + (256,))
    return pick(special.softmax(logits, -1), rng, n) / 255


def sample_flow(family, params, event_shape, shared, n, rng):
    u = rng.standard_normal((n, event_shape[0]))
    return maf_chain_forward(params, u, family.hidden, family.steps)


def sample_iaf(family, params, event_shape, shared, n, rng):
    """z = f^-1(z0), z0 ~ N(loc, scale): the inverse of the flow `iaf` scores with."""
    loc, raw = per_element(params, event_shape, 2)
    z0 = loc + softplus(raw, family.min_scale) * rng.standard_normal((n, *loc.shape))
    z, _ = chain_inverse(shared, z0.reshape(-1, event_shape[0]), family.hidden, family.steps)
    return z.reshape(z0.shape)


def sample_von_mises_fisher(family, params, event_shape, shared, n, rng):
    mu, kappa = direction_and_concentration(family, params, event_shape[0])
    draws = [stats.vonmises_fisher(m, k).rvs(n, random_state=rng) for m, k in zip(mu, kappa)]
    return np.stack(draws, 1)


def sample_power_spherical(family, params, event_shape, shared, n, rng):
    """De Cao & Aziz, algorithm 1: t = 2 Beta(a, b) - 1 along e_1, a uniform direction
    orthogonal to it, then the Householder reflection that takes e_1 to mu."""
    (d,) = event_shape
    mu, kappa = direction_and_concentration(family, params, d)
    draws = []
    for m, k in zip(mu, kappa):
        t = 2 * rng.beta((d - 1) / 2 + k, (d - 1) / 2, size=n) - 1
        v = rng.standard_normal((n, d - 1))
        y = np.concatenate([t[:, None], np.sqrt(1 - t[:, None] ** 2) * v / np.linalg.norm(v, axis=-1, keepdims=True)], -1)
        u = np.eye(d)[0] - m
        draws.append(y - 2 * np.outer(y @ u, u) / (u @ u))
    return np.stack(draws, 1)


def sample_spherical_uniform(family, params, event_shape, shared, n, rng):
    v = rng.standard_normal((n, *params.shape[:-1], *event_shape))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def sample_concrete(logits, temperature, categories, rng, n):
    """Per group of K: softmax((a + Gumbel noise) / temperature)."""
    a = logits.reshape(logits.shape[:-1] + (-1, categories))
    g = rng.gumbel(size=(n, *a.shape))
    return special.softmax((a + g) / temperature, -1).reshape((n, *logits.shape))


def sample_relaxed_categorical(family, params, event_shape, shared, n, rng):
    return sample_concrete(params, np.exp(shared[0]), family.categories, rng, n)


def sample_categorical_prior(family, params, event_shape, shared, n, rng):
    return sample_concrete(params, family.temperature, family.categories, rng, n)


SAMPLERS = {
    "Bernoulli": sample_bernoulli, "ContinuousBernoulli": sample_continuous_bernoulli,
    "Normal": sample_normal, "StandardNormal": sample_normal, "Beta": sample_beta,
    "Poisson": sample_poisson, "NegativeBinomial": sample_negative_binomial,
    "StudentT": sample_student_t, "MultivariateNormalTriL": sample_mvn_tril, "LowRank": sample_low_rank,
    "Mixture": sample_mixture, "NormalMixture": sample_normal_mixture, "Logistic": sample_logistic,
    "LogisticMixture": sample_logistic_mixture, "Categorical": sample_categorical, "Flow": sample_flow,
    "InverseAutoregressiveFlow": sample_iaf, "VonMisesFisher": sample_von_mises_fisher,
    "PowerSpherical": sample_power_spherical, "SphericalUniform": sample_spherical_uniform,
    "RelaxedCategorical": sample_relaxed_categorical, "CategoricalPrior": sample_categorical_prior,
    "Laplace": sample_laplace,
}
