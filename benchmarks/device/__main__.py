"""tfpvae on Keras's JAX backend, on the device JAX sees: MNIST training speed and test log p(x).

    python -m benchmarks.device                                  # CPU, or the GPU where JAX sees one
    python -m benchmarks.device --epochs 2 --train-examples 5000 --k 100 --out /tmp/device.json

The model is the IWAE paper's 1-stochastic-layer MNIST VAE: 784-200-200-50,
tanh MLPs for q(z|x) (a diagonal Gaussian) and p(x|z) (Bernoulli), p(z) =
N(0, I), trained on -ELBO (one z, analytic KL) with batch 100 and Adam 1e-3:

    vae = tfpvae.VAE(event_shape=(784,), latent_dim=50, encoder=mlp, decoder=mlp)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(x_train, batch_size=100, epochs=E)

Data: a Keras-format mnist.npz (x_train, y_train, x_test, y_test; default
../shared/data/mnist.npz from the repository root), scaled to [0, 1] and
binarized once (`tfpvae.data.binarize_static`, seed 0 for the training
images, seed 1 for the test images).

Reported (and written as JSON to --out, default
benchmarks/device/results/mnist-DATE.json):

- the JAX devices, backend and versions;
- first epoch (s): the first epoch of `fit`, `jax.jit` tracing and compilation
  included; fit (s): the whole `fit` call, model building included;
- examples/s in steady state: the training examples of epochs 2..E over
  their seconds;
- test log p(x): the mean importance-sampled estimate with k samples
  (`VAE.log_likelihood`, default k = 1000) on the first --test-examples test
  images (default 2,000), and the seconds it took.

Needs JAX, Keras, the TFP build tfpvae pins and tfpvae; not TensorFlow.
KERAS_BACKEND defaults to jax here; any other backend is an error.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfpvae  # noqa: E402
from benchmarks.common import DATA, epoch_timer, results_path  # noqa: E402
from tfpvae import data  # noqa: E402

KEYS = ("x_train", "y_train", "x_test", "y_test")
MLP = {"name": "mlp", "units": [200, 200], "activation": "tanh"}
LATENT, BATCH, LEARNING_RATE = 50, 100, 1e-3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.device", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"Keras-format mnist.npz (default {DATA})")
    parser.add_argument("--out", type=Path,
                        help="JSON results file (default benchmarks/device/results/mnist-DATE.json)")
    parser.add_argument("--epochs", type=int, default=5,
                        help="epochs; the first (with compilation) is left out of examples/s (default 5)")
    parser.add_argument("--train-examples", type=int, default=60000,
                        help="first N training images, cut to a multiple of the batch (default 60000)")
    parser.add_argument("--test-examples", type=int, default=2000, help="first N test images (default 2000)")
    parser.add_argument("--k", type=int, default=1000, help="importance samples of log p(x) (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out = args.out or results_path("device", "mnist")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is left out of the steady state)")
    if args.train_examples < BATCH:
        parser.error(f"--train-examples must be at least the batch size, {BATCH}")
    return args


def load(path, train_examples, test_examples):
    """(train, test): flat float32 [N, 784] images in {0, 1}, each split binarized once."""
    if not path.is_file():
        raise SystemExit(f"benchmarks.device: no file {path}; give a Keras-format mnist.npz with --data PATH")
    with np.load(path) as archive:
        missing = [key for key in KEYS if key not in archive.files]
    if missing:
        raise SystemExit(f"benchmarks.device: {path} lacks {missing}; expected a Keras-format mnist.npz with {KEYS}")
    train = data.load_arrays(str(path), split="train", max_examples=train_examples // BATCH * BATCH).x
    test = data.load_arrays(str(path), split="test", max_examples=test_examples).x
    return (data.binarize_static(train.reshape(len(train), -1), seed=0),
            data.binarize_static(test.reshape(len(test), -1), seed=1))


def train(x, epochs, seed):
    """(vae, measurements) of one `fit` of the MNIST VAE on x, timed from before the model is built."""
    keras.utils.set_random_seed(seed)
    timer = epoch_timer(keras.callbacks.Callback)  # on_epoch_end waits for the epoch's last step
    start = time.perf_counter()
    vae = tfpvae.VAE(event_shape=(x.shape[1],), latent_dim=LATENT, encoder=MLP, decoder=MLP)
    vae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    history = vae.fit(x, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])
    fit_s = time.perf_counter() - start
    return vae, {
        "fit_s": fit_s, "epoch_s": timer.seconds, "first_epoch_s": timer.seconds[0],
        "examples_per_s": len(x) * (epochs - 1) / sum(timer.seconds[1:]),
        "final_loss": float(history.history["loss"][-1]),
    }


def evaluate(vae, test, k):
    """The mean test log p(x) with k importance samples, and the seconds it took."""
    start = time.perf_counter()
    log_px = float(np.mean(vae.log_likelihood(test, num_samples=k)))
    return {"test_log_px": log_px, "log_px_s": time.perf_counter() - start}


def environment():
    """The devices JAX sees, the machine and the versions."""
    import tensorflow_probability as tfp

    return {"keras_backend": keras.backend.backend(), "jax_backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()], "device_kind": jax.devices()[0].device_kind,
            "cpus": os.cpu_count(), "machine": platform.platform(), "load_average": os.getloadavg(),
            "versions": {"jax": jax.__version__, "keras": keras.__version__, "tfp": tfp.__version__,
                         "numpy": np.__version__, "python": platform.python_version()},
            "tensorflow_imported": "tensorflow" in sys.modules}


def main(argv=None):
    args = parse_args(argv)
    if keras.backend.backend() != "jax":
        raise SystemExit(f"benchmarks.device: runs on Keras's JAX backend; "
                         f"KERAS_BACKEND is {keras.backend.backend()!r}")
    print("JAX devices:", ", ".join(str(d) for d in jax.devices()), flush=True)
    train_x, test_x = load(args.data, args.train_examples, args.test_examples)
    vae, training = train(train_x, args.epochs, args.seed)
    print(f"first epoch {training['first_epoch_s']:.2f} s, steady state {training['examples_per_s']:,.0f} "
          f"examples/s, fit {training['fit_s']:.2f} s, final loss {training['final_loss']:.2f}", flush=True)
    scores = evaluate(vae, test_x, args.k)
    print(f"test log p(x) (k = {args.k}, {len(test_x)} images) {scores['test_log_px']:.2f} nats "
          f"in {scores['log_px_s']:.1f} s", flush=True)
    setup = {"data": str(args.data), "train_examples": len(train_x), "test_examples": len(test_x),
             "epochs": args.epochs, "batch_size": BATCH, "k": args.k, "seed": args.seed,
             "architecture": f"784-200-200-{LATENT} tanh, Gaussian q(z|x), Bernoulli p(x|z), Adam {LEARNING_RATE}"}
    results = {"setup": setup, "environment": environment(), **training, **scores}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
