"""What XLA costs before the first step and saves per step: the numbers behind
`jit_compile="auto"` (`tfpvae.training_loop.XLA_MIN_STEPS`).

Each (round, mode) runs in a fresh Python process; rounds rotate the order of
the modes. Modes (tfpvae, 784-200-200-50 tanh MLP, Bernoulli, Adam 1e-3):

- graph: `compile(jit_compile=False, jit_update=False)`, no XLA at all;
- graph+update: `compile(jit_compile=False)`, the optimizer step alone in XLA;
- xla-step: `compile(jit_compile=True)` with Keras's own train function,
  which calls the XLA-compiled step once per step;
- xla-loop: `compile(jit_compile=True)`, each execution's steps in one XLA loop;
- auto: `compile()`, the defaults.

Per run: the first step (model construction, compile, tracing, XLA
compilation and one step: a `fit` on one batch) and the examples/s of a
second `fit` of `--epochs` epochs over `--examples` synthetic binary
examples, its first epoch excluded. With `--cache DIR`, every process gets
TensorFlow's persistent XLA cache
(`TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=DIR`, emptied first), so
a mode's first round fills it and later rounds read it.

The break-even is the number of steps at which XLA's extra time before the
first step is repaid: (first step of xla-loop - first step of graph) /
(graph's seconds per step - xla-loop's).

    python -m benchmarks.xla_policy --rounds 3 --json benchmarks/xla_policy/results/modes-DATE.json
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import time

from benchmarks.common import RESULT_PREFIX, run_worker

MODES = ("graph", "graph+update", "xla-step", "xla-loop", "auto")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.xla_policy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--examples", type=int, default=12800)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--cache", help="a folder for TensorFlow's persistent XLA cache (emptied first)")
    parser.add_argument("--json")
    parser.add_argument("--interleave", action="store_true",
                        help="all modes in one process: first steps in turn, then one epoch of each mode "
                             "in turn, --rounds times (machine drift falls on all modes alike)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(RESULT_PREFIX + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    env = {}
    if args.cache:
        shutil.rmtree(args.cache, ignore_errors=True)
        env["TF_XLA_FLAGS"] = f"--tf_xla_persistent_cache_directory={os.path.abspath(args.cache)}"
    if args.interleave:
        spec = {"modes": args.modes, "batch_size": args.batch_size, "examples": args.examples, "rounds": args.rounds}
        result = run_worker("benchmarks.xla_policy", {**spec, "interleave": True}, env=env)
        print(interleaved_report(result, args))
        if args.json:
            with open(args.json + ".tmp", "w") as f:
                json.dump({"setup": {"args": vars(args), "cpu_count": os.cpu_count()}, "interleaved": result}, f,
                          indent=1)
            os.replace(args.json + ".tmp", args.json)
        return
    runs, modes = [], list(args.modes)
    for r in range(args.rounds):
        for mode in modes[r % len(modes):] + modes[:r % len(modes)]:
            spec = {"mode": mode, "batch_size": args.batch_size, "examples": args.examples, "epochs": args.epochs}
            run = {**run_worker("benchmarks.xla_policy", spec, env=env), "round": r}
            runs.append(run)
            print(f"round {r} {mode:12s} first step {run['first_step_s']:6.2f} s  "
                  f"{run['examples_per_s']:8.0f} ex/s  XLA {run['xla']}  load {run['load_after'][0]:.2f}",
                  file=sys.stderr)
    setup = {"args": vars(args), "cpu_count": os.cpu_count(), "started": time.strftime("%Y-%m-%d %H:%M")}
    print(report(runs, args))
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"setup": setup, "runs": runs}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


def report(runs, args):
    """Markdown: medians [min, max] per mode, and the break-even in steps."""
    lines = ["| mode | first step (s) | examples/s | s per step (ms) | XLA |", "| --- | ---: | ---: | ---: | --- |"]
    median = {}
    for mode in args.modes:
        mine = [r for r in runs if r["mode"] == mode]
        if not mine:
            continue
        first = [r["first_step_s"] for r in mine]
        rate = [r["examples_per_s"] for r in mine]
        median[mode] = statistics.median(first), args.batch_size / statistics.median(rate)
        lines.append(f"| {mode} | {statistics.median(first):.2f} [{min(first):.2f}, {max(first):.2f}] "
                     f"| {statistics.median(rate):,.0f} [{min(rate):,.0f}, {max(rate):,.0f}] "
                     f"| {1e3 * median[mode][1]:.2f} | {mine[0]['xla']} |")
    lines += break_even(median)
    return "\n".join(lines)


def break_even(median):
    """Markdown lines: XLA's extra first-step time, its saving per step and the
    steps that repay it, from {mode: (first step s, s per step)}."""
    if "graph" not in median or "xla-loop" not in median:
        return []
    extra = median["xla-loop"][0] - median["graph"][0]
    saved = median["graph"][1] - median["xla-loop"][1]
    return ["", f"XLA's extra time before the first step {extra:.2f} s, saved per step {1e3 * saved:.2f} ms"
            + (f": break-even after {extra / saved:,.0f} steps" if saved > 0 else ": no saving")]


def interleaved_report(result, args):
    """Markdown: per mode, the first step and the median [min, max] examples/s over interleaved epochs."""
    lines = ["| mode | first step (s) | examples/s, median [min, max] of interleaved epochs | ms per step | XLA |",
             "| --- | ---: | ---: | ---: | --- |"]
    median = {}
    for mode in args.modes:
        rates = [args.batch_size * steps / s for s, steps in result["epochs"][mode]]
        median[mode] = result["first_step_s"][mode], args.batch_size / statistics.median(rates)
        lines.append(f"| {mode} | {result['first_step_s'][mode]:.2f} | {statistics.median(rates):,.0f} "
                     f"[{min(rates):,.0f}, {max(rates):,.0f}] | {1e3 * median[mode][1]:.2f} "
                     f"| {result['xla'][mode]} |")
    lines += break_even(median)
    load = result["load_after"]
    lines += ["", f"load average after the run: {load[0]:.2f} (1 min), {load[1]:.2f} (5 min)"]
    return "\n".join(lines)


def built(mode, x, bs):
    """A compiled tfpvae model for `mode`, after a `fit` on one batch, and that first step's seconds."""
    import keras

    import tfpvae

    keras.utils.set_random_seed(0)
    t0 = time.perf_counter()
    mlp = {"name": "mlp", "units": [200, 200], "activation": "tanh"}
    vae = tfpvae.VAE(event_shape=(784,), latent_dim=50, encoder=mlp, decoder=mlp)
    options = {"graph": {"jit_compile": False, "jit_update": False}, "graph+update": {"jit_compile": False},
               "xla-step": {"jit_compile": True}, "xla-loop": {"jit_compile": True}, "auto": {}}[mode]
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), **options)
    if mode == "xla-step":
        vae.make_train_function = lambda force=False: keras.Model.make_train_function(vae, force)
    vae.fit(x[:bs], epochs=1, batch_size=bs, verbose=0, shuffle=False)
    return vae, time.perf_counter() - t0


