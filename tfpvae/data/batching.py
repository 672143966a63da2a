"""Batches of arrays held in memory, with little work per batch.

The examples go into the graph once. An epoch is a permutation of the row
indices, cut into batches of indices; each batch is then one `tf.gather` of
those rows. Per batch this costs one small gather, where shuffling examples
one by one through a `tf.data` shuffle buffer and batching them again costs a
copy per example.

Such a pipeline has nothing for tf.data's autotuning to tune, and the
autotuning costs time at epoch boundaries: Keras makes a new iterator for each
epoch, and with autotuning on, the first step of some epochs waits for it
(docs/results/throughput.md). So these pipelines run with autotuning off and a
fixed prefetch of `PREFETCH` batches.
"""

from tfpvae.backend import tensorflow as tf

PREFETCH = 2  # batches made ahead of the training step; a gather takes far less time than a step


def batched(arrays, batch_size, shuffle=True, seed=0):
    """One epoch of batches per iteration of the returned dataset.

    Args:
      arrays: a tensor or array [N, ...], or a tuple of them with the same N.
      batch_size: rows per batch; the last batch holds the remainder.
      shuffle: draw a fresh permutation of the rows in every iteration
        (every epoch of `fit`, every repeat of `.repeat()`), from `seed`.
      seed: int seed of the permutations.

    Returns:
      A `tf.data.Dataset` of batches shaped like `arrays`, whose cardinality
      (batches per epoch) is known, as Keras's `fit` uses it.
    """
    tensors = tf.nest.map_structure(tf.convert_to_tensor, arrays)
    n = int(tf.nest.flatten(tensors)[0].shape[0])
    full, rest = divmod(n, batch_size)

    def index_batches(key):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([key, seed]))
        head = tf.data.Dataset.from_tensor_slices(tf.reshape(order[:full * batch_size], [full, batch_size]))
        return head.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size:])) if rest else head

    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    indices = keys.flat_map(index_batches).apply(tf.data.experimental.assert_cardinality(full + bool(rest)))
    batches = indices.map(lambda index: tf.nest.map_structure(lambda t: tf.gather(t, index), tensors))
    return batches.with_options(untuned())


def untuned():
    """`tf.data.Options` with autotuning off, no prefetch added by tf.data
    itself, and no static graph rewrites (which copy the captured arrays:
    the first batch of a 2.3 GB array took 14 s with them)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
    options.experimental_optimization.apply_default_optimizations = False
    return options
