"""Mixture of K diagonal Gaussians: p(z) = sum_k pi_k N(z; mu_k, diag(sigma_k^2))."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfpvae import checks
from tfpvae.families.base import Family, constraint, inverse_softplus

tfd = tfp.distributions


class Mixture(Family):
    """A learnable Gaussian mixture, the usual multi-modal prior.

    No closed-form KL exists between a Gaussian and a mixture, so `kl="auto"`
    uses the Monte Carlo ELBO with it.

    Args:
      components: K, the number of Gaussians.
      min_scale: lower bound of each component's scale.
      seed: seed of the component means' random starting points.
    """

    roles = ("prior",)
    trainable = True

    def __init__(self, name, components=10, min_scale=1e-4, seed=0):
        components = checks.positive_int(components, f"{name!r}: components")
        min_scale = checks.real(min_scale, f"{name!r}: min_scale", strict=True)
        seed = checks.seed(seed, f"{name!r}: seed", allow_none=False)
        super().__init__(name, components=components, min_scale=min_scale, seed=seed)
        self.components, self.min_scale, self.seed = components, min_scale, seed

    def num_params(self, event_size):
        return self.components * (1 + 2 * event_size)

    def distribution(self, params, event_shape):
        (d,) = event_shape
        k = self.components
        logits, rest = tf.split(params, [k, 2 * k * d], axis=-1)
        rest = tf.reshape(rest, tf.concat([tf.shape(rest)[:-1], [k, d, 2]], axis=0))
        loc, raw_scale = tf.unstack(rest, num=2, axis=-1)
        scale = constraint(tfd.Normal, "scale", self.min_scale)(raw_scale)
        return tfd.MixtureSameFamily(
            mixture_distribution=tfd.Categorical(logits=logits),
            components_distribution=tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale),
        )

    def initial_params(self, event_size):
        k, d = self.components, event_size
        loc = np.random.RandomState(self.seed).normal(size=(k, d))
        raw_scale = np.full((k, d), inverse_softplus(1.0, self.min_scale))
        rest = np.stack([loc, raw_scale], axis=-1).reshape(-1)
        return np.concatenate([np.zeros(k), rest]).astype(np.float32)
