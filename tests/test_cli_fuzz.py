"""The `tfpvae train` command line, fuzzed with hypothesis.

Each case is a valid small command plus one to three defects drawn from: unknown
flags, values of the wrong type, numbers out of range, names that are not among
the choices, malformed family and network specs, config files with unknown
sections or keys, wrong types, malformed TOML or JSON, a wrong suffix, bytes
that are not UTF-8, missing files, data files that are missing or unreadable,
flags that conflict with each other or with the data, and an --output that is
a file or a finished run. Every case must exit with status 2 and print exactly
one line to stderr, `tfpvae: error: ...`, naming one of its defects: each
defect lists groups of words, and the line must hold a word of every group of
one defect, each word whole (not inside a longer name: "epochs" is not found
in "warmup_epochs"); no traceback; an existing run directory given as --output is left exactly as it
was, and a new one is not created.

The bulk runs `tfpvae.cli.main(argv)` in this process (argparse's exit caught),
with the process's stderr captured at the file-descriptor level; a few cases
run the real console script. Examples are derandomized: every run tries the
same 400 generated cases (the number is checked by the last test).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tfpvae import cli
from tfpvae import config as configs

CASES = 400
SMALL = ["--epochs", "1", "--latent-dim", "2", "--encoder", '{"name": "mlp", "units": [8]}',
         "--decoder", '{"name": "mlp", "units": [8]}']
TFPVAE = str(Path(sys.executable).parent / "tfpvae")
TRIED = []


def snapshot(directory):
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*"))}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A finished run (trained for real, in process), data files and config files."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    assert cli.main(["train", *SMALL, "--output", str(root / "finished")]) == 0
    (root / "garbage.npz").write_bytes(b"PK\x03\x04 not a zip archive")
    (root / "empty.npy").write_bytes(b"")
    (root / "notes.txt").write_text("not data\n")
    (root / "no-images").mkdir()
    (root / "latin1.toml").write_bytes(b"# caf\xe9\n[training]\nepochs = 1\n")
    (root / "a-file").write_text("not a directory\n")
    return root


# --- defects: each draws (extra arguments, the groups of words that name it) ---------------
# An error names a defect when it holds a word of each of the defect's groups.

INT_KEYS = [k for s in configs.OPTIONS.values() for k, o in s.items() if o.kind is int]
FLOAT_KEYS = [k for s in configs.OPTIONS.values() for k, o in s.items() if o.kind is float]
CHOICE_KEYS = [k for s in configs.OPTIONS.values() for k, o in s.items() if o.kind is str and o.choices]
ROLES = ("prior", "posterior", "likelihood")


def flag(key):
    return "--" + key.replace("_", "-")


def names(key):
    return [key, flag(key)]


def quoted(value):
    """A value as errors quote it (Python's repr)."""
    return repr(value)


OUT_OF_RANGE = {
    "latent_dim": st.integers(-5, 0), "num_samples": st.integers(-5, 0), "epochs": st.integers(-5, 0),
    "batch_size": st.integers(-5, 0), "warmup_epochs": st.integers(-5, -1),
    "context_dim": st.integers(-5, -1), "seed": st.sampled_from([-1, 2**31, 2**40]),
    "learning_rate": st.sampled_from(["0", "-0.1", "inf", "nan", "1e39"]),
    "adam_epsilon": st.sampled_from(["0", "-1e-4", "inf", "nan"]),
    "beta": st.sampled_from(["-1", "inf", "nan"]), "free_bits": st.sampled_from(["-0.5", "inf", "nan"]),
    "validation_split": st.sampled_from(["1", "1.5", "-0.1", "nan"]),
}


@st.composite
def unknown_flag(draw, workspace):
    name = draw(st.sampled_from(["--frobnicate", "--latent_dim", "--optimizer", "--lr", "--units"])
                | st.from_regex(r"--zz[a-z]{1,6}", fullmatch=True))
    return [name, "1"], [[name]]


@st.composite
def not_a_number(draw, workspace):
    key = draw(st.sampled_from(INT_KEYS + FLOAT_KEYS))
    text = draw(st.sampled_from(["abc", "", "1,5", "one", "0x", "[1]"]) if key in FLOAT_KEYS else
                st.sampled_from(["abc", "1.5", "", "1e3", "2.0", "one"]))
    return [flag(key), text], [[flag(key)], [quoted(text)]]


@st.composite
def out_of_range(draw, workspace):
    key = draw(st.sampled_from(sorted(OUT_OF_RANGE)))
    return [flag(key), str(draw(OUT_OF_RANGE[key]))], [names(key)]


@st.composite
def unknown_choice(draw, workspace):
    key = draw(st.sampled_from(CHOICE_KEYS))
    choices = {c.lower() for s in configs.OPTIONS.values() for k, o in s.items() if k == key for c in o.choices}
    value = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=8)
                 .filter(lambda v: v.lower() not in choices))
    # a value that starts with "-" reads as a flag: argparse then names only the option
    return [flag(key), value], [names(key)] + ([] if value.startswith("-") else [[quoted(value)]])


