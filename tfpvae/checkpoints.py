"""Checkpoints of a training run, so that a killed run resumes where it stopped.

At the end of every epoch the run directory gets the history so far
(history.json, atomically) and then a TF checkpoint (checkpoints/) of the
model's weights, the optimizer's state, the random state (the model's seed
generator) and the epoch count. Run again on the same directory, training
restores the newest checkpoint and continues from the next epoch; an epoch that
was cut short is run again from its start.
"""

import json
from pathlib import Path

import keras
import tensorflow as tf

from tfpvae import files


class RunCheckpoint(keras.callbacks.Callback):
    """Saves and restores the training state of one run directory.

    Args:
      run_dir: the run directory.
      vae: the compiled model.
    """

    def __init__(self, run_dir, vae):
        super().__init__()
        self.run_dir, self.epoch = Path(run_dir), tf.Variable(0, dtype=tf.int64, trainable=False)
        vae.optimizer.build(vae.trainable_variables)
        checkpoint = tf.train.Checkpoint(model=vae, optimizer=vae.optimizer, epoch=self.epoch)
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.run_dir / "checkpoints"), max_to_keep=2)
        self.history = {}

    def restore(self):
        """Restores the newest checkpoint, if any; returns the epoch to start from."""
        latest = self.manager.latest_checkpoint
        if latest is None:
            return 0
        try:
            self.manager.checkpoint.restore(latest).assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError) as error:
            raise ValueError(f"cannot restore checkpoint {latest!r} (corrupt or from another model): "
                             f"{str(error).splitlines()[0]}") from None
        start = int(self.epoch.numpy())
        self.history = {k: v[:start] for k, v in self.read_history().items()}
        return start

    def read_history(self):
        path = self.run_dir / "history.json"
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            raise ValueError(f"{str(path)!r} is not valid JSON; remove it to resume without history") from None

    def on_epoch_end(self, epoch, logs=None):
        if self.model.stop_training:
            return
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        files.write_json(self.run_dir / "history.json", self.history)
        self.epoch.assign(epoch + 1)
        self.manager.save()
