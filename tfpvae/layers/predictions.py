"""Predictions from a distribution: quantiles and central intervals of each element.

The mean, standard deviation and draws are the distribution's own methods
(`p.mean()`, `p.stddev()`, `p.sample(n, seed=...)`). Quantiles are defined
for each element of y separately (its marginal): exactly where the marginal
has a quantile function in TFP, else from draws.
"""

from tfpvae import backend, checks
from tfpvae.backend import tf, tfp

tfd = tfp.distributions


def marginals(distribution):
    """The elementwise distribution of each element of y, or None if it is not at hand.

    For `tfd.Independent` it is the distribution it reinterprets; every
    marginal of a Gaussian is the Gaussian N(mean_i, stddev_i^2).
    """
    if isinstance(distribution, tfd.Independent):
        return distribution.distribution
    if isinstance(distribution, tfd.MultivariateNormalLinearOperator):
        return tfd.Normal(distribution.mean(), distribution.stddev())
    return None


def probability(value, name):
    """`value` as a float strictly between 0 and 1, or a ValueError naming it."""
    value = checks.real(value, name, strict=True)
    if value >= 1.0:
        raise ValueError(f"{name} must be a number in (0, 1); received {value!r}")
    return value


def quantile(distribution, q, num_samples=1000, seed=0):
    """The q-quantile of each element of y, float32 [*batch_shape, *event_shape].

    Args:
      distribution: a `tfd.Distribution` over y.
      q: a probability in (0, 1).
      num_samples: draws used when the marginal has no quantile function.
      seed: int, the stateless seed of those draws.

    Returns:
      A float32 tensor.
    """
    q = probability(q, "q")
    num_samples = checks.positive_int(num_samples, "num_samples")
    seed = checks.seed(seed, allow_none=False)
    marginal = marginals(distribution)
    if marginal is not None:
        try:
            return tf.cast(marginal.quantile(q), tf.float32)
        except NotImplementedError:
            pass
    draws = tf.cast(distribution.sample(num_samples, seed=backend.seed_pair(seed, 0)), tf.float32)
    return tfp.stats.percentile(draws, 100.0 * q, axis=0, interpolation="nearest")


def interval(distribution, level=0.9, num_samples=1000, seed=0):
    """(low, high), the central interval holding probability `level` of each element.

    low = quantile((1 - level) / 2), high = quantile((1 + level) / 2).
    """
    level = probability(level, "level")
    low = quantile(distribution, (1.0 - level) / 2.0, num_samples=num_samples, seed=seed)
    high = quantile(distribution, (1.0 + level) / 2.0, num_samples=num_samples, seed=seed)
    return low, high
