"""The tables of the parity benchmark: its report's, and the block of docs/results/parity.md."""

import statistics

BACKENDS = ("tensorflow", "jax")
LABELS = {"jax": "JAX", "tensorflow": "TensorFlow"}
TARGET = 0.3  # nats: |log p(x) on JAX - log p(x) on TensorFlow|


def by_seed(runs, key):
    """{seed: {backend: run[key]}}."""
    table = {}
    for run in runs:
        table.setdefault(run["seed"], {})[run["backend"]] = run[key]
    return table


def differences(runs, key):
    """[(label, JAX - TensorFlow)] per seed with both backends, then of the means over those seeds."""
    paired = {seed: v for seed, v in sorted(by_seed(runs, key).items()) if set(v) == set(BACKENDS)}
    rows = [(f"seed {seed}", v["jax"] - v["tensorflow"]) for seed, v in paired.items()]
    if len(paired) > 1:
        means = {b: statistics.mean(v[b] for v in paired.values()) for b in BACKENDS}
        rows.append((f"mean over the {len(paired)} seeds", means["jax"] - means["tensorflow"]))
    return rows


def runs_table(runs):
    """Markdown lines: a row per run, by seed, JAX first."""
    lines = ["| seed | backend | test log p(x) | test ELBO | active units | final training loss "
             "| construction + `fit` (s) |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for run in sorted(runs, key=lambda run: (run["seed"], run["backend"])):
        lines.append(f"| {run['seed']} | {LABELS[run['backend']]} | {run['test_log_px']:.2f} | "
                     f"{run['test_elbo']:.2f} | {run['active_units']} | {run['final_loss']:.2f} | "
                     f"{run['train_s']:.1f} |")
    return lines


def differences_table(runs):
    """Markdown lines: JAX - TensorFlow per seed and for the means, against the target."""
    lines = [f"| JAX - TensorFlow | log p(x) | ELBO | \\|log p(x) difference\\| <= {TARGET} |",
             "| --- | ---: | ---: | --- |"]
    for (label, log_px), (_, elbo) in zip(differences(runs, "test_log_px"), differences(runs, "test_elbo")):
        lines.append(f"| {label} | {log_px:+.2f} | {elbo:+.2f} | {'yes' if abs(log_px) <= TARGET else 'no'} |")
    return lines


def block(results, part=None):
    """The page's block from a results file: the runs, then JAX - TensorFlow."""
    return "\n".join(runs_table(results["runs"]) + [""] + differences_table(results["runs"]))
