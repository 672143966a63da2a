"""Writing files so that a kill at any moment leaves the old file or the new one."""

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    The caller writes a file or makes a folder at the temporary path. The
    temporary name keeps the suffix (Keras picks the format from it). A
    folder replaces an existing one: the old one is renamed aside, then
    removed once the new one is in place. On an error the temporary file or
    folder, and any parent folders made for it, are removed and `path` is
    untouched; a temporary left by a killed process is removed by
    `remove_temporaries`.
    """
    path = Path(path)
    made = make_parents(path.parent)
    handle, temporary = tempfile.mkstemp(prefix=f"{PREFIX}{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    os.remove(temporary)
    try:
        yield Path(temporary)
        replace(temporary, path)
    except BaseException:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise
    finally:
        if os.path.isdir(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
        elif os.path.exists(temporary):
            os.remove(temporary)


def make_parents(directory):
    """Makes `directory` and its missing ancestors; returns the topmost made, or None."""
    directory = Path(directory)
    missing = next((d for d in reversed([directory, *directory.parents]) if not d.exists()), None)
    directory.mkdir(parents=True, exist_ok=True)
    return missing


def replace(temporary, path):
    """Renames `temporary` onto `path`; a folder onto a non-empty folder by
    renaming the old one aside first, and back if the second rename fails."""
    if not (os.path.isdir(temporary) and os.path.isdir(path) and os.listdir(path)):
        os.replace(temporary, path)
        return
    aside = f"{temporary}.old"
    os.replace(path, aside)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.replace(aside, path)
        raise
    shutil.rmtree(aside)


def write_text(path, text):
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_json(path, data):
    write_text(path, json.dumps(data, indent=2) + "\n")


def remove_temporaries(directory):
    """Removes the temporary files and folders `atomic_path` left in `directory` when a
    process was killed while writing. Only call it while no other process writes there."""
    for path in Path(directory).glob(PREFIX + "*"):
        if re.fullmatch(re.escape(PREFIX) + r".+\.\w{8}(\.\w+)?", path.name):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
