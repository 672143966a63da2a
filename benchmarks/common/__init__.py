"""What the benchmarks share: worker processes, the machine, timing, paths, and the tables of their pages.

Importing this package imports the standard library and numpy only;
`benchmarks.common.references` (the reference VAEs) imports Keras.
"""

from benchmarks.common.machine import matmul_rate, memory_kib, processor, reset_peak_memory, tfp_version
from benchmarks.common.paths import DATA, ROOT, page_path, results_path
from benchmarks.common.timing import epoch_timer
from benchmarks.common.workers import RESULT_PREFIX, NoTensorFlow, run_worker, schedule

__all__ = ["DATA", "RESULT_PREFIX", "ROOT", "NoTensorFlow", "epoch_timer", "matmul_rate", "memory_kib",
           "page_path", "processor", "reset_peak_memory", "results_path", "run_worker", "schedule", "tfp_version"]
