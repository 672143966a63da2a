"""Every example runs end to end, in a fast mode, as a user would run it."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script, *args):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_train_digits_prints_its_test_elbo():
    out = run("train_digits.py", "--epochs", "2")
    match = re.search(r"test ELBO: (-?\d+\.\d+) nats\s+test log p\(x\) \(k=1000\): (-?\d+\.\d+)", out)
    assert match, out
    elbo, log_px = map(float, match.groups())
    assert -64 * 0.7 < elbo < 0 and log_px > elbo  # better than coin flips (64 log 2 = 44.4 nats)