@st.composite
def bad_spec(draw, workspace):
    role = draw(st.sampled_from(ROLES + ("encoder", "decoder")))
    spec = draw(st.sampled_from(sorted(BAD_SPECS)))
    return [flag(role), spec], [[word.replace("{role}", role) for word in group] for group in BAD_SPECS[spec]]


BAD_SPECS = {  # spec -> groups of words, {role} the flag's role: a family or a network
    "no_such_family": [["{role}"], ["'no_such_family'"]],
    "{": [["spec '{'"]],
    '{"name": 3}': [["{role}"], ["{'name': 3}"]],
    '{"units": [8]}': [[quoted('{"units": [8]}')]],
    "[1]": [["a JSON spec must be"], ["'[1]'"]],
    '{"name": "mlp", "units": 0}': [["{role}"], ["'mlp'"]],  # not a family; a network's units
    '{"name": "normal", "colour": 1}': [["{role}"], ["'normal'"]],  # a family's options; not a network
    '{"name": "mlp", "colour": 1}': [["{role}"], ["'mlp'"]],
    '{"name": "mixture", "components": 0}': [["{role}", "components"], ["'mixture'"]],
    '{"name": "conv", "filters": []}': [["{role}"], ["'conv'"]],
    '{"name": "normal", "min_scale": -1}': [["{role}", "min_scale"], ["'normal'"]],
}


CONFIG_DEFECTS = {  # file name -> (content, groups of words that name the defect)
    "unknown-section.toml": ("[optimizer]\nname = 'adam'\n", [["'optimizer'"]]),
    "unknown-key.toml": ("[training]\nepoch = 3\n", [["'epoch'"]]),
    "unknown-data-key.json": ('{"data": {"path": "x.npz"}}', [["'path'"]]),
    "wrong-type.toml": ("[training]\nbatch_size = 'ten'\n", [["batch_size"], ["'ten'"]]),
    "wrong-type-float.json": ('{"training": {"learning_rate": "fast"}}', [["learning_rate"], ["'fast'"]]),
    "bool-int.json": ('{"training": {"batch_size": true}}', [["batch_size"], ["True"]]),
    "section-not-table.toml": ("training = 3\n", [["section 'training'"]]),
    "list.json": ("[1, 2]", [["a config must be a dict"]]),
    "malformed.toml": ("[training\nepochs = 1\n", [["malformed.toml"]]),
    "malformed.json": ('{"training": {"epochs": 1,}}', [["malformed.json"]]),
    "bad-spec.json": ('{"model": {"prior": {"name": "nope"}}}', [["prior"], ["'nope'"]]),
    "model-unknown-key.toml": ("[model]\nlayers = 3\n", [["'layers'"]]),
    "config.yaml": ("training: {}\n", [["config.yaml"]]),
    "dates.toml": ("[training]\nseed = 1979-05-27\n", [["seed"], ["datetime.date(1979, 5, 27)"]]),
    "deep.json": ("[" * 5000 + "]" * 5000, [["deep.json"]]),
}


@st.composite
def config_file(draw, workspace):
    choice = draw(st.sampled_from(sorted(CONFIG_DEFECTS) + ["missing.toml", "latin1.toml"]))
    path = workspace / "configs" / choice
    if choice in CONFIG_DEFECTS:
        path.parent.mkdir(exist_ok=True)
        path.write_text(CONFIG_DEFECTS[choice][0])
        words = CONFIG_DEFECTS[choice][1]
    else:
        path = workspace / choice if choice == "latin1.toml" else path
        words = [[choice]]
    return ["--config", str(path)], words


@st.composite
def bad_data(draw, workspace):
    name = draw(st.sampled_from(["missing.npz", "garbage.npz", "empty.npy", "notes.txt", "no-images",
                                 "no_such_tfds_name_x"]))
    path = name if name.startswith("no_such") else str(workspace / name)
    return ["--dataset", path], [[path]]


