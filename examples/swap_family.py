"""The same model with one family swapped by changing one string.

    python examples/swap_family.py [--epochs N]

Trains on the binarized digits with three priors and prints their test ELBO
and log-likelihood side by side. A mixture prior has no closed-form KL, so
its ELBO is the Monte Carlo one (`vae.kl_form`).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae import data  # noqa: E402


def main(epochs):
    train = data.load_arrays("digits", split="train")
    x_test = data.binarize_static(data.load_arrays("digits", split="test").x)
    print(f"{'prior':16s} {'KL':9s} {'ELBO':>8s} {'log p(x)':>9s}")
    for prior in ("normal", "learned_normal", "mixture"):
        keras.utils.set_random_seed(0)
        vae = tfpvae.VAE(event_shape=train.event_shape, latent_dim=4, prior=prior)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3))
        vae.fit(data.to_dataset(train.x, batch_size=100, binarize="dynamic"), epochs=epochs, verbose=0)
        log_px = vae.log_likelihood(x_test, num_samples=1000).mean()
        print(f"{prior:16s} {vae.kl_form:9s} {vae.elbo(x_test).mean():8.2f} {log_px:9.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    main(parser.parse_args().epochs)
