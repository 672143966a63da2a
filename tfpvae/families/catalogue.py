"""The family table in README and on the site, generated from the registry so it cannot drift."""

import numpy as np

from tfpvae.objectives import bounds

KL_NAMES = {"analytic": "analytic", "mc": "Monte Carlo"}
SIZE = 10  # the latent size of the examples: 1 group of the discrete families' 10 categories


def example(role, family):
    """A small instance of the family over R^SIZE (a prior or a posterior)."""
    from tfpvae.families import get

    return family.example(SIZE, posterior=get("normal", role="posterior"))


def kl_column(role, family):
    """Which KL the ELBO uses with the default partner (a normal posterior or prior)."""
    if role == "likelihood":
        return ""
    this = example(role, family)
    from tfpvae.families import get

    if role == "prior":
        return KL_NAMES[bounds.kl_form(get("normal", role="posterior").example(SIZE), this)]
    return KL_NAMES[bounds.kl_form(this, get("normal", role="prior").example(SIZE))]


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
