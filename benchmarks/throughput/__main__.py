"""Training throughput of tfpvae against two reference VAEs: same MLP, same data, same batch.

    python -m benchmarks.throughput                          # 784-200-200-50, batches 32 100 256 1024
    python -m benchmarks.throughput --large                  # 784-1024-1024-64
    python -m benchmarks.throughput --data mnist.npz --json throughput.json
    python -m benchmarks.throughput --report      # docs/results/throughput.md's tables from their results

Implementations (see benchmarks/common/references.py):

- tfpvae: `tfpvae.VAE(...)` with an MLP encoder and decoder, compiled with
  `keras.optimizers.Adam(1e-3)` and nothing else, trained by `vae.fit(x)`;
- keras3: a Keras-3 model whose compute_loss is written in keras.ops (references.py (a));
- tfp.layers: TFP's probabilistic-layers VAE on tf_keras (references.py (b)).

Every measurement runs in a fresh subprocess (one implementation, one batch
size), because a process's peak memory only grows and TensorFlow keeps
graphs, caches and allocator pools for the life of the process. Rounds
alternate the order of the implementations (A B C, B C A, C A B, ...) so that
slow drifts of the machine fall on each of them alike. In each subprocess:

1. time to first step: from just before the model is built (imports and data
   loading excluded) to the end of `fit` on one batch: construction, compile,
   tracing (and XLA compilation where Keras enables it) and one step;
2. steady state: a second `fit` over the data for `--epochs` epochs; the first
   of them is a warm-up and is left out, the rest give examples per second;
3. peak memory: the process's peak resident set (VmHWM), reset after imports
   and data loading where Linux allows it (/proc/self/clear_refs), and its
   growth over the resident set at that point.

The machine's dense float32 matmul rate (2048 x 2048 x 2048 in a
`tf.function`) is measured in its own subprocess before and after the rounds,
and tfpvae's achieved rate is its examples/s times the FLOPs of one training
example: 3 x the forward pass's matmul FLOPs (2 m n k per Dense layer; the
backward pass costs about twice the forward pass), element-wise work ignored.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

from benchmarks.common import (
    RESULT_PREFIX,
    epoch_timer,
    matmul_rate,
    memory_kib,
    page_path,
    pages,
    reset_peak_memory,
    run_worker,
    schedule,
)
from benchmarks.throughput import tables
from benchmarks.throughput.tables import IMPLEMENTATIONS, ratio

LARGE = {"input_dim": 784, "hidden": [1024, 1024], "latent": 64}


# --- command line -------------------------------------------------------------------------


def parse_args(argv=None):
    """The command-line options; `--large` overrides the architecture."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--input-dim", type=int, default=784, help="D of synthetic data (default 784)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200], help="hidden layer sizes")
    parser.add_argument("--latent", type=int, default=50, help="latent size")
    parser.add_argument("--large", action="store_true", help="preset 784-1024-1024-64")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 100, 256, 1024])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--examples", type=int, default=25600,
                        help="training examples per epoch, cut to a multiple of each batch size "
                             "(default 25600, a multiple of 32, 100, 256 and 1024)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs of the timed fit; the first is a warm-up (default 3)")
    parser.add_argument("--data", help="a file tfpvae.data.load_arrays reads (e.g. mnist.npz); its "
                                       "train split is flattened and binarized once (seed 0). "
                                       "Default: synthetic Bernoulli(0.3) pixels")
    parser.add_argument("--implementations", nargs="+", default=list(IMPLEMENTATIONS),
                        choices=IMPLEMENTATIONS, help="subset to run (tfpvae is the baseline of ratios)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow intra- and inter-op threads (default 0: TensorFlow's choice)")
    parser.add_argument("--jit-compile", choices=("default", "on", "off"), default="default",
                        help="XLA: 'default' passes nothing to compile (Keras 3 'auto', which is off on "
                             "CPU-only machines; tf_keras off); 'on'/'off' force it for all three")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--matmul-runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write all raw measurements to this JSON file")
    parser.add_argument("--report", nargs="?", const=str(page_path("throughput")), metavar="PAGE",
                        help="rewrite the tables of PAGE (default docs/results/throughput.md) from the results "
                             "files its blocks name, and run nothing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.large:
        args.input_dim, args.hidden, args.latent = LARGE["input_dim"], LARGE["hidden"], LARGE["latent"]
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is a warm-up)")
    return args


