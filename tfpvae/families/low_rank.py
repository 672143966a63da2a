"""Gaussian with a diagonal-times-low-rank scale: N(loc, S S^T), S = diag(d) (I + W W^T).

W is [n, rank], so S S^T = diag(d) (I + V) diag(d) with V of rank `rank`:
per-dimension scales with a few directions of correlation, at linear cost.
S is a `tf.linalg.LinearOperatorLowRankUpdate` whose Woodbury capacitance is
I + W^T W, well conditioned however small d gets.
"""

from tfpvae import checks
from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import MIN_SCALE, Family, constraint, over_event

tfd = tfp.distributions


class LowRank(Family):
    """Diagonal plus low-rank correlation; KLs with the other Gaussians are analytic.

    n (loc) + n (d) + n * rank (W) parameters for an event of n elements.

    Args:
      rank: columns of W.
      min_scale: lower bound of d.
    """

    roles = ("posterior", "likelihood")
    fits = "real-valued data with a few directions of correlation"
    xla = False  # TFP's log-determinant of a low-rank update is a MatrixDeterminant, which XLA lacks

    def __init__(self, name, rank=2, min_scale=MIN_SCALE):
        rank = checks.positive_int(rank, f"{name!r}: rank")
        min_scale = checks.real(min_scale, f"{name!r}: min_scale", strict=True)
        super().__init__(name, rank=rank, min_scale=min_scale)
        self.rank, self.min_scale = rank, min_scale

    def num_params(self, event_size):
        return event_size * (2 + self.rank)

    def distribution(self, params, event_shape):
        n = int(tf.TensorShape(event_shape).num_elements())
        loc, raw_diag, w = tf.split(params, [n, n, n * self.rank], axis=-1)
        w = tf.reshape(w, ps.concat([ps.shape(w)[:-1], [n, self.rank]], axis=0))
        d = constraint(tfd.Normal, "scale", self.min_scale)(raw_diag)
        diag = tf.linalg.LinearOperatorDiag(d, is_positive_definite=True, is_non_singular=True)
        scale = tf.linalg.LinearOperatorLowRankUpdate(diag, u=d[..., None] * w, v=w, is_non_singular=True)
        return over_event(tfd.MultivariateNormalLinearOperator(loc=loc, scale=scale), event_shape)
