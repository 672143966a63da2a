"""How `VAE.fit` hands its data to Keras.

In-memory numpy arrays go through one `batching.batched` pipeline, in which
each step gathers one batch of rows. Anything else (a dataset, tensors, an
option the pipeline does not implement) goes to Keras's own data adapters.
A `tf.data.Dataset` given to `fit` is watched by a
`pipeline_check.PipelineCheck`, which warns once when it limits the training
speed.
"""

import keras
import numpy as np

from tfpvae import backend, checks
from tfpvae.data import batching
from tfpvae.data.pipeline_check import PipelineCheck

# The `fit` options the in-memory pipeline implements; any other given option
# (sample weights, class weights, validation_split, steps_per_epoch, or one a
# later Keras adds) leaves the arrays to Keras.
PIPELINE_OPTIONS = frozenset({
    "batch_size", "epochs", "verbose", "callbacks", "shuffle", "initial_epoch", "validation_batch_size",
    "validation_freq", "validation_steps",
})


def fed_in_memory(data, options, conditional=False):
    """Whether `fit` feeds `data` through `in_memory`.

    True on the TensorFlow backend (Keras's JAX trainer feeds arrays
    itself) for a numpy array x, or (x, c) for a conditional VAE, outside
    `tf.distribute`, when every given option is in `PIPELINE_OPTIONS` and
    `shuffle` is True or False (not "batch"). An unused y stays with Keras,
    which checks its length.
    """
    arrays = data if isinstance(data, tuple) else (data,)
    given = {name for name, value in options.items() if value is not None}
    return (len(arrays) == (2 if conditional else 1) and all(isinstance(a, np.ndarray) for a in arrays)
            and given <= PIPELINE_OPTIONS and options.get("shuffle", True) in (True, False)
            and not backend.is_jax and not backend.in_strategy())


def in_memory(arrays, batch_size=None, shuffle=True, **options):
    """`fit`'s data and options for in-memory arrays.

    Epochs hold the batches Keras's own array handling would give: every
    example once, reshuffled each epoch, the last batch the remainder.
    Validation batches default to the training batch size.

    Returns:
      (a prefetched `tf.data.Dataset`, the remaining `fit` options).
    """
    batch_size = batch_size or 32
    if options.get("validation_batch_size") is None:
        options["validation_batch_size"] = batch_size
    seed = int(np.random.randint(2**31 - 1))  # reproducible under keras.utils.set_random_seed
    dataset = batching.batched(arrays, batch_size, shuffle=shuffle, seed=seed)
    return dataset.prefetch(batching.PREFETCH), options


def with_pipeline_check(data, options):
    """`fit`'s data and options, with a `PipelineCheck` watching `data` when it is
    a `tf.data.Dataset`, outside `tf.distribute`, and the callbacks are a list
    (or None) without a check of their own.

    Returns:
      (data, options): the watched dataset and the options with the check
      among the callbacks, or both as they were.
    """
    callbacks = options.get("callbacks")
    if (not backend.is_dataset(data) or backend.in_strategy()
            or isinstance(callbacks, keras.callbacks.CallbackList)
            or any(isinstance(c, PipelineCheck) for c in callbacks or [])):
        return data, options
    check = PipelineCheck()
    return check.watch(data), {**options, "callbacks": [*(callbacks or []), check]}


def joined(x, y):
    """Keras's (x, y) arguments as one data argument: x, or (x, y, ...) when y is given."""
    if y is None:
        return x
    if backend.is_dataset(x):
        raise ValueError("y must be None when x is a tf.data.Dataset: the dataset yields (x, c) itself")
    return (x[0], y, *x[2:]) if isinstance(x, tuple) else (x, y)


def unpacked(data):
    """(x, y) for Keras from data that may be an (x, y, ...) tuple."""
    if isinstance(data, tuple):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return x, y
    return data, None


def leading_examples(data, count):
    """Up to `count` examples x from the start of checked `fit` data, as numpy
    [n, ...]: the rows of an array, or the x of the first batches of a
    `tf.data.Dataset` or a `keras.utils.PyDataset` (whose batches are read by
    index, so training reads them again); None for other inputs (a generator,
    which a second pass could not replay)."""
    x = checks.first_of(data)
    if backend.is_dataset(x):
        return first_rows(x.take(count), count)
    if isinstance(x, keras.utils.PyDataset):
        return first_rows((x[i] for i in range(len(x))), count)
    if hasattr(x, "shape") and hasattr(x, "__getitem__"):
        return np.asarray(x[:count])
    return None


def first_rows(batches, count):
    """The first `count` rows of the x of `batches` (x or (x, ...) each), as numpy; None if there are none."""
    parts, seen = [], 0
    for batch in batches:
        part = np.asarray(checks.first_of(tuple(batch) if isinstance(batch, (tuple, list)) else batch))
        parts.append(part[:count - seen])
        seen += len(parts[-1])
        if seen >= count:
            break
    return np.concatenate(parts) if parts else None
