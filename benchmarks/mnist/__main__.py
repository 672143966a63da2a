"""The IWAE paper's MNIST table (Burda et al., Table 1), trained with tfpvae.

    python -m benchmarks.mnist train --row 1-elbo-1 --runs /work/bench/mnist --seconds 3600
    python -m benchmarks.mnist reference --impl keras3 --runs /work/bench/mnist --match 1-elbo-1
    python -m benchmarks.mnist report --runs /work/bench/mnist --results-md docs/results/mnist.md
    python -m benchmarks.mnist report        # docs/results/mnist.md's table from the results file it names

Rows are named LAYERS-OBJECTIVE-K: 1 or 2 stochastic layers, objective elbo
(the paper's "VAE"), iwae or dreg, and k = num_samples (1, 5 or 50).

- 1 layer: 784-200-200-50, tanh MLPs for q(z|x) (a diagonal Gaussian) and
  p(x|z) (Bernoulli), p(z) = N(0, I).
- 2 layers: x -> [100, 100] tanh -> q(z1|x) (100-d) -> [50, 50] tanh -> q(z2|z1)
  (50-d); p(z2) = N(0, I) -> [50, 50] tanh -> p(z1|z2) -> [100, 100] tanh -> p(x|z1).

Training follows the paper: the 60,000 training images binarized afresh every
epoch, batch 20, Adam (beta1 0.9, beta2 0.999, epsilon 1e-4) with the IWAE
learning-rate schedule (`tfpvae.schedules.IWAESchedule`: 3^i passes at
1e-3 * 10^(-i/7), i = 0..7, 3,280 passes) compressed into the run's budget of
--epochs epochs, or into what --seconds of training allows at the speed a
short calibration measures. --seconds also stops training when that much
training time is spent. The test set is binarized once, by
`tfpvae.data.binarize_static(x_test, seed=0)`.

Each row trains in its own run directory RUNS/ROW: a killed run resumes from
its newest epoch when the same command runs again. Every --curve-every epochs
the learning curve gets the test NLL estimated with k = 100 importance samples
on the first 1,000 test images. At the end of training: test NLL with
k = 5,000 on all 10,000 test images (in blocks of 1,000 images, each block kept
as it is done, so this also resumes), test ELBO (one z), active units
(Burda et al.: Cov_x(E_q[z_u]) > 0.01; per level for 2 layers), training
time and examples/s; all in RUNS/ROW/result.json.

`reference` trains benchmarks/common/references.py's Keras-3 or tfp.layers model
(1 layer, their defaults: Adam 1e-3, constant) for the same training time as a
tfpvae row, with the same data, batch, binarization and learning curve.
`report --runs RUNS` gathers every run directory, partial ones included, into
a results file (benchmarks/mnist/results/table-DATE.json), the learning curves
(docs/results/img/mnist-curves.png) and the MNIST table, with the paper's
numbers, each row's budget, and projected times for rows not run; with
--results-md PAGE the table goes into PAGE's block, which then names the new
results file. `report` without --runs writes the table of docs/results/mnist.md
(or --results-md) from the results file its block names.
"""

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfpvae  # noqa: E402
from benchmarks.common import DATA, ROOT, page_path, pages, processor, results_path  # noqa: E402
from benchmarks.mnist import tables  # noqa: E402
from benchmarks.mnist.tables import PAPER, ROWS, TRAIN_EXAMPLES, parse_row  # noqa: E402
from tfpvae import data, files  # noqa: E402
from tfpvae.callbacks import StopOnNaN  # noqa: E402
from tfpvae.checkpoints import RunCheckpoint  # noqa: E402
from tfpvae.schedules import PASSES, IWAESchedule  # noqa: E402

TEST_SEED = 0
CURVE_EXAMPLES, CURVE_K, FINAL_K, BLOCK = 1000, 100, 5000, 1000


def mlp(units):
    return {"name": "mlp", "units": units, "activation": "tanh"}


def model(row, seed):
    """The row's VAE: the 1-layer model, or the 2-layer stack spelled as tfpvae's hierarchical API."""
    layers, objective, k = parse_row(row)
    if layers == 1:
        shape = {"latent_dim": 50, "encoder": mlp([200, 200]), "decoder": mlp([200, 200])}
    else:
        shape = {"latent_dim": [100, 50], "encoder": [mlp([100, 100]), mlp([50, 50])],
                 "decoder": [mlp([100, 100]), mlp([50, 50])]}
    try:
        return tfpvae.VAE(event_shape=(784,), likelihood="bernoulli", objective=objective, num_samples=k,
                          seed=seed, **shape)
    except (ValueError, TypeError) as error:
        raise SystemExit(f"benchmarks.mnist: error: this tfpvae cannot build row {row}: {error}") from None


