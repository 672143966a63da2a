"""Post-hoc samplers: fitted to a known aggregate posterior, drawn through the
VAE, saved and loaded."""

import json

import keras
import numpy as np
import pytest
from sklearn import mixture

import tfpvae
from tfpvae import evaluation, samplers
from tfpvae.backend import tf, tfp

tfd = tfp.distributions
SMALL = {"encoder": {"name": "mlp", "units": [16]}, "decoder": {"name": "mlp", "units": [16]}}
FAST = {"prior": {}, "gmm": {"components": 2}, "flow": {"epochs": 3, "steps": 2, "hidden": 8, "batch_size": 32},
        "two_stage": {"epochs": 2, "units": [8], "num_samples": 20, "batch_size": 32}}


def two_clusters(n=400, seed=0):
    """Codes from q(z) = 1/2 N((-3, 0), 0.3^2 I) + 1/2 N((3, 0), 0.3^2 I): a hole around 0."""
    rng = np.random.RandomState(seed)
    return (np.array([[-3.0, 0.0], [3.0, 0.0]])[rng.randint(2, size=n)] + 0.3 * rng.normal(size=(n, 2))).astype(
        "float32")


def known_aggregate():
    return tfd.MixtureSameFamily(tfd.Categorical(probs=[0.5, 0.5]),
                                 tfd.MultivariateNormalDiag(loc=[[-3.0, 0.0], [3.0, 0.0]], scale_diag=[[0.3, 0.3]] * 2))


@pytest.fixture(scope="module")
def vae():
    keras.utils.set_random_seed(0)
    model = tfpvae.VAE(event_shape=(4,), latent_dim=2, likelihood="normal", **SMALL)
    model.compile()
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(1)
    return rng.normal(size=(120, 4)).astype("float32")


def test_gmm_draws_avoid_the_hole_of_a_known_aggregate_posterior(vae):
    # q(z) is a closed-form mixture with no mass near z_0 = 0, where N(0, I) puts most of its own.
    gmm = samplers.GaussianMixture(2, components=2).fit(two_clusters())
    q = known_aggregate()
    z_gmm = gmm.sample(2000, seed=0)
    z_prior = samplers.fit(vae, None, "prior").sample(2000, seed=0)
    log_q_gmm, log_q_prior = np.asarray(q.log_prob(z_gmm)), np.asarray(q.log_prob(z_prior))
    # Expected about -1.1 nats for the mixture's draws and below -20 for the prior's.
    assert log_q_gmm.mean() > -2.0 and log_q_prior.mean() < -10.0
    assert np.mean(np.abs(z_gmm[:, 0]) < 1.5) < 0.01 and np.mean(np.abs(z_prior[:, 0]) < 1.5) > 0.8


def test_gmm_beats_the_prior_on_a_vae_trained_on_two_separated_clusters():
    # Two clusters 8 sqrt(4) apart: the trained codes form two tight groups with a
    # hole between them (measured: prior draws -13.1 nats, the mixture's -0.5).
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    x = (np.array([[4.0] * 4, [-4.0] * 4])[rng.randint(2, size=400)] + 0.1 * rng.normal(size=(400, 4)))
    x = x.astype("float32")
    model = tfpvae.VAE(event_shape=(4,), latent_dim=2, likelihood="normal",
                       encoder={"name": "mlp", "units": [32]}, decoder={"name": "mlp", "units": [32]})
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(x, epochs=60, batch_size=50, verbose=0)
    q = model.encode(x)
    mean_log_q = {}
    for kind, options in (("prior", {}), ("gmm", {"components": 2})):
        z = samplers.fit(model, x, kind, **options).sample(2000, seed=0)
        log_q, _ = evaluation.aggregate_log_densities([q], tf.constant(z))
        mean_log_q[kind] = float(tf.reduce_mean(log_q))
    assert mean_log_q["gmm"] > mean_log_q["prior"] + 5.0, mean_log_q


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_gmm_log_prob_is_scikit_learns(covariance):
    codes = two_clusters()
    sampler = samplers.GaussianMixture(2, components=3, covariance=covariance, seed=2).fit(codes)
    reference = mixture.GaussianMixture(3, covariance_type=covariance, reg_covar=1e-6, random_state=2).fit(codes)
    z = np.random.RandomState(3).normal(size=(50, 2)) * 3
    np.testing.assert_allclose(sampler.log_prob(z), reference.score_samples(z), rtol=1e-4, atol=1e-3)


