"""One suite for every family in the registry, in every role it plays.

Each family's log_prob is compared with a direct computation (scipy, or
numpy on the same constrained parameters) to 1e-4 relative tolerance.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import special, stats

from tfpvae import families

tfb = tfp.bijectors

EVENT_SHAPES = {"prior": [(4,)], "posterior": [(4,)], "likelihood": [(3,), (2, 3, 1)]}
BATCH = 5


def softplus(raw, low):
    return np.logaddexp(0.0, raw) + low


def ref_bernoulli(family, params, event_shape, x):
    logits = params.reshape(params.shape[:-1] + event_shape)
    log_p = stats.bernoulli.logpmf(x, special.expit(logits))
    return log_p.reshape(len(x), -1).sum(-1)


def ref_normal(family, params, event_shape, x):
    raw = params.reshape(params.shape[:-1] + event_shape + (2,))
    scale = softplus(raw[..., 1], family.min_scale)
    return stats.norm.logpdf(x, raw[..., 0], scale).reshape(len(x), -1).sum(-1)


def ref_mvn_tril(family, params, event_shape, x):
    n = math.prod(event_shape)
    fill = tfb.FillScaleTriL(diag_bijector=tfb.Softplus(low=family.min_scale), diag_shift=None)
    out = []
    for p, xi in zip(params, x.reshape(len(x), n)):
        tril = fill(p[n:]).numpy()
        out.append(stats.multivariate_normal.logpdf(xi, p[:n], tril @ tril.T))
    return np.array(out)


def ref_mixture(family, params, event_shape, x):
    (d,), k = event_shape, family.components
    logits, rest = params[..., :k], params[..., k:].reshape(params.shape[:-1] + (k, d, 2))
    scale = softplus(rest[..., 1], family.min_scale)
    log_component = stats.norm.logpdf(x[:, None, :], rest[..., 0], scale).sum(-1)
    return special.logsumexp(special.log_softmax(logits, -1) + log_component, axis=-1)


REFERENCES = {
    "Bernoulli": ref_bernoulli,
    "Normal": ref_normal,
    "StandardNormal": ref_normal,
    "MultivariateNormalTriL": ref_mvn_tril,
    "Mixture": ref_mixture,
}

CASES = [
    pytest.param(role, name, shape, id=f"{role}-{name}-{'x'.join(map(str, shape))}")
    for role, names in families.names().items()
    for name in names
    for shape in EVENT_SHAPES[role]
]


def random_params(family, event_shape, scale=1.0, seed=0):
    size = family.num_params(math.prod(event_shape))
    return (np.random.RandomState(seed).normal(size=(BATCH, size)) * scale).astype(np.float32)


@pytest.mark.parametrize("role,name,event_shape", CASES)
def test_event_and_batch_shapes(role, name, event_shape):
    family = families.get(name, role=role)
    dist = family.distribution(random_params(family, event_shape), event_shape)
    assert tuple(dist.event_shape) == event_shape
    assert tuple(dist.batch_shape) == (BATCH,)
    assert dist.sample(7, seed=(1, 2)).shape == (7, BATCH, *event_shape)


@pytest.mark.parametrize("role,name,event_shape", CASES)
def test_log_prob_matches_direct_computation(role, name, event_shape):
    family = families.get(name, role=role)
    params = random_params(family, event_shape)
    dist = family.distribution(params, event_shape)
    x = dist.sample(seed=(3, 4)).numpy()
    expected = REFERENCES[type(family).__name__](family, params.astype(np.float64), event_shape, x)
    np.testing.assert_allclose(dist.log_prob(x).numpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("role,name,event_shape", CASES)
def test_gradient_of_log_prob_reaches_every_parameter(role, name, event_shape):
    family = families.get(name, role=role)
    params = tf.Variable(random_params(family, event_shape))
    x = family.distribution(params, event_shape).sample(seed=(5, 6))
    with tf.GradientTape() as tape:
        log_prob = tf.reduce_sum(family.distribution(params, event_shape).log_prob(x))
    grad = tape.gradient(log_prob, params).numpy()
    assert np.all(np.isfinite(grad))
    assert np.all(np.abs(grad).sum(axis=0) > 0), "some raw parameter gets no gradient"


@pytest.mark.parametrize("role,name,event_shape",
                         [c for c in CASES if c.values[0] == "posterior"])
def test_posterior_sample_is_reparameterized(role, name, event_shape):
    family = families.get(name, role=role)
    params = tf.Variable(random_params(family, event_shape))
    with tf.GradientTape() as tape:
        dist = family.distribution(params, event_shape)
        z = dist.sample(3, seed=(7, 8))
        objective = tf.reduce_sum(tf.sin(z))
    assert dist.reparameterization_type == tfp.distributions.FULLY_REPARAMETERIZED
    grad = tape.gradient(objective, params).numpy()
    assert np.all(np.abs(grad).sum(axis=0) > 0), "some raw parameter gets no gradient through z"


@pytest.mark.parametrize("role,name,event_shape", CASES)
@pytest.mark.parametrize("extreme", [-60.0, 60.0])
def test_extreme_raw_parameters_give_no_nan(role, name, event_shape, extreme):
    """Saturated network outputs: no NaN, never +inf, finite at own samples.

    Far from the mode a log-density may underflow to -inf in float32 (a full
    covariance with tiny diagonal and huge off-diagonal entries); that is the
    right answer rounded, not a failure.
    """
    family = families.get(name, role=role)
    params = np.full_like(random_params(family, event_shape), extreme)
    dist = family.distribution(params, event_shape)
    x = family.distribution(random_params(family, event_shape), event_shape).sample(seed=(9, 10))
    log_prob = dist.log_prob(x).numpy()
    assert not np.any(np.isnan(log_prob)) and np.all(log_prob < np.inf)
    if family.elementwise:
        assert np.all(np.isfinite(log_prob))
    own = dist.sample(seed=(11, 12))
    assert np.all(np.isfinite(dist.log_prob(own).numpy()))


@pytest.mark.parametrize("name", families.names()["prior"])
def test_prior_starts_at_standard_normal_moments(name):
    family = families.get(name, role="prior")
    dist = family.distribution(family.initial_params(4), (4,))
    z = dist.sample(20000, seed=(13, 14)).numpy()
    # A mixture's components start at random means with unit scales.
    expected_var = 1.0 if name != "mixture" else None
    if expected_var is not None:
        np.testing.assert_allclose(z.mean(0), 0.0, atol=0.05)
        np.testing.assert_allclose(z.var(0), expected_var, rtol=0.05)
    assert np.all(np.isfinite(dist.log_prob(z).numpy()))


def test_bernoulli_support_error_names_family_and_range():
    family = families.get("bernoulli", role="likelihood")
    assert family.support_error(np.array([0.0, 0.5, 1.0])) is None
    message = family.support_error(np.array([0.0, 2.0, -1.0]))
    assert "'bernoulli'" in message and "[0, 1]" in message and "[-1, 2]" in message
    assert "x / 255" in message


@pytest.mark.parametrize("role,name", [(r, n) for r, names in families.names().items() for n in names])
def test_non_finite_x_is_reported(role, name):
    family = families.get(name, role=role)
    assert "NaN or inf" in family.support_error(np.array([0.0, np.nan]))


@pytest.mark.parametrize("role,name", [(r, n) for r, names in families.names().items() for n in names])
def test_config_round_trip(role, name):
    family = families.get(name, role=role)
    again = families.get(family.get_config(), role=role)
    assert type(again) is type(family) and again.get_config() == family.get_config()