def interleaved(spec):
    """All modes in one process: first steps, a warm-up epoch each, then epochs in turn."""
    import numpy as np

    bs, modes = spec["batch_size"], spec["modes"]
    x = (np.random.default_rng(0).random((spec["examples"] // bs * bs, 784)) < 0.3).astype("float32")
    models, first = {}, {}
    built("graph", x, bs)  # TensorFlow's one-time start-up costs, paid before the first timed mode
    for mode in modes:
        models[mode], first[mode] = built(mode, x, bs)
    epochs = {mode: [] for mode in modes}
    for r in range(spec["rounds"] + 1):
        for mode in modes[r % len(modes):] + modes[:r % len(modes)]:
            vae = models[mode]
            steps = int(vae.optimizer.iterations)
            t0 = time.perf_counter()
            vae.fit(x, epochs=1, batch_size=bs, verbose=0)
            if r:  # round 0 is the warm-up (XLA compiles there)
                epochs[mode].append((time.perf_counter() - t0, int(vae.optimizer.iterations) - steps))
    return {"first_step_s": first, "epochs": epochs, "xla": {m: bool(v.jit_compile) for m, v in models.items()}}


def worker(spec):
    if spec.get("interleave"):
        return interleaved(spec)
    start = time.perf_counter()
    import keras
    import numpy as np

    import_s = time.perf_counter() - start
    bs, mode = spec["batch_size"], spec["mode"]
    x = (np.random.default_rng(0).random((spec["examples"] // bs * bs, 784)) < 0.3).astype("float32")
    vae, first_step_s = built(mode, x, bs)
    seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.started)

    history = vae.fit(x, epochs=spec["epochs"], batch_size=bs, verbose=0, callbacks=[EpochTimer()])
    return {"mode": mode, "import_s": import_s, "first_step_s": first_step_s, "epoch_s": seconds,
            "examples_per_s": len(x) * (spec["epochs"] - 1) / sum(seconds[1:]),
            "final_loss": history.history["loss"][-1], "steps": int(vae.optimizer.iterations),
            "xla": bool(vae.jit_compile)}


if __name__ == "__main__":
    main()
