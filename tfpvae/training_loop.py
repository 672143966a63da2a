"""Keras's training executions, each run as one XLA computation.

Keras's `fit` calls its train function once per execution of
`steps_per_execution` steps. Keras's own function loops over the steps in a
graph and calls the XLA-compiled step once per step, so each step is one
call into XLA. `multi_step_function` instead reads the execution's batches,
stacks them, and runs

    for i in range(count):  train_step(batches[i])

as one XLA `while` loop: one call into XLA per execution.

An execution reads what Keras's reads: up to `steps_per_execution` batches,
fewer where the data ends, so epochs hold Keras's steps and callbacks run
once per execution as before. Consecutive batches of one shape are stacked
together (at most `MAX_STACK_BYTES` of them per XLA call); a batch of
another shape (an epoch's short last batch) starts a new stack, which XLA
compiles for its shape once, as it compiles Keras's step for each batch
shape.

`uses_xla` is `VAE.compile`'s `jit_compile="auto"` rule: XLA's compile
costs seconds before the first step, which a short `fit` does not earn
back, so XLA is used when a `fit` plans at least `XLA_MIN_STEPS` training
steps (epochs x steps per epoch; an unknown or infinite number of steps
counts as many). benchmarks/xla_policy measures the compile and the
time saved per step that the threshold rests on (docs/results/xla_policy.md).

Example:
  >>> vae.compile()                   # jit_compile="auto"
  >>> vae.fit(x, epochs=1)            # a few steps: no XLA compile
  >>> vae.fit(x, epochs=100)          # >= XLA_MIN_STEPS steps: the XLA loop
"""

import inspect
import math

import keras

from tfpvae.backend import tensorflow as tf

# Planned training steps of a `fit` from which `jit_compile="auto"` uses XLA.
XLA_MIN_STEPS = 1000

# Bytes of batches stacked for one XLA call at most: a stack is a copy of its batches.
MAX_STACK_BYTES = 64 * 2**20


def planned_steps(data, epochs=1, batch_size=None, steps_per_epoch=None, initial_epoch=0):
    """Training steps a `fit(data, epochs=..., ...)` will run, or None if unknown.

    Args:
      data: what `fit` receives as x: a `tf.data.Dataset`, an array or tensor
        (its rows, in batches of `batch_size`, default 32), or anything else
        (unknown).

    Returns:
      int, or None where the data's length is unknown or infinite.
    """
    epochs = max(int(epochs) - int(initial_epoch), 0)
    if steps_per_epoch is not None:
        return epochs * int(steps_per_epoch)
    if isinstance(data, tf.data.Dataset):
        batches = int(data.cardinality())
        return epochs * batches if batches >= 0 else None
    if isinstance(data, (tuple, list)) and data:
        data = data[0]
    rows = getattr(data, "shape", None)
    if rows is None or not len(rows) or rows[0] is None:
        return None
    return epochs * math.ceil(int(rows[0]) / (batch_size or 32))


def uses_xla(steps):
    """The "auto" rule: XLA when `steps` (None: unknown, many) reaches `XLA_MIN_STEPS`."""
    return steps is None or steps >= XLA_MIN_STEPS


