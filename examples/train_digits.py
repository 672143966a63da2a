"""Train a VAE on scikit-learn's 8x8 digits and print its test ELBO.

    python examples/train_digits.py [--epochs N]

The digits ship inside scikit-learn, so this needs no download. Grey levels
are scaled to [0, 1] and binarized: a fresh draw each epoch for training
(dynamic binarization, as in Burda et al.), a fixed draw for the test set.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae import data  # noqa: E402


def main(epochs):
    keras.utils.set_random_seed(0)
    train = data.load_arrays("digits", split="train")
    x_test = data.binarize_static(data.load_arrays("digits", split="test").x)
    vae = tfpvae.VAE(event_shape=train.event_shape, latent_dim=8, likelihood="bernoulli")
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(data.to_dataset(train.x, batch_size=100, binarize="dynamic"), epochs=epochs,
            validation_data=x_test, verbose=2)
    elbo = vae.elbo(x_test).mean()
    log_px = vae.log_likelihood(x_test, num_samples=1000).mean()
    print(f"test ELBO: {elbo:.2f} nats   test log p(x) (k=1000): {log_px:.2f} nats")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    main(parser.parse_args().epochs)
