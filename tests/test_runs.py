"""Run directories survive kills, collisions, old checkpoints and file systems that
refuse writes: the real console script in subprocesses, and `tfpvae.runs` in process."""

import contextlib
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfpvae import cli, locks, runs
from tfpvae import config as configs
from tfpvae.checkpoints import RunCheckpoint
from tfpvae.model import VAE

TFPVAE = str(Path(sys.executable).parent / "tfpvae")
SMALL = ["--latent-dim", "2", "--encoder", '{"name": "mlp", "units": [16]}',
         "--decoder", '{"name": "mlp", "units": [16]}']
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
REQUIRE_TMPFS = "TFPVAE_REQUIRE_TMPFS"
RTOL = 0.05  # the kill loop's per-epoch loss against an uninterrupted run (1.2% seen); see compare_with_an_uninterrupted_run
PICTURES = ("reconstructions.png", "samples.png", "latent.png", "manifold.png")


def command(run_dir, epochs):
    return [TFPVAE, "train", "--epochs", str(epochs), *SMALL, "--output", str(run_dir)]


def start(run_dir, epochs):
    return subprocess.Popen(command(run_dir, epochs), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV)


def train(run_dir, epochs, check=True):
    result = subprocess.run(command(run_dir, epochs), capture_output=True, text=True, timeout=600, env=ENV)
    assert not check or result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def wait_for(condition, process, timeout=300, poll=0.005):
    """Polls `condition` until it holds; False if `process` ends or the time runs out first."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if condition():
            return True
        time.sleep(poll)
    return condition()


def kill(process):
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)
    process.communicate()


def epochs_done(run_dir):
    try:
        return len(json.loads((run_dir / "history.json").read_text())["loss"])
    except (OSError, ValueError, KeyError):
        return 0


def snapshot(directory):
    """Every file under `directory` with its size and modification time."""
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*"))}


# --- a kill after model.keras ------------------------------------------------------------


def test_a_run_killed_once_trained_is_completed_without_training(tmp_path):
    """SIGKILL the moment model.keras appears: the same command writes the test metrics
    and pictures from that model, takes over the dead process's lock and trains nothing."""
    run_dir = tmp_path / "run"
    process = start(run_dir, epochs=3)
    assert wait_for((run_dir / "model.keras").exists, process), process.communicate()[1][-3000:]
    kill(process)
    assert not (run_dir / "metrics.json").exists(), "the kill came after the run had finished"
    assert (run_dir / locks.NAME).exists()  # left by the killed process
    trained = {name: (run_dir / name).read_bytes() for name in ("model.keras", "history.json")}

    result = train(run_dir, epochs=3)
    assert f"completing {run_dir}" in result.stdout and "Epoch 1/" not in result.stdout
    assert {name: (run_dir / name).read_bytes() for name in trained} == trained
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert np.isfinite(metrics["test_elbo"]) and metrics["test_elbo"] < 0
    for name in PICTURES:
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert not (run_dir / "checkpoints").exists() and not (run_dir / locks.NAME).exists()

    again = train(run_dir, epochs=3, check=False)
    assert again.returncode == 2 and "already holds a finished run (metrics.json)" in again.stderr


# --- two processes, one run directory ----------------------------------------------------


def test_a_second_process_on_a_locked_run_fails_before_writing(tmp_path):
    """The first process is stopped (SIGSTOP) while it holds the lock, so that any write
    to the directory while the second runs can only be the second's."""
    run_dir = tmp_path / "run"
    first = start(run_dir, epochs=200)
    try:
        assert wait_for(lambda: epochs_done(run_dir) >= 1, first, poll=0.05), first.communicate()[1][-3000:]
        os.kill(first.pid, signal.SIGSTOP)
        before = snapshot(run_dir)
        second = train(run_dir, epochs=200, check=False)
        assert snapshot(run_dir) == before
        lines = second.stderr.strip().splitlines()
        assert second.returncode == 2 and len(lines) == 1, second.stderr[-3000:]
        assert lines[0].startswith("tfpvae: error: ") and f"in use by process {first.pid} on host" in lines[0]
        assert json.loads((run_dir / locks.NAME).read_text())["pid"] == first.pid
    finally:
        os.kill(first.pid, signal.SIGCONT)
        kill(first)


HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("locks", sys.argv[1])
locks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(locks)
with locks.locked(sys.argv[2]):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def finished_run(tmp_path):
    """A finished one-epoch run on the digits, trained in this process."""
    run_dir = tmp_path / "run"
    config = configs.merge({"model": {"latent_dim": 2, "encoder": {"name": "mlp", "units": [8]},
                                      "decoder": {"name": "mlp", "units": [8]}},
                            "training": {"epochs": 1}})
    runs.train(config, run_dir, verbose=0)
    return run_dir


@contextlib.contextmanager
def held_by_another_process(run_dir):
    """A second Python process holding the run directory's lock (tfpvae.locks, loaded alone)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, locks.__file__, str(run_dir)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n", holder.communicate()[1][-3000:]
        yield holder.pid
    finally:
        kill(holder)


@pytest.mark.parametrize("args", [["evaluate", "{run}", "--num-samples", "5"], ["sample", "{run}", "-n", "4"]],
                         ids=["evaluate", "sample"])
def test_evaluate_and_sample_refuse_a_run_another_process_holds(finished_run, args, capsys):
    """While another process holds the lock, `evaluate` and `sample` into the run
    directory write nothing and fail with train's one-line error; once it is gone
    they run, and release the lock."""
    argv = [a.format(run=finished_run) for a in args]
    with held_by_another_process(finished_run) as pid:
        before = snapshot(finished_run)
        capsys.readouterr()
        assert cli.main(argv) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tfpvae: error: "), lines
        assert f"{str(finished_run)!r} is in use by process {pid} on host" in lines[0]
        assert snapshot(finished_run) == before
    assert cli.main(argv) == 0
    written = "evaluation.json" if args[0] == "evaluate" else "samples.npy"
    assert (finished_run / written).is_file() and not (finished_run / locks.NAME).exists()


def test_sample_elsewhere_reads_a_locked_run(finished_run, tmp_path):
    """Samples written outside the run directory need no lock: the run is only read."""
    with held_by_another_process(finished_run):
        assert runs.sample(finished_run, 4, tmp_path / "elsewhere.png", seed=0) == tmp_path / "elsewhere.png"
    assert np.load(tmp_path / "elsewhere.npy").shape == (4, 8, 8, 1)


# --- a checkpoint written before checkpoints held the random state -----------------------


def test_an_old_checkpoint_without_random_state_resumes_with_a_fresh_one(tmp_path, capsys):
    """An old-style checkpoint (model, optimizer and epoch; no "seed" entry) after 1 of 2
    epochs, written the way tfpvae wrote them before: the run resumes, says so and finishes."""
    config = configs.merge({"model": {"latent_dim": 2, "encoder": {"name": "mlp", "units": [8]},
                                      "decoder": {"name": "mlp", "units": [8]}},
                            "training": {"epochs": 2}})
    vae = VAE(**{**config["model"], "name": "vae", "event_shape": [8, 8, 1]})
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.optimizer.build(vae.trainable_variables)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({**config, "model": vae.get_config()}))
    (run_dir / "history.json").write_text(json.dumps({"loss": [45.0]}))
    old = tf.train.Checkpoint(model=vae, optimizer=vae.optimizer, epoch=tf.Variable(1, dtype=tf.int64))
    tf.train.CheckpointManager(old, str(run_dir / "checkpoints"), max_to_keep=2).save(checkpoint_number=1)

    _, metrics, history = runs.train(config, run_dir, verbose=0)
    out = capsys.readouterr().out
    assert f"resuming {run_dir} from epoch 2 with a fresh random state" in out, out
    assert "no random state" in out
    assert len(history["loss"]) == 2 and history["loss"][0] == 45.0 and np.isfinite(metrics["elbo"])


# --- file systems that refuse writes -----------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path):
    """A 4 MiB tmpfs mounted at a fresh directory (root can write anything that is not a
    read-only mount or full, so chmod cannot stand in for these). Where mounting is not
    allowed the tests skip, unless the environment sets TFPVAE_REQUIRE_TMPFS=1 (as
    .ci/run does): then they fail."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode:
        reason = (f"cannot mount a tmpfs here ({result.stderr.strip()}); a read-only or full file "
                  f"system cannot be made without one")
        if os.environ.get(REQUIRE_TMPFS) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_TMPFS}=1 requires these tests to run")
        pytest.skip(reason)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_read_only_location_fails_before_training(tmpfs, capsys):
    (tmpfs / "runs").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    started = time.time()
    status = cli.main(["train", "--epochs", "1", *SMALL, "--output", str(tmpfs / "runs" / "new")])
    captured = capsys.readouterr()
    assert status == 2 and "Epoch" not in captured.out
    assert captured.err.strip().splitlines() == [
        f"tfpvae: error: cannot write the run directory {str(tmpfs / 'runs' / 'new')!r}: "
        f"{str(tmpfs / 'runs')!r} is on a read-only file system; choose another --output"]
    assert time.time() - started < 5  # no data loaded, no model built


