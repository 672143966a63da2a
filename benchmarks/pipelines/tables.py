"""The tables of the pipelines benchmark: its report's, and the block of docs/results/pipelines.md."""

import statistics

PIPELINES = ("per_example", "batch_then_map", "to_dataset", "numpy", "step", "per_example_numpy")
LABELS = {"per_example": "per-example map, then batch", "batch_then_map": "batch, then map whole batches",
          "to_dataset": '`tfpvae.data.to_dataset(binarize="dynamic")`',
          "numpy": "numpy arrays (`fit(x)`, static binarization)",
          "step": "the step alone (one batch repeated)",
          "per_example_numpy": "per-example map in numpy (`tf.py_function`), then batch"}


def cell(runs, name, key):
    """'median [min-max]' of run[key] over the rounds of pipeline `name`."""
    values = [r[key] for r in runs if r["pipeline"] == name]
    return f"{statistics.median(values):,.0f} [{min(values):,.0f}-{max(values):,.0f}]"


def rows(runs):
    """(name, median fit / the step's, median fit / alone, warned, runs) per pipeline that ran."""
    names = [n for n in PIPELINES if any(r["pipeline"] == n for r in runs)]
    step = statistics.median(r["fit"] for r in runs if r["pipeline"] == "step") if "step" in names else None
    for name in names:
        mine = [r for r in runs if r["pipeline"] == name]
        fit = statistics.median(r["fit"] for r in mine)
        share = f"{fit / step:.2f}" if step else "-"
        yield name, share, fit / statistics.median(r["alone"] for r in mine), sum(r["warned"] for r in mine), mine


def report_table(runs):
    """Markdown lines: the report's table, median [min, max] over rounds per pipeline."""
    lines = ["| pipeline | alone, examples/s | fit, examples/s | fit / step's rate | fit / alone | check warned |",
             "|---|---|---|---|---|---|"]
    for name, share, over_alone, warned, mine in rows(runs):
        lines.append(f"| {name} | {cell(runs, name, 'alone')} | {cell(runs, name, 'fit')} | {share} | "
                     f"{over_alone:.2f} | {warned} of {len(mine)} |")
    return lines


def block(results, part=None):
    """The page's table from a results file: the pipelines by what they are, and whether the check (which
    watches datasets only) warned."""
    runs = results["runs"]
    lines = ["| pipeline | alone, examples/s | fit, examples/s | fit / step's rate | check warned |",
             "|---|---|---|---|---|"]
    for name, share, _, warned, mine in rows(runs):
        checked = all("check_starved" in r for r in mine)
        lines.append(f"| {LABELS[name]} | {cell(runs, name, 'alone')} | {cell(runs, name, 'fit')} | {share} | "
                     f"{f'{warned} of {len(mine)}' if checked else '-'} |")
    return "\n".join(lines)
