"""Features -> the raw parameters of a distribution, for any Keras 3 model."""

import keras

from tfpvae.backend import ps, tf
from tfpvae.layers import predictions
from tfpvae.layers.head import Head, distribution_from, width


@keras.saving.register_keras_serializable(package="tfpvae")
class DistributionHead(Head):
    """A Dense layer whose output parameterizes a distribution over y.

    The Keras 3 Sequential and functional APIs pass only tensors between
    layers, so this layer returns the family's raw parameters, a float32
    tensor [N, width]; `distribution(params)` turns them into the
    `tfd.Distribution` p(y | features). A family with weights shared by all
    examples (e.g. `{"name": "normal", "scale": "shared"}`) keeps them in
    this layer and appends them to every row, so the tensor alone determines
    the distribution, and `tfpvae.losses.NegativeLogLikelihood`,
    `tfpvae.layers.Sample` and `tfpvae.layers.KLDivergence` read it.

    Args:
      family: a family spec, a name or `{"name": ..., **options}`:
        `normal`, `student_t`, `poisson`, `negative_binomial`, ... (see
        `tfpvae.families.names()`).
      event_shape: shape of one y, e.g. (1,) for a scalar target.
      role: "likelihood" or "posterior": where to look the family up. None
        (the default) takes the likelihood family of that name, else the
        posterior one.

    Returns (when called on features [N, ...]):
      A float32 tensor [N, width] of raw parameters.

    Example:
      >>> head = DistributionHead("normal", event_shape=(1,))
      >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(16, activation="relu"), head])
      >>> model.compile(optimizer="adam",
      ...               loss=tfpvae.losses.NegativeLogLikelihood("normal", event_shape=(1,)))
      >>> model.fit(x, y)
      >>> p = head.distribution(model.predict(x))   # p(y | x), a tfd.Distribution
      >>> p.mean(), p.stddev(), p.sample(10, seed=(1, 2))
      >>> low, high = head.interval(model.predict(x), level=0.9)
    """

    def call(self, features):
        params = self.raw_params(features)
        if self.shared is None:
            return params
        shared = tf.broadcast_to(self.shared, [ps.shape(params)[0], self.shared.shape[0]])
        return tf.concat([params, shared], axis=-1)

    def compute_output_shape(self, features_shape):
        return (features_shape[0], width(self.family, self.event_shape))

    def distribution(self, params):
        """The `tfd.Distribution` over y that the parameters [..., width] describe."""
        return distribution_from(self.family, params, self.event_shape)

    def quantile(self, params, q, num_samples=1000, seed=0):
        """The q-quantile of each element of y, a float32 tensor [..., *event_shape].

        Exact where the elementwise distribution has a quantile function (a
        Gaussian's marginals, Student's t, logistic), else estimated from
        `num_samples` draws with the stateless `seed`.
        """
        return predictions.quantile(self.distribution(params), q, num_samples=num_samples, seed=seed)

    def interval(self, params, level=0.9, num_samples=1000, seed=0):
        """(low, high): the central `level` interval of each element of y.

        low is the (1 - level) / 2 quantile and high the (1 + level) / 2 one;
        see `quantile`.
        """
        return predictions.interval(self.distribution(params), level, num_samples=num_samples, seed=seed)
