"""Every family, swapped into the same VAE by name: it trains, saves and loads.

Data fit to each likelihood's support is made from the digits' grey levels
v in 0..16: binary draws, v / 16, 8-bit levels v / 255, (v + 1/2) / 17,
counts v, and standardized reals.
"""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import tfpvae
from tfpvae import backend, families
from tfpvae.backend import tf, tfp

SMALL = {"name": "mlp", "units": [32]}
GREY = load_digits().images[:300, :, :, None].astype(np.float32)
DATA = {
    "bernoulli": (np.random.RandomState(0).uniform(size=GREY.shape) < GREY / 16).astype(np.float32),
    "continuous_bernoulli": GREY / 16,
    "beta": (GREY + 0.5) / 17,
    "logistic": GREY / 255, "logistic_mixture": GREY / 255, "categorical": GREY / 255,
    "poisson": GREY, "negative_binomial": GREY,
}
REAL = (GREY - GREY.mean()) / GREY.std()
CASES = [pytest.param(role, name, id=f"{role}-{name}")
         for role, names in families.names().items() for name in names]
SPHERE = {"posterior": "power_spherical", "prior": "spherical_uniform"}
DISCRETE = {"posterior": {"name": "relaxed_categorical", "categories": 2},
            "prior": {"name": "categorical", "categories": 2}}
# Latents on the sphere and discrete latents are trained with their own partner:
# on S^2 in R^3 (on the circle, TFP's samplers give NaN gradients in kappa at
# large kappa), and 2 groups of 2 categories.
PARTNERS = {("posterior", "von_mises_fisher"): {"prior": "spherical_uniform"},
            ("posterior", "power_spherical"): SPHERE, ("prior", "spherical_uniform"): SPHERE,
            ("posterior", "relaxed_categorical"): DISCRETE, ("prior", "categorical"): DISCRETE}


def latent_size(options):
    """3 on the sphere, 2 groups of 2 categories for discrete latents, else 2."""
    if options.get("prior") == "spherical_uniform":
        return 3
    if options.get("posterior") == DISCRETE["posterior"]:
        return 4
    return 2


def model_and_data(role, name, **kwargs):
    likelihood = name if role == "likelihood" else "bernoulli"
    x = DATA.get(likelihood, REAL)
    options = {"likelihood": likelihood, **({role: name} if role != "likelihood" else {})}
    options.update(PARTNERS.get((role, name), {}))
    options = {"encoder": SMALL, "decoder": SMALL, **options, **kwargs}
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=latent_size(options), **options)
    return vae, x


