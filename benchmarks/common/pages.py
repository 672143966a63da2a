"""The tables of a benchmark's page of results (docs/results/NAME.md), written from its results files.

A table that a benchmark's report writes sits in a block of its page:

    <!-- report benchmarks/throughput/results/batches-2026-11-27.json main: begin -->
    | batch | implementation | examples/s | ...
    <!-- report: end -->

The begin marker names the results file (from the repository root) and, after it, which of the
benchmark's tables to write from it (its `tables(results, part)` knows the parts); the report
replaces everything between the markers, so the tables on a page are those of the files it names.
"""

import json
import re
from pathlib import Path

from benchmarks.common.paths import ROOT

BLOCK = re.compile(r"(?P<begin><!-- report (?P<source>\S+)(?: (?P<part>[^:\s]+))?: begin -->\n)"
                   r"(?P<table>.*?)(?P<end><!-- report: end -->)", re.S)


def blocks(text):
    """(results file, part) of each block of a page's text, in order."""
    return [(match["source"], match["part"]) for match in BLOCK.finditer(text)]


def render(text, tables):
    """`text` with each block's table written by `tables(results, part)` from the results file it names."""
    def fill(match):
        results = json.loads((ROOT / match["source"]).read_text())
        return match["begin"] + tables(results, match["part"]).rstrip("\n") + "\n" + match["end"]

    return BLOCK.sub(fill, text)


def source(path):
    """How a block names a results file: from the repository root where it lies inside it."""
    path = Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def point(text, results_file, part=None):
    """`text` with its one block of `part` naming `results_file` instead (its table is left as it is)."""
    matches = [m for m in BLOCK.finditer(text) if m["part"] == part]
    if len(matches) != 1:
        raise ValueError(f"expected one report block of part {part!r}; found {len(matches)}")
    match = matches[0]
    marker = f"<!-- report {source(results_file)}{f' {part}' if part else ''}: begin -->\n"
    return text[:match.start()] + marker + text[match.start("table"):]


def refresh(page, tables, results_file=None, part=None):
    """Rewrites the tables of `page` from the results files its blocks name (first pointing its block of
    `part` at `results_file`, when given); returns the number of blocks."""
    page = Path(page)
    text = page.read_text()
    if not blocks(text):
        raise SystemExit(f"error: {page} has no report block (<!-- report FILE [PART]: begin --> ... "
                         "<!-- report: end -->)")
    new = render(point(text, results_file, part) if results_file else text, tables)
    if new != text:
        temporary = page.with_name(page.name + ".tmp")
        temporary.write_text(new)
        temporary.replace(page)
    return len(blocks(new))
