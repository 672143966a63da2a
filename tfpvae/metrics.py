"""Metrics: the running means a VAE reports, and scores of predicted distributions.

`Means` is what `tfpvae.VAE` reports during `fit` and `evaluate`.
`LogLikelihood` and `IntervalCoverage` score the parameters that a
`tfpvae.layers.DistributionHead` predicts, in any Keras model.
"""

import keras

from tfpvae import checks
from tfpvae.backend import ps, tf
from tfpvae.layers import predictions
from tfpvae.layers.head import distribution_from, event_shape_tuple, family_for, log_prob, role_of


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
        count = keras.ops.cast(count, self.sums.dtype)
        batch = keras.ops.stack([keras.ops.cast(means[name], self.sums.dtype) for name in self.names])
        self.sums.assign_add(batch * count)
        self.count.assign_add(count)

    def result(self):
        means = keras.ops.divide_no_nan(self.sums.value, self.count.value)
        return dict(zip(self.names, keras.ops.unstack(means)))

    def reset_state(self):
        self.sums.assign(keras.ops.zeros(self.sums.shape, self.sums.dtype))
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "names": list(self.names)}


@keras.saving.register_keras_serializable(package="tfpvae")
class LogLikelihood(keras.metrics.Mean):
    """Mean log-likelihood of the targets, mean_n log p(y_n | params_n), in nats.

    y_pred is a `DistributionHead`'s parameter tensor; higher is better.

    Args:
      family: a family spec, as for `DistributionHead`.
      event_shape: shape of one y.
      role: "likelihood" or "posterior", as for `DistributionHead`.
      name: the metric's name.

    Example:
      >>> model.compile(optimizer="adam", loss=tfpvae.losses.NegativeLogLikelihood("normal", (1,)),
      ...               metrics=[tfpvae.metrics.LogLikelihood("normal", (1,))])
    """

    def __init__(self, family, event_shape, role=None, name="log_likelihood", **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(name=name, dtype="float32", **kwargs)
        self.family = family_for(family, role)
        self.role = role_of(self.family, role)
        self.event_shape = event_shape_tuple(event_shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(log_prob(self.family, y_pred, y_true, self.event_shape), sample_weight)

    def get_config(self):
        config = {"name": self.name, "family": self.family.get_config(),
                  "event_shape": list(self.event_shape), "role": self.role}
        return config


@keras.saving.register_keras_serializable(package="tfpvae")
class IntervalCoverage(keras.metrics.Mean):
    """The fraction of target elements inside their central prediction interval.

    For each element y_ni the interval is [F^-1((1 - level) / 2), F^-1((1 +
    level) / 2)] of its marginal F under p(y | params_n) (exact quantiles
    where TFP has them, else from `num_samples` seeded draws; see
    `DistributionHead.interval`). A calibrated model covers about `level` of
    held-out targets.

    Args:
      family: a family spec, as for `DistributionHead`.
      event_shape: shape of one y.
      level: the interval's probability, in (0, 1).
      role: "likelihood" or "posterior", as for `DistributionHead`.
      num_samples: draws for families without quantile functions.
      seed: int, the stateless seed of those draws.
      name: the metric's name (default "coverage_90" for level 0.9).

    Example:
      >>> metrics = [tfpvae.metrics.IntervalCoverage("normal", (1,), level=0.9)]
    """

    def __init__(self, family, event_shape, level=0.9, role=None, num_samples=1000, seed=0, name=None,
                 **kwargs):
        self.level = predictions.probability(level, "level")
        kwargs.pop("dtype", None)
        super().__init__(name=name or f"coverage_{round(100 * self.level):d}", dtype="float32", **kwargs)
        self.family = family_for(family, role)
        self.role = role_of(self.family, role)
        self.event_shape = event_shape_tuple(event_shape)
        self.num_samples = checks.positive_int(num_samples, "num_samples")
        self.seed = checks.seed(seed, allow_none=False)

    def update_state(self, y_true, y_pred, sample_weight=None):
        distribution = distribution_from(self.family, y_pred, self.event_shape)
        low, high = predictions.interval(distribution, self.level, num_samples=self.num_samples,
                                         seed=self.seed)
        y = tf.reshape(tf.cast(y_true, tf.float32), ps.shape(low))
        inside = tf.cast(tf.logical_and(low <= y, y <= high), tf.float32)
        per_example = tf.reduce_mean(tf.reshape(inside, [ps.shape(inside)[0], -1]), axis=-1)
        return super().update_state(per_example, sample_weight)

    def get_config(self):
        return {"name": self.name, "family": self.family.get_config(), "event_shape": list(self.event_shape),
                "level": self.level, "role": self.role, "num_samples": self.num_samples, "seed": self.seed}
