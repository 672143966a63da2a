"""Discretized logistic likelihood over 256 grey levels (Salimans et al., arXiv:1701.05517).

p(k) = F((k + 1/2 - mu) / s) - F((k - 1/2 - mu) / s) with F the logistic CDF,
the mass below 0 and above 255 given to the end levels. TFP's
`QuantizedDistribution` gives level k the mass of (k - 1, k], so the logistic
it quantizes is centered at mu - 1/2. mu = 255 * sigmoid(raw), s = 255 *
(softplus(raw) + min_scale), so the parameters live on the [0, 1] scale of x.
"""

from tfpvae.backend import tf, tfp
from tfpvae.families.base import constraint, unflatten
from tfpvae.families.levels import LevelsFamily

tfd = tfp.distributions


class Logistic(LevelsFamily):
    """One discretized logistic per pixel: 2 parameters per pixel."""

    distribution_class = tfd.Logistic
    parameters = ("loc", "scale")

    def element(self, params, event_shape):
        raw_loc, raw_scale = unflatten(params, event_shape, 2)
        top = self.levels - 1
        scale = constraint(tfd.Logistic, "scale", self.min_scale)(raw_scale)
        base = tfd.Logistic(loc=top * tf.sigmoid(raw_loc) - 0.5, scale=top * scale)
        return tfd.QuantizedDistribution(base, low=0.0, high=float(top))
