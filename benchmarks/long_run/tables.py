"""The tables of the long-run benchmark: the blocks of docs/results/long_run.md."""

import numpy as np

MARKS = (1, 2, 5, 10, 20, 30, 50, 100, 150, 200)  # epochs shown, as far as the run went


def fit_slope(rss):
    """The slope of a line fitted to `rss`, MiB per epoch."""
    return float(np.polyfit(np.arange(len(rss)), rss, 1)[0])


def epochs_table(rss):
    """Markdown lines: the resident set at chosen epochs' ends."""
    marks = [e for e in MARKS if e <= len(rss)]
    return ["| epoch | " + " | ".join(map(str, marks)) + " |", "| --- |" + " ---: |" * len(marks),
            "| RSS (MiB) | " + " | ".join(f"{rss[e - 1]:.1f}" for e in marks) + " |"]


def ranges(epochs, settle):
    """(first, last) epochs of each fitted stretch: after `settle` to 50, each 50 epochs after, 51 to the end."""
    stretches = [(settle + 1, min(50, epochs))] + [(a, min(a + 49, epochs)) for a in range(51, epochs + 1, 50)]
    return stretches + ([(51, epochs)] if epochs > 100 else [])


def slopes_table(rss, settle):
    """Markdown lines: a line fitted to each stretch of epochs, and its first and last resident set."""
    lines = ["| epochs | fitted slope (MiB/epoch) | first -> last (MiB) |", "| --- | ---: | ---: |"]
    for a, b in ranges(len(rss), settle):
        stretch = rss[a - 1:b]
        lines.append(f"| {a}-{b} | {fit_slope(stretch):+.2f} | {stretch[0]:.1f} -> {stretch[-1]:.1f} |")
    return lines


def block(results, part=None):
    """The page's tables from a results file: the resident set at chosen epochs, then the fitted slopes."""
    rss = results["rss_mib_per_epoch"]
    return "\n".join(epochs_table(rss) + [""] + slopes_table(rss, results["settle"]))
