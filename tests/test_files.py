"""Atomic writes: a file is whole or absent, and what a killed writer left is removable."""

import pytest

from tfpvae import files


def test_an_atomic_write_replaces_the_file_whole(tmp_path):
    files.write_json(tmp_path / "a.json", {"x": 1})
    files.write_json(tmp_path / "a.json", {"x": 2})
    assert (tmp_path / "a.json").read_text() == '{\n  "x": 2\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    files.write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError):
        with files.atomic_path(tmp_path / "a.txt") as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed")
    assert (tmp_path / "a.txt").read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_temporaries_left_by_a_killed_writer_are_removed(tmp_path):
    """Names that atomic_path really makes, left behind as a kill would leave them."""
    names = []
    for target in ("model.keras", "history.json"):
        with files.atomic_path(tmp_path / target) as temporary:
            temporary.write_text("whole")
            names.append(temporary.name)
    (tmp_path / names[0]).mkdir()  # Keras writes a folder in some formats
    (tmp_path / names[0] / "part").write_text("half")
    (tmp_path / names[1]).write_text("half")
    others = [".hidden", "keep.txt", files.PREFIX + "notes"]
    for name in others:
        (tmp_path / name).write_text("not a temporary")
    files.remove_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(others + ["model.keras", "history.json"])