@pytest.mark.parametrize("role,name", CASES)
def test_family_trains_saves_and_loads(role, name, tmp_path):
    vae, x = model_and_data(role, name)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    loss = vae.fit(x, epochs=3, batch_size=100, verbose=0).history["loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0], loss
    assert np.all(np.isfinite(vae.predict(x[:4], verbose=0)))
    vae.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    for a, b in zip(vae.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert again.get_config() == vae.get_config()
    z = vae.prior().sample(3, seed=backend.seed_pair(1, 2))
    np.testing.assert_allclose(again.prior().log_prob(z), vae.prior().log_prob(z), rtol=1e-6)
    np.testing.assert_allclose(again.predict(x[:4], verbose=0), vae.predict(x[:4], verbose=0), rtol=1e-6)


@pytest.mark.parametrize("role,name", [c for c in CASES if c.values[0] != "likelihood"])
def test_kl_form_is_analytic_exactly_when_tfp_registers_one(role, name):
    vae, _ = model_and_data(role, name)
    q, p = vae.encode(DATA["bernoulli"][:2]), vae.prior()
    try:
        tfp.distributions.kl_divergence(q, p)
        registered = True
    except NotImplementedError:
        registered = False
    assert vae.kl_form == ("analytic" if registered else "mc")


@pytest.mark.parametrize("name", ["normal", "mvn_tril", "low_rank"])
def test_analytic_and_mc_elbo_agree_for_gaussian_posteriors(name):
    """Same weights, 256 draws per example over 300 examples: the mean ELBOs
    agree within 0.1 nats (the MC KL's standard error here is below 0.01)."""
    analytic = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, posterior=name, kl="analytic",
                          num_samples=256, encoder=SMALL, decoder=SMALL)
    mc = tfpvae.VAE.from_config({**analytic.get_config(), "kl": "mc"})
    mc.set_weights(analytic.get_weights())
    x = DATA["bernoulli"]
    assert abs(analytic.elbo(x).mean() - mc.elbo(x).mean()) < 0.1


def test_vamp_prior_is_the_posterior_at_its_pseudo_inputs():
    vae, _ = model_and_data("prior", "vamp")
    p = vae.prior()
    u = vae.stack.prior_layer.family.pseudo_inputs(vae.stack.prior_layer.params, vae.event_shape)
    q = vae.encode(np.asarray(u).clip(0, 1))
    z = np.array([[0.1, 0.4]], np.float32)
    expected = np.log(np.mean(np.exp(np.asarray(q.log_prob(z[:, None, :]))), axis=-1))
    np.testing.assert_allclose(p.log_prob(z), expected, rtol=1e-5)


def test_support_error_reaches_the_user():
    vae, _ = model_and_data("likelihood", "poisson")
    with pytest.raises(ValueError, match="'poisson' needs x in non-negative integers"):
        vae.fit(REAL, epochs=1, verbose=0)


HYPERSPHERICAL_AND_DISCRETE = [("posterior", "von_mises_fisher"), ("posterior", "power_spherical"),
                               ("posterior", "relaxed_categorical")]


@pytest.mark.parametrize("role,name", HYPERSPHERICAL_AND_DISCRETE)
def test_sphere_and_discrete_latents_train_with_conv_networks_and_a_context(role, name):
    """A conv encoder and decoder and a 10-label context: the ELBO improves,
    and samples of one label come from the latent's own prior."""
    conv = {"name": "conv", "filters": [4], "units": 16}
    vae, x = model_and_data(role, name, encoder=conv, decoder=conv, context_dim=10)
    c = load_digits().target[:300]
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    loss = vae.fit((x, c), epochs=3, batch_size=100, verbose=0).history["loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0], loss
    assert vae.sample(4, c=3, seed=0).shape == (4, 8, 8, 1)
    assert np.all(np.isfinite(vae.elbo((x[:10], c[:10]))))


def test_sphere_latents_lie_on_the_sphere_and_von_mises_fisher_turns_xla_off():
    vae, x = model_and_data("posterior", "von_mises_fisher")
    vae.compile()
    assert backend.is_jax or (vae.jit_auto is False and vae.jit_compile is False)  # TF's XLA policy
    z = np.asarray(vae.encode(x[:5]).sample(3, seed=backend.seed_pair(1, 2)))
    np.testing.assert_allclose(np.linalg.norm(z, axis=-1), 1.0, atol=1e-5)
    sphere, _ = model_and_data("posterior", "power_spherical")
    sphere.compile()
    assert sphere.jit_auto is True
    assert vae.kl_form == sphere.kl_form == "analytic"


def test_discrete_vae_samples_decode_one_hot_codes():
    """vae.sample decodes discrete codes: the same x as decoding the prior's
    one-hot draws with the same seed, and not the relaxed draws."""
    vae, _ = model_and_data("posterior", "relaxed_categorical")
    seed = backend.seed_pair(0, 5)
    prior_seed, _ = tf.unstack(backend.split(seed, 2))
    codes = np.asarray(vae.stack.prior_layer.family.draw(vae.prior(), 6, prior_seed))
    assert set(np.unique(codes)) == {0.0, 1.0} and np.all(codes.reshape(6, 2, 2).sum(-1) == 1)
    np.testing.assert_allclose(vae.sample(6, seed=5, mean=True), vae.decode(codes).mean(), rtol=1e-5)
    assert vae.kl_form == "analytic"  # the KL of the categoricals, registered


@pytest.mark.parametrize("posterior,prior,spaces", [
    ("normal", "spherical_uniform", "R\\^d, but prior 'spherical_uniform' is a distribution over the unit sphere"),
    ("power_spherical", "normal", "the unit sphere S\\^\\(d-1\\), but prior 'normal'"),
    ("relaxed_categorical", {"name": "categorical", "categories": 5},
     "groups of 10 one-hot categories, but prior 'categorical' is a distribution over groups of 5"),
])
def test_a_posterior_and_prior_over_different_spaces_are_refused(posterior, prior, spaces):
    with pytest.raises(ValueError, match=spaces):
        tfpvae.VAE(event_shape=(4,), latent_dim=10, posterior=posterior, prior=prior)
