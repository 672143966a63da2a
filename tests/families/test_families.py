"""One suite for every family in the registry, in every role it plays.

Each family's log_prob is compared with a direct computation (references.py:
scipy, or numpy on the same raw parameters) to 1e-4 relative tolerance, and
its draws with those of an independent sampler by a two-sample test.
`vamp` is built from a model's encoder and is tested with the model.
"""

import math

import numpy as np
import pytest
from scipy import special, stats

import tfpvae
from tests.families.references import REFERENCES, SAMPLERS
from tfpvae import backend, families
from tfpvae.backend import tf, tfp

EVENT_SHAPES = {"prior": [(4,)], "posterior": [(4,)], "likelihood": [(3,), (2, 3, 1)]}
EXTRA_SPECS = [("likelihood", {"name": "normal", "scale": "shared"}),
               ("likelihood", {"name": "normal", "scale": 0.3}),
               ("prior", {"name": "categorical", "categories": 2, "learned": True})]
# Discrete latents of 4 elements: 2 groups of 2 categories (the default K = 10 needs 10 | size).
SUITE_SPECS = {"relaxed_categorical": {"name": "relaxed_categorical", "categories": 2},
               "categorical": {"name": "categorical", "categories": 2}}
GAUSSIAN_PRIORS = ("normal", "learned_normal", "mixture", "flow")
BATCH = 5


def spec_id(spec):
    return spec if isinstance(spec, str) else "-".join(f"{v}" for v in spec.values())


SPECS = [(role, SUITE_SPECS.get(name, name) if role != "likelihood" else name)
         for role, names in families.names().items() for name in names
         if name != "vamp" or role != "prior"] + EXTRA_SPECS
CASES = [pytest.param(role, spec, shape, id=f"{role}-{spec_id(spec)}-{'x'.join(map(str, shape))}")
         for role, spec in SPECS for shape in EVENT_SHAPES[role]]
ALL = [pytest.param(role, spec, id=f"{role}-{spec_id(spec)}") for role, spec in SPECS]


def random_params(family, event_shape, scale=1.0, seed=0, batch=(BATCH,)):
    """Raw parameters [*batch, size]; a prior's are one unbatched vector of weights."""
    size = family.num_params(math.prod(event_shape))
    return (np.random.RandomState(seed).normal(size=(*batch, size)) * scale).astype(np.float32)


def batch_of(role):
    return () if role == "prior" else (BATCH,)


def draw(role, dist, seed):
    """BATCH draws of x: one per batch member, or BATCH from an unbatched prior."""
    return dist.sample(BATCH if role == "prior" else (), seed=seed)


def random_shared(family, event_shape, seed=1):
    """The family's starting shared weights, moved off their start."""
    shared = family.initial_shared(math.prod(event_shape))
    noise = np.random.RandomState(seed).normal(scale=0.3, size=shared.shape)
    return (shared + noise).astype(np.float32)


def build(family, params, event_shape, shared):
    if shared.shape[0]:
        return family.distribution(params, event_shape, shared=shared)
    return family.distribution(params, event_shape)


def case(role, spec, event_shape, params_scale=1.0):
    family = families.get(spec, role=role)
    params = random_params(family, event_shape, params_scale, batch=batch_of(role))
    shared = random_shared(family, event_shape)
    return family, params, shared, build(family, params, event_shape, shared)


@pytest.mark.parametrize("role,spec,event_shape", CASES)
def test_event_and_batch_shapes(role, spec, event_shape):
    family, _, _, dist = case(role, spec, event_shape)
    assert tuple(dist.event_shape) == event_shape
    assert tuple(dist.batch_shape) == batch_of(role)
    assert dist.sample(7, seed=backend.seed_pair(1, 2)).shape == (7, *batch_of(role), *event_shape)


@pytest.mark.parametrize("role,spec,event_shape", CASES)
def test_log_prob_matches_direct_computation(role, spec, event_shape):
    family, params, shared, dist = case(role, spec, event_shape)
    x = np.asarray(draw(role, dist, backend.seed_pair(3, 4)))
    reference = REFERENCES[type(family).__name__]
    expected = reference(family, params.astype(np.float64), event_shape, x.astype(np.float64), shared)
    np.testing.assert_allclose(np.asarray(dist.log_prob(x)), expected, rtol=1e-4, atol=1e-3)


