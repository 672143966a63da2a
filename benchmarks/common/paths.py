"""Where things are: the repository, the shared MNIST file, a benchmark's results and its page."""

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "mnist.npz"  # a Keras-format mnist.npz beside the repository


def results_path(benchmark, what):
    """benchmarks/BENCHMARK/results/WHAT-DATE.json, DATE today's (UTC): the name results files are given."""
    return ROOT / "benchmarks" / benchmark / "results" / f"{what}-{time.strftime('%Y-%m-%d', time.gmtime())}.json"


def page_path(benchmark):
    """The benchmark's page of results, docs/results/BENCHMARK.md."""
    return ROOT / "docs" / "results" / f"{benchmark}.md"
