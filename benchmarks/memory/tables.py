"""The table of the memory benchmark: its report's, and the block of docs/results/memory.md."""


def table(rows):
    """Markdown lines: a row per case."""
    lines = ["| case | peak RSS growth (MiB) | time (s) | output (MiB) |", "| --- | ---: | ---: | ---: |"]
    for row in rows:
        lines.append(f"| {row['case']} | {row['growth_mib']:,.0f} | {row['seconds']:.1f} | "
                     f"{row['output_mib']:,.1f} |")
    return lines


def block(results, part=None):
    """The page's table from a results file."""
    return "\n".join(table(results["rows"]))
