"""The site's generated parts, written at build time in place of markers on its pages.

`<!-- generated: families -->` and `<!-- generated: objectives -->` become the
tables of the registries (as in README), `<!-- generated: cli -->` the
`--help` of the `tfpvae` command and of each of its commands, and a table of
the config keys that `tfpvae train` takes as flags.
"""

import contextlib
import os

HELP_WIDTH = 100  # the columns argparse wraps the help at, whatever the terminal


def families():
    from tfpvae.families import catalogue

    return catalogue.table()


def objectives():
    from tfpvae.objectives import catalogue

    return catalogue.table()


@contextlib.contextmanager
def columns(width):
    """argparse wraps help text at $COLUMNS: set it while the help is written."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def config_keys():
    """A table of every key of `tfpvae.config.OPTIONS`: its section, its flag and what it does."""
    from tfpvae import config

    rows = ["| section | key | flag | what it does |", "| --- | --- | --- | --- |"]
    for section, options in config.OPTIONS.items():
        for key, option in options.items():
            text = config.describe(option).replace("|", "\\|")
            rows.append(f"| `[{section}]` | `{key}` | `--{key.replace('_', '-')}` | {text} |")
    return "\n".join(rows)


def cli():
    """Each command's `--help`, then the config keys of `tfpvae train`."""
    from tfpvae import cli as command_line

    main = command_line.parser()
    parts = ["## `tfpvae`"]
    with columns(HELP_WIDTH):
        parts.append(f"```text\n{main.format_help()}```")
        for name, command in main.commands.items():
            parts += [f"## `tfpvae {name}`", f"```text\n{command.format_help()}```"]
    parts += ["## Config keys",
              "Every flag of `tfpvae train` but `--config` and `--output` is a key of a config file's "
              "section (see [Configs and the command line](../guides/cli.md)); a flag overrides the "
              "file's value, which overrides the default.",
              config_keys()]
    return "\n\n".join(parts)


GENERATED = {"<!-- generated: families -->": families, "<!-- generated: objectives -->": objectives,
             "<!-- generated: cli -->": cli}


def on_page_markdown(markdown, **kwargs):
    """mkdocs' hook: each marker on a page replaced by what it names."""
    for marker, make in GENERATED.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
