"""Checkpoints of a training run, so that a killed run resumes where it stopped.

At the end of every epoch the run directory gets the history so far
(history.json, atomically) and then a TF checkpoint (checkpoints/ckpt-N after
N epochs) of the model's weights, the optimizer's state, the random state (the
model's seed generator) and the epoch count. Run again on the same directory,
training restores the newest checkpoint and continues from the next epoch; an
epoch that was cut short is run again from its start.

Under `tf.distribute.MultiWorkerMirroredStrategy` every worker has its own run
directory and saves the same checkpoints there, so a restarted cluster needs no
shared file system. A worker can be killed between its save of an epoch and
another worker's, so on restart the workers agree on the newest epoch that all
of them have saved (the previous checkpoint is kept for this) and all start
from it.
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfpvae import files

KEEP = 2


class RunCheckpoint(keras.callbacks.Callback):
    """Saves and restores the training state of one run directory.

    Args:
      run_dir: the run directory.
      vae: the compiled model, built under the strategy it trains with.
    """

    def __init__(self, run_dir, vae):
        super().__init__()
        self.run_dir, self.epoch = Path(run_dir), tf.Variable(0, dtype=tf.int64, trainable=False)
        self.strategy = vae.distribute_strategy
        with self.strategy.scope():
            vae.optimizer.build(vae.trainable_variables)
        checkpoint = tf.train.Checkpoint(model=vae, optimizer=vae.optimizer, epoch=self.epoch,
                                         seed=vae.seed_generator.state)
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.run_dir / "checkpoints"), max_to_keep=KEEP)
        self.history = {}

    def saved_epochs(self):
        """The epoch counts this run directory holds checkpoints of, oldest first."""
        return [int(path.rsplit("-", 1)[1]) for path in self.manager.checkpoints]

    def restore(self):
        """Restores the newest checkpoint (that every worker has); returns the epoch to start from."""
        epochs = self.saved_epochs()
        start = common_epoch(self.strategy, epochs)
        if not start:
            return 0
        path = self.manager.checkpoints[epochs.index(start)]
        try:
            self.manager.checkpoint.restore(path).assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError) as error:
            raise ValueError(f"cannot restore checkpoint {path!r} (corrupt or from another model): "
                             f"{str(error).splitlines()[0]}") from None
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
        self.manager.save(checkpoint_number=epoch + 1)


def common_epoch(strategy, epochs):
    """The newest of `epochs` that every worker of `strategy` has saved too; 0 if none.

    Outside MultiWorkerMirroredStrategy this is the newest of `epochs`. Under
    it, every worker's list (at most KEEP epochs, padded with -1) is gathered
    from all replicas, a collective op that every worker must join.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return max(epochs, default=0)
    mine = tf.constant([(epochs + [-1] * KEEP)[:KEEP]], tf.int64)
    everyone = strategy.gather(strategy.experimental_distribute_values_from_function(lambda _: mine), axis=0)
    return max(set(epochs).intersection(*map(set, np.asarray(everyone).tolist())), default=0)
