"""The tfp.layers VAE as a plain Keras 3 functional model, on the bundled 8x8 digits.

    python examples/functional_vae.py [--epochs N]

The model of TFP's "Probabilistic Layers VAE" notebook, written with
tfpvae's tensor layers: a convolutional encoder gives the parameters of a
full-covariance Gaussian q(z|x) (`mvn_tril`), a `KLDivergence` layer adds
KL(q || N(0, I)) to the losses, a `Sample` layer draws z, and a
convolutional decoder gives the logits of Bernoulli pixels. With the
negative log-likelihood as the compiled loss, Keras minimizes the negative
ELBO. scikit-learn's digits are binarized once with a fixed seed (each
pixel on with probability its grey level).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae.layers import DistributionHead, KLDivergence, Sample  # noqa: E402

LATENT, SHAPE = 8, (8, 8, 1)
layers = keras.layers


def build_vae():
    x = keras.Input(SHAPE)
    h = layers.Conv2D(32, 3, padding="same", activation="leaky_relu")(x)
    h = layers.Conv2D(64, 3, strides=2, padding="same", activation="leaky_relu")(h)   # 4x4
    h = layers.Flatten()(h)
    q = DistributionHead("mvn_tril", event_shape=(LATENT,), role="posterior")(h)  # q(z|x)'s parameters
    q = KLDivergence(posterior="mvn_tril", prior="normal", event_shape=(LATENT,), weight=1.0)(q)
    z = Sample("mvn_tril", event_shape=(LATENT,), role="posterior")(q)
    h = layers.Reshape((4, 4, 16))(layers.Dense(4 * 4 * 16, activation="leaky_relu")(z))
    h = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="leaky_relu")(h)   # 8x8
    logits = DistributionHead("bernoulli", event_shape=SHAPE)(h)   # p(x|z), one logit per pixel
    vae = keras.Model(x, logits)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss=tfpvae.losses.NegativeLogLikelihood("bernoulli", event_shape=SHAPE))
    return vae


def digits():
    grey = (load_digits().images / 16.0).astype("float32")[..., None]
    x = (np.random.default_rng(0).uniform(size=grey.shape) < grey).astype("float32")
    return x[:1500], x[1500:]


def main(epochs):
    keras.utils.set_random_seed(0)
    x_train, x_test = digits()
    vae = build_vae()
    vae.fit(x_train, x_train, epochs=epochs, batch_size=50, verbose=0)
    negative_elbo = vae.evaluate(x_test, x_test, batch_size=len(x_test), verbose=0)
    print(f"test ELBO: {-negative_elbo:.2f} nats (one draw of z per digit)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    main(parser.parse_args().epochs)
