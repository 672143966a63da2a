"""Measurements in fresh Python processes, and the order in which they run."""

import json
import os
import subprocess
import sys

from benchmarks.common.paths import ROOT

RESULT_PREFIX = "RESULT "  # a worker prints its result as one line: RESULT_PREFIX + JSON


def run_worker(module, spec, keras_backend=None, env=None):
    """`python -m MODULE --worker SPEC` in a fresh Python process (on `keras_backend`, with `env` added to
    the environment): the dict it prints after RESULT_PREFIX, with the load averages before and after."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {}),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if keras_backend:
        env["KERAS_BACKEND"] = keras_backend
    load_before = os.getloadavg()
    done = subprocess.run([sys.executable, "-m", module, "--worker", json.dumps(spec)],
                          capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"worker failed (exit {done.returncode}): {spec}")
    return {**json.loads(lines[-1][len(RESULT_PREFIX):]), "load_before": load_before,
            "load_after": os.getloadavg()}


def schedule(what, sizes, rounds):
    """(round, size, what) in run order: all of a size's `what` back to back, each round rotating their
    order (A B C, B C A, C A B, ...) so that slow drifts of the machine fall on each alike."""
    order = []
    for r in range(rounds):
        shift = r % len(what)
        rotated = what[shift:] + what[:shift]
        order += [(r, size, one) for size in sizes for one in rotated]
    return order


class NoTensorFlow:
    """A `sys.meta_path` finder under which `import tensorflow` fails, as where it is not installed
    (`keras.utils.set_random_seed` would otherwise import it into a JAX process)."""

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (a JAX run)", name=name)
        return None
