"""A conditional VAE: each digit's label is fed to the encoder and the decoder.

    python examples/conditional.py [--epochs N] [--output samples.png]

Trains q(z|x, c) and p(x|z, c) on the digits with c = the label, compares its
test ELBO (a bound on log p(x|c)) with a VAE trained alike without labels (a
bound on log p(x)), and draws a grid with one label per row: the label sets
the digit, z its style.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae import data, plots  # noqa: E402


def trained(train, context_dim, epochs):
    keras.utils.set_random_seed(0)
    vae = tfpvae.VAE(event_shape=train.event_shape, latent_dim=2, context_dim=context_dim)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    labels = train.y if context_dim else None
    vae.fit(data.to_dataset(train.x, labels, batch_size=100, binarize="dynamic"), epochs=epochs, verbose=0)
    return vae


def main(epochs, output):
    train, test = data.load_arrays("digits", "train"), data.load_arrays("digits", "test")
    x_test = data.binarize_static(test.x)
    conditional, plain = trained(train, 10, epochs), trained(train, 0, epochs)
    print(f"test ELBO with labels    {conditional.elbo((x_test, test.y)).mean():8.3f} nats  (log p(x|c))")
    print(f"test ELBO without labels {plain.elbo(x_test).mean():8.3f} nats  (log p(x))")
    labels = np.repeat(np.arange(10), 8)
    x = conditional.sample(len(labels), seed=0, mean=True, c=labels)
    plots.image_grid(x, output, "means of p(x|z, c), z ~ p(z); row i has label c = i")
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--output", default="conditional_samples.png")
    args = parser.parse_args()
    main(args.epochs, args.output)
