"""Mixture of K diagonal Gaussians: p(z) = sum_k pi_k N(z; mu_k, diag(sigma_k^2))."""

import numpy as np

from tfpvae import checks
from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import MIN_SCALE, Family
from tfpvae.families.normal import Normal

tfd = tfp.distributions


class Mixture(Family):
    """A learnable Gaussian mixture, the usual multi-modal prior.

    Its parameters are K logits, then each component's parameters laid out
    as the `normal` family lays out its own. No closed-form KL exists between
    a Gaussian and a mixture, so `kl="auto"` uses the Monte Carlo ELBO with it.

    Args:
      components: K, the number of Gaussians.
      min_scale: lower bound of each component's scale.
      seed: seed of the component means' random starting points.
    """

    roles = ("prior",)
    trainable = True

    def __init__(self, name, components=10, min_scale=MIN_SCALE, seed=0):
        components = checks.positive_int(components, f"{name!r}: components")
        min_scale = checks.real(min_scale, f"{name!r}: min_scale", strict=True)
        seed = checks.seed(seed, f"{name!r}: seed", allow_none=False)
        super().__init__(name, components=components, min_scale=min_scale, seed=seed)
        self.components, self.min_scale, self.seed = components, min_scale, seed
        self.component = Normal("normal", min_scale=min_scale)

    def num_params(self, event_size):
        return self.components * (1 + self.component.num_params(event_size))

    def distribution(self, params, event_shape):
        k = self.components
        logits, rest = tf.split(params, [k, k * self.component.num_params(event_shape[0])], axis=-1)
        rest = tf.reshape(rest, ps.concat([ps.shape(rest)[:-1], [k, -1]], axis=0))
        return tfd.MixtureSameFamily(mixture_distribution=tfd.Categorical(logits=logits),
                                     components_distribution=self.component.distribution(rest, event_shape))

    def initial_params(self, event_size):
        """Zero logits; component k at a N(0, I) draw of its mean, with unit scale."""
        params = np.tile(self.component.initial_params(event_size), [self.components, 1]).reshape(
            self.components, event_size, 2)
        params[..., 0] = np.random.RandomState(self.seed).normal(size=(self.components, event_size))
        return np.concatenate([np.zeros(self.components), params.reshape(-1)]).astype(np.float32)
