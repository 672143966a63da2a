"""The levels of a VAE in one object: config, inference order, KL forms, build shapes and saved files."""

import io
import json
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

import tfpvae
from tfpvae import backend
from tfpvae.hierarchy import Chain
from tfpvae.stack import Stack

DATA = Path(__file__).resolve().parent / "data"
mlp = lambda units: {"name": "mlp", "units": units}  # noqa: E731
TWO = {"latent_dim": [3, 2], "encoder": [mlp([16]), mlp([8])], "decoder": [mlp([16]), mlp([8])]}
THREE = {"latent_dim": [4, 3, 2], "encoder": [mlp([16]), mlp([8]), mlp([8])],
         "decoder": [mlp([16]), mlp([8]), mlp([8])]}


@pytest.mark.parametrize("options", [
    {"latent_dim": 2, "encoder": "conv", "decoder": "conv", "context_dim": 3, "prior": "mixture"},
    {**TWO, "posterior": ["mvn_tril", "normal"], "kl": "mc"},
    {**TWO, "encoder": [keras.layers.Dense(8), keras.layers.Dense(4)], "context_dim": 5},
    {**THREE, "inference": "ladder", "likelihood": "normal"},
])
def test_a_stack_rebuilds_from_its_config(options):
    stack = Stack((8, 8, 1), **options)
    config = stack.get_config()
    assert json.loads(json.dumps(config)) == config
    assert Stack(**config).get_config() == config


@pytest.mark.parametrize("inference, kl, posterior_order, forms", [
    ("bottom_up", "auto", (0, 1, 2), ("mc", "mc", "analytic")),
    ("ladder", "auto", (2, 1, 0), ("analytic", "analytic", "analytic")),
    ("ladder", "mc", (2, 1, 0), ("mc", "mc", "mc")),
])
def test_the_inference_order_sets_the_order_of_drawing_and_the_kl_forms(inference, kl, posterior_order, forms):
    """Bottom-up draws z_1 first, a ladder z_L; p(z) is drawn top-down either way.
    Below the top only a ladder's q and p condition on the same level, so only
    there can those levels' KL be in closed form."""
    stack = Stack((64,), inference=inference, kl=kl, **THREE)
    stack.build()
    q, p = stack.posterior(np.zeros((5, 64), np.float32)), stack.prior()
    assert isinstance(q, Chain) and q.order == posterior_order and p.order == (2, 1, 0)
    assert stack.kl_form() == forms


def test_kl_form_shows_the_check_every_level_and_the_two_chains():
    seen = []
    assert Stack((64,), **TWO).kl_form(check=lambda q, p: seen.append((q, p))) == ("mc", "analytic")
    assert len(seen) == 3 and all(isinstance(d, Chain) for d in seen[-1])
    assert [q.event_shape[-1] for q, _ in seen] == [3, 2, 5]


@pytest.mark.parametrize("inference, upper_input", [("bottom_up", 3 + 10), ("ladder", 16)])
def test_build_makes_every_weight_from_the_shapes_alone(inference, upper_input):
    """The bottom encoder sees x with c, a bottom-up encoder z_{l-1} with c, a
    ladder's the features below; every layer is built before any call."""
    stack = Stack((8, 8, 1), context_dim=10 if inference == "bottom_up" else 0, inference=inference, **TWO)
    stack.build()
    layers = [layer for _, part in stack.parts() for layer in (part if isinstance(part, list) else [part])]
    assert all(layer.built for layer in layers)
    bottom_inputs = 64 + (10 if inference == "bottom_up" else 0)
    assert stack.encoder_net.layers[1].kernel.shape == (bottom_inputs, 16)
    assert stack.upper_encoders[0].layers[1].kernel.shape == (upper_input, 8)
    assert stack.decoder_net.layers[0].kernel.shape == (3 + stack.context_dim, 16)


def test_the_context_reaches_the_posterior_and_the_likelihood_not_the_prior():
    stack = Stack((64,), context_dim=2, **TWO)
    stack.build()
    x = np.random.default_rng(0).random((4, 64)).astype(np.float32)
    c, other = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]], np.eye(2, dtype=np.float32)[[1, 0, 1, 0]]
    z = stack.posterior(x, c).sample(seed=backend.seed_pair(1, 2))
    assert not np.allclose(stack.posterior(x, c).levels(z)[1].mean(), stack.posterior(x, other).levels(z)[1].mean())
    assert not np.allclose(stack.likelihood(z, c).mean(), stack.likelihood(z, other).mean())
    np.testing.assert_allclose(stack.likelihood(z, c).mean(), stack.likelihood(z[..., :3], c).mean())


def test_the_inference_network_is_the_encoders_and_the_posteriors():
    stack = Stack((64,), **THREE)
    assert stack.inference_layers() == [stack.encoder_net, stack.posterior_layer, *stack.upper_encoders,
                                        *stack.upper_posteriors]
    assert [name for name, _ in stack.parts()] == [
        "encoder_net", "decoder_net", "posterior_layer", "likelihood_layer", "prior_layer", "upper_encoders",
        "upper_posteriors", "upper_decoders", "conditional_priors"]


# --- files written by tfpvae 0.1.0 ---------------------------------------------------------


def weight_paths(path):
    """The weight paths and shapes in a .keras file."""
    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
        found = []
        weights.visititems(lambda name, item: found.append((name, item.shape)) if isinstance(item, h5py.Dataset)
                           else None)
    return found


@pytest.mark.parametrize("name", ["stack", "ladder"])
def test_stacks_written_by_0_1_0_load_with_the_same_distributions(name, tmp_path):
    """`stack`: digits, latent_dim=[4, 2], posterior ["mvn_tril", "normal"],
    context_dim=10; `ladder`: latent_dim=[4, 3, 2], inference="ladder"; both
    trained 2 epochs (tests/data/README.md). Every level of q(z|x) at the saved
    draw z, p(z) and p(x|z) are those saved (rtol 1e-5), and saved again, the
    file names each weight as before."""
    vae = keras.models.load_model(DATA / f"{name}-0.1.0.keras")
    expected = np.load(DATA / f"{name}-0.1.0-expected.npz")
    x, z = expected["x"], expected["z"]
    c = expected["c"] if vae.context_dim else None

    def check(ours, theirs):
        np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-5, atol=1e-6)

    check(vae.predict(x if c is None else (x, c), verbose=0), expected["reconstruction"])
    q = vae.encode(x, c=c)
    for number, level in enumerate(q.levels(z), start=1):
        check(level.mean(), expected[f"loc_{number}"])
        check(level.stddev(), expected[f"stddev_{number}"])
    check(q.log_prob(z), expected["log_prob"])
    check(vae.prior().log_prob(z), expected["prior_log_prob"])
    check(vae.decode(z, c=c).mean(), expected["decoded"])
    vae.save(tmp_path / "again.keras")
    assert weight_paths(tmp_path / "again.keras") == weight_paths(DATA / f"{name}-0.1.0.keras")


def test_a_vae_is_its_stack_and_the_keras_side():
    """The model's config is its stack's and its own options."""
    vae = tfpvae.VAE(event_shape=(64,), objective="iwae", num_samples=3, seed=1, **TWO)
    config = vae.get_config()
    assert {k: config[k] for k in vae.stack.get_config()} == vae.stack.get_config()
    assert (config["objective"], config["num_samples"], config["seed"]) == ("iwae", 3, 1)
    assert vae.latent_size == 5 and vae.latent_dim == [3, 2] and vae.event_shape == (64,)
