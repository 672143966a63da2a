import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits, binarized by a fixed draw: [1797, 8, 8, 1] in {0, 1}."""
    grey = load_digits().images[..., None] / 16.0
    return (np.random.RandomState(0).uniform(size=grey.shape) < grey).astype("float32")