def test_flow_learns_a_curved_density():
    # z_1 ~ N(0, 1), z_2 | z_1 ~ N(z_1^2, 0.2^2): the flow starts as the Gaussian of the codes'
    # mean and spread (-3.15 nats), the true density is -1.19; measured -1.7 after 40 epochs.
    rng = np.random.RandomState(0)
    z1 = rng.normal(size=1000)
    codes = np.stack([z1, z1**2 + 0.2 * rng.normal(size=1000)], 1).astype("float32")
    flow = samplers.Flow(2, steps=2, hidden=32, epochs=40, batch_size=100, learning_rate=3e-3).fit(codes)
    gaussian = tfd.MultivariateNormalDiag(codes.mean(0), codes.std(0))
    gain = flow.log_prob(codes).mean() - np.asarray(gaussian.log_prob(codes)).mean()
    assert gain > 0.8, gain
    z = flow.sample(2000, seed=0)
    residual = np.abs(z[:, 1] - z[:, 0] ** 2)
    assert np.median(residual) < 0.5 * np.median(np.abs(codes[:, 1] - codes[:, 1].mean()))


def test_two_stage_draws_follow_the_codes():
    # Measured after 30 epochs: draws' stddev (2.99, 2.99) against the codes' (3.03, 3.02).
    codes = two_clusters(n=400) * np.float32([1.0, 10.0]) + np.float32([5.0, 0.0])
    sampler = samplers.TwoStage(2, epochs=30, units=[32, 32], learning_rate=3e-3).fit(codes)
    z = sampler.sample(1000, seed=0)
    assert z.shape == (1000, 2) and z.dtype == np.float32
    assert np.all(np.abs(z.mean(0) - codes.mean(0)) < 0.5), z.mean(0)
    np.testing.assert_allclose(z.std(0), codes.std(0), rtol=0.15)
    means = samplers.TwoStage(2, epochs=1, units=[8], mean=True).fit(codes)
    np.testing.assert_allclose(means.sample(4, seed=1), means.sample(4, seed=1))


@pytest.mark.parametrize("kind", list(FAST))
def test_every_kind_fits_draws_scores_saves_and_loads(kind, vae, data, tmp_path):
    sampler = samplers.fit(vae, data, kind, **FAST[kind])
    path = sampler.save(tmp_path / kind)
    assert sorted(p.name for p in path.iterdir()) == ["sampler.json", "weights.npz"]
    assert json.loads((path / "sampler.json").read_text())["kind"] == kind
    z = sampler.sample(16, seed=5)
    assert z.shape == (16, 2) and np.all(np.isfinite(sampler.log_prob(z)))
    np.testing.assert_array_equal(sampler.sample(16, seed=5), z)
    assert not np.array_equal(sampler.sample(16, seed=6), z)
    again = samplers.load(path, vae=vae)
    assert type(again) is type(sampler) and again.get_config() == sampler.get_config()
    assert again.get_config() == {"kind": kind, "latent_dim": 2, **{**again.options, **FAST[kind]}}
    np.testing.assert_allclose(again.sample(16, seed=5), z, rtol=1e-6)
    np.testing.assert_allclose(again.log_prob(z), sampler.log_prob(z), rtol=1e-5, atol=1e-5)
    x = vae.sample(16, seed=5, sampler=again)
    assert x.shape == (16, 4)


def test_the_prior_sampler_draws_what_vae_sample_draws(vae):
    prior = samplers.fit(vae, None, "prior")
    np.testing.assert_array_equal(vae.sample(8, seed=3, sampler=prior), vae.sample(8, seed=3))
    np.testing.assert_allclose(prior.log_prob(np.zeros((1, 2))), [-np.log(2 * np.pi)], rtol=1e-6)


