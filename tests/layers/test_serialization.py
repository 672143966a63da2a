"""Models built from the heads, the loss, the metrics and the KL and Sample layers save to
.keras files, load back exactly, and export SavedModels that load without tfpvae."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import tfpvae
from tfpvae.layers import DistributionHead, KLDivergence, Sample

EXPORT_CHECK = """
import sys
sys.modules["tfpvae"] = None  # importing tfpvae now fails: the SavedModel must not need it
import numpy as np, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
outputs = model.serve(tf.constant(x))
np.savez(sys.argv[3], *[np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])])
"""


def vae(latent=2, size=6):
    """The tfp.layers VAE idiom: q's parameters, KL to the prior, a draw of z, p(x|z)'s parameters."""
    x = keras.Input((size,))
    h = keras.layers.Dense(16, activation="relu")(x)
    q = DistributionHead("normal", event_shape=(latent,), role="posterior", name="q")(h)
    q = KLDivergence(posterior="normal", prior="mixture", event_shape=(latent,), weight=1.0, seed=1)(q)
    z = Sample("normal", event_shape=(latent,), role="posterior", seed=2)(q)
    px = DistributionHead("bernoulli", event_shape=(size,), name="px")(
        keras.layers.Dense(16, activation="relu")(z))
    model = keras.Model(x, [q, px])
    model.compile(optimizer="adam", loss=[None, tfpvae.losses.NegativeLogLikelihood("bernoulli", (size,))],
                  metrics=[None, [tfpvae.metrics.LogLikelihood("bernoulli", (size,))]])
    return model


def binary(n=64, size=6, seed=0):
    return (np.random.default_rng(seed).uniform(size=(n, size)) < 0.3).astype(np.float32)


def same_seed_states(model, other):
    """Keras saves no SeedGenerator state (nor does Dropout's): start both models' draws alike."""
    for layer, twin in zip(model.layers, other.layers):
        if isinstance(layer, (KLDivergence, Sample)):
            twin.seed_generator.state.assign(np.asarray(layer.seed_generator.state))


def test_keras_file_round_trip_is_exact(tmp_path):
    keras.utils.set_random_seed(0)
    model, x = vae(), binary()
    model.fit(x, (x, x), epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    same_seed_states(model, again)
    for saved, loaded in zip(model.predict(x, verbose=0), again.predict(x, verbose=0)):
        np.testing.assert_array_equal(saved, loaded)
    same_seed_states(model, again)
    np.testing.assert_array_equal(model.evaluate(x, (x, x), verbose=0), again.evaluate(x, (x, x), verbose=0))


def test_regression_model_with_shared_scale_round_trips(tmp_path):
    spec = {"name": "normal", "scale": "shared"}
    model = keras.Sequential([keras.Input((3,)), DistributionHead(spec, event_shape=(2,))])
    model.compile(optimizer="adam", loss=tfpvae.losses.NegativeLogLikelihood(spec, (2,)),
                  metrics=[tfpvae.metrics.IntervalCoverage(spec, (2,), level=0.8)])
    x, y = np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32)
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "r.keras")
    again = keras.models.load_model(tmp_path / "r.keras")
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
    assert again.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)


@pytest.mark.tensorflow
def test_export_loads_in_a_process_without_tfpvae(tmp_path):
    keras.utils.set_random_seed(0)
    model, x = vae(), binary(8)
    model.fit(binary(), (binary(), binary()), epochs=1, verbose=0)
    model.export(str(tmp_path / "export"), verbose=False)
    np.save(tmp_path / "x.npy", x)
    result = subprocess.run([sys.executable, "-c", EXPORT_CHECK, str(tmp_path / "export"), str(tmp_path / "x.npy"),
                             str(tmp_path / "out.npz")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    q, px = out["arr_0"], out["arr_1"]
    np.testing.assert_allclose(q, model.predict(x, verbose=0)[0], rtol=1e-5, atol=1e-6)
    assert px.shape == (8, 6) and np.all(np.isfinite(px))  # logits of p(x|z) at a random z


@pytest.mark.parametrize("layer", [DistributionHead({"name": "normal_mixture", "components": 2}, (3,)),
                                   KLDivergence(event_shape=(3,)), Sample("poisson", (4,), seed=3)],
                         ids=["head", "kl", "sample"])
def test_layers_serialize_by_their_registered_names(layer):
    serialized = keras.layers.serialize(layer)
    assert serialized["registered_name"].startswith("tfpvae>")
    assert keras.layers.deserialize(json.loads(json.dumps(serialized))).get_config() == layer.get_config()
