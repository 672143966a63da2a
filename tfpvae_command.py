"""The `tfpvae` command's entry point, outside the package so that it runs before Keras is imported.

`--backend jax|tensorflow` (anywhere before the command's own arguments end)
sets KERAS_BACKEND, which Keras reads once, when it is first imported;
importing the `tfpvae` package imports Keras.
"""

import os
import sys

BACKENDS = ("tensorflow", "jax")


def backend_of(argv):
    """The value of `--backend X` or `--backend=X` in argv, or None."""
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    backend = backend_of(argv)
    if backend in BACKENDS:
        os.environ["KERAS_BACKEND"] = backend
    from tfpvae.cli import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
