"""An MLP VAE on MNIST-format data (Kingma & Welling's setup, IWAE paper sizes).

    python examples/mlp_mnist.py --data path/to/mnist.npz [--epochs N]
    python examples/mlp_mnist.py --data mnist          # tensorflow-datasets, needs network

`--data` takes anything `tfpvae.data.load_arrays` reads: a Keras-format
mnist.npz, IDX files, a tfds name. Without it, the bundled 8x8 digits stand in.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae import data  # noqa: E402


def main(source, epochs):
    keras.utils.set_random_seed(0)
    train = data.load_arrays(source, split="train")
    x_test = data.binarize_static(data.load_arrays(source, split="test").x)
    vae = tfpvae.VAE(
        event_shape=train.event_shape, latent_dim=50, likelihood="bernoulli",
        encoder={"name": "mlp", "units": [200, 200], "activation": "tanh"},
        decoder={"name": "mlp", "units": [200, 200], "activation": "tanh"},
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(data.to_dataset(train.x, batch_size=100, binarize="dynamic"), epochs=epochs, verbose=2)
    print(f"{train.source}: test ELBO {vae.elbo(x_test).mean():.2f} nats, "
          f"log p(x) (k=1000) {vae.log_likelihood(x_test, num_samples=1000).mean():.2f} nats")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    main(args.data, args.epochs)
