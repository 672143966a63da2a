"""Per-level KL and active units of a stack of latent layers on MNIST, epoch by epoch.

    python -m benchmarks.stack --epochs 20 --with-zero-start
    python -m benchmarks.stack --epochs 60 --binarize dynamic --only 1-level 2-level
    python -m benchmarks.stack --epochs 20 --warmup-epochs 10 --only 2-level 2-level-ladder
    python -m benchmarks.stack --epochs 60 --binarize dynamic --only 1-level 2-level-wide 2-level-wide-ladder

Trains, one after the other, the IWAE paper's 1-level model (784-200-200-50),
its 2-level stack (latent_dim=[100, 50], tanh MLPs [100, 100] and [50, 50])
with bottom-up and ladder inference, the stack's bottom level alone
(784-100-100-100), and a stack whose bottom level is the 1-level model
(latent_dim=[50, 20], MLPs [200, 200] and [100, 100]; "2-level-wide"), each
with tfpvae's defaults (p(x|z) started at the data's marginal by the first
`fit`) and, for the stacks, with that start turned off
(`data_initialized = True`: logits 0, every pixel 0.5; `--with-zero-start`).
MNIST, the training images binarized once (seed 0) or afresh every epoch
(`--binarize dynamic`), the test images once (seed 1), batch 100, Adam 1e-3,
no warm-up, no free bits. After each epoch: each level's KL on the first 1,000 test images (one z)
and its active units (Burda et al.: Cov_x(E_q[z_u]) > 0.01) on the first 2,000;
at the end, test log p(x) with k = 1000 on the first 2,000 test images. A
model already in the output file (--out, default benchmarks/stack/results/mnist-DATE.json) is
skipped, so a killed run resumes.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfpvae  # noqa: E402
from benchmarks.common import DATA, results_path  # noqa: E402
from tfpvae import data, files  # noqa: E402
from tfpvae.objectives import bounds  # noqa: E402

TEST_EXAMPLES, KL_EXAMPLES, K = 2000, 1000, 1000


def mlp(units):
    return {"name": "mlp", "units": units, "activation": "tanh"}


MODELS = {
    "1-level": {"latent_dim": 50, "encoder": mlp([200, 200]), "decoder": mlp([200, 200])},
    "1-level-100": {"latent_dim": 100, "encoder": mlp([100, 100]), "decoder": mlp([100, 100])},
    "2-level": {"latent_dim": [100, 50], "encoder": [mlp([100, 100]), mlp([50, 50])],
                "decoder": [mlp([100, 100]), mlp([50, 50])]},
    "2-level-wide": {"latent_dim": [50, 20], "encoder": [mlp([200, 200]), mlp([100, 100])],
                     "decoder": [mlp([200, 200]), mlp([100, 100])]},
}
MODELS.update({f"{name}-ladder": {**MODELS[name], "inference": "ladder"} for name in ("2-level", "2-level-wide")})
RUNS = [("1-level", True), ("2-level", True), ("2-level-ladder", True), ("1-level-100", True),
        ("2-level-wide", True), ("2-level-wide-ladder", True),
        ("2-level", False), ("2-level-ladder", False)]


def mnist(path):
    arrays = np.load(path)
    x = arrays["x_train"].reshape(-1, 784).astype("float32") / 255.0
    x_test = arrays["x_test"].reshape(-1, 784)[:TEST_EXAMPLES].astype("float32") / 255.0
    return x, data.binarize_static(x_test, seed=1)


def level_kls(vae, x):
    """Each level's mean KL term on x, one z per example, bottom first."""
    q, prior = vae.encode(tf.constant(x)), vae.prior()
    z = q.sample(1, seed=tf.constant([1, 2]))
    if len(vae.stack.latent_sizes) == 1:
        return [float(tf.reduce_mean(tf.reduce_sum(bounds.kl_groups(q, prior, z, vae.kl_form), -1)))]
    return [float(tf.reduce_mean(tf.reduce_sum(bounds.level_kl_groups(*level), -1)))
            for level in zip(q.levels(z), prior.levels(z), q.split(z), vae.kl_form)]


def level_active_units(vae, x):
    _, variances = vae.active_units(x)
    ends = np.cumsum((0, *vae.stack.latent_sizes))
    return [int((variances[a:b] > 0.01).sum()) for a, b in zip(ends[:-1], ends[1:])]


class Trace(keras.callbacks.Callback):
    def __init__(self, x_test, epochs):
        super().__init__()
        self.x_test, self.epochs = x_test, epochs

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, "loss": round(logs["loss"], 3),
               "kl": [round(v, 3) for v in level_kls(self.model, self.x_test[:KL_EXAMPLES])],
               "active_units": level_active_units(self.model, self.x_test)}
        self.epochs.append(row)
        print(row, flush=True)


def training_data(x, binarize):
    """What `fit` gets: the statically binarized images, or a dataset that binarizes the grey ones afresh
    every epoch."""
    if binarize == "static":
        return {"x": data.binarize_static(x, seed=0), "batch_size": 100}
    return {"x": data.to_dataset(x, batch_size=100, binarize="dynamic", seed=0)}


def run(name, start_at_marginal, x, x_test, epochs, binarize="static", warmup_epochs=0):
    keras.utils.set_random_seed(0)
    vae = tfpvae.VAE(event_shape=(784,), seed=0, **MODELS[name])
    vae.data_initialized = not start_at_marginal
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    trace, start = [], time.perf_counter()
    callbacks = [Trace(x_test, trace)] + ([tfpvae.callbacks.KLWarmup(epochs=warmup_epochs)] if warmup_epochs else [])
    vae.fit(**training_data(x, binarize), epochs=epochs, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    nll = -float(np.mean(vae.log_likelihood(x_test, num_samples=K)))
    return {"model": name, "start_at_marginal": start_at_marginal, "epochs": epochs, "binarize": binarize,
            "warmup_epochs": warmup_epochs, "test_nll": round(nll, 2),
            "test_elbo": round(float(np.mean(vae.elbo(x_test))), 2), "train_and_trace_seconds": round(seconds, 1),
            "trace": trace}


def main():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--out", default=str(results_path("stack", "mnist")))
    parser.add_argument("--only", nargs="*", help="model names to run (default: all)")
    parser.add_argument("--binarize", choices=["static", "dynamic"], default="static",
                        help="training images binarized once (seed 0) or afresh every epoch")
    parser.add_argument("--warmup-epochs", type=int, default=0,
                        help="ramp the KL weight from 0 over this many epochs (tfpvae.callbacks.KLWarmup)")
    parser.add_argument("--with-zero-start", action="store_true",
                        help="also train the stacks with p(x|z) started at logits 0")
    args = parser.parse_args()
    x, x_test = mnist(args.data)
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {"setting": __doc__.split("\n\n")[2], "runs": []}
    done = {(r["model"], r["start_at_marginal"], r["epochs"], r.get("binarize", "static"), r.get("warmup_epochs", 0))
            for r in results["runs"]}
    for name, start_at_marginal in RUNS:
        key = (name, start_at_marginal, args.epochs, args.binarize, args.warmup_epochs)
        if key in done or (args.only and name not in args.only) or not (start_at_marginal or args.with_zero_start):
            continue
        print(f"{name}, start at marginal: {start_at_marginal}, {args.binarize} binarization, "
              f"warm-up {args.warmup_epochs} epochs", flush=True)
        results["runs"].append(run(name, start_at_marginal, x, x_test, args.epochs, args.binarize, args.warmup_epochs))
        files.write_json(out, results)


if __name__ == "__main__":
    main()