@st.composite
def conflicting(draw, workspace):
    return draw(st.sampled_from([
        (["--objective", "iwae", "--free-bits", "0.5"], [["free_bits"], ["objective='iwae'"]]),
        (["--kl", "analytic", "--prior", "mixture"], [["kl='analytic'"], ["MixtureSameFamily"]]),
        (["--context-dim", "3"], [["context_dim=3"]]),
        (["--prior", "vamp", "--context-dim", "10"], [["'vamp'"], ["context_dim=10"]]),
        (["--likelihood", "normal", "--binarize", "sometimes"], [["binarize"], ["'sometimes'"]]),
    ]))


@st.composite
def bad_output(draw, workspace):
    name = draw(st.sampled_from(["finished", "a-file"]))
    return ["--output", str(workspace / name)], [[quoted(str(workspace / name))]]


DEFECTS = [unknown_flag, not_a_number, out_of_range, unknown_choice, bad_spec, config_file, bad_data,
           conflicting, bad_output]


@st.composite
def command_lines(draw, workspace):
    """(argv, the defects' groups of words): a small valid command with 1-3 defects."""
    kinds = draw(st.lists(st.sampled_from(DEFECTS), min_size=1, max_size=3))
    argv, defects = ["train", *SMALL, "--output", str(workspace / "new")], []
    for kind in kinds:
        extra, groups = draw(kind(workspace))
        argv += extra
        defects.append(groups)
    return argv, defects


def run_in_process(argv, capfd):
    """(exit status, stderr) of `tfpvae.cli.main(argv)`, argparse's SystemExit included."""
    capfd.readouterr()
    try:
        status = cli.main(argv)
    except SystemExit as exit_:
        status = exit_.code
    return status, capfd.readouterr().err


def holds(line, word):
    """Whether `line` holds `word` whole: not preceded or followed by a letter, digit, _ or -."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", line) is not None


def named(line, groups):
    """Whether `line` names a defect: it holds a word of each of the defect's groups."""
    return all(any(holds(line, word) for word in group) for group in groups)


def check(status, stderr, defects, workspace, before):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert status == 2, f"exit status {status}; stderr: {stderr[-2000:]}"
    assert len(lines) == 1 and lines[0].startswith("tfpvae: error: "), f"not one error line:\n{stderr[-3000:]}"
    assert any(named(lines[0], groups) for groups in defects), f"names none of the defects {defects}: {lines[0]}"
    assert snapshot(workspace / "finished") == before, "the existing run directory was written"
    assert not (workspace / "new").exists(), "a run directory was created"


@settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
          phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_bad_command_lines_get_one_error_line_and_write_nothing(data, workspace, capfd):
    before = snapshot(workspace / "finished")
    argv, defects = data.draw(command_lines(workspace), label="argv, defects")
    TRIED.append(argv)
    status, stderr = run_in_process(argv, capfd)
    check(status, stderr, defects, workspace, before)


SUBPROCESS_CASES = {  # a few cases through the real console script
    "config-unknown-key": (["--config", "{root}/configs/unknown-key.toml"], [["'epoch'"]]),
    "conflicting-flags": (["--objective", "iwae", "--free-bits", "0.5"], [["free_bits"], ["objective='iwae'"]]),
    "finished-run": (["--output", "{root}/finished"], [["'{root}/finished'"]]),
}


def test_bad_command_lines_through_the_console_script(workspace):
    (workspace / "configs").mkdir(exist_ok=True)
    (workspace / "configs" / "unknown-key.toml").write_text(CONFIG_DEFECTS["unknown-key.toml"][0])
    before = snapshot(workspace / "finished")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    processes = {}
    for case, (extra, _) in SUBPROCESS_CASES.items():
        argv = ["train", *SMALL, "--output", str(workspace / "new"),
                *[a.replace("{root}", str(workspace)) for a in extra]]
        processes[case] = subprocess.Popen([TFPVAE, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True, env=env)
    for case, process in processes.items():
        _, stderr = process.communicate(timeout=600)
        groups = [[word.replace("{root}", str(workspace)) for word in group] for group in SUBPROCESS_CASES[case][1]]
        check(process.returncode, stderr, [groups], workspace, before)


def test_zz_number_of_cases_tried():
    if not TRIED:
        pytest.skip("the hypothesis test did not run")
    assert len(TRIED) == CASES and len({tuple(argv) for argv in TRIED}) > CASES // 2
