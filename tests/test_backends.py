"""The same VAE on both Keras backends: a model file saved under one loads under
the other with the same distributions, and under JAX nothing imports TensorFlow.

Each other-backend run is a child process (Keras fixes its backend when it is
imported); the child's script is written to a file and prints one JSON line.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import tfpvae
from tfpvae import backend

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                reason="JAX is not installed (pip install -e '.[jax]')")

# Refuses `import tensorflow` in the child, as on a machine without TensorFlow.
BLOCK_TENSORFLOW = """
import sys
class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("No module named 'tensorflow' (blocked)")
sys.meta_path.insert(0, NoTensorFlow())
"""

# What a model file gives on the backend that loads it: distributions at fixed
# inputs, no random draws (the backends' random streams differ).
OUTPUTS = """
def outputs(vae, x):
    import numpy as np
    from tfpvae.backend import tfd
    q = vae.encode(x)
    z = np.linspace(-1.0, 1.0, 2 * len(x), dtype="float32").reshape(len(x), 2)
    return {"mean": np.asarray(q.mean()), "stddev": np.asarray(q.stddev()),
            "kl": np.asarray(tfd.kl_divergence(q, vae.prior())),
            "log_px_z": np.asarray(vae.decode(z).log_prob(x)),
            "log_pz": np.asarray(vae.prior().log_prob(z)),
            "predict": np.asarray(vae.predict(x, verbose=0))}
