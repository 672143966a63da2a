"""Post-hoc samplers: densities over z fitted to a trained VAE's aggregate
posterior and drawn from in place of its prior.

    sampler = tfpvae.samplers.fit(vae, x_train, "gmm", components=10)
    x = vae.sample(64, sampler=sampler)
    sampler.save("gmm_sampler")
    again = tfpvae.samplers.load("gmm_sampler")

Kinds: "prior" (the model's p(z)), "gmm" (a Gaussian mixture by EM),
"flow" (a masked autoregressive flow), "two_stage" (a second VAE on z). Each
but the prior is fitted to the posterior means E_q[z|x_n] of the examples
given (`base.posterior_means`).
"""

import json
from pathlib import Path

import numpy as np

from tfpvae import checks
from tfpvae.samplers.base import CONFIG, WEIGHTS, Sampler, posterior_means
from tfpvae.samplers.flow import Flow, FlowDensity
from tfpvae.samplers.gmm import GaussianMixture
from tfpvae.samplers.prior import Prior
from tfpvae.samplers.two_stage import TwoStage

_REGISTRY = {cls.kind: cls for cls in (Prior, GaussianMixture, Flow, TwoStage)}


def names():
    """The sampler kinds."""
    return list(_REGISTRY)


def make(latent_dim, kind="prior", **options):
    """An unfitted sampler of a kind (a name or {"name": ..., **options}), its options checked."""
    name, spec_options = checks.spec(kind, "a sampler kind must be")
    if name not in _REGISTRY:
        raise ValueError(f"unknown sampler kind {name!r}; valid kinds: {names()}")
    try:
        return _REGISTRY[name](latent_dim, **{**spec_options, **options})
    except TypeError as error:
        raise ValueError(f"bad options for sampler {name!r}: {error}") from None


def fit(vae, x, kind="prior", **options):
    """A sampler fitted to the aggregate posterior of `vae` over the examples x.

    The options are checked first; then x is encoded to its posterior means
    E_q[z|x_n] (`posterior_means`) and the sampler is fitted to them. The
    "prior" sampler encodes nothing (x may be None).

    Args:
      vae: a trained `tfpvae.VAE`.
      x: the examples [N, *event_shape], usually the training set; (x, c)
        for a conditional VAE.
      kind: "prior", "gmm", "flow" or "two_stage", or {"name": kind, **options}.
      **options: the kind's options (see `GaussianMixture`, `Flow`, `TwoStage`).

    Returns:
      The fitted `Sampler`: `.sample(n, seed=None)` gives z [n, latent_dim],
      `.log_prob(z)` its log-density, `.save(path)` its files.

    Example:
      >>> sampler = tfpvae.samplers.fit(vae, x_train, "gmm", components=10, covariance="diag")
      >>> z = sampler.sample(100, seed=0)          # numpy [100, latent_dim]
      >>> x = vae.sample(100, sampler=sampler)     # decoded
    """
    sampler = make(vae.latent_size, kind, **options)
    codes = posterior_means(vae, x) if sampler.needs_codes else None
    return sampler.fit(codes, vae)


def load(path, vae=None):
    """The sampler saved in the folder `path` by `Sampler.save`.

    Args:
      path: the folder.
      vae: the model it samples for; needed by a "prior" sampler, and
        checked against the sampler's latent_dim where given.
    """
    path = Path(path)
    for name in (CONFIG, WEIGHTS):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{str(path)!r} is not a saved sampler: {name} is missing")
    try:
        config = json.loads((path / CONFIG).read_text())
    except ValueError:
        raise ValueError(f"{str(path / CONFIG)!r} is not valid JSON") from None
    if not isinstance(config, dict) or "kind" not in config or "latent_dim" not in config:
        raise ValueError(f"{str(path / CONFIG)!r} must hold a sampler's kind and latent_dim; received {config!r}")
    kind, latent_dim = config.pop("kind"), config.pop("latent_dim")
    sampler = make(latent_dim, kind, **config)
    if vae is not None:
        sampler.check_model(vae)
    with np.load(path / WEIGHTS, allow_pickle=False) as arrays:
        weights = {name: arrays[name] for name in arrays.files}
    return sampler.restore(weights, vae)


def check(sampler, vae):
    """Raises unless `sampler` is a fitted sampler of z for `vae`."""
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be a tfpvae.samplers sampler (tfpvae.samplers.fit); "
                        f"received {type(sampler).__name__}")
    sampler.check_model(vae)
    sampler.check_fitted()


__all__ = ["Flow", "FlowDensity", "GaussianMixture", "Prior", "Sampler", "TwoStage", "check", "fit", "load",
           "make", "names", "posterior_means"]
