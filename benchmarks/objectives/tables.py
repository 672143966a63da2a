"""The tables of the objectives benchmark: its report's, and the blocks of docs/results/objectives.md."""

HEAD = "| objective | L | epochs | test ELBO | test log p(x) | active units |"
ALIGN = "| --- | ---: | ---: | ---: | ---: | ---: |"


def diagnostics(row):
    """The I(x; z) and TC cells of a row ('-' where it has none)."""
    mi = "-" if "mutual_information" not in row else f"{row['mutual_information']:.2f}"
    tc = "-" if row.get("total_correlation") is None else f"{row['total_correlation']:.2f}"
    return f"{mi} | {tc}"


def scores(row):
    return (f"| `{row['objective']}` | {row['num_samples']} | {row['epochs']} | {row['test_elbo']:.2f} | "
            f"{row['test_log_px']:.2f} | {row['active_units']} |")


def table(rows, part=None):
    """Markdown lines, a row per objective: its scores, I(x; z) and TC, seconds per epoch (no part); its
    scores and training seconds (part scores); or its scores, I(x; z), TC and training seconds (diagnostics)."""
    if part == "scores":
        return [HEAD + " train s |", ALIGN + " ---: |"] + [f"{scores(r)} {r['train_seconds']:.1f} |" for r in rows]
    if part == "diagnostics":
        return ([HEAD + " I(x; z) | TC | train s |", ALIGN + " ---: | ---: | ---: |"]
                + [f"{scores(r)} {diagnostics(r)} | {r['train_seconds']:.0f} |" for r in rows])
    if part is not None:
        raise ValueError(f"objectives has no table {part!r}; expected none, scores or diagnostics")
    return ([HEAD + " I(x; z) | TC | s / epoch |", ALIGN + " ---: | ---: | ---: |"]
            + [f"{scores(r)} {diagnostics(r)} | {r['train_seconds'] / r['epochs']:.1f} |" for r in rows])


def block(results, part=None):
    """A block of the page from a results file (see `table`)."""
    return "\n".join(table(results["rows"], part))