"""


def run_child(tmp_path, script, backend_name, block_tensorflow=False):
    """Runs `script` under `backend_name` in a child process; its last stdout line, as JSON."""
    path = tmp_path / f"child_{backend_name}.py"
    path.write_text((BLOCK_TENSORFLOW if block_tensorflow else "") + OUTPUTS + textwrap.dedent(script))
    env = {**os.environ, "KERAS_BACKEND": backend_name, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def other_backend():
    return "tensorflow" if backend.is_jax else "jax"


def outputs(vae, x):
    namespace = {}
    exec(OUTPUTS, namespace)
    return namespace["outputs"](vae, x)


def trained(digits):
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder={"name": "mlp", "units": [16]},
                     decoder={"name": "mlp", "units": [16]}, seed=3)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    vae.fit(digits[:300], epochs=2, batch_size=50, verbose=0)
    return vae


def test_a_model_file_saved_here_loads_on_the_other_backend_with_the_same_outputs(digits, tmp_path):
    vae = trained(digits)
    vae.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", digits[1500:1510])
    expected = outputs(vae, digits[1500:1510])
    found = run_child(tmp_path, """
        import json, keras, numpy as np, tfpvae
        vae = keras.models.load_model("model.keras")
        print(json.dumps({k: v.tolist() for k, v in outputs(vae, np.load("x.npy")).items()}))
    """, other_backend())
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(found[name]), value, rtol=1e-4, atol=1e-4, err_msg=name)


def test_a_model_file_saved_on_the_other_backend_loads_here_with_the_same_outputs(digits, tmp_path):
    np.save(tmp_path / "x.npy", digits[:300])
    found = run_child(tmp_path, """
        import json, keras, numpy as np, tfpvae
        x = np.load("x.npy")
        vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder={"name": "mlp", "units": [16]},
                         decoder={"name": "mlp", "units": [16]}, seed=3)
        vae.compile(optimizer=keras.optimizers.Adam(1e-2))
        vae.fit(x, epochs=2, batch_size=50, verbose=0)
        vae.save("model.keras")
        print(json.dumps({k: v.tolist() for k, v in outputs(vae, x[:10]).items()}))
    """, other_backend())
    loaded = keras.models.load_model(tmp_path / "model.keras")
    for name, value in outputs(loaded, digits[:10]).items():
        np.testing.assert_allclose(value, np.asarray(found[name]), rtol=1e-4, atol=1e-4, err_msg=name)


def test_under_jax_training_evaluation_sampling_and_model_files_need_no_tensorflow(digits, tmp_path):
    np.save(tmp_path / "x.npy", digits[:400])
    found = run_child(tmp_path, """
        import json, sys, keras, numpy as np, tfpvae
        x = np.load("x.npy")
        vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=1)
        vae.compile(optimizer="adam")
        history = vae.fit(x[:300], epochs=3, batch_size=50, verbose=0).history
        log_px = vae.log_likelihood(x[300:], num_samples=50, chunk_size=16)
        vae.save("model.keras")
        loaded = keras.models.load_model("model.keras")
        print(json.dumps({"loss": history["loss"], "log_px": float(log_px.mean()),
                          "samples": vae.sample(5, seed=2).tolist(),
                          "same_after_load": bool(np.allclose(vae.predict(x[:5], verbose=0),
                                                              loaded.predict(x[:5], verbose=0), atol=1e-6)),
                          "tensorflow_loaded": "tensorflow" in sys.modules}))
    """, "jax", block_tensorflow=True)
    assert not found["tensorflow_loaded"]
    assert found["loss"][-1] < found["loss"][0]
    assert -64 * np.log(2) < found["log_px"] < 0  # a Bernoulli model of 64 pixels beats coin flips
    assert np.asarray(found["samples"]).shape == (5, 8, 8, 1)
    assert found["same_after_load"]


def test_under_jax_a_tensorflow_only_part_names_what_needs_tensorflow(tmp_path):
    found = run_child(tmp_path, """
        import json, tfpvae
        from tfpvae import backend
        try:
            backend.require_tensorflow("a tf.data input pipeline")
            message = None
        except ImportError as error:
            message = str(error)
        print(json.dumps({"message": message}))
    """, "jax", block_tensorflow=True)
    assert found["message"].startswith("a tf.data input pipeline needs TensorFlow, which is not installed")


def test_under_jax_a_run_checkpoints_and_resumes_without_tensorflow(digits, tmp_path):
    np.save(tmp_path / "x.npy", digits[:200])
    found = run_child(tmp_path, """
        import json, sys, keras, numpy as np, tfpvae
        from tfpvae.checkpoints import RunCheckpoint
        x = np.load("x.npy")

        def model():
            vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=1)
            vae.compile(optimizer="adam")
            return vae

        vae = model()
        vae.fit(x, epochs=3, batch_size=50, verbose=0, callbacks=[RunCheckpoint("run", vae)])
        again = model()
        checkpoint = RunCheckpoint("run", again)
        start = checkpoint.restore()
        same = all(np.array_equal(a, b) for a, b in zip(vae.get_weights(), again.get_weights()))
        print(json.dumps({"start": start, "kept": checkpoint.saved_epochs(), "same_weights": same,
                          "same_step": int(vae.optimizer.iterations.numpy()) == int(again.optimizer.iterations.numpy()),
                          "same_seed": np.array_equal(vae.seed_generator.state.numpy(),
                                                      again.seed_generator.state.numpy()),
                          "tensorflow_loaded": "tensorflow" in sys.modules}))
    """, "jax", block_tensorflow=True)
    assert found == {"start": 3, "kept": [2, 3], "same_weights": True, "same_step": True, "same_seed": True,
                     "tensorflow_loaded": False}


def test_under_jax_the_command_line_trains_evaluates_and_samples_without_tensorflow(tmp_path):
    found = run_child(tmp_path, """
        import contextlib, io, json, sys
        import tfpvae_command
        codes = [tfpvae_command.main(["train", "--epochs", "2", "--output", "run"]),
                 tfpvae_command.main(["evaluate", "run", "--num-samples", "20", "--json"]),
                 tfpvae_command.main(["sample", "run", "-n", "8"])]
        print(json.dumps({"codes": codes, "tensorflow_loaded": "tensorflow" in sys.modules}))
    """, "jax", block_tensorflow=True)
    assert found == {"codes": [0, 0, 0], "tensorflow_loaded": False}
    assert {"model.keras", "metrics.json", "samples.png", "samples.npy"} <= {p.name for p in (tmp_path / "run").iterdir()}
    assert not (tmp_path / "run" / "checkpoints").exists()


# Pins the posterior's draws (the backends' random streams differ): the eps of
# every reparameterized Gaussian draw comes from numpy's RandomState(0).
FIXED_DRAWS = """
import numpy as np
from tfpvae import backend
backend.normal = lambda shape, seed, dtype: np.random.RandomState(0).normal(size=tuple(int(d) for d in shape)).astype("float32")
"""

ONE_STEP = FIXED_DRAWS + """
import json, keras, numpy as np, tfpvae
vae = keras.models.load_model("model.keras")
vae.compile(optimizer=keras.optimizers.SGD(1.0), run_eagerly=backend.NAME == "tensorflow")
before = [np.asarray(w) for w in vae.get_weights()]
vae.train_on_batch(np.load("x.npy"))
print(json.dumps([(b - np.asarray(a)).tolist() for a, b in zip(vae.get_weights(), before)]))
"""


@pytest.mark.parametrize("objective", ["elbo", "iwae", "stl", "dreg"])
def test_one_step_takes_the_same_gradients_on_both_backends(objective, digits, tmp_path):
    """SGD with rate 1 moves each weight by minus its gradient; with the draws
    pinned, both backends' steps move every weight alike (the gradient
    surgery of STL and DReG included), to float32 tolerance."""
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder={"name": "mlp", "units": [8]},
                     decoder={"name": "mlp", "units": [8]}, objective=objective, num_samples=3, seed=0)
    vae.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", digits[:16])
    steps = [run_child(tmp_path, ONE_STEP, name) for name in backend.BACKENDS]
    for ours, theirs in zip(*steps):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-3, atol=1e-5)
    assert any(np.abs(np.asarray(g)).max() > 1e-4 for g in steps[0])


def test_under_jax_data_parallel_training_spans_two_devices(digits, tmp_path):
    """Keras's `DataParallel`, JAX's engine for several devices, on two logical CPU devices."""
    np.save(tmp_path / "x.npy", digits[:400])
    found = run_child(tmp_path, """
        import os
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        import json, jax, keras, numpy as np, tfpvae
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
        x = np.load("x.npy")
        vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=1)
        vae.compile(optimizer="adam")
        loss = vae.fit(x, epochs=3, batch_size=50, verbose=0).history["loss"]
        print(json.dumps({"devices": len(jax.devices()), "loss": loss,
                          "weights_on": len(vae.trainable_variables[0].value.sharding.device_set),
                          "log_px": float(vae.log_likelihood(x[:20], num_samples=20).mean())}))
    """, "jax", block_tensorflow=True)
    assert found["devices"] == 2 and found["weights_on"] == 2
    assert found["loss"][-1] < found["loss"][0]
    assert -64 * np.log(2) < found["log_px"] < 0


@pytest.mark.tensorflow
def test_a_run_trained_on_jax_exports_the_saved_model_of_its_model_file(digits, tmp_path):
    """`tfpvae --backend jax train`, then `tfpvae --backend jax export` (which exports
    on TensorFlow in a child process): the SavedModel reconstructs as the run's
    model file does, loaded here on TensorFlow."""
    command = shutil.which("tfpvae", path=str(Path(sys.executable).parent)) or "tfpvae"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for args in (["train", "--epochs", "2", "--output", "run"], ["export", "run", "export"]):
        result = subprocess.run([command, "--backend", "jax", *args], capture_output=True, text=True, env=env,
                                cwd=tmp_path, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith(str(tmp_path / "export"))
    tf = backend.tensorflow
    served = tf.saved_model.load(str(tmp_path / "export")).signatures["reconstruct"](x=tf.constant(digits[:10]))
    expected = keras.models.load_model(tmp_path / "run" / "model.keras").predict(digits[:10], verbose=0)
    np.testing.assert_allclose(served["reconstruction"].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_under_jax_tensorflow_imported_before_tfpvae_leaves_it_working(tmp_path):
    found = run_child(tmp_path, """
        import json
        import numpy as np
        import tensorflow as tf
        import tfpvae
        vae = tfpvae.VAE(event_shape=(4,), latent_dim=2, seed=0)
        vae.compile(optimizer="adam")
        loss = vae.fit(np.full((20, 4), 0.5, "float32"), epochs=1, verbose=0).history["loss"][-1]
        print(json.dumps({"backend": tfpvae.backend.NAME, "loss": float(loss),
                          "tensor": float(tf.reduce_sum(tf.ones(3)))}))
    """, "jax")
    assert found["backend"] == "jax"
    assert np.isfinite(found["loss"])
    assert found["tensor"] == 3.0


def test_a_tf_data_dataset_trains_evaluates_and_predicts_on_either_backend(digits):
    """Where TensorFlow is installed, `fit` reads a `tf.data.Dataset` on JAX as on TensorFlow."""
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=1)
    vae.compile(optimizer="adam")
    dataset = tfpvae.data.to_dataset(digits[:500], batch_size=50)
    loss = vae.fit(dataset, epochs=3, verbose=0, validation_data=digits[500:600]).history["loss"]
    assert loss[-1] < loss[0]
    assert np.isfinite(vae.evaluate(dataset, verbose=0, return_dict=True)["loss"])
    assert vae.predict(dataset, verbose=0).shape == (500, 8, 8, 1)
