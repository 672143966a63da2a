"""A run killed with SIGKILL resumes where it stopped: the real console script, and
RunCheckpoint itself under a distribution strategy."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfpvae.checkpoints import RunCheckpoint
from tfpvae.model import VAE

TFPVAE = str(Path(sys.executable).parent / "tfpvae")
ARGS = ["train", "--epochs", "12", "--latent-dim", "2", "--encoder", '{"name": "mlp", "units": [32]}',
        "--decoder", '{"name": "mlp", "units": [32]}']


def epochs_done(run_dir):
    try:
        return len(json.loads((run_dir / "history.json").read_text())["loss"])
    except (OSError, ValueError, KeyError):
        return 0


def train(run_dir, check=True):
    result = subprocess.run([TFPVAE, *ARGS, "--output", str(run_dir)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert not check or result.returncode == 0, result.stderr[-3000:]
    return result


def kill_after(run_dir, epochs):
    """Starts training, waits until `epochs` epochs are checkpointed, kills it (SIGKILL)."""
    process = subprocess.Popen([TFPVAE, *ARGS, "--output", str(run_dir)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while epochs_done(run_dir) < epochs and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return epochs_done(run_dir)


def test_killed_run_resumes_and_matches_an_uninterrupted_one(tmp_path):
    killed_at = kill_after(tmp_path / "killed", epochs=4)
    assert 4 <= killed_at < 12 and not (tmp_path / "killed" / "model.keras").exists()
    resumed = train(tmp_path / "killed")
    start = int(re.search(r"resuming .* from epoch (\d+)", resumed.stdout).group(1)) - 1
    assert start in (killed_at - 1, killed_at)  # the kill may fall between history and checkpoint
    history = json.loads((tmp_path / "killed" / "history.json").read_text())
    assert len(history["loss"]) == 12 and np.all(np.isfinite(history["loss"]))
    train(tmp_path / "whole")
    whole = json.loads((tmp_path / "whole" / "history.json").read_text())
    # Epochs before the checkpoint are the same run, exactly.
    np.testing.assert_allclose(history["loss"][:start], whole["loss"][:start], rtol=1e-6)
    # After it, the data order differs; the final test ELBOs agree within 1 nat.
    metrics = [json.loads((tmp_path / d / "metrics.json").read_text())["test_elbo"] for d in ("killed", "whole")]
    assert abs(metrics[0] - metrics[1]) < 1.0, metrics


def test_a_corrupt_checkpoint_is_named(tmp_path):
    run_dir = tmp_path / "run"
    kill_after(run_dir, epochs=2)
    for index in (run_dir / "checkpoints").glob("*.index"):
        index.write_bytes(b"not a checkpoint")
    result = train(run_dir, check=False)
    assert result.returncode == 2
    assert "cannot restore checkpoint" in result.stderr and "Traceback" not in result.stderr


def mirrored_vae():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        vae = VAE(event_shape=(16,), latent_dim=2, encoder={"name": "mlp", "units": [8]},
                  decoder={"name": "mlp", "units": [8]})
        vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    return vae


def test_a_strategy_run_restores_weights_optimizer_random_state_and_epoch(tmp_path):
    """The optimizer's slots are made in the model's strategy scope; a new model
    restored from the run directory continues with the same state."""
    x = (np.random.RandomState(0).uniform(size=(200, 16)) < 0.3).astype("float32")
    vae = mirrored_vae()
    vae.fit(x, batch_size=50, epochs=2, verbose=0, callbacks=[RunCheckpoint(tmp_path, vae)])
    again = mirrored_vae()
    checkpoint = RunCheckpoint(tmp_path, again)
    assert checkpoint.restore() == 2 and checkpoint.saved_epochs() == [1, 2]
    assert checkpoint.restored_random_state is True
    assert len(checkpoint.history["loss"]) == 2
    for a, b in zip(vae.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(again.optimizer.iterations.numpy()) == 8
    np.testing.assert_array_equal(again.seed_generator.state.numpy(), vae.seed_generator.state.numpy())


def test_the_reason_a_save_failed_is_one_line_without_tf_internals():
    from tfpvae.checkpoints import reason

    flush = tf.errors.ResourceExhaustedError(
        None, None, "{{function_node __wrapped__FlushSummaryWriter_device_/job:localhost/replica:0/task:0/"
                    "device:CPU:0}} /runs/a/events.v2; No space left on device\n\tFailed to flush")
    assert reason(flush) == "/runs/a/events.v2; No space left on device"
    assert reason(OSError(28, "No space left on device", "/runs/a/history.json")) == "No space left on device"
