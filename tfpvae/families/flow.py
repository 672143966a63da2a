"""A normalizing-flow prior: p(z) = N(0, I) pushed through masked autoregressive flows.

z = f(u), u ~ N(0, I), f a chain of MAF steps (Papamakarios et al.,
arXiv:1705.07057), so log p(z) = log N(f^-1(z)) + log |det d f^-1 / dz| in one
pass. There is no closed-form KL to it: `kl="auto"` uses Monte Carlo.
"""

import numpy as np

from tfpvae import checks
from tfpvae.backend import tf, tfp
from tfpvae.families import made
from tfpvae.families.base import Family

tfd = tfp.distributions


class Flow(Family):
    """A trainable flow prior.

    Args:
      steps: number of MAF steps.
      hidden: hidden units of each step's MADE network.
      seed: seed of the networks' starting weights.
    """

    roles = ("prior",)
    trainable = True

    def __init__(self, name, steps=2, hidden=32, seed=0):
        steps = checks.positive_int(steps, f"{name!r}: steps")
        hidden = checks.positive_int(hidden, f"{name!r}: hidden")
        seed = checks.seed(seed, f"{name!r}: seed", allow_none=False)
        super().__init__(name, steps=steps, hidden=hidden, seed=seed)
        self.steps, self.hidden, self.seed = steps, hidden, seed

    def num_params(self, event_size):
        return self.steps * made.size(event_size, self.hidden)

    def initial_params(self, event_size):
        return np.concatenate([made.initial(event_size, self.hidden, self.seed + i)
                               for i in range(self.steps)])

    def distribution(self, params, event_shape):
        (d,) = event_shape
        base = tfd.MultivariateNormalDiag(loc=tf.zeros([d]))
        return tfd.TransformedDistribution(base, made.flow(params, d, self.hidden, self.steps))
