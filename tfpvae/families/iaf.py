"""Inverse autoregressive flow posterior (Kingma et al., arXiv:1606.04934).

z = f(z_0), z_0 ~ N(loc(x), diag(scale(x)^2)), each step of f affine with a
shift and scale that depend autoregressively on its input, so sampling z and
scoring it take one pass each. The flow's MADE networks are shared by all x.
No closed-form KL exists: `kl="auto"` uses Monte Carlo.
"""

import numpy as np

from tfpvae import checks
from tfpvae.backend import tfp
from tfpvae.families import made
from tfpvae.families.independent import DEFAULT
from tfpvae.families.normal import Normal

tfd = tfp.distributions
tfb = tfp.bijectors


class InverseAutoregressiveFlow(Normal):
    """A diagonal Gaussian from the encoder, then `steps` IAF steps.

    Args:
      steps: number of flow steps.
      hidden: hidden units of each step's MADE network.
      min_scale: lower bound of the Gaussian's scale.
      seed: seed of the networks' starting weights (the flow starts as the
        identity, so q starts as the diagonal Gaussian).
    """

    roles = ("posterior",)

    def __init__(self, name, steps=2, hidden=32, min_scale=DEFAULT, seed=0):
        super().__init__(name, min_scale=min_scale)
        steps = checks.positive_int(steps, f"{name!r}: steps")
        hidden = checks.positive_int(hidden, f"{name!r}: hidden")
        seed = checks.seed(seed, f"{name!r}: seed", allow_none=False)
        self.options.update(steps=steps, hidden=hidden, seed=seed)
        self.steps, self.hidden, self.seed = steps, hidden, seed

    def initial_shared(self, event_size):
        return np.concatenate([made.initial(event_size, self.hidden, self.seed + i)
                               for i in range(self.steps)])

    def distribution(self, params, event_shape, shared=None):
        (d,) = event_shape
        base = super().distribution(params, event_shape)
        return tfd.TransformedDistribution(base, tfb.Invert(made.flow(shared, d, self.hidden, self.steps)))
