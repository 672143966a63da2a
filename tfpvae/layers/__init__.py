"""Keras 3 distribution layers.

`Prior`, `Posterior` and `Likelihood` return a `tfd.Distribution` from
`call`; `tfpvae.VAE` is built from them. `DistributionHead`, `KLDivergence`
and `Sample` pass tensors only (a distribution's raw parameters, or a draw),
so they work in Sequential and functional models, `predict`, `.keras` files
and exported SavedModels.
"""

from tfpvae.layers.distribution_head import DistributionHead
from tfpvae.layers.kl_divergence import KLDivergence
from tfpvae.layers.likelihood import Likelihood
from tfpvae.layers.posterior import Posterior
from tfpvae.layers.prior import Prior
from tfpvae.layers.sample import Sample

__all__ = ["DistributionHead", "KLDivergence", "Likelihood", "Posterior", "Prior", "Sample"]
