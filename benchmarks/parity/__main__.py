"""Test log p(x) of one MNIST VAE trained on Keras's JAX and TensorFlow backends: the same within 0.3 nats?

    python -m benchmarks.parity --json benchmarks/parity/results/mnist-DATE.json | tee parity.md
    python -m benchmarks.parity --seeds 0 1                     # two runs per backend
    python -m benchmarks.parity --epochs 1 --k 10 --test-examples 100    # a smoke test
    python -m benchmarks.parity --report        # docs/results/parity.md's tables from their results

The model is the IWAE paper's 1-stochastic-layer MNIST VAE (784-200-200-50
tanh MLPs, diagonal Gaussian q(z|x), Bernoulli p(x|z), N(0, I) prior, -ELBO
with one z and the analytic KL), trained on each backend by

    keras.utils.set_random_seed(seed)
    vae = tfpvae.VAE(event_shape=(784,), latent_dim=50, encoder=mlp, decoder=mlp)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(x_train, batch_size=100, epochs=E)

and scored on the first --test-examples test images (default 2,000) by

- test log p(x): the mean of `vae.log_likelihood(x_test, num_samples=k)`
  (importance sampling, default k = 1000);
- test ELBO: the mean of `vae.elbo(x_test)` (one z);
- active units: `vae.active_units(x_test)` (Cov_x(E_q[z_u]) > 0.01).

Each (seed, backend) trains in a fresh process with its KERAS_BACKEND
(`import tensorflow` made to fail in the JAX runs, as where it is not
installed); the backends' order alternates from seed to seed. The target:
|log p(x) on JAX - log p(x) on TensorFlow| <= 0.3 nats, per seed and for the
means over the seeds. One seed draws different random streams on the two
backends (initial weights, z, batch order), so the two runs of a seed are two
samples of one training procedure, not the same computation twice.

Data: a Keras-format mnist.npz (--data; default ../shared/data/mnist.npz
from the repository root), scaled to [0, 1] and binarized once
(`tfpvae.data.binarize_static`, seed 0 for the training images, seed 1 for
the test images).
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import DATA, RESULT_PREFIX, NoTensorFlow, page_path, pages, processor, run_worker, tfp_version
from benchmarks.parity import tables
from benchmarks.parity.tables import BACKENDS, TARGET

MLP = {"name": "mlp", "units": [200, 200], "activation": "tanh"}
LATENT, BATCH, LEARNING_RATE = 50, 100, 1e-3


# --- command line --------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.parity", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"Keras-format mnist.npz (default {DATA})")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of the 60,000 training images (default 30)")
    parser.add_argument("--k", type=int, default=1000, help="importance samples of log p(x) (default 1000)")
    parser.add_argument("--test-examples", type=int, default=2000, help="first N test images (default 2000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per backend and seed (default 0)")
    parser.add_argument("--json", type=Path, help="also write every run's measurements to this JSON file")
    parser.add_argument("--report", nargs="?", const=page_path("parity"), type=Path, metavar="PAGE",
                        help="rewrite the tables of PAGE (default docs/results/parity.md) from the results "
                             "files its blocks name, and run nothing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("epochs", "k", "test_examples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; received {getattr(args, name)}")
    if not (args.worker or args.report) and not args.data.is_file():
        parser.error(f"no file {args.data}; give a Keras-format mnist.npz with --data PATH")
    return args


# --- the parent: schedule, runs, report ------------------------------------------------------


def schedule(seeds):
    """(seed, backend) in run order: the backends' order alternates from seed to seed."""
    return [(seed, backend) for i, seed in enumerate(seeds)
            for backend in (BACKENDS if i % 2 == 0 else BACKENDS[::-1])]


