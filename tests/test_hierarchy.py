"""A stack of stochastic layers against a linear-Gaussian model with a closed form.

p(z_2) = N(0, 1), p(z_1|z_2) = N(A z_2 + a, s1^2), p(x|z_1) = N(B z_1 + b, diag(sx^2))
with scalar z_1 and z_2 and x in R^2. Then

    p(x) = N(B a + b, v1 B B^T + diag(sx^2)),   v1 = A^2 + s1^2

and the exact posterior factorizes as the stack's q does:
p(z_1, z_2|x) = p(z_1|x) p(z_2|z_1), each Gaussian with a mean linear in its
input and a constant variance. With identity networks, each head's Dense
layer holds those linear maps exactly.
"""

import keras
import numpy as np
import pytest
from scipy import stats

import tfpvae
from tfpvae import backend, hierarchy
from tfpvae.backend import tf, tfp
from tfpvae.families.base import MIN_SCALE, inverse_softplus

A, a, s1 = 1.5, 0.3, 0.6
B, b, sx = np.array([1.2, -0.7]), np.array([0.1, 0.4]), np.array([0.5, 0.8])
V1 = A**2 + s1**2


def log_px(x):
    """The closed-form log p(x), [N]."""
    cov = V1 * np.outer(B, B) + np.diag(sx**2)
    return stats.multivariate_normal(B * a + b, cov).logpdf(x)


def exact_posterior():
    """(weight, bias, stddev) of p(z_1|x) and of p(z_2|z_1), means linear in the input."""
    precision1 = 1.0 / V1 + np.sum(B**2 / sx**2)
    z1 = (B / sx**2 / precision1, (a / V1 - np.sum(B * b / sx**2)) / precision1, precision1**-0.5)
    precision2 = 1.0 + A**2 / s1**2
    z2 = (np.array([A / s1**2 / precision2]), -A * a / s1**2 / precision2, precision2**-0.5)
    return z1, z2


def set_head(head, weights, biases, stddevs):
    """A diagonal-Gaussian head's Dense: loc = weights^T h + biases, a constant stddev."""
    weights, biases, stddevs = (np.atleast_1d(np.asarray(v, np.float64)) for v in (weights, biases, stddevs))
    weights = weights.reshape(-1, len(biases))
    kernel = np.zeros((weights.shape[0], 2 * len(biases)), np.float32)
    kernel[:, 0::2] = weights
    bias = np.zeros(2 * len(biases), np.float32)
    bias[0::2], bias[1::2] = biases, [inverse_softplus(s, MIN_SCALE) for s in stddevs]
    head.params.kernel.assign(kernel)
    head.params.bias.assign(bias)


def linear_gaussian(posterior_shift=0.0, posterior_scale=1.0, **kwargs):
    """The two-level model with its exact posterior, or q's loc shifted and scale multiplied."""
    vae = tfpvae.VAE(event_shape=(2,), latent_dim=[1, 1], likelihood="normal",
                     encoder=[keras.layers.Identity(), keras.layers.Identity()],
                     decoder=[keras.layers.Identity(), keras.layers.Identity()], seed=0, **kwargs)
    (w1, c1, sd1), (w2, c2, sd2) = exact_posterior()
    set_head(vae.stack.posterior_layer, w1, c1 + posterior_shift, sd1 * posterior_scale)
    set_head(vae.stack.upper_posteriors[0], w2, c2 + posterior_shift, sd2 * posterior_scale)
    set_head(vae.stack.likelihood_layer, [B], b, sx)
    set_head(vae.stack.conditional_priors[0], [A], a, s1)
    return vae


X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32) * 2.0


def test_every_log_weight_at_the_exact_posterior_is_log_px():
    """At q = p(z|x), p(x, z) / q(z|x) = p(x) for every z: the Monte Carlo
    ELBO of one draw and IWAE_k both equal log p(x) (tolerance 1e-4 nats, float32)."""
    vae = linear_gaussian(kl="mc")
    np.testing.assert_allclose(vae.elbo(X, num_samples=1), log_px(X), atol=1e-4)
    np.testing.assert_allclose(vae.log_likelihood(X, num_samples=50), log_px(X), atol=1e-4)