# --- the parent: data, scheduling, report ---------------------------------------------------


def prepare_data(args, folder):
    """Writes the training array [N, D] (float32 in {0, 1}) to folder; returns (path, D, description)."""
    if args.data:
        from tfpvae import data

        arrays = data.load_arrays(args.data, split="train")
        x = data.binarize_static(arrays.x.reshape(len(arrays.x), -1)[:args.examples], seed=0)
        description = f"{arrays.source}, train split, first {len(x)} examples, binarized once (seed 0)"
    else:
        rng = np.random.default_rng(args.seed)
        x = (rng.uniform(size=(args.examples, args.input_dim)) < 0.3).astype(np.float32)
        description = f"synthetic Bernoulli(0.3), {len(x)} x {args.input_dim}"
    path = os.path.join(folder, "x.npy")
    np.save(path, x)
    return path, x.shape[1], description


def measure_in_process(spec):
    """Runs one measurement in a fresh Python process; returns its result dict."""
    return run_worker("benchmarks.throughput", spec)


def dense_shapes(input_dim, hidden, latent):
    """(fan_in, fan_out) of every Dense layer of the VAE's encoder (with its 2 x latent head) and decoder."""
    encoder = [input_dim, *hidden, 2 * latent]
    decoder = [latent, *hidden, input_dim]
    return list(zip(encoder[:-1], encoder[1:])) + list(zip(decoder[:-1], decoder[1:]))


def train_flops_per_example(input_dim, hidden, latent):
    """Matmul FLOPs of one training example: 3 x forward, the forward pass 2 * fan_in * fan_out per layer."""
    return 3 * sum(2 * fan_in * fan_out for fan_in, fan_out in dense_shapes(input_dim, hidden, latent))


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(RESULT_PREFIX + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    with tempfile.TemporaryDirectory() as folder:
        data_path, input_dim, description = prepare_data(args, folder)
        base = {"data": data_path, "hidden": args.hidden, "latent": args.latent, "epochs": args.epochs,
                "seed": args.seed, "threads": args.threads, "jit_compile": args.jit_compile}
        matmul_spec = {"task": "matmul", "size": args.matmul_size, "runs": args.matmul_runs,
                       "threads": args.threads}
        matmul = [measure_in_process({**matmul_spec, "when": "before"})]
        runs = []
        for r, bs, impl in schedule(list(args.implementations), args.batch_sizes, args.rounds):
            result = measure_in_process({**base, "task": "train", "impl": impl, "batch_size": bs})
            runs.append({"round": r, **result})
            print(f"round {r + 1}/{args.rounds}  batch {bs:5d}  {impl:10s}  "
                  f"{result['examples_per_s']:9.0f} ex/s  first step {result['first_step_s']:6.2f} s  "
                  f"peak {result['peak_mib']:7.0f} MiB  load {result['load_after'][0]:.2f}",
                  file=sys.stderr, flush=True)
        matmul.append(measure_in_process({**matmul_spec, "when": "after"}))
    setup = {"data": description, "input_dim": input_dim, "hidden": args.hidden, "latent": args.latent,
             "batch_sizes": args.batch_sizes, "rounds": args.rounds, "epochs": args.epochs,
             "threads": args.threads or "TensorFlow default", "jit_compile": args.jit_compile,
             "cpus": os.cpu_count(), "machine": platform.platform(), "versions": runs[0]["versions"]}
    flops = train_flops_per_example(input_dim, args.hidden, args.latent)
    print(report(setup, runs, matmul, flops))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"setup": setup, "runs": runs, "matmul": matmul,
                       "train_flops_per_example": flops}, f, indent=2)


