"""tensorflow-datasets names, with a fast failure when there is no network."""

import socket
import threading
import urllib.parse
import urllib.request

import numpy as np

from tfpvae.backend import tensorflow as tf
from tfpvae.data.arrays import Raw
from tfpvae.data.local import is_path

TFDS_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 2.0
LOCAL_FILE_HINT = (
    "use a local file instead, e.g. --dataset path/to/mnist.npz (Keras format: x_train, y_train, "
    "x_test, y_test), an .npy array, MNIST IDX files (train-images-idx3-ubyte[.gz]) or a folder "
    "of PNG/JPEG images; or --dataset digits (bundled with scikit-learn)"
)

# --- tensorflow-datasets ---------------------------------------------------------------


def is_tfds_name(source):
    """Whether a source will be looked up in tensorflow-datasets."""
    return isinstance(source, str) and source != "digits" and not is_path(source)


def tfds_builder(name, data_dir):
    """The tfds builder of `name`, or a ValueError saying how to find valid names."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"{name!r} is neither a local file nor a tensorflow-datasets name (list those with "
            f"`python -c 'import tensorflow_datasets as tfds; print(tfds.list_builders())'`); "
            f"to load your own data, {LOCAL_FILE_HINT}") from None


def proxy_address(host, port):
    """(host, port) that an HTTPS connection to `host` goes through (a proxy if set)."""
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(host):
        return host, port
    parsed = urllib.parse.urlparse(proxy if "://" in proxy else "http://" + proxy)
    return parsed.hostname, parsed.port or 80


def reachable(host, port, timeout=PROBE_TIMEOUT_S):
    """Whether a TCP connection to host:port opens within `timeout` seconds (DNS included)."""
    result = []

    def connect():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def require_network(name, data_dir):
    """Raises a ValueError fast when tfds would need to download `name` but cannot."""
    host, port = proxy_address(*TFDS_HOST)
    if not reachable(host, port):
        raise ValueError(
            f"tensorflow-datasets {name!r} is not prepared in {data_dir} and there is no network "
            f"to download it (cannot reach {host}:{port} within {PROBE_TIMEOUT_S:g} s); "
            f"{LOCAL_FILE_HINT}")


def tfds_split(builder, split):
    """The `tf.data.Dataset` of one split, prepared first if it is not and there is network."""
    try:
        return builder.as_dataset(split=split)
    except AssertionError:
        pass
    except (KeyError, ValueError, tf.errors.InvalidArgumentError) as err:
        message = f"tensorflow-datasets {builder.name!r}: cannot load split {split!r}: {err}"
        raise ValueError(message) from None
    require_network(builder.name, builder.data_dir)
    builder.download_and_prepare()
    return builder.as_dataset(split=split)


def tfds_examples(builder, split, chunk=10000):
    """All examples of one split as a dict of numpy arrays.

    Args:
      builder: a tfds builder.
      split: a tfds split.
      chunk: examples read per step (batch_size=-1 would need the split's
        size in the dataset info, which mocked or partial metadata lacks).

    Returns:
      dict of feature name to numpy array [N, ...].
    """
    import tensorflow_datasets as tfds

    chunks = list(tfds.as_numpy(tfds_split(builder, split).batch(chunk)))
    if not chunks:
        raise ValueError(f"tensorflow-datasets {builder.name!r}: split {split!r} is empty")
    if not isinstance(chunks[0], dict):
        raise ValueError(f"tensorflow-datasets {builder.name!r}: examples are not feature dicts")
    return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}


def read_tfds(name, split, data_dir):
    """One split of a tensorflow-datasets dataset: x from "image", y from "label".

    Args:
      name: tfds name, e.g. "mnist" or "cifar10".
      split: a tfds split, e.g. "train" or "test".
      data_dir: tfds data dir (None: tfds's default).

    Returns:
      A `Raw`.
    """
    examples = tfds_examples(tfds_builder(name, data_dir), split)
    if "image" not in examples:
        raise ValueError(f"tensorflow-datasets {name!r} has no 'image' feature (found {sorted(examples)}); "
                         f"only image datasets are supported")
    return Raw(examples["image"], examples.get("label"), f"tfds {name} ({split})", own_split=True)
