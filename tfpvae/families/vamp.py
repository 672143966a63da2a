"""VampPrior (Tomczak & Welling, arXiv:1705.07120): the posterior at learned pseudo-inputs.

p(z) = 1/K sum_k q(z | u_k), u_1..u_K learned points in data space. The prior
is built from the model's own encoder and posterior, so it is available
through `vae.prior()`. There is no closed-form KL to it: `kl="auto"` uses
Monte Carlo.
"""

import numpy as np

from tfpvae import checks
from tfpvae.backend import tf, tfp
from tfpvae.families.base import Family

tfd = tfp.distributions


class VampPrior(Family):
    """A uniform mixture of q(z|u_k) over K trainable pseudo-inputs u_k.

    Args:
      components: K, the number of pseudo-inputs.
      seed: seed of the pseudo-inputs' starting values (uniform in [0, 1]).
    """

    roles = ("prior",)
    trainable = True
    needs_encoder = True

    def __init__(self, name, components=50, seed=0):
        components = checks.positive_int(components, f"{name!r}: components")
        seed = checks.seed(seed, f"{name!r}: seed", allow_none=False)
        super().__init__(name, components=components, seed=seed)
        self.components, self.seed = components, seed

    def num_params(self, data_size):
        """K pseudo-inputs, each the size of one x."""
        return self.components * data_size

    def initial_params(self, data_size):
        return np.random.RandomState(self.seed).uniform(size=self.num_params(data_size)).astype(np.float32)

    def pseudo_inputs(self, params, data_shape):
        return tf.reshape(params, [self.components, *data_shape])

    def mixture(self, q):
        """p(z) from q(z|u) with batch shape [K]."""
        logits = tf.zeros([self.components])
        return tfd.MixtureSameFamily(tfd.Categorical(logits=logits), q)

    def example(self, event_size, posterior=None):
        """The mixture of K copies of the posterior at its starting parameters."""
        params = tf.zeros([self.components, posterior.num_params(event_size)])
        shared = posterior.initial_shared(event_size)
        if shared.size:
            return self.mixture(posterior.distribution(params, (event_size,), shared=tf.constant(shared)))
        return self.mixture(posterior.distribution(params, (event_size,)))

    def distribution(self, params, event_shape):
        raise ValueError("the 'vamp' prior is the posterior at pseudo-inputs: get it from vae.prior()")
