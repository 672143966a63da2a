"""Diagonal Gaussian: N(loc, diag(scale^2)), scale = softplus(raw) + min_scale."""

import numpy as np
import tensorflow_probability as tfp

from tfpvae.families.base import constraint, inverse_softplus, unflatten
from tfpvae.families.independent import Independent

tfd = tfp.distributions


class Normal(Independent):
    """A diagonal Gaussian over the event.

    Over a vector (a latent z) it is a `tfd.MultivariateNormalDiag`, so its KL
    to and from the other Gaussian families is analytic; over an image it is
    `tfd.Independent(tfd.Normal)`. As a prior its loc and scale are free
    weights, starting at N(0, I).
    """

    roles = ("prior", "posterior", "likelihood")
    distribution_class = tfd.Normal
    parameters = ("loc", "scale")
    trainable = True
    fits = "real-valued data"

    def distribution(self, params, event_shape):
        if len(event_shape) != 1:
            return super().distribution(params, event_shape)
        loc, raw_scale = unflatten(params, event_shape, 2)
        scale = constraint(tfd.Normal, "scale", self.min_scale)(raw_scale)
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)

    def initial_params(self, event_size):
        raw_scale = inverse_softplus(1.0, self.min_scale)
        loc_scale = [np.zeros(event_size), np.full(event_size, raw_scale)]
        return np.stack(loc_scale, axis=-1).reshape(-1).astype(np.float32)


class StandardNormal(Normal):
    """The fixed prior N(0, I): a `normal` whose parameters are not trained."""

    roles = ("prior",)
    trainable = False
