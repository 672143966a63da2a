"""Batches of arrays held in memory, made by numpy: the input of a run on a
backend without `tf.data` (JAX, where TensorFlow need not be installed).

An epoch is a fresh permutation of the rows (drawn from the seed and the
epoch's number), cut into batches; with dynamic binarization every batch is
a fresh Bernoulli draw, from the seed, the epoch and the batch's index. So a
run that resumes at an epoch sees the batches an uninterrupted run would.
"""

import keras
import numpy as np


class ArrayBatches(keras.utils.PyDataset):
    """The batches of one epoch, indexable; `on_epoch_end` moves to the next epoch.

    Args:
      arrays: x [N, ...], or (x, y) with the same N.
      batch_size: rows per batch; the last batch holds the remainder.
      shuffle: a fresh permutation of the rows in every epoch.
      binarize_dynamically: replace x (in [0, 1]) by a Bernoulli draw in every batch.
      seed: int seed of the permutations and draws.
    """

    def __init__(self, arrays, batch_size, shuffle=True, binarize_dynamically=False, seed=0):
        super().__init__()
        self.arrays = arrays if isinstance(arrays, tuple) else (arrays,)
        self.batch_size, self.shuffle, self.binarize, self.seed = batch_size, shuffle, binarize_dynamically, seed
        self.rows = len(self.arrays[0])
        self.epoch = 0
        self.order = self.permutation()

    def permutation(self):
        if not self.shuffle:
            return np.arange(self.rows)
        return np.random.default_rng([self.seed, self.epoch]).permutation(self.rows)

    def __len__(self):
        return -(-self.rows // self.batch_size)

    def cardinality(self):
        """Batches per epoch (as `tf.data.Dataset.cardinality` names it)."""
        return len(self)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        x, *rest = (array[rows] for array in self.arrays)
        if self.binarize:
            draw = np.random.default_rng([self.seed, self.epoch, index, 1]).random(x.shape, dtype=np.float32)
            x = (draw < x).astype(np.float32)
        return (x, *rest) if rest else x

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self.permutation()

    def start_at(self, epoch):
        """Sets the epoch the next batches belong to (a resumed run's)."""
        self.epoch = epoch
        self.order = self.permutation()
