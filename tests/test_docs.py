"""The site stays true: each page's Python runs, its config parses, its generated parts are current,
and every public name has a reference page."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

import tfpvae
from tfpvae import config
from tfpvae.families import catalogue
from tfpvae.objectives import catalogue as objective_catalogue

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")
               if "```python\n" in path.read_text())


def python_blocks(page):
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


def load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    return hooks


def check_migration_guide(namespace):
    assert namespace["low"].shape == (500, 1) and namespace["vae"].output_shape == (None, 28 * 28)
    assert len(namespace["laplace"].history.history["loss"]) == 1


# What a page's blocks must have left behind, beyond running.
CHECKS = {"guides/migrating-from-tfp-layers.md": check_migration_guide}


@pytest.mark.parametrize("page", PAGES)
def test_page_python_blocks_run_in_order(page, tmp_path, monkeypatch):
    """A page's blocks run one after another in one namespace, as a reader runs them."""
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in python_blocks(page):
        exec(compile(block, str(DOCS / page), "exec"), namespace)
    CHECKS.get(page, lambda namespace: None)(namespace)


def test_the_command_line_guide_config_file_is_a_valid_config_of_the_defaults():
    (toml,) = re.findall(r"```toml\n(.*?)```", (DOCS / "guides" / "cli.md").read_text(), re.S)
    assert config.merge(tomllib.loads(toml)) == config.merge()


def test_markers_become_the_registries_tables():
    hooks = load_hooks()
    families = hooks.on_page_markdown((DOCS / "concepts" / "families.md").read_text())
    objectives = hooks.on_page_markdown((DOCS / "concepts" / "objectives.md").read_text())
    assert catalogue.table() in families and "<!-- generated:" not in families
    assert objective_catalogue.table() in objectives and "<!-- generated:" not in objectives


def test_the_command_line_reference_names_every_option():
    reference = load_hooks().on_page_markdown((DOCS / "reference" / "cli.md").read_text())
    for section, options in config.OPTIONS.items():
        for key, option in options.items():
            flag = "--" + key.replace("_", "-")
            assert f"| `[{section}]` | `{key}` | `{flag}` |" in reference
            assert re.search(rf"^  {flag} {key.upper()}\b", reference, re.M), flag
    for command in ("train", "evaluate", "sample", "export"):
        assert f"## `tfpvae {command}`\n\n```text\nusage: tfpvae {command}" in reference


def test_every_public_name_has_a_reference_page_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for name in set(tfpvae.__all__) - {"__version__"}:
        page = f"reference/{name.lower()}.md"
        assert (DOCS / page).read_text().strip() == f"::: tfpvae.{name}"
        assert f"tfpvae.{name}: {page}" in nav
