"""Whether the `tf.data` pipeline given to `fit` keeps the training step fed.

`VAE.fit` adds a `PipelineCheck` when x is a `tf.data.Dataset` (unless its
callbacks hold one already). It measures two rates, in batches per second:

  F, training: the steps `fit` completes per second, read from the clock at
     the start of each execution of `steps_per_execution` steps. The first
     execution of every epoch is left out (tracing and compilation, a new
     iterator filling its buffers), and so is the last (validation and the
     epoch's callbacks follow it).
  P, the pipeline alone: once F covers `MIN_STEPS` steps, at the end of an
     epoch (training paused), a new iterator of the same dataset is read
     inside a `tf.function`, as `fit` reads it, for up to `PROBE_BATCHES`
     batches or about `PROBE_SECONDS`; its first batch is not timed.

With prefetching, `fit` takes per batch at least the longer of the step's
time and the pipeline's time, so F <= P. The pipeline alone needs the share
F / P of `fit`'s time per batch. When that share is `SHARE` or more, the
pipeline runs near its limit, so the step waits for it, or it takes the cores
the step needs (on a machine with few cores, where both compete for the same
cores, the two come to the same), and the check warns once, with the fix. A
pipeline that gathers whole batches from memory is many times faster than a
step, so its share is small.

The check costs a clock reading per execution and one short read of the
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
PROBE_BATCHES = 256   # batches timed in the probe, at most
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
        self.training_rate = self.pipeline_rate = None  # F and P once checked
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
        self.training_rate, self.pipeline_rate = self.steps / self.seconds, probe(self.dataset)
        if self.pipeline_rate is not None and self.training_rate >= SHARE * self.pipeline_rate:
            warnings.warn(message(self.training_rate, self.pipeline_rate), SlowPipelineWarning, stacklevel=2)


def probe(dataset, batches=PROBE_BATCHES, seconds=PROBE_SECONDS):
    """Batches per second that a new iterator of `dataset` delivers on its own.

    The batches are read inside a `tf.function`, as `fit` reads them, in
    rounds of 1, 2, 4, ... batches, the last rounds cut to what fits in
    `batches` and, at the rate so far, in `seconds`.

    Args:
      dataset: a `tf.data.Dataset`.
      batches: batches timed, at most.
      seconds: time the timed reading aims at.

    Returns:
      The rate, or None when the dataset has fewer than two elements.
    """
    iterator = iter(dataset)
    read = tf.function(lambda n: read_batches(iterator, n))
    if int(read(tf.constant(1, tf.int64))) < 1:  # traces, and waits for the first batch
        return None
    count, size, start = 0, 1, time.perf_counter()
    while size > 0:
        got = int(read(tf.constant(size, tf.int64)))
        count, elapsed = count + got, time.perf_counter() - start
        if got < size:
            break
        size = min(2 * size, batches - count, int(count / elapsed * (seconds - elapsed)))
    return count / elapsed if count else None


def read_batches(iterator, n):
    """Reads up to n elements of `iterator`; returns how many there were."""
    def body(count, more):
        element = iterator.get_next_as_optional()
        return count + tf.cast(element.has_value(), tf.int64), element.has_value()

    count, _ = tf.while_loop(lambda count, more: more & (count < n), body,
                             (tf.constant(0, tf.int64), tf.constant(True)))
    return count


def message(training, alone):
    """The warning: both rates, the pipeline's share of fit's time, and the fix."""
    return (f"the input pipeline limits fit: on its own it delivers {alone:.1f} batches/s and fit trained "
            f"at {training:.1f} batches/s, so the pipeline needs {training / alone:.0%} of each step's time "
            f"and the step waits for data. To feed the step faster, {FIX}.")