def test_elbo_with_a_closed_form_top_level_kl_at_the_exact_posterior_is_log_px():
    """The default form: the top level's KL in closed form, Monte Carlo below.
    At q = p(z|x) the ELBO is log p(x) within 4 Monte Carlo standard errors
    of the 4000-draw mean (+1e-4 for float32)."""
    vae = linear_gaussian()
    assert vae.kl_form == ("mc", "analytic")
    draws = vae.elbo(np.repeat(X, 4000, axis=0), num_samples=1, batch_size=8000).reshape(len(X), 4000)
    error = draws.std(axis=1, ddof=1) / np.sqrt(4000)
    assert np.all(np.abs(draws.mean(axis=1) - log_px(X)) < 4 * error + 1e-4)


def test_closed_form_kls_below_the_top_would_be_biased():
    """Why the levels below the top are Monte Carlo: KL(q(z_1|x) || p(z_1|z_2))
    in closed form at a z_2 drawn from q(z_2|z_1) ignores that z_2 depends on
    z_1, and misses log p(x) at the exact posterior by more than 0.1 nats."""
    from tfpvae.objectives import bounds

    vae = linear_gaussian()
    q, p = vae.encode(X), vae.prior()
    z = q.sample(4000, seed=backend.seed_pair(3, 4))
    kl = tf.add_n([tf.reduce_sum(bounds.level_kl_groups(*level, "analytic"), -1)
                   for level in zip(q.levels(z), p.levels(z), q.split(z))])
    reconstruction = tf.reduce_mean(vae.decode(z).log_prob(X), 0)
    assert np.all(np.abs(np.asarray((reconstruction - kl)) - log_px(X)) > 0.1)


def test_importance_sampling_recovers_log_px_from_an_inexact_posterior():
    """With q's means shifted by 0.3 and stddevs x1.3, the ELBO falls below
    log p(x) by more than 0.05 nats for every x, and IWAE with k = 20000 is
    within 4 of its delta-method standard errors (+1e-3) of it (seed 0)."""
    vae = linear_gaussian(posterior_shift=0.3, posterior_scale=1.3, kl="mc")
    assert np.all(vae.elbo(X, num_samples=2000) < log_px(X) - 0.05)
    estimate, error = vae.log_likelihood(X, num_samples=20000, return_stderr=True)
    assert np.all(np.abs(estimate - log_px(X)) < 4 * error + 1e-3)


@pytest.mark.tensorflow
@pytest.mark.parametrize("objective", ["stl", "dreg"])
def test_path_gradients_vanish_at_the_exact_posterior(objective):
    """STL and DReG cut the score of every level (`bounds.without_score`):
    at q = p(z|x) each draw's gradient in the inference weights is 0 (< 1e-4),
    while the plain estimator's is not (> 1e-3)."""
    def inference_gradient(name):
        vae = linear_gaussian(objective=name, num_samples=4)
        vae.compile(optimizer="sgd")
        heads = (vae.stack.posterior_layer, vae.stack.upper_posteriors[0])
        weights = [v for layer in heads for v in layer.trainable_variables]
        x = tf.constant(X)
        with tf.GradientTape() as tape:
            loss = vae._loss(x)
            value = loss.value if loss.encoder_value is None else loss.encoder_value
        return max(float(tf.reduce_max(tf.abs(g))) for g in tape.gradient(value, weights))

    assert inference_gradient(objective) < 1e-4
    assert inference_gradient("iwae" if objective == "dreg" else "elbo") > 1e-3


def test_chain_draws_levels_in_order_and_scores_their_sum():
    """A Chain's log_prob is the sum of its levels' at z, and a top-down chain draws the top first."""
    tfd = tfp.distributions
    top = tfd.MultivariateNormalDiag(loc=[[5.0]])
    chain = hierarchy.Chain(top, [lambda z2: tfd.MultivariateNormalDiag(loc=z2 + 1.0, scale_diag=[0.01])],
                            sizes=[1, 1], order=[1, 0])
    z = np.asarray(chain.sample(3, seed=backend.seed_pair(1, 2)))
    assert z.shape == (3, 1, 2)
    np.testing.assert_allclose(z[..., 0], z[..., 1] + 1.0, atol=0.1)
    levels = chain.levels(z)
    expected = levels[0].log_prob(z[..., :1]) + levels[1].log_prob(z[..., 1:])
    np.testing.assert_allclose(chain.log_prob(z), expected, rtol=1e-6)


