"""Mixture of K diagonal Gaussians over the whole event (a mixture density network's output).

p(x) = sum_k pi_k N(x; mu_k, diag(sigma_k^2)), pi = softmax(logits),
sigma_k = softplus(raw_k) + min_scale (Bishop, Mixture Density Networks, 1994).
"""

from tfpvae import checks
from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import Family, constraint

tfd = tfp.distributions


class NormalMixture(Family):
    """K Gaussians with diagonal covariances, mixed: K (1 + 2n) parameters for n elements.

    The raw parameters are the K logits, then for each component its n
    locations and n raw scales. The components share one set of weights per
    example, so the mixture captures several modes of the whole event
    (unlike per-element mixtures).

    Args:
      components: K.
      min_scale: lower bound of each component's scale.
    """

    roles = ("likelihood",)
    fits = "multi-modal real-valued data"

    def __init__(self, name, components=5, min_scale=1e-4):
        components = checks.positive_int(components, f"{name!r}: components")
        min_scale = checks.real(min_scale, f"{name!r}: min_scale", strict=True)
        super().__init__(name, components=components, min_scale=min_scale)
        self.components, self.min_scale = components, min_scale

    def num_params(self, event_size):
        return self.components * (1 + 2 * event_size)

    def distribution(self, params, event_shape):
        k, n = self.components, int(tf.TensorShape(event_shape).num_elements())
        logits, rest = tf.split(params, [k, 2 * k * n], axis=-1)
        shape = ps.concat([ps.shape(rest)[:-1], [k, 2], list(event_shape)], axis=0)
        loc, raw_scale = tf.unstack(tf.reshape(rest, shape), num=2, axis=-1 - len(event_shape))
        scale = constraint(tfd.Normal, "scale", self.min_scale)(raw_scale)
        components = tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=len(event_shape))
        return tfd.MixtureSameFamily(mixture_distribution=tfd.Categorical(logits=logits),
                                     components_distribution=components)