DRAWS = 4000


@pytest.mark.parametrize("role,spec,event_shape", CASES)
def test_draws_follow_the_density(role, spec, event_shape):
    """sample() against an independent sampler (references.SAMPLERS: numpy and
    scipy, from the same raw parameters), 4,000 draws each, compared on two
    1-D projections of every draw (all batch members together): a fixed random
    direction through its coordinates, and its log-density (the family's
    log_prob, checked against scipy above). Two-sample Kolmogorov-Smirnov,
    p > 1e-3 for each (fixed seeds; for discrete draws the test is conservative)."""
    family, params, shared, dist = case(role, spec, event_shape)
    ours = np.asarray(dist.sample(DRAWS, seed=backend.seed_pair(23, 24))).astype(np.float64)
    sampler = SAMPLERS[type(family).__name__]
    theirs = sampler(family, params.astype(np.float64), event_shape, shared.astype(np.float64), DRAWS,
                     np.random.default_rng(25))
    assert theirs.shape == ours.shape
    direction = np.random.default_rng(26).normal(size=math.prod(ours.shape[1:]))
    for name, project in (("direction", lambda x: x.reshape(DRAWS, -1) @ direction),
                          ("log_prob", lambda x: np.asarray(dist.log_prob(x.astype(np.float32))).reshape(DRAWS, -1)
                                                                                   .sum(-1))):
        result = stats.ks_2samp(project(ours), project(theirs))
        assert result.pvalue > 1e-3, (name, result)


def has_params(case):
    role, spec, event_shape = case.values
    return families.get(spec, role=role).num_params(math.prod(event_shape)) > 0


@pytest.mark.tensorflow
@pytest.mark.parametrize("role,spec,event_shape", [c for c in CASES if has_params(c)])
def test_gradient_of_log_prob_reaches_every_parameter(role, spec, event_shape):
    """Every raw per-example parameter gets a gradient; shared weights get a
    finite, non-zero one (MADE's masked entries get none by design)."""
    family, params, shared, dist = case(role, spec, event_shape)
    params, shared = tf.Variable(params), tf.Variable(shared)
    x = draw(role, dist, backend.seed_pair(5, 6))
    with tf.GradientTape() as tape:
        log_prob = tf.reduce_sum(build(family, params, event_shape, shared).log_prob(x))
    grad_params, grad_shared = tape.gradient(log_prob, [params, shared])
    assert np.all(np.isfinite(np.asarray(grad_params)))
    per_parameter = np.abs(np.asarray(grad_params)).reshape(-1, params.shape[-1]).sum(axis=0)
    if role == "prior" and type(family).__name__ == "Flow":
        per_parameter = per_parameter[per_parameter > 0]  # MADE's masked weights get none by design
    assert per_parameter.size and np.all(per_parameter > 0), "a raw parameter gets no gradient"
    if shared.shape[0]:
        assert np.all(np.isfinite(np.asarray(grad_shared))) and np.abs(np.asarray(grad_shared)).sum() > 0


@pytest.mark.tensorflow
@pytest.mark.parametrize("role,spec,event_shape", [c for c in CASES if c.values[0] == "posterior"])
def test_posterior_sample_is_reparameterized(role, spec, event_shape):
    """Every posterior but `von_mises_fisher` (see the next test) claims
    reparameterized draws, and every raw parameter gets a gradient through z."""
    family, params, shared, _ = case(role, spec, event_shape)
    params = tf.Variable(params)
    with tf.GradientTape() as tape:
        dist = build(family, params, event_shape, shared)
        objective = tf.reduce_sum(tf.sin(dist.sample(3, seed=backend.seed_pair(7, 8))))
    claimed = dist.reparameterization_type == tfp.distributions.FULLY_REPARAMETERIZED
    assert claimed == (type(family).__name__ != "VonMisesFisher")
    grad = np.asarray(tape.gradient(objective, params))
    assert np.all(np.abs(grad).sum(axis=0) > 0), "a raw parameter gets no gradient through z"


