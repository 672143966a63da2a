"""The tables of the backends benchmark: its report's, and the blocks of docs/results/backends.md."""

import statistics

TARGETS = {"steady": 0.9, "over_tf": 1.4, "first_epoch": 1.2}
MEASUREMENTS = (("examples_per_s", "steady-state examples/s (epochs 2..E)", "{:,.0f}"),
                ("fit_s", "whole fit (s): build, compile, every epoch", "{:.2f}"),
                ("first_epoch_s", "first epoch (s): build, compile, epoch 1", "{:.2f}"))


def by_round(runs, key):
    """{(what, fit): [run[key] in round order]}."""
    table = {}
    for run in sorted(runs, key=lambda run: run["round"]):
        table.setdefault((run["what"], run["fit"]), []).append(run[key])
    return table


def table(values, rounds, title, form):
    """Markdown lines: a row per (what, fit), a column per round, and the median."""
    lines = [f"| {title} | fit | " + " | ".join(f"round {r + 1}" for r in range(rounds)) + " | median |",
             "| --- | --- |" + " ---: |" * (rounds + 1)]
    for (what, fit), row in values.items():
        lines.append(f"| {what} | {fit} | " + " | ".join(form.format(v) for v in row)
                     + f" | {form.format(statistics.median(row))} |")
    return lines


def measurements(runs, rounds):
    """Markdown lines: a table per measurement, then the targets' ratios."""
    lines = []
    for key, title, form in MEASUREMENTS:
        lines += table(by_round(runs, key), rounds, title, form) + [""]
    return lines + targets(runs, rounds)


def ratios(numerator, denominator, invert=False):
    """Round-by-round numerator / denominator (denominator / numerator with `invert`)."""
    return [(d / n if invert else n / d) for n, d in zip(numerator, denominator)]


def targets(runs, rounds):
    """Markdown lines: each ratio per round and its median, and whether the median meets its target
    (the targets: steady state against the reference and against TensorFlow, the long fit's whole-fit
    speed against TensorFlow, the first epoch against TensorFlow's; the other ratios are for reading)."""
    rate, fit_s, first = (by_round(runs, key) for key in ("examples_per_s", "fit_s", "first_epoch_s"))
    checks = []
    for fit in ("short", "long"):
        jax, ref, tf = (("tfpvae-jax", fit), ("keras3-jax", fit), ("tfpvae-tf", fit))
        if jax in rate and ref in rate:
            checks.append((f"{fit}: steady examples/s, tfpvae-jax / keras3-jax", ratios(rate[jax], rate[ref]),
                           ">=", TARGETS["steady"]))
        if jax in rate and tf in rate:
            checks.append((f"{fit}: steady examples/s, tfpvae-jax / tfpvae-tf", ratios(rate[jax], rate[tf]),
                           ">=", TARGETS["over_tf"]))
            checks.append((f"{fit}: whole-fit speed, tfpvae-tf fit s / tfpvae-jax fit s",
                           ratios(fit_s[jax], fit_s[tf], invert=True), ">=",
                           TARGETS["over_tf"] if fit == "long" else None))
            checks.append((f"{fit}: first epoch, tfpvae-jax s / tfpvae-tf s", ratios(first[jax], first[tf]),
                           "<=", TARGETS["first_epoch"]))
        if ref in rate and tf in rate:
            checks.append((f"{fit}: steady examples/s, keras3-jax / tfpvae-tf", ratios(rate[ref], rate[tf]),
                           ">=", None))
        if jax in fit_s and ref in fit_s:
            checks.append((f"{fit}: whole-fit speed, keras3-jax fit s / tfpvae-jax fit s",
                           ratios(fit_s[jax], fit_s[ref], invert=True), ">=", None))
    lines = ["| ratio | " + " | ".join(f"round {r + 1}" for r in range(rounds)) + " | median | target | met |",
             "| --- |" + " ---: |" * (rounds + 1) + " --- | --- |"]
    for name, values, op, target in checks:
        median = statistics.median(values)
        shown, cells = f"{median:.2f}", "| |"
        if target is not None:
            met = median >= target if op == ">=" else median <= target
            cells = f"{op} {target} | {'yes' if met else 'no'} |"
            if not met and (float(shown) >= target if op == ">=" else float(shown) <= target):
                shown += f" ({median:.3f})"  # a miss that two decimals would hide
        lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + f" | {shown} | {cells}")
    return lines


def block(results, part=None):
    """A block of the page from a results file: every table (no part), one measurement's table with a
    `what` column (part examples_per_s, fit_s or first_epoch_s), or the targets' ratios (part targets)."""
    runs, rounds = results["runs"], results["setup"]["rounds"]
    if part is None:
        return "\n".join(measurements(runs, rounds))
    if part == "targets":
        return "\n".join(targets(runs, rounds))
    key, _, form = next(m for m in MEASUREMENTS if m[0] == part)
    return "\n".join(table(by_round(runs, key), rounds, "what", form))