def mnist(path, train_examples=None, test_examples=None):
    """(the first training images in [0, 1], the first test images binarized once), flat [N, 784]."""
    if not Path(path).is_file():
        raise SystemExit(f"benchmarks.mnist: error: MNIST not found at {path}; give --data PATH to a Keras-format "
                         "mnist.npz (keys x_train, y_train, x_test, y_test)")
    train = data.load_arrays(str(path), split="train").x.reshape(-1, 784)
    test = data.binarize_static(data.load_arrays(str(path), split="test").x.reshape(-1, 784), seed=TEST_SEED)
    return train[:train_examples], test[:test_examples]


# --- training a tfpvae row ---------------------------------------------------------------------


class Timer(keras.callbacks.Callback):
    """Adds the epoch's training seconds to its logs (first in the list, before any evaluation)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["train_seconds"] = time.perf_counter() - self.start


class Curve(keras.callbacks.Callback):
    """Every `every` epochs (and at `last`), test NLL from k = 100 on the curve's test images -> curve.json."""

    def __init__(self, path, points, score, every, last, seconds=0.0):
        super().__init__()
        self.path, self.points, self.score, self.every, self.last = path, points, score, every, last
        self.seconds = seconds

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += logs["train_seconds"]
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.last:
            self.add(epoch + 1)

    def add(self, epochs):
        """A point after `epochs` epochs."""
        start = time.perf_counter()
        nll = float(self.score())
        self.points.append({"epoch": epochs, "train_seconds": round(self.seconds, 2), "nll_k100": nll,
                            "eval_seconds": round(time.perf_counter() - start, 2)})
        files.write_json(self.path, self.points)
        print(f"epoch {epochs}: test NLL (k={CURVE_K}) {nll:.2f} "
              f"after {self.seconds:.0f} s of training", flush=True)


class Budget(keras.callbacks.Callback):
    """Stops training once the run's training seconds (history's train_seconds) reach `seconds`."""

    def __init__(self, history, seconds):
        super().__init__()
        self.history, self.seconds = history, seconds

    def on_epoch_end(self, epoch, logs=None):
        if self.seconds and sum(self.history().get("train_seconds", [])) >= self.seconds:
            self.model.stop_training = True


def calibrate(row, train, batch_size, seed):
    """Examples/s of the row's training step: a throwaway copy trained on the first 30,000 images
    (after a first, compiling epoch on 320 batches)."""
    vae = model(row, seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-4))
    vae.fit(batches(train[:batch_size * 320], batch_size, seed), epochs=1, verbose=0)
    x = train[:30000]
    start = time.perf_counter()
    vae.fit(batches(x, batch_size, seed), epochs=1, verbose=0)
    return len(x) / (time.perf_counter() - start)


def batches(x, batch_size, seed, epoch=0):
    """x's batches binarized afresh every epoch, from `epoch` on: by tf.data on TensorFlow, by numpy
    (`tfpvae.data.to_batches`) on JAX."""
    if keras.backend.backend() == "tensorflow":
        return data.to_dataset(x, batch_size=batch_size, binarize="dynamic", seed=seed)
    feed = data.to_batches(x, batch_size=batch_size, binarize="dynamic", seed=seed)
    feed.start_at(epoch)
    return feed


