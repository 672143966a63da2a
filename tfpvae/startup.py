"""Importing TensorFlow without its C++ start-up lines, and not at all where it is not needed.

TensorFlow's C++ runtime writes informational lines to stderr (file
descriptor 2) when it loads, before Python's logging is set up, whatever
TF_CPP_MIN_LOG_LEVEL says. tfpvae sets TF_CPP_MIN_LOG_LEVEL to 2 where it is
unset (warnings and errors are still shown once TensorFlow runs) and silences
descriptor 2 while TensorFlow loads, unless TF_CPP_MIN_LOG_LEVEL is 0 (all
messages asked for). A failed import still raises its Python exception.
`without_tensorflow` keeps TFP's JAX substrate from importing TensorFlow.
"""

import contextlib
import importlib
import os
import sys


@contextlib.contextmanager
def quiet_stderr():
    """Sends what is written to file descriptor 2 to /dev/null, then restores it."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow():
    """Imports TensorFlow, quietly unless it is already imported or
    TF_CPP_MIN_LOG_LEVEL is 0."""
    quietly(lambda: importlib.import_module("tensorflow"), "tensorflow")


def import_keras():
    """Imports Keras, quietly as `import_tensorflow`: on the TensorFlow backend
    importing Keras imports TensorFlow."""
    quietly(lambda: importlib.import_module("keras"), "keras")


def quietly(load, name):
    """Runs `load` (an import of `name`) with descriptor 2 silenced, and lets
    TensorFlow, where it was loaded, look for devices (which also writes lines)."""
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if name in sys.modules or level.strip() == "0":
        load()
        return
    loaded_before = "tensorflow" in sys.modules
    with quiet_stderr():
        load()
        if not loaded_before and "tensorflow" in sys.modules:
            sys.modules["tensorflow"].config.list_physical_devices()


class _NoTensorFlow:
    """A `sys.meta_path` finder that refuses to import TensorFlow."""

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"{name} is not imported here")
        return None


@contextlib.contextmanager
def without_tensorflow():
    """Imports made inside find TensorFlow missing: TFP's JAX substrate imports
    TensorFlow where it is installed, only to copy its docstrings, which costs
    seconds and TensorFlow's start-up lines for nothing on JAX. Where TensorFlow
    is imported already, imports go on as usual (TFP then loads `tf_keras`,
    which imports parts of TensorFlow)."""
    if "tensorflow" in sys.modules:
        yield
        return
    finder = _NoTensorFlow()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
