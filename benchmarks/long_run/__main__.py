"""Resident memory of a long `tfpvae train`, epoch by epoch.

Runs the real console script on MNIST (a Keras-format mnist.npz, optionally
its first --train-examples training images) and samples the process's
resident set size (VmRSS in /proc/PID/status) every 50 ms. Each time the run's
history.json gains an epoch, the RSS of that moment is recorded for that
epoch. Memory that stays flat after the first epochs is the goal: the
summary fits a line to the RSS of every epoch after --settle and reports its
slope in MiB per epoch, and the growth from the first of those epochs to the
last.

    nice -n 10 python -m benchmarks.long_run --data ../shared/data/mnist.npz --epochs 50
    python -m benchmarks.long_run --report     # docs/results/long_run.md's tables from their results

writes benchmarks/long_run/results/mnist-DATE.json (the data file's name and today's date).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import DATA, page_path, pages, results_path
from benchmarks.long_run import tables


def rss_mib(pid):
    """The resident set size of process `pid` in MiB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def epochs_done(run_dir):
    try:
        return len(json.loads((run_dir / "history.json").read_text())["loss"])
    except (OSError, ValueError, KeyError):
        return None


def subset_file(data, examples, directory):
    """`data` itself, or an .npz of its first `examples` training images and all its test images."""
    if not examples:
        return Path(data)
    with np.load(data) as arrays:
        path = Path(directory) / f"mnist-{examples}.npz"
        np.savez(path, x_train=arrays["x_train"][:examples], y_train=arrays["y_train"][:examples],
                 x_test=arrays["x_test"], y_test=arrays["y_test"])
    return path


def watch(command, run_dir):
    """Runs `command`; returns (per-epoch RSS in MiB, peak RSS, seconds, exit status)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    per_epoch, peak, start, seen = [], 0.0, time.time(), 0
    while process.poll() is None:
        rss = rss_mib(process.pid)
        if rss is not None:
            peak = max(peak, rss)
            done = epochs_done(run_dir)
            if done is not None and done > seen:
                per_epoch.extend([rss] * (done - seen))
                seen = done
                print(f"epoch {done:4d}  RSS {rss:8.1f} MiB  ({time.time() - start:7.1f} s)", flush=True)
        time.sleep(0.05)
    stderr = process.stderr.read()
    if process.returncode:
        print(stderr[-3000:], file=sys.stderr)
    return per_epoch, peak, time.time() - start, process.returncode


def summary(per_epoch, settle):
    """Slope (MiB/epoch) of a line fitted to the RSS after `settle` epochs, and the growth over them."""
    tail = np.asarray(per_epoch[settle:])
    if len(tail) < 2:
        return None, None
    slope = float(np.polyfit(np.arange(len(tail)), tail, 1)[0])
    return slope, float(tail[-1] - tail[0])


def main():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.long_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--train-examples", type=int, default=0, help="first N training images (0: all)")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--settle", type=int, default=5, help="epochs left out of the fit")
    parser.add_argument("--output", help="the results file (default benchmarks/long_run/results/DATA-DATE.json)")
    parser.add_argument("--report", nargs="?", const=str(page_path("long_run")), metavar="PAGE",
                        help="rewrite the tables of PAGE (default docs/results/long_run.md) from the results "
                             "files its blocks name, and run nothing")
    args = parser.parse_args()
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    args.output = args.output or str(results_path("long_run", Path(args.data).stem))
    with tempfile.TemporaryDirectory() as scratch:
        data = subset_file(args.data, args.train_examples, scratch)
        run_dir = Path(scratch) / "run"
        command = [str(Path(sys.executable).parent / "tfpvae"), "train", "--dataset", str(data),
                   "--epochs", str(args.epochs), "--output", str(run_dir)]
        per_epoch, peak, seconds, status = watch(command, run_dir)
    slope, growth = summary(per_epoch, args.settle)
    result = {"command": " ".join(command[1:]), "train_examples": args.train_examples or "all",
              "epochs": args.epochs, "exit_status": status, "seconds": round(seconds, 1),
              "peak_rss_mib": round(peak, 1), "settle": args.settle,
              "slope_mib_per_epoch_after_settle": slope, "growth_mib_after_settle": growth,
              "rss_mib_per_epoch": [round(r, 1) for r in per_epoch]}
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rss_mib_per_epoch"}, indent=2))


if __name__ == "__main__":
    main()
