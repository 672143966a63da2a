"""Memory of tfpvae's chunked evaluation: log p(x) with k = 5000 and sampling many x.

    python -m benchmarks.memory                         # the default cases below
    python -m benchmarks.memory --examples 10000        # the size of the MNIST test set
    python -m benchmarks.memory --json benchmarks/memory/results/defaults-DATE.json
    python -m benchmarks.memory --report    # docs/results/memory.md's table from its results

Each case runs in a fresh Python process: it builds the IWAE paper's
784-200-200-50 tanh MLP VAE with a Bernoulli likelihood (untrained weights:
memory does not depend on them), runs the call once with 2 importance
samples or 10 draws (tracing the same graph with small tensors: k and the
chunk size are tensors), resets the process's peak resident set (Linux:
/proc/self/clear_refs), and reports the peak growth over the resident set at
that point, and the wall-clock time, of the measured call:

- `log_likelihood(x, num_samples=5000)` on `--examples` synthetic binary
  images, batches of 100, in tfpvae's default chunks of importance samples
  (a chunk's decoded x holds about `objectives.FLOATS_PER_CHUNK` = 2^25
  floats, 128 MiB) and, for comparison, in one chunk of all 5000 samples;
- `sample(n)` for `--sample` images, in the default chunks and in one chunk;
  the returned array alone is n x 784 float32.
"""

import argparse
import json
import sys
import time

import numpy as np

from benchmarks.common import RESULT_PREFIX, memory_kib, page_path, pages, reset_peak_memory, run_worker
from benchmarks.memory import tables

EVENT = 784


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="test examples for log p(x) (default 1000)")
    parser.add_argument("--num-samples", type=int, default=5000, help="importance samples k (default 5000)")
    parser.add_argument("--sample", type=int, default=100_000, help="x drawn by sample (default 100000)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--report", nargs="?", const=str(page_path("memory")), metavar="PAGE",
                        help="rewrite the table of PAGE (default docs/results/memory.md) from the results "
                             "file its block names, and run nothing")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def cases(args):
    """(name, spec) of each measurement."""
    k, n = args.num_samples, args.sample
    return [
        (f"log_likelihood, k={k}, default chunks", {"call": "log_likelihood", "chunk": None}),
        (f"log_likelihood, k={k}, one chunk", {"call": "log_likelihood", "chunk": k}),
        (f"sample({n}), default chunks", {"call": "sample", "chunk": None}),
        (f"sample({n}), one chunk", {"call": "sample", "chunk": n}),
    ]


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return 0
    rows = []
    for name, spec in cases(args):
        spec = {**spec, "examples": args.examples, "num_samples": args.num_samples, "sample": args.sample}
        result = measure_in_process(spec)
        rows.append({"case": name, **result})
        print(f"{name:45s} peak growth {result['growth_mib']:8.0f} MiB  {result['seconds']:7.1f} s", flush=True)
    print(report(args, rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"examples": args.examples, "rows": rows}, f, indent=2)
    return 0


def measure_in_process(spec):
    """One case in a fresh Python process: its result dict."""
    result = run_worker("benchmarks.memory", spec)
    return {k: v for k, v in result.items() if k not in ("load_before", "load_after")}


def report(args, rows):
    lines = tables.table(rows)
    header = (f"784-200-200-50 MLP VAE, Bernoulli; log p(x) on {args.examples} synthetic binary images "
              f"in batches of 100\n")
    return header + "\n" + "\n".join(lines)


def worker(spec):
    import tfpvae

    vae = tfpvae.VAE(event_shape=(EVENT,), latent_dim=50)
    x = (np.random.default_rng(0).uniform(size=(spec["examples"], EVENT)) < 0.3).astype(np.float32)
    if spec["call"] == "log_likelihood":
        def call(count):
            return vae.log_likelihood(x, num_samples=count, chunk_size=spec["chunk"])
        warm_up, count = 2, spec["num_samples"]
    else:
        def call(count):
            return vae.sample(count, seed=0, chunk_size=spec["chunk"])
        warm_up, count = 10, spec["sample"]
    call(warm_up)  # traces the same graph with small tensors
    reset_peak_memory()
    base = memory_kib("VmRSS")
    start = time.perf_counter()
    output = call(count)
    seconds = time.perf_counter() - start
    result = {"growth_mib": (memory_kib("VmHWM") - base) / 1024, "seconds": seconds,
              "output_mib": output.nbytes / 2**20}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
