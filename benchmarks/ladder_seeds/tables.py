"""The table of the ladder-seeds benchmark: the block of docs/results/ladder_seeds.md."""

LABELS = {"tensorflow": "TensorFlow", "jax": "JAX"}


def block(results, part=None):
    """The page's table from a results file (a list of runs): per seed, each backend's active units per level
    and mean ELBO."""
    backends = [b for b in LABELS if any(run["backend"] == b for run in results)]
    cells = {(run["seed"], run["backend"]): run for run in results}
    lines = ["| seed | " + " | ".join(LABELS[b] for b in backends) + " |", "| ---: |" + " --- |" * len(backends)]
    for seed in sorted({run["seed"] for run in results}):
        row = [cells.get((seed, b)) for b in backends]
        lines.append(f"| {seed} | " + " | ".join(
            "-" if run is None else f"{' / '.join(map(str, run['active_units']))}, {run['elbo']:.2f}" for run in row)
            + " |")
    return "\n".join(lines)