def fill(directory):
    """Writes a file into `directory` until its file system is full."""
    with open(directory / "filler", "wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()


def test_a_full_disk_stops_the_run_and_keeps_the_newest_checkpoint(tmpfs):
    """The file system fills up after the second epoch's checkpoint: the run stops with one
    clear line naming the newest complete checkpoint, which restores; with space freed, the
    same command resumes and finishes. (Where the next save fails depends on the moment:
    the history, the event files, a checkpoint's data or the manager's list.)"""
    run_dir, epochs = tmpfs / "run", 60
    process = start(run_dir, epochs)
    state = run_dir / "checkpoints" / "checkpoint"  # the manager's list, written after a checkpoint
    assert wait_for(lambda: state.exists() and '"ckpt-2"' in state.read_text(), process)
    fill(tmpfs)
    _, stderr = process.communicate(timeout=300)
    lines = stderr.strip().splitlines()
    assert process.returncode == 2 and len(lines) == 1 and "Traceback" not in stderr, stderr[-3000:]
    assert "{{" not in lines[0], lines[0]
    match = re.fullmatch(r"tfpvae: error: cannot save epoch (\d+) in .*\(.*No space left on device\); the "
                         r"newest complete one is checkpoint (\d+) \(after epoch \2\): free space .*", lines[0])
    assert match, lines[0]
    failed, newest = int(match.group(1)), int(match.group(2))
    assert 2 <= newest < failed <= newest + 1

    config = configs.read(run_dir / "config.json")
    vae = VAE.from_config(config["model"])
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert RunCheckpoint(run_dir, vae).restore() == newest

    (tmpfs / "filler").unlink()
    result = train(run_dir, epochs)
    assert f"resuming {run_dir} from epoch {newest + 1}" in result.stdout
    assert epochs_done(run_dir) == epochs and (run_dir / "metrics.json").exists()


# --- kills at random moments ---------------------------------------------------------------


def scalars(run_dir, split, tag):
    """{step: newest value} of a TensorBoard scalar over every event file of `split`; a
    record cut short by a kill ends its file, as TensorBoard reads it."""
    newest = {}
    for path in sorted((run_dir / "tensorboard" / split).glob("events.out.tfevents*")):
        with contextlib.suppress(tf.errors.DataLossError):
            for event in tf.compat.v1.train.summary_iterator(str(path)):
                for value in event.summary.value:
                    if value.tag == tag and event.wall_time >= newest.get(event.step, (-1, None))[0]:
                        newest[event.step] = (event.wall_time, float(tf.make_ndarray(value.tensor)))
    return {step: value for step, (_, value) in newest.items()}


def kill_at_random(run_dir, epochs, rng, context):
    """Runs `tfpvae.cli.main` for the run in a new process and kills it (SIGKILL) at a
    random moment: a quarter of the time any moment of its first 4 s (start-up included),
    else within 0.7 s after it saved an epoch."""
    started = time.time()
    process = context.Process(target=cli.main, args=(command(run_dir, epochs)[1:],))
    process.start()
    if rng.random() < 0.25:
        moment = rng.uniform(0, 4)
        while time.time() - started < moment and process.is_alive():
            time.sleep(0.01)
    else:
        history = run_dir / "history.json"
        deadline = time.time() + 300
        while not (history.exists() and history.stat().st_mtime > started) and process.is_alive():
            assert time.time() < deadline, "no epoch saved in 300 s"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.7))
    assert process.is_alive(), f"the run ended before its kill (exit code {process.exitcode})"
    os.kill(process.pid, signal.SIGKILL)
    process.join()


