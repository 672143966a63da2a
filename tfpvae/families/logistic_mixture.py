"""Discretized mixture of logistics over 256 grey levels (Salimans et al., PixelCNN++).

Per pixel, K logistics with weights softmax(logits), each discretized as in
`logistic`: p(k) = sum_j pi_j [F_j(k + 1/2) - F_j(k - 1/2)]. Each component is
quantized before mixing, so the mixture's log-mass is a stable logsumexp of
the components' log-masses.
"""

from tfpvae import checks
from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import constraint
from tfpvae.families.independent import DEFAULT
from tfpvae.families.levels import LevelsFamily

tfd = tfp.distributions


class LogisticMixture(LevelsFamily):
    """K discretized logistics per pixel: 3K parameters per pixel.

    Args:
      components: K.
      min_scale: lower bound of each logistic's scale, in units of x.
    """

    distribution_class = tfd.Logistic
    parameters = ("loc", "scale")

    def __init__(self, name, components=5, min_scale=DEFAULT):
        super().__init__(name, min_scale=min_scale)
        self.components = checks.positive_int(components, f"{name!r}: components")
        self.options["components"] = self.components

    def num_params(self, event_size):
        return 3 * self.components * event_size

    def element(self, params, event_shape):
        k, top = self.components, self.levels - 1
        shape = ps.concat([ps.shape(params)[:-1], list(event_shape), [3, k]], axis=0)
        logits, raw_loc, raw_scale = tf.unstack(tf.reshape(params, shape), num=3, axis=-2)
        scale = constraint(tfd.Logistic, "scale", self.min_scale)(raw_scale)
        components = tfd.Logistic(loc=top * tf.sigmoid(raw_loc) - 0.5, scale=top * scale)
        return tfd.MixtureSameFamily(
            mixture_distribution=tfd.Categorical(logits=logits),
            components_distribution=tfd.QuantizedDistribution(components, low=0.0, high=float(top)),
        )