def report(setup, runs, matmul, flops):
    """The markdown report: setup, one table of the three measurements, one of FLOP rates."""
    lines = [
        "## Training throughput",
        "",
        f"- architecture: {setup['input_dim']}-{'-'.join(map(str, setup['hidden']))}-{setup['latent']} "
        f"(tanh MLP, diagonal Gaussian q(z|x), Bernoulli p(x|z), analytic KL, 1 sample, Adam 1e-3)",
        f"- data: {setup['data']}",
        f"- {setup['rounds']} alternating rounds; each value is the median over rounds [min, max]; "
        f"steady state over epochs 2..{setup['epochs']} of a second fit",
        f"- threads: {setup['threads']}, CPUs: {setup['cpus']}, {setup['machine']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in setup['versions'].items())}",
        "- ratios are implementation / tfpvae: above 1 means more examples/s, a slower first step, "
        "more memory",
        "",
        *tables.main_table(setup["batch_sizes"], runs),
    ]
    factors = [run["kl_factor"] for run in runs if "kl_factor" in run]
    if factors:
        lines += ["", f"tfp.layers check: regularization losses / analytic KL = "
                      f"{min(factors):.3f}..{max(factors):.3f} (1.000: its loss is -ELBO, as tfpvae's)"]
    lines += round_report(setup, runs)
    loads = [run["load_after"][0] for run in runs] + [m["load_after"][0] for m in matmul]
    lines += ["", f"1-minute load average after each run: {min(loads):.2f}..{max(loads):.2f} "
                  f"on {setup['cpus']} CPUs"]
    lines += flop_report(setup, runs, matmul, flops)
    return "\n".join(lines)


def round_report(setup, runs):
    """Markdown lines: per round, tfpvae's examples/s and first step over each other implementation's."""
    others = [impl for impl in IMPLEMENTATIONS[1:] if any(run["impl"] == impl for run in runs)]
    if not any(run["impl"] == "tfpvae" for run in runs) or not others:
        return []
    lines = ["", "Per round, tfpvae's figure / the implementation's (examples/s: above 1 is a faster "
                 "tfpvae; first step: above 1 is a slower tfpvae first step):", "",
             "| batch | round | " + " | ".join(f"examples/s vs {impl} | first step vs {impl}" for impl in others)
             + " |", "| ---: | ---: |" + " ---: | ---: |" * len(others)]
    by = {(run["batch_size"], run["round"], run["impl"]): run for run in runs}
    for bs in setup["batch_sizes"]:
        for r in range(setup["rounds"]):
            mine = by.get((bs, r, "tfpvae"))
            if mine is None:
                continue
            cells = [f"{ratio(mine['examples_per_s'], by[(bs, r, impl)]['examples_per_s'])} | "
                     f"{ratio(mine['first_step_s'], by[(bs, r, impl)]['first_step_s'])}" for impl in others]
            lines.append(f"| {bs} | {r + 1} | " + " | ".join(cells) + " |")
    return lines


def flop_report(setup, runs, matmul, flops):
    """Markdown lines: tfpvae's achieved FLOP rate as a fraction of the machine's matmul rate."""
    peak = tables.matmul_peak(matmul)
    return [
        "",
        "## tfpvae's achieved FLOP rate",
        "",
        f"- {matmul[0]['size']}^3 float32 matmul in a tf.function: "
        + ", ".join(f"{m['when']}: median {m['median_gflops']:.1f} GFLOP/s (best {m['best_gflops']:.1f})"
                    for m in matmul)
        + f"; reference rate = mean of the medians, {peak:.1f} GFLOP/s",
        f"- one training example = {flops / 1e6:.2f} MFLOP (3 x forward matmul FLOPs)",
        "",
        *tables.flop_table(setup["batch_sizes"], runs, matmul, flops),
    ]


# --- the worker: one measurement in a fresh process -------------------------------------------


def worker(spec):
    """Runs the measurement `spec` describes (task "train" or "matmul"); returns a JSON-able dict."""
    start = time.perf_counter()
    import tensorflow as tf

    if spec["threads"]:
        tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(spec["threads"])
    if spec["task"] == "matmul":
        return {"when": spec["when"], **matmul_rate(spec["size"], spec["runs"])}
    return measure_training(spec, start)


