"""Checkpoints of a training run, so that a killed run resumes where it stopped.

At the end of every epoch the run directory gets the history so far
(history.json, atomically), the epoch's metrics as TensorBoard scalars
(tensorboard/train and tensorboard/validation, flushed to disk; on JAX where
TensorFlow is installed) and then a checkpoint (checkpoints/ckpt-N after N
epochs) of the model's weights, the optimizer's state, the random state (the
model's seed generator) and the epoch count: a TF checkpoint on TensorFlow
(`TensorFlowStore`), an .npz of every variable on JAX (`ArrayStore`). The checkpoint is written last: once it exists, the history and the
event files hold that epoch too. Run again on the same directory, training
restores the newest checkpoint and continues from the next epoch; an epoch that
was cut short is run again from its start, and its scalars are written again
with the same step (TensorBoard shows the newest).

A checkpoint written before checkpoints held the random state resumes with
the random state the model starts with, and `restored_random_state` says so.
A save that fails (a full disk, a file system gone read-only) stops training
with an OSError that names the newest complete checkpoint.

Under `tf.distribute.MultiWorkerMirroredStrategy` every worker has its own run
directory and saves the same checkpoints there, so a restarted cluster needs no
shared file system. A worker can be killed between its save of an epoch and
another worker's, so on restart the workers agree on the newest epoch that all
of them have saved (the previous checkpoint is kept for this) and all start
from it.
"""

import json
import re
import zipfile
from pathlib import Path

import keras
import numpy as np

from tfpvae import backend, files
from tfpvae.backend import tensorflow as tf

KEEP = 2


class RunCheckpoint(keras.callbacks.Callback):
    """Saves and restores the training state of one run directory.

    Args:
      run_dir: the run directory.
      vae: the compiled model, built under the strategy it trains with.
    """

    def __init__(self, run_dir, vae):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.store = (ArrayStore if backend.is_jax else TensorFlowStore)(self.run_dir / "checkpoints", vae)
        self.history, self.writers, self.restored_random_state = {}, {}, None

    def saved_epochs(self):
        """The epoch counts this run directory holds checkpoints of, oldest first."""
        return self.store.saved_epochs()

    def epochs_on_disk(self):
        """The epoch counts of the checkpoints a restart would find."""
        return self.store.epochs_on_disk()

    def restore(self):
        """Restores the newest checkpoint (that every worker has); returns the epoch to start from."""
        start = self.store.newest_common_epoch()
        if not start:
            return 0
        self.restored_random_state = self.store.restore(start)
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
        try:
            files.write_json(self.run_dir / "history.json", self.history)
            self.write_summaries(epoch, logs or {})
            self.store.save(epoch + 1)
        except (OSError, *self.store.errors) as error:
            newest = max(self.epochs_on_disk(), default=0)
            kept = f"checkpoint {newest} (after epoch {newest})" if newest else "no checkpoint yet"
            raise OSError(f"cannot save epoch {epoch + 1} in {str(self.run_dir)!r} "
                          f"({reason(error)}); the newest complete one is {kept}: free space or make "
                          f"the directory writable and run the same command again to resume") from None

    def write_summaries(self, epoch, logs):
        """The epoch's metrics as TensorBoard scalars, as Keras's TensorBoard callback
        names them, where TensorFlow is installed."""
        if not backend.tensorflow_available():
            return
        for key, value in logs.items():
            split = "validation" if key.startswith("val_") else "train"
            if split not in self.writers:
                self.writers[split] = tf.summary.create_file_writer(str(self.run_dir / "tensorboard" / split))
            with self.writers[split].as_default():
                tf.summary.scalar("epoch_" + key.removeprefix("val_"), float(value), step=epoch)
        for writer in self.writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self.writers.values():
            writer.close()
        self.writers = {}