@pytest.mark.slow
def test_twenty_kills_at_random_moments_then_a_complete_consistent_run(tmp_path):
    """20 kills (seeded moments), each run followed by a resume; the last resume, the real
    console script, finishes. Then the history has every epoch once, the TensorBoard
    scalars' newest value of each epoch is the history's (float32, rtol 1e-6), the model
    loads and no checkpoint, lock or temporary file is left.

    The killed runs are processes forked from a server that has imported tfpvae (and
    TensorFlow) once, so that each does not pay that import; each runs `tfpvae.cli.main`
    with the command line of the console script.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tfpvae.cli"])
    run_dir, epochs, rng = tmp_path / "run", 200, random.Random(0)
    for _ in range(20):
        kill_at_random(run_dir, epochs, rng, context)
    assert 0 < epochs_done(run_dir) < epochs
    result = train(run_dir, epochs)
    history = json.loads((run_dir / "history.json").read_text())
    assert all(len(values) == epochs for values in history.values()) and np.all(np.isfinite(history["loss"]))
    assert len((run_dir / "history.csv").read_text().splitlines()) == epochs + 1
    for split, key in (("train", "loss"), ("validation", "val_loss"), ("train", "kl")):
        logged = scalars(run_dir, split, "epoch_" + key.removeprefix("val_"))
        assert sorted(logged) == list(range(epochs)), split
        np.testing.assert_allclose([logged[e] for e in range(epochs)], history[key], rtol=1e-6)
    vae = keras.models.load_model(run_dir / "model.keras")
    assert np.isfinite(json.loads((run_dir / "metrics.json").read_text())["test_elbo"])
    assert vae.latent_dim == 2 and "test ELBO" in result.stdout
    assert not (run_dir / "checkpoints").exists() and not (run_dir / locks.NAME).exists()
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]
    compare_with_an_uninterrupted_run(history, tmp_path / "uninterrupted", epochs)


def compare_with_an_uninterrupted_run(history, run_dir, epochs):
    """The killed and resumed run against the same command run without a stop.

    A resumed run restores the weights, the optimizer and the model's random
    state exactly, but not the order of the training batches or their dynamic
    binarization: those come from tf.data's per-iteration random streams,
    which start again from their seed in every new process. So the histories
    are equal up to the first resumption and then differ by the noise of
    another data order: the training loss of every epoch within `RTOL` of
    the uninterrupted run's, where a resume that lost the weights or the
    optimizer's state would jump by much more (the first epoch's loss is
    about 2x the last's).
    """
    train(run_dir, epochs)
    reference = json.loads((run_dir / "history.json").read_text())
    resumed, uninterrupted = np.array(history["loss"]), np.array(reference["loss"])
    same = int(np.argmin(resumed == uninterrupted)) if not np.all(resumed == uninterrupted) else epochs
    assert same >= 1, "the first epochs, before any resumption, differ from the uninterrupted run's"
    relative = np.abs(resumed - uninterrupted) / uninterrupted
    assert np.all(relative < RTOL), (same, float(relative.max()), int(relative.argmax()))


def test_a_run_whose_config_predates_a_new_option_resumes(tmp_path):
    """config.json written before an option existed (here [data] max_examples)
    is the same config as today's with that option at its default."""
    config = configs.merge({"training": {"epochs": 2}})
    older = json.loads(json.dumps(config))
    del older["data"]["max_examples"]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(older))
    assert runs.stage(run_dir, config, config) == "train"
    other = configs.merge({"training": {"epochs": 3}})
    with pytest.raises(ValueError, match="another config"):
        runs.stage(run_dir, other, other)