def measure_training(spec, start):
    """Time to first step, steady-state examples/s and peak memory of one implementation."""
    build, fit, callback_base, versions = implementation(spec["impl"])
    import_s = time.perf_counter() - start
    bs = spec["batch_size"]
    x = np.load(spec["data"])
    x = x[:len(x) // bs * bs]
    reset = reset_peak_memory()
    baseline = memory_kib("VmRSS")

    t0 = time.perf_counter()
    model = build(x.shape[1], spec)
    fit(model, x[:bs], epochs=1, batch_size=bs, verbose=0, shuffle=False)
    first_step_s = time.perf_counter() - t0

    timer = epoch_timer(callback_base)
    history = fit(model, x, epochs=spec["epochs"], batch_size=bs, verbose=0, callbacks=[timer])
    steady_s = sum(timer.seconds[1:])
    peak = memory_kib("VmHWM")
    result = {
        "impl": spec["impl"], "batch_size": bs, "examples": len(x), "import_s": import_s,
        "first_step_s": first_step_s, "epoch_s": timer.seconds,
        "examples_per_s": len(x) * (spec["epochs"] - 1) / steady_s,
        "peak_mib": peak / 1024, "growth_mib": (peak - baseline) / 1024, "peak_reset": reset,
        "final_loss": float(history.history["loss"][-1]), "jit_compile": str(jit_of(model)),
        "versions": versions,
    }
    if spec["impl"] == "tfp.layers":
        from benchmarks.common import references

        result["kl_factor"] = references.kl_factor(model, x[:bs])
    return result


def jit_compile_option(spec):
    """compile(jit_compile=...) kwargs for --jit-compile: none for 'default'."""
    return {"default": {}, "on": {"jit_compile": True}, "off": {"jit_compile": False}}[spec["jit_compile"]]


def implementation(impl):
    """(build(input_dim, spec) -> model, fit(model, x, **kw), Callback base class, versions) of one implementation.

    Only what the implementation needs is imported, in this (fresh) process.
    """
    import keras
    import tensorflow as tf
    import tensorflow_probability as tfp

    versions = {"tensorflow": tf.__version__, "tfp": tfp.__version__, "keras": keras.__version__}
    if impl == "tfpvae":
        import tfpvae

        def build(input_dim, spec):
            keras.utils.set_random_seed(spec["seed"])
            mlp = {"name": "mlp", "units": list(spec["hidden"]), "activation": "tanh"}
            vae = tfpvae.VAE(event_shape=(input_dim,), latent_dim=spec["latent"], encoder=mlp, decoder=mlp)
            vae.compile(optimizer=keras.optimizers.Adam(1e-3), **jit_compile_option(spec))
            return vae

        return build, lambda model, x, **kw: model.fit(x, **kw), keras.callbacks.Callback, versions
    from benchmarks.common import references

    if impl == "keras3":
        def build(input_dim, spec):
            keras.utils.set_random_seed(spec["seed"])
            return references.keras3_reference(input_dim, spec["hidden"], spec["latent"],
                                               jit_compile=jit_compile_option(spec).get("jit_compile"))

        return build, lambda ref, x, **kw: ref.fit(x, **kw), keras.callbacks.Callback, versions
    import tf_keras

    versions["tf_keras"] = tf_keras.__version__

    def build(input_dim, spec):
        tf_keras.utils.set_random_seed(spec["seed"])
        return references.tfp_layers_reference(input_dim, spec["hidden"], spec["latent"],
                                               jit_compile=jit_compile_option(spec).get("jit_compile"))

    return build, lambda ref, x, **kw: ref.fit(x, **kw), tf_keras.callbacks.Callback, versions


def jit_of(model):
    """Whether XLA compiles the model's train step, as Keras resolved it."""
    model = getattr(model, "model", model)
    return getattr(model, "jit_compile", None)


if __name__ == "__main__":
    main()
