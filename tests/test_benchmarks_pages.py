"""The results pages (docs/results/) and the benchmarks' results files agree: every table a benchmark's
report writes is the one its page holds, every results file and picture is named by a page, and the
benchmarks folder keeps its layout."""

import importlib
import re
from pathlib import Path

import pytest

from benchmarks.common import pages

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
RESULTS = ROOT / "docs" / "results"
WITH_TABLES = sorted(path.parent.name for path in BENCHMARKS.glob("*/tables.py"))
SCHEME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*-\d{4}-\d{2}-\d{2}(-\d+)?\.json$")  # <what>-<date>[-n].json


def test_benchmarks_top_level_holds_folders_and_a_readme():
    assert {p.name for p in BENCHMARKS.iterdir() if not p.is_dir()} == {"README.md"}


@pytest.mark.parametrize("name", WITH_TABLES)
def test_report_writes_the_tables_its_page_holds(name):
    page = (RESULTS / f"{name}.md").read_text()
    assert pages.blocks(page), f"docs/results/{name}.md has no report block"
    tables = importlib.import_module(f"benchmarks.{name}.tables")
    assert pages.render(page, tables.block) == page


def test_every_block_names_a_results_file_of_its_benchmark():
    for page in RESULTS.glob("*.md"):
        for source, _ in pages.blocks(page.read_text()):
            assert source.startswith(f"benchmarks/{page.stem}/results/"), (page.name, source)
            assert (ROOT / source).is_file(), (page.name, source)


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*/results/*")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_results_files_follow_the_scheme_and_their_page_names_them(path):
    assert SCHEME.match(path.name), path.name
    page = RESULTS / f"{path.parent.parent.name}.md"
    assert path.relative_to(ROOT).as_posix() in page.read_text()


def test_every_picture_is_shown_on_a_page():
    text = "\n".join(page.read_text() for page in RESULTS.glob("*.md"))
    for picture in (RESULTS / "img").rglob("*.png"):
        assert f"({picture.relative_to(RESULTS).as_posix()})" in text, picture.name
