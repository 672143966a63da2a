"""tf.distribute: two replicas on two logical CPUs, and two worker processes on loopback."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

WORKER = Path(__file__).resolve().parent / "distribute_worker.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mirrored_matches_one_device(tmp_path):
    """Same seed, same global batch of 100. The replicas draw other z for
    their halves of the batch, so the training losses agree within 0.5%; the
    analytic KL of the same weights agrees to float precision, which it would
    not if only one replica's metrics were reported."""
    out = tmp_path / "mirrored.json"
    subprocess.run([sys.executable, str(WORKER), "mirrored", str(out)], check=True, env=ENV, timeout=600,
                   capture_output=True)
    result = json.loads(out.read_text())
    one, two = result["one"], result["two"]
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=5e-3)
    np.testing.assert_allclose(two["evaluate"]["kl"], one["evaluate"]["kl"], rtol=1e-5)
    np.testing.assert_allclose(two["evaluate"]["elbo"], one["evaluate"]["elbo"], rtol=5e-3)


def test_multiworker_workers_agree_on_the_weights(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen([sys.executable, str(WORKER), "multiworker", str(tmp_path / f"{index}.json")],
                                        env={**ENV, "TF_CONFIG": config}, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True))
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]
    first, second = (json.loads((tmp_path / f"{i}.json").read_text()) for i in range(2))
    assert first["replicas"] == 2
    assert first["loss"] == second["loss"] and np.all(np.isfinite(first["loss"]))
    for a, b in zip(first["weights"], second["weights"]):
        np.testing.assert_array_equal(a, b)