def settings(args, train):
    """The run's settings: run.json when resuming, else the flags (with a calibrated epoch count)."""
    path = Path(args.runs) / args.row / "run.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if args.seconds is not None:
            saved["seconds"] = args.seconds
        return saved
    if args.epochs is None and args.seconds is None:
        raise SystemExit("benchmarks.mnist: error: give a budget: --epochs N and/or --seconds S")
    epochs, rate = args.epochs, None
    if epochs is None:
        rate = calibrate(args.row, train, args.batch_size, args.seed)
        epochs = max(1, int(0.9 * args.seconds * rate / min(len(train), args.train_examples)))
        print(f"calibration: {rate:.0f} examples/s -> {epochs} epochs in {args.seconds} s", flush=True)
    return {"row": args.row, "train_examples": min(len(train), args.train_examples),
            "test_examples": args.test_examples, "epochs": epochs, "seconds": args.seconds,
            "calibrated_examples_per_s": rate,
            "batch_size": args.batch_size, "learning_rate": args.learning_rate, "adam_epsilon": 1e-4,
            "schedule": "iwae", "seed": args.seed, "curve_every": args.curve_every or max(1, epochs // 20),
            "test_binarization": f"tfpvae.data.binarize_static(x_test, seed={TEST_SEED})",
            "curve": f"first {min(CURVE_EXAMPLES, args.test_examples)} test images, k = {CURVE_K}",
            "final_k": FINAL_K,
            "command": " ".join(sys.argv), "machine": machine()}


def machine():
    """The machine and the versions a run records."""
    return {"cpu": processor(), "cores": os.cpu_count(), "load_average": os.getloadavg(),
            "python": platform.python_version(), "backend": keras.backend.backend(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "tfpvae": tfpvae.__version__}


def train(args):
    train_x, test = mnist(args.data)
    run_dir = Path(args.runs) / args.row
    model(args.row, args.seed)  # a row this tfpvae cannot build fails before anything is written
    config = settings(args, train_x)
    train_x, test = train_x[:config["train_examples"]], test[:config["test_examples"]]
    run_dir.mkdir(parents=True, exist_ok=True)
    files.write_json(run_dir / "run.json", config)
    keras.utils.set_random_seed(config["seed"])
    vae = model(config["row"], config["seed"])
    steps = math.ceil(len(train_x) / config["batch_size"])
    schedule = IWAESchedule(steps, epochs=config["epochs"], initial_learning_rate=config["learning_rate"])
    vae.compile(optimizer=keras.optimizers.Adam(schedule, epsilon=config["adam_epsilon"]))
    if not (run_dir / "model.keras").exists():
        fit(vae, run_dir, config, train_x, test)
    else:
        vae = keras.models.load_model(run_dir / "model.keras")
    finish(vae, run_dir, config, test)


def fit(vae, run_dir, config, train_x, test):
    checkpoint = RunCheckpoint(run_dir, vae)
    start = checkpoint.restore()
    curve_path = run_dir / "curve.json"
    points = [p for p in (json.loads(curve_path.read_text()) if curve_path.exists() else []) if p["epoch"] <= start]
    curve = Curve(curve_path, points, lambda: -vae.log_likelihood(test[:CURVE_EXAMPLES], num_samples=CURVE_K).mean(),
                  config["curve_every"], config["epochs"], sum(checkpoint.history.get("train_seconds", [])))
    if start:
        print(f"resuming {run_dir} from epoch {start + 1} of {config['epochs']}", flush=True)
    budget = Budget(lambda: checkpoint.history, config["seconds"])
    if budget.seconds and curve.seconds >= budget.seconds:
        print(f"{run_dir}: the time budget ({budget.seconds} s) is spent; evaluating", flush=True)
    else:
        dataset = batches(train_x, config["batch_size"], config["seed"], start)
        vae.fit(dataset, epochs=config["epochs"], initial_epoch=start, verbose=0,
                callbacks=[Timer(), StopOnNaN(), curve, checkpoint, budget])
    done = len(checkpoint.history.get("train_seconds", []))
    if done and (not points or points[-1]["epoch"] < done):
        curve.add(done)
    files.write_json(run_dir / "history.json", checkpoint.history)
    with files.atomic_path(run_dir / "model.keras") as temporary:
        vae.save(temporary)


def finish(vae, run_dir, config, test):
    """Test NLL (k = 5000, in resumable blocks), ELBO, active units -> result.json."""
    progress_path = run_dir / "nll-k5000.json"
    progress = json.loads(progress_path.read_text()) if progress_path.exists() else {"nll": [], "stderr": []}
    start = time.perf_counter()
    while len(progress["nll"]) < len(test):
        block = test[len(progress["nll"]):len(progress["nll"]) + BLOCK]
        log_px, stderr = vae.log_likelihood(block, num_samples=FINAL_K, return_stderr=True)
        progress["nll"] += (-log_px).tolist()
        progress["stderr"] += stderr.tolist()
        progress["seconds"] = progress.get("seconds", 0.0) + time.perf_counter() - start
        start = time.perf_counter()
        files.write_json(progress_path, progress)
        print(f"test NLL (k={FINAL_K}): {len(progress['nll'])} of {len(test)} images, "
              f"mean so far {np.mean(progress['nll']):.3f}", flush=True)
    history = json.loads((run_dir / "history.json").read_text())
    seconds = history.get("train_seconds", [])
    epochs = len(seconds)
    result = {
        **config, "epochs_done": epochs, "paper_passes": PASSES,
        "status": status(config, seconds),
        "train_seconds": round(sum(seconds), 1),
        "examples_per_s": epoch_rate(config["train_examples"], seconds),
        "test_nll_k5000": float(np.mean(progress["nll"])),
        "test_nll_k5000_stderr": float(np.sqrt(np.sum(np.square(progress["stderr"]))) / len(test)),
        "nll_eval_seconds": round(progress["seconds"], 1),
        "test_elbo": float(vae.elbo(test, num_samples=1).mean()),
        "active_units": active_units(vae, test),
        "final_train_loss": history["loss"][-1] if history.get("loss") else None,
    }
    files.write_json(run_dir / "result.json", result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


def status(config, seconds):
    """complete (every epoch of the budget), stopped by the time budget, or stopped early (a NaN)."""
    if len(seconds) >= config["epochs"]:
        return "complete"
    if config["seconds"] and sum(seconds) >= config["seconds"]:
        return "stopped by the time budget"
    return "stopped early by a non-finite loss"


def active_units(vae, test):
    """Active units of the model (for a stack, `VAE.active_units` says per level what it returns)."""
    count = vae.active_units(test)[0]
    return count if isinstance(count, (int, np.integer)) else [int(c) for c in count]


# --- the references at the same training time ---------------------------------------------------


def reference(args):
    from benchmarks.common import references

    train_x, test = mnist(args.data, args.train_examples, args.test_examples)
    seconds = args.seconds or matched_seconds(Path(args.runs) / args.match)
    run_dir = Path(args.runs) / f"reference-{args.impl}"
    run_dir.mkdir(parents=True, exist_ok=True)
    if (run_dir / "result.json").exists():
        raise SystemExit(f"benchmarks.mnist: error: {run_dir} is finished (result.json); remove it to run again")
    make = {"keras3": references.keras3_reference, "tfp.layers": references.tfp_layers_reference}[args.impl]
    keras.utils.set_random_seed(args.seed)
    ref = make(784, [200, 200], 50)
    rng, points, spent, epoch, epochs = np.random.default_rng(args.seed), [], 0.0, 0, []
    while spent < seconds:
        x = (rng.uniform(size=train_x.shape) < train_x).astype(np.float32)
        start = time.perf_counter()
        ref.fit(x, batch_size=args.batch_size, epochs=1, shuffle=True, verbose=0)
        epochs.append(time.perf_counter() - start)
        spent, epoch = sum(epochs), epoch + 1
        if epoch % args.curve_every == 0 or spent >= seconds:
            nll = -references.log_likelihood(ref, test[:CURVE_EXAMPLES], num_samples=CURVE_K).mean()
            points.append({"epoch": epoch, "train_seconds": round(spent, 2), "nll_k100": float(nll)})
            files.write_json(run_dir / "curve.json", points)
            print(f"{args.impl} epoch {epoch}: NLL (k={CURVE_K}) {nll:.2f} after {spent:.0f} s", flush=True)
    result = {"row": f"reference-{args.impl}", "implementation": args.impl, "seconds": seconds,
              "epochs_done": epoch, "train_seconds": round(spent, 1), "batch_size": args.batch_size,
              "learning_rate": 1e-3, "schedule": "constant", "adam_epsilon": "the library's default",
              "examples_per_s": epoch_rate(len(train_x), epochs), "paper_passes": PASSES,
              "train_examples": len(train_x), "test_examples": len(test),
              "test_nll_k5000": float(-references.log_likelihood(ref, test, num_samples=FINAL_K).mean()),
              "test_elbo": float(references.elbo(ref, test).mean()), "status": "complete",
              "command": " ".join(sys.argv), "machine": machine()}
    files.write_json(run_dir / "result.json", result)
    print(json.dumps(result, indent=2))


def matched_seconds(run_dir):
    history = run_dir / "history.json"
    if not history.exists():
        raise SystemExit(f"benchmarks.mnist: error: --match needs {history}; give --seconds instead")
    return sum(json.loads(history.read_text())["train_seconds"])


# --- the report ---------------------------------------------------------------------------------


def read_row(run_dir):
    """What a run directory holds: its result, or its progress so far (status "partial")."""
    curve = json.loads((run_dir / "curve.json").read_text()) if (run_dir / "curve.json").exists() else []
    if (run_dir / "result.json").exists():
        return {**json.loads((run_dir / "result.json").read_text()), "curve": curve}
    if not (run_dir / "run.json").exists():
        return None
    row = json.loads((run_dir / "run.json").read_text())
    history = json.loads((run_dir / "history.json").read_text()) if (run_dir / "history.json").exists() else {}
    seconds = history.get("train_seconds", [])
    row.update(status="partial", epochs_done=len(seconds), train_seconds=round(sum(seconds), 1), curve=curve,
               examples_per_s=epoch_rate(row["train_examples"], seconds),
               paper_passes=PASSES)
    return row


def epoch_rate(train_examples, seconds):
    """Examples/s of the median epoch (the first epoch's compile and slow outliers do not count)."""
    return round(train_examples / float(np.median(seconds)), 1) if seconds else None


def report(args):
    """With --runs, gathers the run directories into --json and --png, and the table into --results-md when
    given; without, writes the table of --results-md (default docs/results/mnist.md) from the results file
    its block names (or --json)."""
    if args.runs is None:
        page = args.results_md or page_path("mnist")
        pages.refresh(page, tables.block, results_file=args.json)
        print(f"{page}: the MNIST table written")
        return
    runs = Path(args.runs)
    rows = {d.name: r for d in sorted(runs.iterdir()) if d.is_dir() and (r := read_row(d))} if runs.is_dir() else {}
    json_path = args.json or results_path("mnist", "table")
    files.write_json(json_path, {"runs": str(runs), "paper": {f"{k[0]}-{k[1]}": v for k, v in PAPER.items()},
                                 "paper_passes": PASSES, "rows": rows})
    draw(rows, Path(args.png))
    if args.results_md:
        pages.refresh(args.results_md, tables.block, results_file=json_path)
    print(tables.markdown(rows, PASSES))


def draw(rows, path):
    """Test NLL (k = 100, 1,000 test images) against training minutes, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for name, row in rows.items():
        if row.get("curve"):
            axis.plot([p["train_seconds"] / 60 for p in row["curve"]], [p["nll_k100"] for p in row["curve"]],
                      marker="o", markersize=3, label=f"{name} ({row['status']})")
    axis.axhline(PAPER[(1, "elbo")][1], color="grey", linestyle="--", label="paper, 1-layer VAE k=1 (86.76)")
    axis.axhline(88.0, color="grey", linestyle=":", label="target for the 1-layer VAE after 1 hour (88.0)")
    axis.set_xlabel("training time (minutes)")
    axis.set_ylabel(f"test NLL, nats (k = {CURVE_K}, first {CURVE_EXAMPLES} test images)")
    axis.set_title("MNIST learning curves")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    top = max([p["nll_k100"] for r in rows.values() for p in r.get("curve", [])[1:]] or [120])
    axis.set_ylim(80, min(top + 5, 200))
    axis.set_xlim(left=0)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")
    plt.close(figure)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mnist", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "reference", "report"):
        command = commands.add_parser(name)
        command.add_argument("--runs", required=name != "report", help="folder of the run directories, one per row")
        command.add_argument("--data", default=str(DATA), help="a Keras-format mnist.npz")
    train_, ref, rep = (commands.choices[n] for n in ("train", "reference", "report"))
    train_.add_argument("--row", required=True, help=f"one of {', '.join(ROWS)}")
    train_.add_argument("--epochs", type=int, help="the schedule's length in epochs")
    train_.add_argument("--learning-rate", type=float, default=1e-3, help="the schedule's first rate")
    train_.add_argument("--curve-every", type=int, help="epochs between curve points (default: epochs / 20)")
    ref.add_argument("--impl", required=True, choices=["keras3", "tfp.layers"])
    ref.add_argument("--match", default="1-elbo-1", help="train as long as this row trained")
    ref.add_argument("--curve-every", type=int, default=5)
    for command in (train_, ref):
        command.add_argument("--seconds", type=float, help="training-time budget in seconds")
        command.add_argument("--batch-size", type=int, default=20)
        command.add_argument("--seed", type=int, default=0)
        command.add_argument("--train-examples", type=int, default=TRAIN_EXAMPLES,
                             help="train on the first N images (smoke tests; the table uses all)")
        command.add_argument("--test-examples", type=int, default=10000,
                             help="score the first N test images (smoke tests; the table uses all)")
    rep.add_argument("--results-md", help="the page whose MNIST block to fill (docs/results/mnist.md; without "
                                          "--runs, the default)")
    rep.add_argument("--json", help="the results file: written with --runs (default "
                                    "benchmarks/mnist/results/table-DATE.json), else read (default: the one the "
                                    "page's block names)")
    rep.add_argument("--png", default=str(ROOT / "docs" / "results" / "img" / "mnist-curves.png"),
                     help="the learning curves, drawn with --runs")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    {"train": train, "reference": reference, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
