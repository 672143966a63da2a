"""The running means a VAE reports during `fit` and `evaluate`."""

import keras
import tensorflow as tf


class Means(keras.metrics.Metric):
    """Example-weighted running means of several values, kept in one vector.

    Equivalent to one `keras.metrics.Mean` per value, each updated with a
    batch's mean weighted by the batch's size, but a training step updates
    two variables instead of two per value. Its result is a dict by name,
    which Keras merges into the logs. Under `tf.distribute` the sums and the
    count add up across replicas.

    Args:
      names: the names of the values, in order.
    """

    def __init__(self, names, name="means", **kwargs):
        super().__init__(name=name, **kwargs)
        self.names = tuple(names)
        self.sums = self.add_variable(shape=(len(self.names),), initializer="zeros", name="sums")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, means, count):
        """Adds a batch: `means` maps each name to the batch's mean, `count` is its size."""
        count = tf.cast(count, self.sums.dtype)
        batch = tf.stack([tf.cast(means[name], self.sums.dtype) for name in self.names])
        self.sums.assign_add(batch * count)
        self.count.assign_add(count)

    def result(self):
        means = tf.math.divide_no_nan(tf.convert_to_tensor(self.sums), tf.convert_to_tensor(self.count))
        return dict(zip(self.names, tf.unstack(means)))

    def reset_state(self):
        self.sums.assign(tf.zeros_like(self.sums))
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "names": list(self.names)}