def test_vae_sample_decodes_the_samplers_z(vae):
    point = np.float32([[2.0, -1.0]])
    one_point = samplers.GaussianMixture(2, components=1).restore(
        {"weights": np.ones(1), "means": point, "covariances": np.eye(2)[None] * 1e-10})
    x = vae.sample(5, seed=0, mean=True, sampler=one_point)
    np.testing.assert_allclose(x, np.repeat(np.asarray(vae.decode(point).mean()), 5, axis=0), atol=1e-4)


def test_a_conditional_vae_is_fitted_on_x_and_labels():
    x = np.random.RandomState(0).normal(size=(60, 4)).astype("float32")
    c = np.arange(60) % 3
    cvae = tfpvae.VAE(event_shape=(4,), latent_dim=2, likelihood="normal", context_dim=3, **SMALL)
    sampler = samplers.fit(cvae, (x, c), "gmm", components=2)
    assert cvae.sample(4, c=1, sampler=sampler).shape == (4, 4)
    with pytest.raises(ValueError, match=r"encodes \(x, c\)"):
        samplers.fit(cvae, x, "gmm")


def test_posterior_means_are_the_encoders_means(vae, data):
    np.testing.assert_allclose(samplers.posterior_means(vae, data, batch_size=7), np.asarray(vae.encode(data).mean()),
                               rtol=1e-5, atol=1e-6)


def test_bad_arguments_are_refused_before_any_work(vae, data, tmp_path):
    with pytest.raises(ValueError, match="unknown sampler kind 'gauss'.*'gmm'"):
        samplers.fit(vae, data, "gauss")
    with pytest.raises(ValueError, match="components must be a positive int; received 0"):
        samplers.fit(vae, data, "gmm", components=0)
    with pytest.raises(ValueError, match="covariance must be one of"):
        samplers.fit(vae, data, {"name": "gmm", "covariance": "tied"})
    with pytest.raises(ValueError, match="bad options for sampler 'flow'"):
        samplers.fit(vae, data, "flow", layers=3)
    with pytest.raises(ValueError, match="components=200 needs at least 200 codes; received 120"):
        samplers.fit(vae, data, "gmm", components=200)
    with pytest.raises(ValueError, match=r"x must have shape \[batch, 4\]"):
        samplers.fit(vae, data[:, :3], "gmm")
    other = samplers.GaussianMixture(3, components=1).fit(np.random.RandomState(0).normal(size=(10, 3)))
    with pytest.raises(ValueError, match="draws z of size 3, but the model's z has size 2"):
        vae.sample(4, sampler=other)
    with pytest.raises(TypeError, match="sampler must be a tfpvae.samplers sampler"):
        vae.sample(4, sampler="gmm")
    with pytest.raises(ValueError, match="not fitted"):
        samplers.GaussianMixture(2).sample(3)
    with pytest.raises(ValueError, match=r"z must have shape \[N, 2\]"):
        samplers.fit(vae, None, "prior").log_prob(np.zeros((3, 5)))
    with pytest.raises(FileNotFoundError, match="not a saved sampler: sampler.json is missing"):
        samplers.load(tmp_path)
    samplers.fit(vae, None, "prior").save(tmp_path / "prior")
    with pytest.raises(ValueError, match="pass the model"):
        samplers.load(tmp_path / "prior")


def test_a_stack_is_fitted_on_all_its_levels():
    x = np.random.RandomState(0).normal(size=(60, 4)).astype("float32")
    stack = tfpvae.VAE(event_shape=(4,), latent_dim=[3, 2], likelihood="normal",
                       encoder={"name": "mlp", "units": [8]}, decoder={"name": "mlp", "units": [8]})
    sampler = samplers.fit(stack, x, "gmm", components=2, covariance="diag")
    assert sampler.latent_dim == 5 and sampler.sample(3, seed=0).shape == (3, 5)
    assert stack.sample(4, sampler=sampler).shape == (4, 4)