@pytest.mark.tensorflow
@pytest.mark.parametrize("d,claimed", [(3, True), (4, False)])
def test_von_mises_fisher_is_reparameterized_only_in_three_dimensions(d, claimed):
    """TFP's inversion sampler (d = 3) is reparameterized, its rejection
    sampler (other d) is not; in both the direction gets a gradient through z."""
    family = families.get("von_mises_fisher", role="posterior")
    params = tf.Variable(random_params(family, (d,)))
    with tf.GradientTape() as tape:
        dist = family.distribution(params, (d,))
        objective = tf.reduce_sum(tf.sin(dist.sample(3, seed=backend.seed_pair(7, 8))))
    assert (dist.reparameterization_type == tfp.distributions.FULLY_REPARAMETERIZED) == claimed
    grad = np.asarray(tape.gradient(objective, params))
    assert np.all(np.abs(grad[:, :d]).sum(axis=0) > 0)


@pytest.mark.parametrize("role,spec,event_shape", CASES)
@pytest.mark.parametrize("extreme", [-60.0, 60.0])
def test_extreme_raw_parameters_give_no_nan(role, spec, event_shape, extreme):
    """Saturated network outputs: no NaN, never +inf, finite at own samples.

    Far from the mode a log-density may underflow to -inf in float32 (a full
    covariance with tiny diagonal and huge off-diagonal entries); that is the
    right answer rounded, not a failure.
    """
    family, _, shared, safe = case(role, spec, event_shape)
    params = np.full_like(random_params(family, event_shape, batch=batch_of(role)), extreme)
    dist = build(family, params, event_shape, shared)
    log_prob = np.asarray(dist.log_prob(draw(role, safe, backend.seed_pair(9, 10))))
    assert not np.any(np.isnan(log_prob)) and np.all(log_prob < np.inf)
    if family.elementwise and not family.integer:
        assert np.all(np.isfinite(log_prob))
    own = draw(role, dist, backend.seed_pair(11, 12))
    if family.open_interval:  # float32 draws may round onto the excluded ends
        own = tf.clip_by_value(own, 1e-6, 1 - 1e-6)
    assert np.all(np.isfinite(np.asarray(dist.log_prob(own))))


@pytest.mark.parametrize("name", GAUSSIAN_PRIORS)
def test_prior_starts_at_standard_normal_moments(name):
    """20,000 draws: means within 0.05 of 0, variances within 5% of 1 (a
    mixture's components start at random means, so only finiteness there)."""
    family = families.get(name, role="prior")
    dist = family.distribution(family.initial_params(4), (4,))
    z = np.asarray(dist.sample(20000, seed=backend.seed_pair(13, 14)))
    if name != "mixture":
        np.testing.assert_allclose(z.mean(0), 0.0, atol=0.05)
        np.testing.assert_allclose(z.var(0), 1.0, rtol=0.05)
    assert np.all(np.isfinite(np.asarray(dist.log_prob(z))))


@pytest.mark.parametrize("role,spec", [a for a in ALL if a.values[0] == "likelihood"])
def test_mean_is_in_the_support(role, spec):
    family, _, _, dist = case(role, spec, (3,))
    mean = np.asarray(dist.mean())
    assert mean.shape == (BATCH, 3) and np.all(np.isfinite(mean))
    if family.low is not None:
        assert np.all(mean >= family.low)
    if family.high is not None:
        assert np.all(mean <= family.high)


SUPPORT_CASES = {
    "bernoulli": ([0.0, 0.5, 1.0], [0.0, 2.0, -1.0], "[-1, 2]"),
    "continuous_bernoulli": ([0.0, 0.3, 1.0], [0.5, 1.5], "[0.5, 1.5]"),
    "beta": ([0.01, 0.5, 0.99], [0.0, 0.5, 1.0], "(0, 1)"),
    "poisson": ([0.0, 3.0, 10.0], [0.5, 2.0], "non-integer"),
    "negative_binomial": ([0.0, 3.0], [-1.0, 2.0], "[-1, 2]"),
    "categorical": ([0.0, 1 / 255, 1.0], [0.0, 0.5], "between levels"),
    "logistic": ([0.0, 128 / 255, 1.0], [0.0, 1.2], "[0, 1.2]"),
    "logistic_mixture": ([3 / 255], [0.1234], "between levels"),
}