@pytest.mark.parametrize("latent_dim, message", [
    ([], "non-empty list"), ([4, 0], "positive ints"), (2.5, "positive int"), (True, "positive int")])
def test_latent_dim_must_be_an_int_or_a_list_of_them(latent_dim, message):
    with pytest.raises(ValueError, match=message):
        tfpvae.VAE(event_shape=(4,), latent_dim=latent_dim)


def test_a_list_of_specs_needs_one_per_level():
    with pytest.raises(ValueError, match="list of 2"):
        tfpvae.VAE(event_shape=(4,), latent_dim=[3, 2], encoder=["mlp", "mlp", "mlp"])


def test_one_keras_layer_cannot_serve_every_level():
    with pytest.raises(ValueError, match="serves one level"):
        tfpvae.VAE(event_shape=(4,), latent_dim=[3, 2], decoder=keras.layers.Dense(5))


def test_a_prior_built_from_the_posterior_is_refused_for_a_stack():
    with pytest.raises(ValueError, match="stack of 2 latent layers"):
        tfpvae.VAE(event_shape=(4,), latent_dim=[3, 2], prior="vamp")


def test_an_objective_that_needs_closed_form_marginals_is_refused_for_a_stack():
    with pytest.raises(ValueError, match="beta_tc"):
        tfpvae.VAE(event_shape=(4,), latent_dim=[3, 2], objective="beta_tc")


# --- ladder inference ------------------------------------------------------------------

def exact_ladder():
    """(weight, bias, stddev) of the encoders' Gaussians that make the ladder's
    q exact: for z_1, the likelihood's message N(m(x), v) with
    1/v = sum_j B_j^2/sx_j^2; for z_2, p(z_2|x) itself."""
    precision = np.sum(B**2 / sx**2)
    z1 = (B / sx**2 / precision, -np.sum(B * b / sx**2) / precision, precision**-0.5)
    cov = s1**2 * np.outer(B, B) + np.diag(sx**2)
    gain = A * np.linalg.solve(cov, B)
    variance = 1.0 / (1.0 + A * B @ gain)
    z2 = (variance * gain, -variance * gain @ (B * a + b), variance**0.5)
    return z1, z2


def linear_gaussian_ladder(**kwargs):
    vae = tfpvae.VAE(event_shape=(2,), latent_dim=[1, 1], likelihood="normal", inference="ladder",
                     encoder=[keras.layers.Identity(), keras.layers.Identity()],
                     decoder=[keras.layers.Identity(), keras.layers.Identity()], seed=0, **kwargs)
    (w1, c1, sd1), (w2, c2, sd2) = exact_ladder()
    set_head(vae.stack.posterior_layer, w1, c1, sd1)
    set_head(vae.stack.upper_posteriors[0], w2, c2, sd2)
    set_head(vae.stack.likelihood_layer, [B], b, sx)
    set_head(vae.stack.conditional_priors[0], [A], a, s1)
    return vae


def test_ladder_inference_is_exact_on_the_linear_gaussian_stack():
    """q(z_2|x) and the merge of z_1's message with p(z_1|z_2) are the exact
    posterior: every log weight is log p(x) (1e-4), and with every level's KL
    in closed form the ELBO is log p(x) within 4 Monte Carlo standard errors."""
    vae = linear_gaussian_ladder(kl="mc")
    np.testing.assert_allclose(vae.elbo(X, num_samples=1), log_px(X), atol=1e-4)
    vae = linear_gaussian_ladder()
    assert vae.kl_form == ("analytic", "analytic")
    draws = vae.elbo(np.repeat(X, 4000, axis=0), num_samples=1, batch_size=8000).reshape(len(X), 4000)
    error = draws.std(axis=1, ddof=1) / np.sqrt(4000)
    assert np.all(np.abs(draws.mean(axis=1) - log_px(X)) < 4 * error + 1e-4)


@pytest.mark.parametrize("kwargs, message", [
    ({"latent_dim": 3}, "needs a stack"), ({"latent_dim": [3, 2], "posterior": "mvn_tril"}, "must be 'normal'"),
    ({"latent_dim": [3, 2], "inference": "top_down"}, "inference must be one of")])
