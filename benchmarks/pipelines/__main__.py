"""Input pipelines: examples/s of the pipelines alone and of `fit` fed by them.

    nice -n 10 python -m benchmarks.pipelines --json benchmarks/pipelines/results/all-DATE.json
    python -m benchmarks.pipelines --examples 20000 --rounds 1      # quicker
    python -m benchmarks.pipelines --report      # docs/results/pipelines.md's table from its results

The data are MNIST-shaped: 784 uint8 pixels per example, from `--data` (a
Keras-format mnist.npz; random pixels when the file is absent). Every pipeline
delivers float32 batches [B, 784] of dynamically binarized images (a fresh
Bernoulli draw of x / 255 per example and epoch), reshuffled every epoch:

- per_example: `from_tensor_slices(pixels).shuffle(10000).map(f).batch(B)
  .prefetch(AUTOTUNE)`, f scaling and binarizing one example (parallel map):
  the usual tutorial pipeline;
- batch_then_map: the same with `.batch(B).map(f)`, f over whole batches;
- to_dataset: `tfpvae.data.to_dataset(x / 255, batch_size=B, binarize="dynamic")`;
- numpy: `vae.fit(x)` on a float32 array binarized once (the array pipeline
  `fit` builds itself; it has no dynamic binarization);
- step: one batch held as a tensor and repeated (`Dataset.from_tensors(b)
  .repeat(n)`): no pipeline work, so `fit` runs at the step's own rate;
- per_example_numpy (only when named in `--pipelines`): per_example with f
  written in numpy inside a `tf.py_function`, as user code often is.

Each (pipeline, round) runs in a fresh process, the pipelines in a rotated
order per round. In each process:

1. alone: two epochs of the pipeline are read in the graph
   (`Dataset.reduce`, as `fit` reads them inside its `tf.function`); the
   second, timed, gives examples/s (no model exists yet);
2. fit: tfpvae's throughput model (784-200-200-50 tanh MLP, Bernoulli, Adam
   1e-3, defaults otherwise) trains for `--epochs` epochs fed by the pipeline;
   the first epoch (tracing, XLA compilation) is left out and the median of
   the others' seconds gives examples/s (a shared machine's hiccups fall on
   single epochs). Whether `tfpvae.data.pipeline_check` warned, the share of
   execution starts at which it found no batch waiting, and the training
   rate it measured (batches/s) are recorded.

The machine's 2048^3 float32 matmul rate is measured in its own process
before and after the rounds, and the load average is read at both points.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

from benchmarks.common import DATA, RESULT_PREFIX, epoch_timer, matmul_rate, page_path, pages, run_worker
from benchmarks.pipelines import tables
from benchmarks.pipelines.tables import PIPELINES

DEFAULT_PIPELINES = PIPELINES[:5]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pipelines", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA), help="Keras-format mnist.npz (x_train uint8)")
    parser.add_argument("--examples", type=int, default=20000, help="training examples per epoch")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=4, help="epochs of fit; the first is left out")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pipelines", nargs="+", default=list(DEFAULT_PIPELINES), choices=PIPELINES)
    parser.add_argument("--json", help="also write all raw measurements to this JSON file")
    parser.add_argument("--report", nargs="?", const=str(page_path("pipelines")), metavar="PAGE",
                        help="rewrite the table of PAGE (default docs/results/pipelines.md) from the results "
                             "file its block names, and run nothing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(RESULT_PREFIX + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    common = {"data": os.path.abspath(args.data), "examples": args.examples, "batch_size": args.batch_size,
              "epochs": args.epochs}
    machine = [{"when": "before", "load": os.getloadavg(), **measure_in_process({"task": "matmul"})}]
    runs = []
    for r in range(args.rounds):
        order = args.pipelines[r % len(args.pipelines):] + args.pipelines[:r % len(args.pipelines)]
        for name in order:
            runs.append({"round": r, **measure_in_process({"task": "pipeline", "pipeline": name, **common})})
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    machine.append({"when": "after", "load": os.getloadavg(), **measure_in_process({"task": "matmul"})})
    setup = {**common, "rounds": args.rounds, "cpus": os.cpu_count(),
             "cpus_usable": len(os.sched_getaffinity(0)), "platform": platform.platform(),
             "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(report(setup, runs, machine))
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"setup": setup, "runs": runs, "machine": machine}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


def measure_in_process(spec):
    """One measurement in a fresh Python process: its result dict (the load averages left out: the
    machine's records its own)."""
    result = run_worker("benchmarks.pipelines", spec)
    return {k: v for k, v in result.items() if k not in ("load_before", "load_after")}


def report(setup, runs, machine):
    """A markdown table: median [min, max] over rounds, per pipeline."""
    lines = [f"{setup['cpus']} CPUs, load {machine[0]['load'][0]:.2f} -> {machine[1]['load'][0]:.2f}, "
             f"matmul {machine[0]['median_gflops']:.1f} / {machine[1]['median_gflops']:.1f} GFLOP/s "
             f"(before / after), batch {setup['batch_size']}, {setup['examples']} examples per epoch, "
             f"{setup['rounds']} rounds", ""]
    return "\n".join(lines + tables.report_table(runs))


# --- one measurement, in its own process -------------------------------------------------


def worker(spec):
    if spec["task"] == "matmul":
        return matmul_rate(2048, 10)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    pixels = pixels_of(spec["data"], spec["examples"])
    data, fit_data = pipeline(spec["pipeline"], pixels, spec["batch_size"])
    alone = examples_per_second_alone(data)
    fit, warned = examples_per_second_in_fit(fit_data, spec["batch_size"], spec["epochs"])
    return {"pipeline": spec["pipeline"], "alone": alone, "fit": fit, **warned,
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}


def pixels_of(path, examples):
    """uint8 [examples, 784]: MNIST's training images, or random pixels without the file."""
    if os.path.exists(path):
        with np.load(path) as f:
            x = f["x_train"]
    else:
        x = np.random.default_rng(0).integers(0, 256, size=(examples, 28, 28), dtype=np.uint8)
    return x[:examples].reshape(-1, 784)


def pipeline(name, pixels, batch_size):
    """(the dataset to time alone, what fit gets) for one pipeline."""
    import tensorflow as tf

    import tfpvae

    def binarized(x):
        x = tf.cast(x, tf.float32) / 255.0
        return tf.cast(tf.random.uniform(tf.shape(x)) < x, tf.float32)

    def numpy_binarized(x):
        x = tf.py_function(lambda x: (np.random.uniform(size=x.shape) < x.numpy() / 255.0).astype(np.float32),
                           [x], tf.float32)
        return tf.ensure_shape(x, [784])

    if name in ("per_example", "batch_then_map", "per_example_numpy"):
        shuffled = tf.data.Dataset.from_tensor_slices(pixels).shuffle(10000, seed=0)
        if name == "per_example_numpy":
            data = shuffled.map(numpy_binarized, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
        elif name == "per_example":
            data = shuffled.map(binarized, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
        else:
            data = shuffled.batch(batch_size).map(binarized, num_parallel_calls=tf.data.AUTOTUNE)
        data = data.prefetch(tf.data.AUTOTUNE)
        return data, data
    scaled = pixels.astype(np.float32) / 255.0
    if name == "to_dataset":
        data = tfpvae.data.to_dataset(scaled, batch_size=batch_size, binarize="dynamic")
        return data, data
    if name == "numpy":
        x = tfpvae.data.binarize_static(scaled, seed=0)
        data, _ = tfpvae.data.feeding.in_memory(x, batch_size=batch_size)  # what fit(x) builds
        return data, x
    batch = tfpvae.data.binarize_static(scaled[:batch_size], seed=0)
    data = tf.data.Dataset.from_tensors(batch).repeat(len(pixels) // batch_size)
    return data, data


def examples_per_second_alone(data):
    """examples/s of the second of two epochs, read in the graph (`Dataset.reduce`), as fit reads."""
    import tensorflow as tf

    def count(data):
        return int(data.reduce(tf.constant(0, tf.int64), lambda n, b: n + tf.shape(b, out_type=tf.int64)[0]))

    count(data)  # the first epoch warms caches and fills buffers
    start = time.perf_counter()
    return count(data) / (time.perf_counter() - start)


def examples_per_second_in_fit(data, batch_size, epochs):
    """examples/s of fit (the median epoch after the first), and what the pipeline check found."""
    import warnings

    import keras

    import tfpvae
    from tfpvae.data import pipeline_check

    mlp = {"name": "mlp", "units": [200, 200], "activation": "tanh"}
    vae = tfpvae.VAE(event_shape=(784,), latent_dim=50, encoder=mlp, decoder=mlp)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    timer = epoch_timer(keras.callbacks.Callback)
    callbacks, kwargs, examples = [timer], {"batch_size": batch_size}, len(data)
    if not isinstance(data, np.ndarray):  # fit checks datasets only
        examples, kwargs = sum(int(b.shape[0]) for b in data), {}
        callbacks.append(pipeline_check.PipelineCheck())  # what fit adds, kept here to read it
        data = callbacks[1].watch(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vae.fit(data, epochs=epochs, verbose=0, callbacks=callbacks, **kwargs)
    found = [str(w.message) for w in caught if issubclass(w.category, pipeline_check.SlowPipelineWarning)]
    check = callbacks[1:] and {"check_starved": callbacks[1].starved,
                               "check_training_batches_per_s": callbacks[1].training_rate}
    rate = examples / statistics.median(timer.seconds[1:])
    return rate, {"warned": bool(found), "warning": found[0] if found else None, "epoch_seconds": timer.seconds,
                  **(check or {})}


if __name__ == "__main__":
    main()
