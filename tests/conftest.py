import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

# The modules whose tests run on both backends; under KERAS_BACKEND=jax only
# these are collected, less the tests marked `tensorflow`. The others test
# parts that exist only on TensorFlow (tf.data pipelines, the XLA loop,
# tf.distribute, SavedModel export and serving, TensorBoard checkpoints) or
# the command line, whose runs read their data through tf.data.
BACKEND_NEUTRAL = {
    "families/test_families.py", "families/test_marginal_params.py", "families/test_normal.py",
    "families/test_registry.py", "objectives/test_aggregate.py", "objectives/test_beta_tc.py",
    "objectives/test_bounds.py", "objectives/test_capacity.py", "objectives/test_dip_vae.py",
    "objectives/test_importance_weighted.py", "objectives/test_mmd.py", "objectives/test_objectives.py",
    "layers/test_distribution_head.py", "layers/test_kl_divergence.py", "layers/test_layers.py",
    "layers/test_precision.py", "layers/test_sample.py", "layers/test_saved_vae_file.py",
    "layers/test_serialization.py", "test_backends.py", "test_benchmarks_device.py", "test_callbacks.py",
    "test_conditioning.py", "test_config.py", "test_data_array_batches.py", "test_evaluation.py", "test_hierarchy.py", "test_losses.py",
    "test_metrics.py", "test_model.py", "test_model_families.py", "test_networks.py", "test_samplers.py",
    "test_schedules.py", "test_stack.py",
}
TESTS = Path(__file__).parent


def pytest_ignore_collect(collection_path, config):
    """Under JAX, test modules outside BACKEND_NEUTRAL are not collected."""
    if keras.backend.backend() != "jax" or not collection_path.name.startswith("test_"):
        return None
    return collection_path.relative_to(TESTS).as_posix() not in BACKEND_NEUTRAL or None


def pytest_collection_modifyitems(config, items):
    if keras.backend.backend() != "jax":
        return
    tensorflow_only = [item for item in items if item.get_closest_marker("tensorflow")]
    if tensorflow_only:
        config.hook.pytest_deselected(items=tensorflow_only)
        items[:] = [item for item in items if not item.get_closest_marker("tensorflow")]


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits, binarized by a fixed draw: [1797, 8, 8, 1] in {0, 1}."""
    grey = load_digits().images[..., None] / 16.0
    return (np.random.RandomState(0).uniform(size=grey.shape) < grey).astype("float32")
