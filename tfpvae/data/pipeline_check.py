"""Whether the `tf.data` pipeline given to `fit` keeps the training step fed.

`VAE.fit` passes a `tf.data.Dataset` through `PipelineCheck.watch`, which
appends two stages to it: a count of the batches the pipeline has delivered
(one `assign_add` per batch, in the graph) and a prefetch buffer of `BUFFER`
batches. At the start of each execution of `steps_per_execution` training
steps, the check reads the count; minus the steps trained so far, it is the
number of batches waiting in that buffer. When the step is faster than the
pipeline, the buffer is empty whenever the step asks for a batch, and the
step waits for each one; when the pipeline is faster, the buffer is full.

The first execution of every epoch is not sampled (a new iterator starts
its buffers then). After `MIN_SAMPLES` samples, if the buffer was empty at
`STARVED` of them or more, the pipeline is what limits `fit`, and the check
warns once, with the training rate it measured over the same executions and
the fix. The check then stops sampling.

It measures waiting, not sharing: a pipeline that keeps its buffer filled
while taking CPU cores the step would use (a per-example `map` on a machine
with few cores) slows the step without starving it, and is not reported.

The check costs one counter increment per batch and, until it decides, one
read of two counters per execution. It leaves the batches, their order and
their randomness as they are. Silence it with
`warnings.filterwarnings("ignore", category=SlowPipelineWarning)`.
"""

import time
import warnings

import keras

from tfpvae.backend import tensorflow as tf

BUFFER = 2         # batches the appended prefetch holds
MIN_SAMPLES = 8    # execution starts sampled before the check decides
STARVED = 0.5      # share of samples with an empty buffer at or above which the check warns

FIX = ("batch first and map whole batches (dataset.batch(n).map(f, num_parallel_calls=tf.data.AUTOTUNE) "
       "instead of dataset.map(f).batch(n)), end with .prefetch(tf.data.AUTOTUNE), and keep data that fits "
       "in memory in memory (numpy arrays to fit, or tfpvae.data.to_dataset)")


class SlowPipelineWarning(UserWarning):
    """The input pipeline given to `fit` limits the training speed."""


class PipelineCheck(keras.callbacks.Callback):
    """Warns once when the dataset it watches limits the training speed of `fit`.

    See the module docstring for what it measures. After it has decided,
    `starved` is the share of sampled execution starts at which no batch was
    waiting and `training_rate` the training steps per second meanwhile. A
    check among `fit`'s callbacks replaces the one `VAE.fit` adds; it checks
    nothing unless `fit` reads a dataset it watches.

    Example:
      >>> check = PipelineCheck()
      >>> vae.fit(check.watch(dataset), epochs=10, callbacks=[check])  # what VAE.fit does
    """

    def __init__(self):
        super().__init__()
        self.delivered = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.samples, self.decided, self.watching = [], False, False
        self.starved = self.training_rate = None

    def watch(self, dataset):
        """`dataset` with a count of its delivered batches and a prefetch buffer appended.

        Args:
          dataset: a `tf.data.Dataset`.

        Returns:
          A dataset with the same elements, in the same order.
        """
        if not isinstance(dataset, tf.data.Dataset):
            raise ValueError(f"dataset must be a tf.data.Dataset; received {type(dataset).__name__}")
        is_tuple = isinstance(dataset.element_spec, tuple)

        def counted(*element):
            with tf.control_dependencies([self.delivered.assign_add(1)]):
                element = tf.nest.map_structure(tf.identity, element)
            return element if is_tuple else element[0]

        self.watching = True
        return dataset.map(counted).prefetch(BUFFER)

    def on_train_begin(self, logs=None):
        self.samples = []  # each fit samples afresh: steps and batches are counted from its start
        self.trained = int(self.model.optimizer.iterations.numpy())
        self.delivered_before = int(self.delivered.numpy())

    def on_epoch_begin(self, epoch, logs=None):
        self.first = True

    def on_train_batch_begin(self, batch, logs=None):
        if self.decided or not self.watching:
            return
        now, steps = time.perf_counter(), int(self.model.optimizer.iterations.numpy()) - self.trained
        if not self.first:
            waiting = int(self.delivered.numpy()) - self.delivered_before - steps
            self.samples.append((now, steps, waiting))
        self.first = False
        if len(self.samples) >= MIN_SAMPLES:
            self.decide()

    def decide(self):
        """Reads the samples and warns when the buffer was mostly empty."""
        self.decided = True
        (start, first, _), (end, last, _) = self.samples[0], self.samples[-1]
        self.starved = sum(waiting <= 0 for _, _, waiting in self.samples) / len(self.samples)
        self.training_rate = (last - first) / (end - start) if end > start else None
        if self.starved >= STARVED:
            warnings.warn(message(self.starved, self.training_rate), SlowPipelineWarning, stacklevel=2)


def message(starved, training_rate):
    """The warning: what was measured, and the fix."""
    rate = "" if training_rate is None else f" (fit trained at {training_rate:.1f} batches/s)"
    return (f"the input pipeline limits fit: at {starved:.0%} of the starts of a training execution no "
            f"batch was ready{rate}, so the step waits for data. To feed the step faster, {FIX}.")
