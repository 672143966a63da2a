"""Training objectives, by name, and the bounds they are made of.

An objective spec is a name or `{"name": ..., **options}`:

>>> tfpvae.objectives.get("iwae")
>>> tfpvae.objectives.get({"name": "elbo", "beta": 4.0, "free_bits": 0.5})

Adding an objective is one file declaring an `Objective` subclass and one
line here; the shared objective tests then run on it.
"""

from tfpvae import checks
from tfpvae.objectives import aggregate, bounds
from tfpvae.objectives.base import Batch, Loss, Objective
from tfpvae.objectives.beta_tc import BetaTc
from tfpvae.objectives.capacity import Capacity
from tfpvae.objectives.ciwae import Ciwae
from tfpvae.objectives.dip_vae import DipVae
from tfpvae.objectives.dreg import DoublyReparameterized
from tfpvae.objectives.elbo import Elbo
from tfpvae.objectives.factor_vae import FactorVae
from tfpvae.objectives.iwae import Iwae
from tfpvae.objectives.miwae import Miwae
from tfpvae.objectives.mmd import Mmd
from tfpvae.objectives.piwae import Piwae
from tfpvae.objectives.stl import StickingTheLanding

_REGISTRY = {objective.name: objective for objective in (
    Elbo,
    Iwae,
    StickingTheLanding,
    DoublyReparameterized,
    Capacity,
    BetaTc,
    Mmd,
    Miwae,
    Ciwae,
    Piwae,
    FactorVae,
    DipVae,
)}


def names():
    """The available objective names."""
    return list(_REGISTRY)


def get(spec):
    """The objective a spec names.

    Args:
      spec: a name, a dict `{"name": ..., **options}`, or an `Objective`.

    Returns:
      An `Objective`.

    Raises:
      ValueError: for an unknown name or a bad option.
    """
    if isinstance(spec, Objective):
        return spec
    name, options = checks.spec(spec, "an objective spec must be")
    if name not in _REGISTRY:
        raise ValueError(f"objective must be one of {names()}; received {name!r}")
    unknown = sorted(set(options) - set(_REGISTRY[name].option_names()))
    if unknown:
        raise ValueError(f"unknown options {unknown} for objective {name!r}; its options: "
                         f"{_REGISTRY[name].option_names()}")
    try:
        return _REGISTRY[name](**options)
    except ValueError as error:
        raise ValueError(f"objective {name!r}: {error}") from None


def with_weights(spec, beta=1.0, free_bits=0.0):
    """The objective of `VAE(objective=spec, beta=beta, free_bits=free_bits)`.

    `beta` and `free_bits` other than their defaults become the objective's
    options of those names; the same option given twice with two values is
    an error, and so is an option the objective does not take.
    """
    beta, free_bits = checks.real(beta, "beta"), checks.real(free_bits, "free_bits")
    given = {key: value for key, value, default in (("beta", beta, 1.0), ("free_bits", free_bits, 0.0))
             if value != default}
    if isinstance(spec, Objective):
        if given:
            raise ValueError(f"give {sorted(given)} as options of the objective {spec!r}, not beside it")
        return spec
    name, options = checks.spec(spec, "an objective spec must be")
    for key, value in given.items():
        if key in options and options[key] != value:
            raise ValueError(f"{key} is given twice: {key}={value!r} and objective option "
                             f"{key}={options[key]!r}")
        if name in _REGISTRY and key not in _REGISTRY[name].option_names():
            raise ValueError(f"{key} is not an option of objective={name!r}, which has none by that "
                             f"name (its options: {_REGISTRY[name].option_names()})")
        options[key] = value
    return get({"name": name, **options})


__all__ = ["Batch", "Loss", "Objective", "aggregate", "bounds", "get", "names", "with_weights"]
