"""Grey levels: an integer distribution over k in {0, ..., L-1} seen as x = k / (L-1).

8-bit images scaled to [0, 1] take the values k / 255. A likelihood over the
integers k (a categorical, a discretized logistic) is a probability mass
function of those x: `Levels` scores x by the mass of k = round(x * (L-1)), so
its log_prob is a proper log-probability (no density, no Jacobian).
"""

import numpy as np

from tfpvae.backend import tf, tfp
from tfpvae.families.independent import Independent

tfd = tfp.distributions


class Levels(tfd.Distribution):
    """Independent pixels x = k / (levels - 1), k ~ `element` (batch [..., *event]).

    Args:
      element: a scalar-event distribution over integers 0..levels-1 whose
        batch shape ends with the event shape.
      event_ndims: how many trailing batch dimensions form the event.
      levels: number of grey levels.
    """

    def __init__(self, element, event_ndims, levels=256, name="Levels"):
        parameters = dict(locals())
        self.element, self.event_ndims, self.levels = element, event_ndims, levels
        super().__init__(dtype=tf.float32, reparameterization_type=tfd.NOT_REPARAMETERIZED,
                         validate_args=False, allow_nan_stats=True, parameters=parameters, name=name)

    def _batch_shape(self):
        return self.element.batch_shape[: self.element.batch_shape.rank - self.event_ndims]

    def _batch_shape_tensor(self):
        return self.element.batch_shape_tensor()[: -self.event_ndims]

    def _event_shape(self):
        return self.element.batch_shape[self.element.batch_shape.rank - self.event_ndims:]

    def _event_shape_tensor(self):
        return self.element.batch_shape_tensor()[-self.event_ndims:]

    def _log_prob(self, x):
        k = tf.round(tf.cast(x, tf.float32) * (self.levels - 1))
        return tf.reduce_sum(self.element.log_prob(k), axis=list(range(-self.event_ndims, 0)))

    def _sample_n(self, n, seed=None):
        return tf.cast(self.element.sample(n, seed=seed), tf.float32) / (self.levels - 1)

    def _mean(self):
        k = tf.range(self.levels, dtype=tf.float32)
        k = tf.reshape(k, [-1] + [1] * self.element.batch_shape.rank)
        probs = tf.exp(self.element.log_prob(k))
        return tf.reduce_sum(probs * k, axis=0) / (self.levels - 1)


class LevelsFamily(Independent):
    """Base of families over 8-bit grey levels given as x = k / 255."""

    roles = ("likelihood",)
    support = "the levels k / 255, k = 0..255"
    low, high = 0.0, 1.0
    hint = "Give 8-bit images divided by 255 (tfpvae.data scales them so)."
    fits = "8-bit grey levels scaled to [0, 1]"
    levels = 256

    def support_error(self, x):
        error = super().support_error(x)
        if error is None and not np.allclose(x * (self.levels - 1), np.round(x * (self.levels - 1)), atol=1e-3):
            return f"{self.name!r} needs x in {self.support}; received values between levels. {self.hint}"
        return error

    def distribution(self, params, event_shape):
        return Levels(self.element(params, event_shape), len(event_shape), self.levels)
