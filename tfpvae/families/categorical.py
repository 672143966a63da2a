"""Categorical likelihood over 256 grey levels: one softmax per pixel."""

from tfpvae.backend import ps, tf, tfp
from tfpvae.families.levels import LevelsFamily

tfd = tfp.distributions


class Categorical(LevelsFamily):
    """p(x = k / 255) = softmax(logits)_k per pixel, 256 logits per pixel.

    The most flexible per-pixel model of 8-bit data (van den Oord et al.,
    arXiv:1601.06759), and the most parameters: 256 per pixel.
    """

    def num_params(self, event_size):
        return self.levels * event_size

    def element(self, params, event_shape):
        shape = ps.concat([ps.shape(params)[:-1], list(event_shape), [self.levels]], axis=0)
        return tfd.Categorical(logits=tf.reshape(params, shape), dtype=tf.float32)
