"""benchmarks/device runs on Keras's JAX backend without TensorFlow, as on a machine that lacks it."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax", reason="benchmarks/device runs on JAX, which is not installed")

ROOT = Path(__file__).resolve().parent.parent

# Runs a module with `import tensorflow` failing as it does where TensorFlow is not installed.
WITHOUT_TENSORFLOW = """
import runpy
import sys


class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, NoTensorFlow())
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def fake_mnist(path):
    """A Keras-format mnist.npz with 300 training and 50 test images of random uint8 pixels."""
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (300, 28, 28), np.uint8), y_train=rng.integers(0, 10, 300),
             x_test=rng.integers(0, 256, (50, 28, 28), np.uint8), y_test=rng.integers(0, 10, 50))


def test_device_benchmark_trains_and_scores_without_tensorflow(tmp_path):
    fake_mnist(tmp_path / "mnist.npz")
    out = tmp_path / "device.json"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    args = ["--data", tmp_path / "mnist.npz", "--epochs", 2, "--train-examples", 200, "--test-examples", 50,
            "--k", 20, "--out", out]
    done = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, "benchmarks.device", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "JAX devices:" in done.stdout
    results = json.loads(out.read_text())
    assert results["environment"]["keras_backend"] == "jax"
    assert not results["environment"]["tensorflow_imported"]
    assert results["setup"]["train_examples"] == 200 and len(results["epoch_s"]) == 2
    for key in ("fit_s", "first_epoch_s", "examples_per_s", "final_loss", "test_log_px", "log_px_s"):
        assert math.isfinite(results[key]), (key, results[key])
    assert results["examples_per_s"] > 0 and results["test_log_px"] < 0
