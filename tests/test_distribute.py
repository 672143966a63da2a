"""tf.distribute: two replicas on two logical CPUs, and two worker processes on loopback."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tfpvae import runs

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


def test_a_stack_of_latent_layers_trains_mirrored(tmp_path):
    """A two-level stack under MirroredStrategy: the same losses as one
    device within 2% (its lower level's KL is Monte Carlo, so the replicas'
    other draws move it more than the one-level model's), and the
    evaluation of the same weights within 2%."""
    out = tmp_path / "stack.json"
    subprocess.run([sys.executable, str(WORKER), "mirrored", str(out), "stack"], check=True, env=ENV,
                   timeout=600, capture_output=True)
    result = json.loads(out.read_text())
    one, two = result["one"], result["two"]
    assert len(one["weights"]) == 2 and one["loss"][-1] < one["loss"][0]
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=2e-2)
    np.testing.assert_allclose(two["evaluate"]["elbo"], one["evaluate"]["elbo"], rtol=2e-2)


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


EPOCHS = 5
TRAIN = [sys.executable, "-m", "tfpvae", "train", "--strategy", "multiworker", "--epochs", str(EPOCHS),
         "--latent-dim", "4", "--encoder", '{"name": "mlp", "units": [32]}', "--decoder", '{"name": "mlp", "units": [32]}']


def loopback_cluster():
    """The TF_CONFIG of each worker of a two-worker cluster on free loopback ports."""
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(2)]


def start_workers(configs, run_dirs):
    """Starts `tfpvae train --strategy multiworker` once per worker, output to RUN_DIR.log."""
    workers = []
    for config, run_dir in zip(configs, run_dirs):
        with open(f"{run_dir}.log", "a") as log:
            workers.append(subprocess.Popen([*TRAIN, "--output", str(run_dir)], env={**ENV, "TF_CONFIG": config},
                                            stdout=log, stderr=subprocess.STDOUT))
    return workers


def finish(workers, seconds):
    """The workers' exit codes; those still running after `seconds` are killed."""
    deadline = time.monotonic() + seconds
    for worker in workers:
        try:
            worker.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return [worker.returncode for worker in workers]


def logs_of(run_dirs):
    return [Path(f"{run_dir}.log").read_text() for run_dir in run_dirs]


def train_cluster(configs, run_dirs):
    """Runs both workers to the end; returns their logs."""
    codes = finish(start_workers(configs, run_dirs), 180)
    logs = logs_of(run_dirs)
    assert codes == [0, 0], [log[-3000:] for log in logs]
    return logs


def saved_epochs(run_dir):
    """The epochs a run directory has checkpoints of, from CheckpointManager's state file."""
    try:
        state = (run_dir / "checkpoints" / "checkpoint").read_text()
    except OSError:
        return []
    return [int(n) for n in re.findall(r'^all_model_checkpoint_paths: "ckpt-(\d+)"$', state, re.M)]


def kill_chief_after(configs, run_dirs, epochs):
    """Starts both workers, SIGKILLs worker 0 once it has saved `epochs` epochs, and
    waits for worker 1 to fail on its own, as TF documents."""
    workers = start_workers(configs, run_dirs)
    try:
        deadline = time.monotonic() + 120
        while max(saved_epochs(run_dirs[0]), default=0) < epochs:
            assert all(w.poll() is None for w in workers), [log[-3000:] for log in logs_of(run_dirs)]
            assert time.monotonic() < deadline, f"worker 0 did not save epoch {epochs} within 120 s"
            time.sleep(0.05)
        os.kill(workers[0].pid, signal.SIGKILL)
        assert finish(workers[1:], 60) != [0], "worker 1 should fail when worker 0 dies"
    finally:
        finish(workers, 0)


def drop_newest_checkpoint(run_dir):
    """Leaves `run_dir` as if its worker had been killed just before saving its newest
    epoch: TF updates the state file last, so it lists one checkpoint fewer."""
    state = run_dir / "checkpoints" / "checkpoint"
    lines = state.read_text().splitlines()
    paths = [line for line in lines if line.startswith("all_model_checkpoint_paths")]
    stamps = [line for line in lines if line.startswith("all_model_checkpoint_timestamps")]
    newest, previous = paths[-1].split(": ")[1], paths[-2].split(": ")[1]
    state.write_text("\n".join(line.replace(newest, previous) for line in lines
                               if line not in (paths[-1], stamps[-1])) + "\n")
    for part in state.parent.glob(json.loads(newest) + ".*"):
        part.unlink()


def history(run_dir):
    return json.loads((run_dir / "history.json").read_text())


def test_a_killed_multiworker_run_restarts_from_its_checkpoints(tmp_path):
    """TF's fault tolerance for MultiWorkerMirroredStrategy: a worker dies, the others
    fail, the whole cluster is started again with the same TF_CONFIG and run
    directories, and training resumes from the newest epoch every worker saved.

    Worker 1 is made to lack the newest checkpoint if it does not already, as when
    a worker is killed between its save and the other's. Continuing, not starting
    over, shows in the trend: the training loss and validation ELBO improve every
    epoch, across the restart too (a restart from scratch would jump back to the
    first epoch's values), and the test ELBO is within 1 nat of the last
    validation ELBO.
    """
    configs, run_dirs = loopback_cluster(), [tmp_path / "worker0", tmp_path / "worker1"]
    kill_chief_after(configs, run_dirs, epochs=2)
    if saved_epochs(run_dirs[1])[-1] == saved_epochs(run_dirs[0])[-1]:
        drop_newest_checkpoint(run_dirs[1])
    start = max(set(saved_epochs(run_dirs[0])) & set(saved_epochs(run_dirs[1])))
    before = [history(run_dir) for run_dir in run_dirs]
    logs = train_cluster(configs, run_dirs)
    assert start >= 1 and all(f"from epoch {start + 1}\n" in log for log in logs), (start, logs[0][-3000:])
    after = [history(run_dir) for run_dir in run_dirs]
    assert after[0] == after[1] and len(after[0]["loss"]) == EPOCHS
    for old, new in zip(before, after):
        assert {k: v[:start] for k, v in old.items()} == {k: v[:start] for k, v in new.items()}
    assert np.all(np.diff(after[0]["loss"]) < 0) and np.all(np.diff(after[0]["val_elbo"]) > 0), after[0]
    for a, b in zip(*(runs.load_run(run_dir)[0].get_weights() for run_dir in run_dirs)):
        np.testing.assert_array_equal(a, b)
    elbos = [json.loads((run_dir / "metrics.json").read_text())["test_elbo"] for run_dir in run_dirs]
    assert elbos[0] == elbos[1] and abs(elbos[0] - after[0]["val_elbo"][-1]) < 1.0, elbos