@pytest.mark.parametrize("name", list(SUPPORT_CASES))
def test_support_errors_name_family_and_range(name):
    family = families.get(name, role="likelihood")
    good, bad, shown = SUPPORT_CASES[name]
    assert family.support_error(np.array(good)) is None
    message = family.support_error(np.array(bad))
    assert f"{name!r}" in message and shown in message and family.support in message


@pytest.mark.parametrize("role,spec", ALL)
def test_non_finite_x_is_reported(role, spec):
    family = families.get(spec, role=role)
    assert "NaN or inf" in family.support_error(np.array([0.0, np.nan]))


@pytest.mark.parametrize("role,spec", ALL)
def test_config_round_trip(role, spec):
    family = families.get(spec, role=role)
    again = families.get(family.get_config(), role=role)
    assert type(again) is type(family) and again.get_config() == family.get_config()


@pytest.mark.parametrize("name,reference", [("laplace", stats.laplace(0, 1)),
                                            ("student_t", stats.t(2 + math.log(2), 0, 1))])
def test_heavy_tailed_priors_start_where_they_say(name, reference):
    """5,000 draws of each coordinate against the stated start (Laplace(0, 1);
    t with df = 2 + log 2, loc 0, scale 1): Kolmogorov-Smirnov p > 0.01."""
    family = families.get(name, role="prior")
    z = np.asarray(family.distribution(family.initial_params(3), (3,)).sample(5000, seed=backend.seed_pair(15, 16)))
    for column in z.T:
        assert stats.kstest(column, reference.cdf).pvalue > 0.01


