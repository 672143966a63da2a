"""Keras 3 layers whose `call` returns a `tfd.Distribution`."""

from tfpvae.layers.likelihood import Likelihood
from tfpvae.layers.posterior import Posterior
from tfpvae.layers.prior import Prior

__all__ = ["Likelihood", "Posterior", "Prior"]
