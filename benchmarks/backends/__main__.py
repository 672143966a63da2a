"""Training speed of tfpvae on Keras's JAX and TensorFlow backends, against a plain Keras-3 VAE on JAX.

    python -m benchmarks.backends --json benchmarks/backends/results/fits-DATE.json | tee backends.md
    python -m benchmarks.backends --fits short --rounds 1            # a quick look
    python -m benchmarks.backends --report       # docs/results/backends.md's tables from their results

What is measured, each on the same MNIST-shaped numpy array, batch 100, the
784-200-200-50 tanh MLP VAE (diagonal Gaussian q(z|x), Bernoulli p(x|z),
analytic KL, one z, Adam 1e-3):

- tfpvae-jax: `tfpvae.VAE(...)`, `compile(optimizer=Adam(1e-3))`, `fit(x)`
  with KERAS_BACKEND=jax;
- keras3-jax: benchmarks/common/references.py's Keras-3 VAE (`compute_loss` in
  `keras.ops`, Keras's own train step) with KERAS_BACKEND=jax;
- tfpvae-tf: the same tfpvae code with KERAS_BACKEND=tensorflow, at its
  default compile.

Fit sizes (steps of batch 100): short, 500 steps (5 epochs of 10,000
examples); long, 6,000 steps (10 epochs of 60,000 examples). Each fit runs
in a fresh subprocess (Keras's backend is fixed per process), and rounds
rotate the order of the three (A B C, B C A, C A B) so that drifts of the
machine's load fall on each alike. Per run:

- fit (s): the whole `fit`, from before the model is built: construction,
  compile, tracing and compilation, every epoch;
- first epoch (s): from before the model is built to the end of epoch 1;
- examples/s in steady state: the examples of epochs 2..E over their seconds
  (each epoch timed by a callback; Keras reads the epoch's metrics before the
  callback runs, which waits for the epoch's last step).

Data: a Keras-format mnist.npz (--data; default ../shared/data/mnist.npz
from the repository root, when it exists): the train split flattened,
scaled to [0, 1] and binarized once (uniform < x, seed 0, as
`tfpvae.data.binarize_static`); otherwise Bernoulli(0.3) pixels, 784 wide.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.backends import tables
from benchmarks.common import (
    DATA,
    RESULT_PREFIX,
    NoTensorFlow,
    page_path,
    pages,
    processor,
    run_worker,
    schedule,
    tfp_version,
)

WHAT = {"tfpvae-jax": "jax", "keras3-jax": "jax", "tfpvae-tf": "tensorflow"}  # -> KERAS_BACKEND
FITS = {"short": {"examples": 10000, "epochs": 5}, "long": {"examples": 60000, "epochs": 10}}
HIDDEN, LATENT, BATCH = [200, 200], 50, 100


# --- command line --------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.backends", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA,
                        help="Keras-format mnist.npz (default ../shared/data/mnist.npz; synthetic "
                             "Bernoulli(0.3) pixels when it does not exist)")
    parser.add_argument("--fits", nargs="+", default=list(FITS), choices=list(FITS), help="fit sizes to run")
    parser.add_argument("--what", nargs="+", default=list(WHAT), choices=list(WHAT), help="what to measure")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write every run's measurements to this JSON file")
    parser.add_argument("--report", nargs="?", const=page_path("backends"), type=Path, metavar="PAGE",
                        help="rewrite the tables of PAGE (default docs/results/backends.md) from the results "
                             "files its blocks name, and run nothing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the parent: data, schedule, report ------------------------------------------------------


def prepare_data(path, examples, folder):
    """Writes the training array [examples, 784] (float32 in {0, 1}) to folder; returns (path, description)."""
    if path.is_file():
        with np.load(path) as archive:
            grey = archive["x_train"][:examples].reshape(-1, 784) / 255.0
        x = (np.random.default_rng(0).uniform(size=grey.shape) < grey).astype(np.float32)
        description = f"{path}: x_train, first {len(x)}, scaled by 255 and binarized once (seed 0)"
    else:
        x = (np.random.default_rng(0).uniform(size=(examples, 784)) < 0.3).astype(np.float32)
        description = f"synthetic Bernoulli(0.3), {examples} x 784 ({path} not found)"
    out = os.path.join(folder, "x.npy")
    np.save(out, x)
    return out, description


def measure_in_process(spec):
    """One measurement in a fresh Python process with the backend `spec` needs; its result dict."""
    return run_worker("benchmarks.backends", spec, WHAT[spec["what"]])


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(RESULT_PREFIX + json.dumps(measure(json.loads(args.worker))), flush=True)
        return
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        data, description = prepare_data(args.data, max(FITS[fit]["examples"] for fit in args.fits), folder)
        runs = []
        for r, fit, what in schedule(args.what, args.fits, args.rounds):
            result = measure_in_process({"what": what, "fit": fit, "data": data, "seed": args.seed, **FITS[fit]})
            runs.append({"round": r, **result})
            print(f"round {r + 1}/{args.rounds}  {fit:5s}  {what:10s}  {result['examples_per_s']:8.0f} ex/s  "
                  f"first epoch {result['first_epoch_s']:6.2f} s  fit {result['fit_s']:6.2f} s  "
                  f"load {result['load_after'][0]:.2f}", file=sys.stderr, flush=True)
    setup = {"data": description, "architecture": f"784-{'-'.join(map(str, HIDDEN))}-{LATENT}", "batch": BATCH,
             "fits": {fit: FITS[fit] for fit in args.fits}, "rounds": args.rounds, "cpus": os.cpu_count(),
             "machine": platform.platform(), "processor": processor(),
             "minutes": (time.perf_counter() - started) / 60}
    print(report(setup, runs))
    if args.json:
        args.json.write_text(json.dumps({"setup": setup, "runs": runs}, indent=2) + "\n")


# --- the report -----------------------------------------------------------------------------------


def report(setup, runs):
    """The markdown report: one table per measurement, then the targets' ratios."""
    versions = {run["what"]: run["versions"] for run in runs}
    loads = [run[key][0] for run in runs for key in ("load_before", "load_after")]
    lines = ["## Training throughput on the JAX and TensorFlow backends", "",
             f"- {setup['architecture']} tanh MLP VAE, batch {setup['batch']}, Adam 1e-3; "
             f"data: {setup['data']}",
             "- fit sizes: " + ", ".join(f"{fit} {f['examples'] * f['epochs'] // setup['batch']:,} steps "
                                         f"({f['epochs']} epochs of {f['examples']:,})"
                                         for fit, f in setup["fits"].items()),
             f"- {setup['rounds']} alternating rounds, each run a fresh process; {setup['cpus']} CPUs "
             f"({setup['processor']}), {setup['machine']}",
             f"- 1-minute load average before and after each run: {min(loads):.2f}..{max(loads):.2f}",
             *(f"- {what}: " + ", ".join(f"{k} {v}" for k, v in v.items()) for what, v in versions.items()),
             ""]
    return "\n".join(lines + tables.measurements(runs, setup["rounds"]))


