"""The distribution families, by role, and the registry that finds them.

A spec is a name or `{"name": ..., **options}`:

>>> tfpvae.families.get("mixture", role="prior")
>>> tfpvae.families.get({"name": "mixture", "components": 5}, role="prior")

Adding a family is one file declaring a `Family` subclass and one line here.
"""

from tfpvae import checks
from tfpvae.families.base import ROLES, Family
from tfpvae.families.bernoulli import Bernoulli
from tfpvae.families.beta import Beta
from tfpvae.families.categorical import Categorical
from tfpvae.families.categorical_prior import CategoricalPrior
from tfpvae.families.continuous_bernoulli import ContinuousBernoulli
from tfpvae.families.flow import Flow
from tfpvae.families.iaf import InverseAutoregressiveFlow
from tfpvae.families.laplace import Laplace
from tfpvae.families.logistic import Logistic
from tfpvae.families.logistic_mixture import LogisticMixture
from tfpvae.families.low_rank import LowRank
from tfpvae.families.mixture import Mixture
from tfpvae.families.mvn_tril import MultivariateNormalTriL
from tfpvae.families.negative_binomial import NegativeBinomial
from tfpvae.families.normal import Normal, StandardNormal
from tfpvae.families.normal_mixture import NormalMixture
from tfpvae.families.poisson import Poisson
from tfpvae.families.power_spherical import PowerSpherical
from tfpvae.families.relaxed_categorical import RelaxedCategorical
from tfpvae.families.spherical_uniform import SphericalUniform
from tfpvae.families.student_t import StudentT
from tfpvae.families.vamp import VampPrior
from tfpvae.families.von_mises_fisher import VonMisesFisher

_REGISTRY = {
    "prior": {
        "normal": StandardNormal,
        "learned_normal": Normal,
        "mixture": Mixture,
        "vamp": VampPrior,
        "flow": Flow,
        "spherical_uniform": SphericalUniform,
        "categorical": CategoricalPrior,
        "student_t": StudentT,
        "laplace": Laplace,
    },
    "posterior": {
        "normal": Normal,
        "mvn_tril": MultivariateNormalTriL,
        "low_rank": LowRank,
        "iaf": InverseAutoregressiveFlow,
        "von_mises_fisher": VonMisesFisher,
        "power_spherical": PowerSpherical,
        "relaxed_categorical": RelaxedCategorical,
        "student_t": StudentT,
        "laplace": Laplace,
    },
    "likelihood": {
        "bernoulli": Bernoulli,
        "continuous_bernoulli": ContinuousBernoulli,
        "normal": Normal,
        "mvn_tril": MultivariateNormalTriL,
        "low_rank": LowRank,
        "beta": Beta,
        "logistic": Logistic,
        "logistic_mixture": LogisticMixture,
        "categorical": Categorical,
        "poisson": Poisson,
        "negative_binomial": NegativeBinomial,
        "student_t": StudentT,
        "normal_mixture": NormalMixture,
        "laplace": Laplace,
    },
}


def names():
    """The available family names, by role."""
    return {role: list(families) for role, families in _REGISTRY.items()}


def get(spec, role):
    """The family a spec names, for one role.

    Args:
      spec: a name, a dict `{"name": ..., **options}`, or a `Family`.
      role: "prior", "posterior" or "likelihood".

    Returns:
      A `Family`.

    Raises:
      ValueError: for an unknown role, name or option.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {list(ROLES)}; received {role!r}")
    if isinstance(spec, Family):
        return spec
    name, options = checks.spec(spec, f"a {role} spec must be")
    valid = _REGISTRY[role]
    if name not in valid:
        raise ValueError(f"unknown {role} family {name!r}; valid {role} families: {list(valid)}")
    try:
        return valid[name](name, **options)
    except TypeError as error:
        raise ValueError(f"bad options for {role} family {name!r}: {error}") from None
    except ValueError as error:
        raise ValueError(_with_role(str(error), role, name)) from None


def _with_role(message, role, name):
    """A family's error message led by the role it was asked for ("prior 'mixture': ...")."""
    return f"{role} {message}" if message.startswith(repr(name)) else f"{role} {name!r}: {message}"


__all__ = ["Family", "ROLES", "get", "names"]