class TensorFlowStore:
    """Checkpoints as TF checkpoints (`tf.train.CheckpointManager`), agreed on across
    the workers of a `MultiWorkerMirroredStrategy`."""

    def __init__(self, directory, vae):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.strategy = vae.distribute_strategy
        with self.strategy.scope():
            vae.optimizer.build(vae.trainable_variables)
        self.parts = {"model": vae, "optimizer": vae.optimizer, "epoch": self.epoch,
                      "seed": vae.seed_generator.state}
        self.directory = directory
        self.manager = tf.train.CheckpointManager(tf.train.Checkpoint(**self.parts), str(directory),
                                                  max_to_keep=KEEP)
        self.errors = (tf.errors.OpError,)

    def saved_epochs(self):
        return [int(path.rsplit("-", 1)[1]) for path in self.manager.checkpoints]

    def epochs_on_disk(self):
        state = tf.train.get_checkpoint_state(str(self.directory))
        return [int(path.rsplit("-", 1)[1]) for path in state.all_model_checkpoint_paths] if state else []

    def newest_common_epoch(self):
        return common_epoch(self.strategy, self.saved_epochs())

    def restore(self, epoch):
        """Restores the checkpoint of `epoch`; returns whether it held the random state."""
        path = self.manager.checkpoints[self.saved_epochs().index(epoch)]
        try:
            with_seed = "seed" in saved_parts(path)
            parts = {k: v for k, v in self.parts.items() if k != "seed" or with_seed}
            tf.train.Checkpoint(**parts).restore(path).assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError) as error:
            raise ValueError(f"cannot restore checkpoint {path!r} (corrupt or from another model): "
                             f"{str(error).splitlines()[0]}") from None
        return with_seed

    def save(self, epoch):
        self.epoch.assign(epoch)
        self.manager.save(checkpoint_number=epoch)


class ArrayStore:
    """Checkpoints as .npz files, ckpt-N.npz holding every variable of the model
    (its seed generator's state included) and of its optimizer, named by owner
    and position (the order Keras tracks them in, the same for every model of
    one config), written atomically; the newest KEEP are kept."""

    def __init__(self, directory, vae):
        vae.optimizer.build(vae.trainable_variables)
        self.directory = directory
        self.variables = {f"{owner}_{i}": v for owner, variables in
                          [("model", vae.variables), ("optimizer", vae.optimizer.variables)]
                          for i, v in enumerate(variables)}
        self.errors = ()

    def saved_epochs(self):
        return sorted(int(p.stem.split("-", 1)[1]) for p in self.directory.glob("ckpt-*.npz")
                      if re.fullmatch(r"ckpt-\d+", p.stem))

    def epochs_on_disk(self):
        return self.saved_epochs()

    def newest_common_epoch(self):
        return max(self.saved_epochs(), default=0)

    def path(self, epoch):
        return self.directory / f"ckpt-{epoch}.npz"

    def restore(self, epoch):
        path = self.path(epoch)
        try:
            with np.load(path) as saved:
                values = {name: saved[name] for name in saved.files}
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"cannot restore checkpoint {str(path)!r} (corrupt): {error}") from None
        if set(values) != set(self.variables) or any(values[k].shape != tuple(v.shape)
                                                      for k, v in self.variables.items()):
            raise ValueError(f"cannot restore checkpoint {str(path)!r}: it holds the variables of another model")
        for name, variable in self.variables.items():
            variable.assign(values[name])
        return True

    def save(self, epoch):
        with files.atomic_path(self.path(epoch)) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, **{name: np.asarray(v.value) for name, v in self.variables.items()})
        for old in self.saved_epochs()[:-KEEP]:
            self.path(old).unlink()


def saved_parts(path):
    """The top-level names (model, optimizer, epoch, seed, ...) a TF checkpoint holds."""
    return {name.split("/", 1)[0] for name, _ in tf.train.list_variables(path)}


def reason(error):
    """The first line of an OSError's or a TF error's message, without TF's "{{node ...}}" prefix."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    lines = str(error).splitlines()
    return re.sub(r"^\{\{[^}]*\}\}\s*", "", lines[0]) if lines else type(error).__name__


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
