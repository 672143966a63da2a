"""The machine a benchmark runs on: its CPU, its matmul rate, a process's memory, the TFP build."""

import platform
import statistics
import sys
import time


def processor():
    """The CPU's model name (Linux), else platform.processor()."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def tfp_version():
    """The installed TensorFlow Probability build's version, without importing it."""
    from importlib import metadata

    for name in ("tfp-nightly", "tensorflow-probability"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return None


def matmul_rate(size, runs):
    """GFLOP/s of a size^3 float32 matmul in a tf.function: median and best of `runs` after 2 warm-ups."""
    import tensorflow as tf

    a = tf.random.stateless_normal([size, size], seed=[0, 1])
    b = tf.random.stateless_normal([size, size], seed=[0, 2])
    product = tf.function(lambda a, b: tf.linalg.matmul(a, b))
    for _ in range(2):
        float(product(a, b)[0, 0])
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        float(product(a, b)[0, 0])  # fetching one element waits for the product
        seconds.append(time.perf_counter() - start)
    flops = 2.0 * size**3
    return {"size": size, "runs": runs, "seconds": seconds,
            "median_gflops": flops / statistics.median(seconds) / 1e9,
            "best_gflops": flops / min(seconds) / 1e9}


def memory_kib(field):
    """A memory figure of this process in KiB from /proc/self/status (VmRSS, VmHWM), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


def reset_peak_memory():
    """Resets VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs); True if it could."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
