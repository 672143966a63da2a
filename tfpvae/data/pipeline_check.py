"""Whether the `tf.data` pipeline given to `fit` keeps the training step fed.

`VAE.fit` adds a `PipelineCheck` when x is a `tf.data.Dataset`. It measures
two rates, in batches per second:

  F, training: the steps `fit` completes per second, read from the clock at
     the start of each execution of `steps_per_execution` steps. The first
     two executions of every epoch are left out (tracing and compilation, a
     new iterator filling its buffers), and so is the last (validation and
     the epoch's callbacks follow it).
  P, the pipeline alone: once F covers `MIN_STEPS` steps, at the end of an
     epoch (training paused), a new iterator of the same dataset is read for
     up to `PROBE_BATCHES` batches or `PROBE_SECONDS`, its first batch untimed.

With prefetching, `fit` takes per batch at least the longer of the step's
time and the pipeline's time, so F <= P. The pipeline alone needs the share
F / P of `fit`'s time per batch; when that share is `SHARE` or more, the
pipeline runs near its limit and the step waits for it, or the pipeline
takes the cores the step needs (on a machine with few cores both come to
the same), and the check warns once, with the fix. A pipeline that gathers
whole batches from memory is far faster than any step, so its share is small.

The check costs two clock readings per execution and one short read of the
pipeline per dataset and process. The probe makes one more iterator of the
dataset: a dataset whose randomness is redrawn per iteration (a reshuffling
`shuffle`, `Dataset.random(..., rerandomize_each_iteration=True)`) draws the
next epochs from later seeds than without the check, still reproducibly.
Silence it with `warnings.filterwarnings("ignore", category=SlowPipelineWarning)`.
"""

import time
import warnings
import weakref

import keras
import tensorflow as tf

MIN_STEPS = 64        # measured training steps before the pipeline is probed
PROBE_BATCHES = 16    # batches timed in the probe, at most
PROBE_SECONDS = 0.25  # seconds the probe reads for, at most (at least one batch)
SHARE = 0.5           # F / P at or above which the pipeline is reported

FIX = ("batch first and map whole batches (dataset.batch(n).map(f, num_parallel_calls=tf.data.AUTOTUNE) "
       "instead of dataset.map(f).batch(n)), end with .prefetch(tf.data.AUTOTUNE), and keep data that fits "
       "in memory in memory (numpy arrays to fit, or tfpvae.data.to_dataset)")

checked = weakref.WeakSet()  # datasets already checked in this process


class SlowPipelineWarning(UserWarning):
    """The input pipeline given to `fit` limits the training speed."""


class PipelineCheck(keras.callbacks.Callback):
    """Warns once when `dataset`, the data of this `fit`, limits the training speed.

    See the module docstring for what it measures.

    Args:
      dataset: the `tf.data.Dataset` given to `fit`.

    Example:
      >>> vae.fit(dataset, epochs=10)  # VAE.fit adds the check for a dataset
    """

    def __init__(self, dataset):
        super().__init__()
        if not isinstance(dataset, tf.data.Dataset):
            raise ValueError(f"dataset must be a tf.data.Dataset; received {type(dataset).__name__}")
        self.dataset = dataset
        self.steps, self.seconds = 0, 0.0
        self.executions, self.last = 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self.executions, self.last = 0, None

    def on_train_batch_begin(self, batch, logs=None):
        now = time.perf_counter()
        self.executions += 1
        if self.executions > 2:
            self.steps += batch - self.last[0]
            self.seconds += now - self.last[1]
        self.last = (batch, now)

    def on_epoch_end(self, epoch, logs=None):
        if self.steps < MIN_STEPS or self.seconds <= 0 or self.dataset in checked:
            return
        checked.add(self.dataset)
        training = self.steps / self.seconds
        alone = probe(self.dataset)
        if alone is not None and training >= SHARE * alone:
            warnings.warn(message(training, alone), SlowPipelineWarning, stacklevel=2)


def probe(dataset, batches=PROBE_BATCHES, seconds=PROBE_SECONDS):
    """Batches per second that a new iterator of `dataset` delivers on its own.

    Args:
      dataset: a `tf.data.Dataset`.
      batches: batches timed, at most.
      seconds: time read for, at most (after at least one timed batch).

    Returns:
      The rate, or None when the dataset has fewer than two elements.
    """
    iterator = iter(dataset)
    if next(iterator, None) is None:
        return None
    count, start = 0, time.perf_counter()
    while count < batches and next(iterator, None) is not None:
        count += 1
        if time.perf_counter() - start >= seconds:
            break
    elapsed = time.perf_counter() - start
    return count / elapsed if count else None


def message(training, alone):
    """The warning: both rates, the pipeline's share of fit's time, and the fix."""
    return (f"the input pipeline limits fit: on its own it delivers {alone:.1f} batches/s and fit trained "
            f"at {training:.1f} batches/s, so the pipeline needs {training / alone:.0%} of each step's time "
            f"and the step waits for data. To feed the step faster, {FIX}.")