def test_spherical_uniform_draws_are_unit_vectors_with_mean_zero():
    """10,000 draws in R^5: norms 1 to 1e-5; each mean within 0.03 of 0 (its
    standard error is sqrt(1/5 / 10000) = 0.0045)."""
    family = families.get("spherical_uniform", role="prior")
    z = np.asarray(family.distribution(family.initial_params(5), (5,)).sample(10000, seed=backend.seed_pair(17, 18)))
    np.testing.assert_allclose(np.linalg.norm(z, axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.03)


def test_categorical_prior_draws_one_hot_codes_with_its_probabilities():
    """20,000 codes of 2 groups of 3 from logits log [0.2, 0.3, 0.5]: one-hot
    per group, frequencies within 0.015 of the probabilities (SE <= 0.0036)."""
    family = families.get({"name": "categorical", "categories": 3, "learned": True}, role="prior")
    probabilities = np.array([0.2, 0.3, 0.5])
    logits = np.log(np.tile(probabilities, 2)).astype(np.float32)
    codes = np.asarray(family.draw(family.distribution(logits, (6,)), 20000, backend.seed_pair(19, 20))).reshape(-1, 2, 3)
    assert set(np.unique(codes)) == {0.0, 1.0} and np.all(codes.sum(-1) == 1)
    np.testing.assert_allclose(codes.mean(0), np.stack([probabilities] * 2), atol=0.015)


def test_relaxed_categorical_log_prob_is_finite_where_draws_underflow():
    """At temperature 0.1 with logit gaps of 60 some z_k underflow to 0 in
    float32; the log-density stays finite at such draws."""
    family = families.get({"name": "relaxed_categorical", "categories": 3, "temperature": 0.1},
                          role="posterior")
    dist = family.distribution(tf.constant([[60.0, 0.0, -60.0]]), (3,))
    z = dist.sample(10, seed=backend.seed_pair(21, 22))
    assert np.any(np.asarray(z) == 0.0)
    assert np.all(np.isfinite(np.asarray(dist.log_prob(z))))


@pytest.mark.parametrize("latent,spec", [(5, "relaxed_categorical"), (1, "von_mises_fisher"),
                                         (1, "power_spherical")])
def test_latent_size_the_family_cannot_use_is_an_error(latent, spec):
    family = families.get(spec, role="posterior")
    with pytest.raises(ValueError, match=f"received latent size {latent}"):
        family.num_params(latent)


def test_kl_between_relaxed_categoricals_is_that_of_the_categoricals():
    """Registered for the posterior and the learned prior: sum over groups of
    sum_k q_k log(q_k / p_k), against numpy to 1e-5."""
    q_family = families.get({"name": "relaxed_categorical", "categories": 3}, role="posterior")
    p_family = families.get({"name": "categorical", "categories": 3, "learned": True}, role="prior")
    logits_q = np.random.RandomState(3).normal(size=(4, 6)).astype(np.float32)
    logits_p = np.random.RandomState(4).normal(size=6).astype(np.float32)
    kl = np.asarray(tfp.distributions.kl_divergence(q_family.distribution(logits_q, (6,)),
                                         p_family.distribution(logits_p, (6,))))
    log_q = special.log_softmax(logits_q.reshape(4, 2, 3), -1)
    log_p = special.log_softmax(logits_p.reshape(2, 3), -1)
    np.testing.assert_allclose(kl, (np.exp(log_q) * (log_q - log_p)).sum((-2, -1)), rtol=1e-5)


@pytest.mark.tensorflow
@pytest.mark.parametrize("role", ["posterior", "likelihood"])
def test_mvn_tril_trains_under_xla_with_a_last_batch_of_another_size(role):
    """XLA compiles the step again for the last, smaller batch with a dynamic
    batch size; the Cholesky factor's fill must not need static shapes there."""
    x = (np.random.RandomState(0).uniform(size=(130, 6)) < 0.5).astype("float32")
    vae = tfpvae.VAE(event_shape=(6,), latent_dim=2, encoder={"name": "mlp", "units": [8]},
                     decoder={"name": "mlp", "units": [8]}, **{role: "mvn_tril"})
    vae.compile(jit_compile=True)
    history = vae.fit(x, epochs=2, batch_size=50, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))


def sphere_pair(q_name, p_name, d):
    """q from a `q_name` posterior and p from `p_name` on S^(d-1), each with
    random raw parameters for BATCH members (p unbatched for the uniform)."""
    q_family = families.get(q_name, role="posterior")
    q = q_family.distribution(random_params(q_family, (d,), seed=5), (d,))
    if p_name == "spherical_uniform":
        p_family = families.get(p_name, role="prior")
        return q, p_family.distribution(np.zeros([0], np.float32), (d,))
    p_family = families.get(p_name, role="posterior")
    return q, p_family.distribution(random_params(p_family, (d,), seed=6), (d,))


@pytest.mark.parametrize("q_name,p_name", [("von_mises_fisher", "spherical_uniform"),
                                           ("power_spherical", "spherical_uniform"),
                                           ("power_spherical", "von_mises_fisher")])
@pytest.mark.parametrize("d", [3, 5])
def test_sphere_kls_match_a_monte_carlo_estimate(q_name, p_name, d):
    """TFP's closed-form KL(q || p) against mean(log q(z) - log p(z)) over
    20,000 draws z ~ q (seed fixed), for each of 5 random (mu, kappa): within
    4 Monte Carlo standard errors of the mean (+1e-4 for float32)."""
    q, p = sphere_pair(q_name, p_name, d)
    closed_form = np.asarray(tfp.distributions.kl_divergence(q, p))
    z = q.sample(20000, seed=backend.seed_pair(27, 28))
    log_ratio = np.asarray((q.log_prob(z) - p.log_prob(z))).astype(np.float64)
    estimate, error = log_ratio.mean(0), log_ratio.std(0, ddof=1) / np.sqrt(len(log_ratio))
    assert closed_form.shape == (BATCH,) and np.all(closed_form > 0)
    assert np.all(np.abs(closed_form - estimate) < 4 * error + 1e-4), (closed_form, estimate, error)
