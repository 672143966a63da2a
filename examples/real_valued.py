"""A Gaussian-likelihood VAE on real-valued, non-image data.

    python examples/real_valued.py [--epochs N]

scikit-learn's bundled wine data: 178 samples of 13 chemical measurements,
standardized. p(x|z) is a full-covariance Gaussian (`mvn_tril`) and compared
with a diagonal one (`normal`) on held-out log-likelihood.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_wine  # noqa: E402

import tfpvae  # noqa: E402


def wine():
    x = load_wine().data.astype("float32")
    x = (x - x.mean(0)) / x.std(0)
    order = np.random.RandomState(0).permutation(len(x))
    return x[order[:150]], x[order[150:]]


def main(epochs):
    x_train, x_test = wine()
    for likelihood in ("normal", "mvn_tril"):
        keras.utils.set_random_seed(0)
        vae = tfpvae.VAE(event_shape=(13,), latent_dim=2, likelihood=likelihood,
                         encoder={"name": "mlp", "units": [32]}, decoder={"name": "mlp", "units": [32]})
        vae.compile(optimizer=keras.optimizers.Adam(3e-3))
        vae.fit(x_train, epochs=epochs, batch_size=30, verbose=0)
        print(f"likelihood={likelihood:9s} test ELBO {vae.elbo(x_test).mean():8.2f}   "
              f"log p(x) (k=1000) {vae.log_likelihood(x_test, num_samples=1000).mean():8.2f} nats")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    main(parser.parse_args().epochs)
