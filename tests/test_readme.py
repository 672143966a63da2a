"""README stays true: its Python runs and its family and objective tables are current."""

import re
from pathlib import Path

import pytest

from tfpvae.families import catalogue
from tfpvae.objectives import catalogue as objective_catalogue

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {})


def test_readme_family_table_is_generated_from_the_registry():
    table = TEXT.split("<!-- families:start -->\n")[1].split("<!-- families:end -->")[0]
    assert table.strip() == catalogue.table().strip()


def test_readme_objective_table_is_generated_from_the_registry():
    table = TEXT.split("<!-- objectives:start -->\n")[1].split("<!-- objectives:end -->")[0]
    assert table.strip() == objective_catalogue.table().strip()


def test_readme_stays_under_12000_bytes():
    assert len(README.read_bytes()) < 12000
