"""The family table in README, generated from the registry so it cannot drift."""

import numpy as np
import tensorflow as tf

from tfpvae import objectives

KL_NAMES = {"analytic": "analytic", "mc": "Monte Carlo"}


def standard_normal():
    from tfpvae.families import get

    family = get("normal", role="prior")
    return family.distribution(family.initial_params(2), (2,))


def example(role, family):
    """A small instance of the family over R^2 (a prior or a posterior)."""
    if getattr(family, "needs_encoder", False):
        from tfpvae.families import get

        q = get("normal", role="posterior")
        return family.mixture(q.distribution(tf.zeros([family.components, 4]), (2,)))
    if role == "prior":
        return family.distribution(family.initial_params(2), (2,))
    params = tf.zeros([1, family.num_params(2)])
    shared = family.initial_shared(2)
    if shared.size:
        return family.distribution(params, (2,), shared=shared)
    return family.distribution(params, (2,))


def kl_column(role, family):
    """Which KL the ELBO uses with the default partner (a normal posterior or prior)."""
    if role == "likelihood":
        return ""
    this = example(role, family)
    if role == "prior":
        from tfpvae.families import get

        q = get("normal", role="posterior").distribution(tf.zeros([1, 4]), (2,))
        return KL_NAMES[objectives.kl_form(q, this)]
    return KL_NAMES[objectives.kl_form(this, standard_normal())]


def options(family):
    config = family.get_config()
    config.pop("name")
    return ", ".join(f"`{k}={v!r}`" for k, v in config.items())


def table():
    """A markdown table of every family: role, name, summary, data it fits, size, options, KL form."""
    from tfpvae.families import get, names

    rows = ["| role | name | what it is | fits | raw parameters (n = 10) | options (defaults) "
            "| KL with a normal partner |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for role, role_names in names().items():
        for name in role_names:
            family = get(name, role=role)
            summary = (type(family).__doc__ or "").strip().splitlines()[0].rstrip(".").replace("|", "\\|")
            count = family.num_params(10) + int(np.size(family.initial_shared(10)))
            fits = family.fits if role == "likelihood" else ""
            rows.append(f"| {role} | `{name}` | {summary} | {fits} | {count} | {options(family)} | "
                        f"{kl_column(role, family)} |")
    return "\n".join(rows)
