"""The family table in README, generated from the registry so it cannot drift."""

import numpy as np
import tensorflow as tf

from tfpvae import objectives

KL_NAMES = {"analytic": "analytic", "mc": "Monte Carlo"}
SIZE = 10  # the latent size of the examples: 1 group of the discrete families' 10 categories


def standard_normal():
    from tfpvae.families import get

    family = get("normal", role="prior")
    return family.distribution(family.initial_params(SIZE), (SIZE,))


def example(role, family):
    """A small instance of the family over R^SIZE (a prior or a posterior)."""
    if getattr(family, "needs_encoder", False):
        from tfpvae.families import get

        q = get("normal", role="posterior")
        return family.mixture(q.distribution(tf.zeros([family.components, 2 * SIZE]), (SIZE,)))
    if role == "prior":
        return family.distribution(family.initial_params(SIZE), (SIZE,))
    params = tf.zeros([1, family.num_params(SIZE)])
    shared = family.initial_shared(SIZE)
    if shared.size:
        return family.distribution(params, (SIZE,), shared=shared)
    return family.distribution(params, (SIZE,))


def kl_column(role, family):
    """Which KL the ELBO uses with the default partner (a normal posterior or prior)."""
    if role == "likelihood":
        return ""
    this = example(role, family)
    if role == "prior":
        from tfpvae.families import get

        q = get("normal", role="posterior").distribution(tf.zeros([1, 2 * SIZE]), (SIZE,))
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
