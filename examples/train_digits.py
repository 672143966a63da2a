"""Train a VAE on scikit-learn's 8x8 digits and print its test ELBO.

    python examples/train_digits.py [--epochs N]

The digits ship inside scikit-learn, so this needs no download. Grey levels
are scaled to [0, 1] and binarized by a fixed draw, which makes the Bernoulli
likelihood a proper one.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import tfpvae  # noqa: E402


def digits(seed=0):
    """Binarized digits, shape [1797, 8, 8, 1], split 1500 / 297."""
    grey = load_digits().images[..., None] / 16.0
    x = (np.random.RandomState(seed).uniform(size=grey.shape) < grey).astype("float32")
    return x[:1500], x[1500:]


def main(epochs):
    keras.utils.set_random_seed(0)
    x_train, x_test = digits()
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=8, likelihood="bernoulli")
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(x_train, epochs=epochs, batch_size=100, validation_data=x_test, verbose=2)
    elbo = vae.elbo(x_test).mean()
    log_px = vae.log_likelihood(x_test, num_samples=1000).mean()
    print(f"test ELBO: {elbo:.2f} nats   test log p(x) (k=1000): {log_px:.2f} nats")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    main(parser.parse_args().epochs)
