"""Full-covariance Gaussian: N(loc, L L^T) with L lower triangular."""

from tfpvae import checks
from tfpvae.backend import tf, tfp
from tfpvae.families.base import MIN_SCALE, Family, over_event

tfd = tfp.distributions
tfb = tfp.bijectors


class MultivariateNormalTriL(Family):
    """A Gaussian with a full covariance, through its Cholesky factor L.

    L's diagonal is softplus(raw) + min_scale, its strict lower triangle is
    unconstrained (what `tfb.FillScaleTriL` computes, written with masks: the
    gradient of FillScaleTriL's `set_diag` needs static shapes, which XLA
    lacks for a batch of another size, such as an epoch's last). It needs n + n(n+1)/2 parameters for an
    event of n elements, so as a likelihood it suits low-dimensional data.
    Over an image-shaped event, the vector is reshaped to the event shape.

    Args:
      min_scale: lower bound of the diagonal of L.
    """

    roles = ("posterior", "likelihood")
    fits = "low-dimensional real-valued data with correlated dimensions"

    def __init__(self, name, min_scale=MIN_SCALE):
        min_scale = checks.real(min_scale, f"{name!r}: min_scale", strict=True)
        super().__init__(name, min_scale=min_scale)
        self.min_scale = min_scale

    def num_params(self, event_size):
        return event_size + event_size * (event_size + 1) // 2

    def scale_tril(self):
        """The map from raw [..., n(n+1)/2] to L [..., n, n]."""
        def fill(raw):
            lower = tfb.FillTriangular().forward(raw)
            eye = tf.eye(lower.shape[-1], dtype=lower.dtype)
            diagonal = tf.reduce_sum(lower * eye, axis=-1, keepdims=True)
            return lower * (1.0 - eye) + eye * (tf.math.softplus(diagonal) + self.min_scale)
        return fill

    def distribution(self, params, event_shape):
        n = int(tf.TensorShape(event_shape).num_elements())
        loc, raw = tf.split(params, [n, n * (n + 1) // 2], axis=-1)
        mvn = tfd.MultivariateNormalTriL(loc=loc, scale_tril=self.scale_tril()(raw))
        return over_event(mvn, event_shape)