# --- the worker: one fit in a fresh process ---------------------------------------------------------


def measure(spec):
    """Times one `fit` of `spec["what"]` on the first spec["examples"] rows for spec["epochs"] epochs."""
    if WHAT[spec["what"]] == "jax":
        sys.meta_path.insert(0, NoTensorFlow())
    import keras

    build, versions = builder(spec["what"])
    x = np.load(spec["data"])[:spec["examples"]]

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.begin, self.end = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.begin.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            self.end.append(time.perf_counter())

    timer = EpochTimer()
    keras.utils.set_random_seed(spec["seed"])
    start = time.perf_counter()
    model = build()
    history = model.fit(x, batch_size=BATCH, epochs=spec["epochs"], verbose=0, callbacks=[timer])
    fit_s = time.perf_counter() - start
    seconds = [end - begin for begin, end in zip(timer.begin, timer.end)]
    return {"what": spec["what"], "fit": spec["fit"], "examples": len(x), "epochs": spec["epochs"],
            "fit_s": fit_s, "first_epoch_s": timer.end[0] - start, "epoch_s": seconds,
            "examples_per_s": len(x) * (spec["epochs"] - 1) / sum(seconds[1:]),
            "final_loss": float(history.history["loss"][-1]), "jit_compile": str(model.jit_compile),
            "steps_per_execution": model.steps_per_execution, "backend": keras.backend.backend(),
            "tensorflow_imported": "tensorflow" in sys.modules, "versions": versions}


def builder(what):
    """(build() -> a compiled Keras model that trains with `fit(x)`, versions) of `what`."""
    import keras

    versions = {"keras": keras.__version__, "backend": keras.backend.backend(), "tfp": tfp_version()}
    if keras.backend.backend() == "jax":
        import jax

        versions["jax"] = jax.__version__
    else:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    if what == "keras3-jax":
        from benchmarks.common import references

        return lambda: references.keras3_reference(784, HIDDEN, LATENT).model, versions
    import tfpvae

    def build():
        mlp = {"name": "mlp", "units": HIDDEN, "activation": "tanh"}
        vae = tfpvae.VAE(event_shape=(784,), latent_dim=LATENT, encoder=mlp, decoder=mlp)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3))
        return vae

    return build, versions


if __name__ == "__main__":
    main()