def multi_step_function(model, fallback):
    """A `train_function` for Keras's `fit` that runs each execution in one XLA loop.

    Args:
      model: a compiled Keras model whose `train_step` returns its metrics'
        results (`model.get_metrics_result()`), outside `tf.distribute`.
      fallback: Keras's own train function, for an iterator this function
        does not read (not a `tf.data.Iterator`, or one yielding Optionals).

    Returns:
      function(iterator) -> logs, raising StopIteration where the data has
      ended before the execution's first step, as Keras's own does; its
      `run` attribute is the XLA-compiled loop (a `tf.function`).
    """
    steps = int(model.steps_per_execution)

    @tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
    def run(batches, count):
        def body(i):
            model.train_step(tf.nest.map_structure(lambda b: b[i], batches))
            return (i + 1,)

        tf.while_loop(lambda i: i < count, body, (tf.constant(0),))
        return model.get_metrics_result()

    @tf.function(reduce_retracing=True, autograph=False)
    def stack_and_run(iterator, first, budget):
        """Reads up to `budget` - 1 more batches shaped like `first`, runs them;
        returns (logs, batches run, the next batch read if its shape differs)."""
        empty = tf.experimental.Optional.empty(iterator.element_spec)
        flat = tf.nest.flatten(first)
        size = stack_size(flat, steps)
        limit = tf.minimum(budget, size)
        arrays = [tf.TensorArray(t.dtype, size=size, element_shape=t.shape).write(0, t) for t in flat]

        def read(i):
            return tf.cond(i < limit, iterator.get_next_as_optional, lambda: empty)

        def fits(optional):
            return tf.cond(optional.has_value(), lambda: same_shapes(optional.get_value(), first),
                           lambda: tf.constant(False))

        def add(i, arrays, optional):
            values = tf.nest.flatten(optional.get_value())
            return i + 1, [a.write(i, v) for a, v in zip(arrays, values)], read(i + 1)

        count, arrays, following = tf.while_loop(lambda i, arrays, optional: fits(optional), add,
                                                 (tf.constant(1), arrays, read(tf.constant(1))))
        # the slots past `count` hold copies of the first batch, never run
        _, arrays = tf.while_loop(lambda j, arrays: j < size,
                                  lambda j, arrays: (j + 1, [a.write(j, t) for a, t in zip(arrays, flat)]),
                                  (count, arrays))
        batches = tf.nest.pack_sequence_as(first, [a.stack() for a in arrays])
        return run(batches, count), count, following

    def function(iterator):
        if not isinstance(iterator, tf.data.Iterator) or has_optional(iterator.element_spec):
            return fallback(iterator)
        logs, left = None, steps
        pending = iterator.get_next_as_optional()
        while left and pending.has_value():
            logs, count, pending = stack_and_run(iterator, pending.get_value(), tf.constant(left))
            left -= int(count)
            if left and not pending.has_value():  # the stack was full, or the data ended
                pending = iterator.get_next_as_optional()
        if logs is None:
            raise StopIteration
        return logs

    function.run = run
    return function


def stack_size(tensors, steps):
    """Batches per stack: `steps`, or fewer where `steps` batches of `tensors`
    would exceed `MAX_STACK_BYTES` (at least 1); a scalar int32 tensor."""
    nbytes = tf.add_n([tf.size(t, tf.int64) * t.dtype.size for t in tensors])
    return tf.cast(tf.clip_by_value(MAX_STACK_BYTES // tf.maximum(nbytes, 1), 1, steps), tf.int32)


def same_shapes(a, b):
    """Whether the tensors of structures `a` and `b` have equal shapes (a scalar bool tensor)."""
    return tf.reduce_all([tf.reduce_all(tf.equal(tf.shape(x), tf.shape(y)))
                          for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b))])


def has_optional(element_spec):
    """Whether a dataset's element spec holds a `tf.OptionalSpec` (Keras's stand-in for None)."""
    return any(isinstance(s, tf.OptionalSpec) for s in tf.nest.flatten(element_spec))


class XLATraining:
    """A `keras.Model` mixin: `fit` applies the "auto" rule, and XLA executions
    run as one XLA loop.

    The model sets `jit_auto` in `compile` (True: `jit_compile="auto"` and
    XLA can compile the step); each `fit` then turns XLA on or off by its
    planned steps.
    """

    jit_auto = False

    def fit(self, *args, **kwargs):
        if self.jit_auto:
            options = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs).arguments
            steps = planned_steps(options.get("x"), epochs=options.get("epochs", 1),
                                  batch_size=options.get("batch_size"),
                                  steps_per_epoch=options.get("steps_per_epoch"),
                                  initial_epoch=options.get("initial_epoch", 0))
            self.use_xla(uses_xla(steps))
        return super().fit(*args, **kwargs)

    def use_xla(self, xla):
        """Turns whole-step XLA on or off; the step functions are rebuilt if it changes."""
        if bool(self.jit_compile) != xla:
            self.jit_compile = xla
            self.train_function = self.test_function = self.predict_function = None

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and self.jit_auto:
            config["jit_compile"] = "auto"
        return config

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force=True)
        if (self.jit_compile and not self.run_eagerly and self.steps_per_execution > 1
                and not tf.distribute.has_strategy()):
            self.train_function = multi_step_function(self, fallback=self.train_function)
        return self.train_function
