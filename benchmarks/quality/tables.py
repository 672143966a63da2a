"""The tables of the quality benchmark: its report's, and the blocks of docs/results/quality.md."""

import statistics


def mean_sd(values):
    """'mean' or 'mean ± sd' of a list of numbers."""
    mean = statistics.mean(values)
    return f"{mean:.2f}" if len(values) < 2 else f"{mean:.2f} ± {statistics.stdev(values):.2f}"


def kingma_welling_table(curves):
    """Markdown lines from {latent size: [points]}: a row per evaluation point, train / test ELBO per size."""
    latents = list(curves)
    lines = ["| epoch | examples seen | " + " | ".join(f"latent {n}: train / test" for n in latents) + " |",
             "| ---: | ---: | " + " | ".join("---:" for _ in latents) + " |"]
    for i, point in enumerate(curves[latents[0]]):
        cells = [f"{curves[n][i]['train_elbo']:.2f} / {curves[n][i]['test_elbo']:.2f}" for n in latents]
        lines.append(f"| {point['epoch']} | {point['examples_seen']:,} | " + " | ".join(cells) + " |")
    return lines


def equal_budget_table(results, train_time=True):
    """Markdown lines: a row per contender, mean (± sd over seeds) of each score (and of the train time)."""
    keys = ["test_elbo", "test_log_px", "train_elbo"] + (["train_s"] if train_time else [])
    lines = ["| model | objective | test ELBO | test log p(x) | train ELBO |", "| --- | --- | ---: | ---: | ---: |"]
    if train_time:
        lines = [lines[0] + " train time (s) |", lines[1] + " ---: |"]
    for result in results:
        cells = [mean_sd([score[key] for score in result["per_seed"]]) for key in keys]
        lines.append(f"| {result['model']} | {result['objective']} | " + " | ".join(cells) + " |")
    return lines


def block(results, part):
    """A block of the page from a results file: the Kingma & Welling curves (part kw), or the equal-budget
    comparison with the train time (budget) or without it (budget-scores)."""
    if part == "kw":
        return "\n".join(kingma_welling_table(results["kingma_welling"]))
    if part in ("budget", "budget-scores"):
        return "\n".join(equal_budget_table(results["equal_budget"], train_time=part == "budget"))
    raise ValueError(f"quality has no table {part!r}; expected kw, budget or budget-scores")