def train_in_process(spec):
    """One training run in a fresh Python process on spec["backend"]; its result dict."""
    return run_worker("benchmarks.parity", spec, spec["backend"])


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(RESULT_PREFIX + json.dumps(measure(json.loads(args.worker))), flush=True)
        return
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    started = time.perf_counter()
    runs = []
    for seed, backend in schedule(args.seeds):
        spec = {"backend": backend, "seed": seed, "data": str(args.data), "epochs": args.epochs,
                "k": args.k, "test_examples": args.test_examples}
        runs.append(train_in_process(spec))
        run = runs[-1]
        print(f"seed {seed}  {backend:10s}  log p(x) {run['test_log_px']:8.2f}  ELBO {run['test_elbo']:8.2f}  "
              f"active {run['active_units']:2d}  train {run['train_s']:6.1f} s  "
              f"load {run['load_after'][0]:.2f}", file=sys.stderr, flush=True)
    setup = {"data": str(args.data), "epochs": args.epochs, "k": args.k, "test_examples": args.test_examples,
             "seeds": args.seeds, "batch_size": BATCH, "learning_rate": LEARNING_RATE,
             "architecture": f"784-{'-'.join(map(str, MLP['units']))}-{LATENT} {MLP['activation']}",
             "target_nats": TARGET, "cpus": os.cpu_count(), "processor": processor(),
             "machine": platform.platform(), "minutes": (time.perf_counter() - started) / 60}
    print(report(setup, runs))
    if args.json:
        args.json.write_text(json.dumps({"setup": setup, "runs": runs}, indent=2) + "\n")


# --- the report -------------------------------------------------------------------------------


def report(setup, runs):
    """The markdown report: a row per run, then JAX - TensorFlow against the target."""
    versions = {run["backend"]: run["versions"] for run in runs}
    loads = [run[key][0] for run in runs for key in ("load_before", "load_after")]
    lines = ["## Test log p(x) on the JAX and TensorFlow backends", "",
             f"- {setup['architecture']} VAE, batch {setup['batch_size']}, Adam {setup['learning_rate']:g}, "
             f"{setup['epochs']} epochs of {runs[0]['train_examples']:,} MNIST images; "
             f"log p(x) with k = {setup['k']} on the first {setup['test_examples']:,} test images",
             f"- each run a fresh process; {setup['cpus']} CPUs ({setup['processor']}), {setup['machine']}; "
             f"{setup['minutes']:.1f} minutes in all",
             f"- 1-minute load average before and after each run: {min(loads):.2f}..{max(loads):.2f}",
             *(f"- {backend}: " + ", ".join(f"{k} {v}" for k, v in v.items()) for backend, v in versions.items()),
             ""]
    return "\n".join(lines + [tables.block({"runs": runs})])


# --- the worker: one training run in a fresh process ------------------------------------------------


def measure(spec):
    """Trains the VAE on spec["backend"] with spec["seed"] and scores it on the test images."""
    if spec["backend"] == "jax":
        sys.meta_path.insert(0, NoTensorFlow())
    import keras

    import tfpvae

    train, test = load(spec["data"], spec["test_examples"])
    keras.utils.set_random_seed(spec["seed"])
    start = time.perf_counter()
    vae = tfpvae.VAE(event_shape=(train.shape[1],), latent_dim=LATENT, encoder=MLP, decoder=MLP)
    vae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    history = vae.fit(train, batch_size=BATCH, epochs=spec["epochs"], verbose=0)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    log_px = float(np.mean(vae.log_likelihood(test, num_samples=spec["k"])))
    log_px_s = time.perf_counter() - start
    return {"backend": keras.backend.backend(), "seed": spec["seed"], "epochs": spec["epochs"], "k": spec["k"],
            "train_examples": len(train), "test_examples": len(test), "test_log_px": log_px,
            "test_elbo": float(np.mean(vae.elbo(test))), "active_units": int(vae.active_units(test)[0]),
            "final_loss": float(history.history["loss"][-1]), "train_s": train_s, "log_px_s": log_px_s,
            "data_sha256": fingerprint(train, test), "tensorflow_imported": "tensorflow" in sys.modules,
            "versions": versions()}


def load(path, test_examples):
    """(train, test): flat float32 [N, 784] images in {0, 1}, each split binarized once."""
    from tfpvae import data

    train = data.load_arrays(path, split="train").x
    test = data.load_arrays(path, split="test", max_examples=test_examples).x
    return (data.binarize_static(train.reshape(len(train), -1), seed=0),
            data.binarize_static(test.reshape(len(test), -1), seed=1))


def fingerprint(*arrays):
    """The first 16 hex digits of the arrays' SHA-256: the same on both backends."""
    digest = hashlib.sha256()
    for x in arrays:
        digest.update(np.ascontiguousarray(x).tobytes())
    return digest.hexdigest()[:16]


def versions():
    """Keras, its backend's library, the TFP build and Python."""
    import keras

    found = {"keras": keras.__version__, "tfp": tfp_version(), "python": platform.python_version()}
    if keras.backend.backend() == "jax":
        import jax

        return {**found, "jax": jax.__version__}
    import tensorflow as tf

    return {**found, "tensorflow": tf.__version__}


if __name__ == "__main__":
    main()
