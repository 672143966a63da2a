"""A VAE with a 2-D latent space, its decoded manifold and its encoded test set.

    python examples/latent_2d.py [--epochs N] [--output-dir .]

Writes manifold.png (Kingma & Welling's Figure 4: decoded means over a grid
of z) and latent.png (posterior means of test digits, coloured by label).
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae import data, plots  # noqa: E402


def main(epochs, output_dir):
    keras.utils.set_random_seed(0)
    train, test = data.load_arrays("digits", "train"), data.load_arrays("digits", "test")
    vae = tfpvae.VAE(event_shape=train.event_shape, latent_dim=2)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(data.to_dataset(train.x, batch_size=100, binarize="dynamic"), epochs=epochs, verbose=2)
    output_dir = Path(output_dir)
    plots.manifold(vae, output_dir / "manifold.png")
    plots.latent_scatter(vae.encode(test.x).mean().numpy(), test.y, output_dir / "latent.png")
    print(f"wrote {output_dir / 'manifold.png'} and {output_dir / 'latent.png'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--output-dir", default=".")
    args = parser.parse_args()
    main(args.epochs, args.output_dir)
