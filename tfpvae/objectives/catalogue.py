"""The objective table in README and on the site, generated from the registry so it cannot drift."""

import inspect


def options(objective_class):
    parameters = list(inspect.signature(objective_class.__init__).parameters.values())[1:]
    return ", ".join(f"`{p.name}={p.default!r}`" for p in parameters
                     if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def table():
    """A markdown table of every objective: name, what it is, options, metrics of its own, reference."""
    from tfpvae.objectives import _REGISTRY

    rows = ["| name | what it is | options (defaults) | metrics beside loss, elbo, reconstruction, kl "
            "| reference |", "| --- | --- | --- | --- | --- |"]
    for name, objective_class in _REGISTRY.items():
        module = inspect.getmodule(objective_class)
        summary = (objective_class.__doc__ or "").strip().splitlines()[0].rstrip(".")
        reference = (module.__doc__ or "").strip().splitlines()[0].rstrip(".")
        metrics = ", ".join(f"`{m}`" for m in objective_class.metric_names)
        rows.append(f"| `{name}` | {summary} | {options(objective_class)} | {metrics} | {reference} |")
    return "\n".join(rows)