def test_ladder_inference_needs_a_stack_of_gaussians(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tfpvae.VAE(event_shape=(4,), **{"inference": "ladder", **kwargs})


# --- a stack in the model -------------------------------------------------------------

SMALL = {"name": "mlp", "units": [16]}
STACK = {"latent_dim": [3, 2], "encoder": [SMALL, {"name": "mlp", "units": [8]}],
         "decoder": [SMALL, {"name": "mlp", "units": [8]}]}


def test_a_stack_trains_saves_and_loads(digits, tmp_path):
    """Two epochs lower the loss; the .keras file rebuilds the same stack with
    the same weights, reconstruction and per-level posterior."""
    keras.utils.set_random_seed(0)
    vae = tfpvae.VAE(event_shape=(8, 8, 1), seed=0, **STACK)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = vae.fit(digits[:512], epochs=2, batch_size=64, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    vae.save(tmp_path / "stack.keras")
    loaded = keras.models.load_model(tmp_path / "stack.keras")
    assert loaded.get_config()["latent_dim"] == [3, 2] and loaded.kl_form == ("mc", "analytic")
    assert "inference" not in loaded.get_config()
    for ours, theirs in zip(vae.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    x = digits[:10]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), vae.predict(x, verbose=0), rtol=1e-6)
    z = vae.encode(x).sample(seed=backend.seed_pair(1, 2))
    for ours, theirs in zip(vae.encode(x).levels(z), loaded.encode(x).levels(z)):
        np.testing.assert_allclose(theirs.mean(), ours.mean(), rtol=1e-6)


def test_a_ladder_trains_saves_and_loads(digits, tmp_path):
    vae = tfpvae.VAE(event_shape=(8, 8, 1), inference="ladder", objective="iwae", num_samples=2, seed=0,
                     **STACK)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = vae.fit(digits[:256], epochs=2, batch_size=64, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    vae.save(tmp_path / "ladder.keras")
    loaded = keras.models.load_model(tmp_path / "ladder.keras")
    assert loaded.stack.inference == "ladder" and loaded.kl_form == ("analytic", "analytic")
    np.testing.assert_allclose(loaded.predict(digits[:5], verbose=0), vae.predict(digits[:5], verbose=0),
                               rtol=1e-6)


def test_a_stack_samples_encodes_and_decodes_all_levels_or_the_bottom(digits):
    vae = tfpvae.VAE(event_shape=(8, 8, 1), seed=0, **STACK)
    assert vae.sample(5, seed=1).shape == (5, 8, 8, 1)
    q = vae.encode(digits[:4])
    z = q.sample(3, seed=backend.seed_pair(0, 1))
    assert z.shape == (3, 4, 5) and q.log_prob(z).shape == (3, 4)
    assert [level.batch_shape for level in q.levels(z)] == [[4], [3, 4]]
    np.testing.assert_allclose(vae.decode(z).mean(), vae.decode(z[..., :3]).mean())
    count, variances = vae.active_units(digits[:100])
    q = vae.encode(digits[:100])
    bottom = q.levels(tf.zeros([100, 5]))[0].mean()  # E_q[z_1|x]
    top = q.levels(tf.concat([bottom, tf.zeros([100, 2])], -1))[1].mean()  # E_q[z_2|z_1 = E_q[z_1|x]]
    expected = np.concatenate([bottom, top], axis=-1).var(axis=0)
    np.testing.assert_allclose(variances, expected, rtol=1e-5)
    assert count == int(np.sum(expected > 0.01)), (count, expected)


def test_active_units_of_the_exact_posterior_are_the_closed_form_variances():
    """At q = p(z|x) of the linear-Gaussian model, E_q[z_1|x] = w1 . x + c1 and
    E_q[z_2|z_1] = w2 z_1 + c2, so over the examples X the variances of the
    posterior means are w1^T Cov(X) w1 and w2^2 times that (1.058 and 0.349
    here; float32, rtol 1e-5); a threshold between them counts 1 unit, one
    below both 2 and one above both 0."""
    (w1, _, _), (w2, _, _) = exact_posterior()
    first = w1 @ np.cov(X.T, ddof=0) @ w1
    expected = np.array([first, w2[0] ** 2 * first])
    vae = linear_gaussian()
    count, variances = vae.active_units(X)
    np.testing.assert_allclose(variances, expected, rtol=1e-5)
    assert count == 2
    assert vae.active_units(X, threshold=expected.mean())[0] == 1
    assert vae.active_units(X, threshold=1.1)[0] == 0


@pytest.mark.parametrize("posterior", [["mvn_tril", "normal"], ["normal", "iaf"]])
def test_each_level_takes_its_own_posterior_family(posterior, digits):
    vae = tfpvae.VAE(event_shape=(8, 8, 1), posterior=posterior, seed=0, **STACK)
    assert [vae.stack.posterior_layer.family.name, vae.stack.upper_posteriors[0].family.name] == posterior
    vae.compile(optimizer="adam")
    history = vae.fit(digits[:128], epochs=1, batch_size=64, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert np.all(np.isfinite(vae.log_likelihood(digits[:8], num_samples=20)))


def test_a_conditional_stack_reads_the_context_at_every_level(digits):
    """q(z_l|z_{l-1}, c) at every level and p(x|z_1, c): changing c changes
    the upper level's posterior and the likelihood."""
    labels = np.arange(16) % 10
    vae = tfpvae.VAE(event_shape=(8, 8, 1), context_dim=10, seed=0, **STACK)
    vae.compile(optimizer="adam")
    vae.fit((digits[:128], np.arange(128) % 10), epochs=1, batch_size=64, verbose=0)
    q, other = vae.encode(digits[:16], c=labels), vae.encode(digits[:16], c=(labels + 1) % 10)
    z = q.sample(seed=backend.seed_pair(1, 1))
    assert not np.allclose(q.levels(z)[1].mean(), other.levels(z)[1].mean())
    assert vae.sample(4, seed=0, c=3).shape == (4, 8, 8, 1)



def level_active_units(vae, x):
    """Active units (Burda et al.: Cov_x(E_q[z_u]) > 0.01) of each level, bottom first."""
    _, variances = vae.active_units(x)
    ends = np.cumsum((0, *vae.stack.latent_sizes))
    return [int(np.sum(variances[start:end] > 0.01)) for start, end in zip(ends[:-1], ends[1:])]


def trained_on_digits(digits, **shape):
    """A VAE of the flat digits trained with the defaults (no warm-up, no free bits), 20 epochs."""
    keras.utils.set_random_seed(0)
    vae = tfpvae.VAE(event_shape=(64,), seed=0, **shape)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    vae.fit(digits.reshape(-1, 64), epochs=20, batch_size=100, verbose=0)
    return vae


@pytest.fixture(scope="module")
def one_level_elbo(digits):
    vae = trained_on_digits(digits, latent_dim=8, encoder={"name": "mlp", "units": [32, 32]},
                            decoder={"name": "mlp", "units": [32, 32]})
    return float(np.mean(vae.elbo(digits.reshape(-1, 64))))


LADDER_ON_JAX = pytest.mark.xfail(
    backend.is_jax, strict=False,
    reason="the ladder without warm-up is fragile: with seeds 0-3 on each backend's random stream its levels "
           "kept 3/1, 8/3, 7/1 and 1/1 active units on TensorFlow and 0/0, 2/2, 5/1 and 5/1 on JAX "
           "(docs/results/ladder_seeds.md); seed 0 collapses on JAX")


@pytest.mark.parametrize("inference, least_active, elbo_margin",
                         [("bottom_up", [4, 1], 1.0), pytest.param("ladder", [2, 1], 2.5, marks=LADDER_ON_JAX)])
def test_a_stack_keeps_its_latents_active(inference, least_active, elbo_margin, digits, one_level_elbo):
    """A stack trained with the defaults uses both levels and stays near one
    level of its bottom size. Measured with seeds 0 and 1: one level, ELBO
    -24.5 and -24.7; bottom-up, -24.8 and -24.6 with 8 and 3 active units;
    ladder, -26.3 with 3 and 1, and -25.6 with 8 and 3. With p(x|z) started
    at logits 0 instead of the data's marginal (`data_initialized = True`)
    both stacks collapsed to 0 and 0 active units, ELBO -27.2 to -27.3."""
    mlp = lambda units: {"name": "mlp", "units": units}  # noqa: E731
    stack = trained_on_digits(digits, latent_dim=[8, 4], encoder=[mlp([32, 32]), mlp([16, 16])],
                              decoder=[mlp([32, 32]), mlp([16, 16])], inference=inference)
    active = level_active_units(stack, digits.reshape(-1, 64))
    assert all(count >= least for count, least in zip(active, least_active)), active
    assert np.mean(stack.elbo(digits.reshape(-1, 64))) >= one_level_elbo - elbo_margin
