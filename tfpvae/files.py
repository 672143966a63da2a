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

    The temporary name keeps the suffix (Keras picks the format from it). On
    an error the temporary file or folder is removed and `path` is untouched;
    one left by a killed process is removed by `remove_temporaries`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f"{PREFIX}{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    os.remove(temporary)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.isdir(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
        elif os.path.exists(temporary):
            os.remove(temporary)


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
