"""A convolutional VAE: stride-2 convolutions in, transposed convolutions out.

    python examples/conv_vae.py [--data digits] [--epochs N] [--output conv.png]

The decoder ends on a feature map the size of the image, and the likelihood
layer turns each pixel's features into that pixel's Bernoulli logit.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae import data, plots  # noqa: E402


def main(source, epochs, output):
    keras.utils.set_random_seed(0)
    train = data.load_arrays(source, split="train")
    x_test = data.binarize_static(data.load_arrays(source, split="test").x)
    vae = tfpvae.VAE(event_shape=train.event_shape, latent_dim=8, encoder="conv",
                     decoder={"name": "conv", "filters": [32, 64], "units": 128})
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(data.to_dataset(train.x, batch_size=100, binarize="dynamic"), epochs=epochs, verbose=2)
    plots.reconstructions(x_test[:8], vae.predict(x_test[:8], verbose=0), output)
    print(f"test ELBO: {vae.elbo(x_test).mean():.2f} nats; reconstructions in {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--output", default="conv_reconstructions.png")
    args = parser.parse_args()
    main(args.data, args.epochs, args.output)
