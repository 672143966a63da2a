"""Data for the VAEs: arrays from files, scikit-learn or tfds, and input pipelines.

`load_arrays` reads one split of a source into an `Arrays`; `to_dataset` turns
arrays into a batched `tf.data.Dataset` (optionally binarized); `load` does both.

Sources:
  "digits": scikit-learn's bundled 8x8 digits (no download), event shape
    (8, 8, 1); train is the first 1500 examples, test the last 297.
  a tensorflow-datasets name ("mnist", "binarized_mnist", "fashion_mnist",
    "cifar10", ...): loaded from the tfds data dir when prepared there, else
    downloaded; without network this fails within seconds with a ValueError
    that says how to use a local file instead.
  a local file or folder: a Keras-format .npz (x_train, y_train, x_test,
    y_test; the y arrays optional), an .npz holding a single array, an .npy
    array, an MNIST IDX file (*-idx3-ubyte, gzipped or not; labels from the
    sibling *-idx1-ubyte file when present), or a folder of PNG/JPEG images
    (labels from subfolder names when the images are in subfolders).
  a numpy array [N, ...].

Sources without their own train/test split (an .npy, a single-array .npz, an
IDX file whose name holds neither "train" nor "t10k"/"test", an image folder,
an in-memory array) are shuffled with a fixed seed (0), then train is the first
90% of the examples and test the last 10%.
"""

import dataclasses
import gzip
import math
import os
import pathlib
import re
import socket
import threading
import urllib.parse
import urllib.request
import zipfile
import zlib

import numpy as np
import tensorflow as tf

from tfpvae import checks

SPLITS = ("train", "test")
BINARIZE = (None, "static", "dynamic")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FILE_SUFFIXES = (".npz", ".npy", ".gz", "-ubyte")
TFDS_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 2.0
LOCAL_FILE_HINT = (
    "use a local file instead, e.g. --dataset path/to/mnist.npz (Keras format: x_train, y_train, "
    "x_test, y_test), an .npy array, MNIST IDX files (train-images-idx3-ubyte[.gz]) or a folder "
    "of PNG/JPEG images; or --dataset digits (bundled with scikit-learn)"
)
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SPLIT_WORDS = {"train": ("train",), "test": ("t10k", "test")}


@dataclasses.dataclass
class Arrays:
    """One split of a data set, held in memory.

    Attributes:
      x: float32 [N, *event_shape], scaled into [0, 1] when loaded with scale=True.
      y: int64 labels [N] where the source has them, else None.
      event_shape: shape of one x, e.g. (28, 28, 1), (8, 8, 1) or (d,).
      source: what was loaded, for messages.
    """

    x: np.ndarray
    y: np.ndarray | None
    event_shape: tuple
    source: str


# --- the public interface ---------------------------------------------------------


def load_arrays(source, split="train", scale=True, data_dir=None):
    """Loads one split of a source into memory (see the module docstring for sources).

    Args:
      source: "digits", a tensorflow-datasets name, a path to a file or
        folder, or a numpy array [N, ...].
      split: "train" or "test" (tfds names also take any tfds split string).
      scale: divide integer images by 255 (digits by 16) into [0, 1]; integer
        data that is already 0/1 and float data are left as they are.
      data_dir: tensorflow-datasets data dir (None: tfds's default).

    Returns:
      An `Arrays`. Examples [N, H, W] get a channel axis: [N, H, W, 1].

    Raises:
      FileNotFoundError: a path that does not exist.
      ValueError: anything else that cannot be loaded, naming the source.
    """
    if isinstance(source, np.ndarray):
        return split_arrays(source, None, "array of shape " + str(source.shape), split, scale)
    if split not in SPLITS and not is_tfds_name(source):
        raise ValueError(f"split must be one of {SPLITS}; received {split!r}")
    if isinstance(source, str) and source == "digits":
        return load_digits(split, scale)
    if is_path(source):
        return load_path(pathlib.Path(source).expanduser(), split, scale)
    if isinstance(source, str):
        return load_tfds(source, split, scale, data_dir)
    raise ValueError(f"source must be a name, a path or a numpy array; received {type(source).__name__}")


def binarize_static(x, seed=0):
    """One fixed Bernoulli draw per value: 1 where uniform < x, else 0.

    Args:
      x: array with values in [0, 1].
      seed: seed of the draw; the same seed gives the same result.

    Returns:
      float32 array of x's shape with values in {0, 1}.
    """
    x = check_unit_interval(x, "binarize_static")
    return (np.random.default_rng(seed).uniform(size=x.shape) < x).astype(np.float32)


def split_validation(arrays, fraction, seed=0):
    """Shuffles the examples with a fixed seed, then splits off a validation part.

    Args:
      arrays: an `Arrays`.
      fraction: share of examples for validation, 0 < fraction < 1; at least
        one example goes to each part.
      seed: seed of the shuffle.

    Returns:
      (train, validation), two `Arrays`.
    """
    n = len(arrays.x)
    is_number = isinstance(fraction, (int, float, np.floating)) and not isinstance(fraction, bool)
    if not is_number or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1); received {fraction!r}")
    count = round(fraction * n)
    if not 0 < count < n:
        raise ValueError(f"fraction={fraction} of {n} examples leaves an empty part; "
                         f"{arrays.source} needs more examples or another fraction")
    order = np.random.default_rng(seed).permutation(n)
    parts = order[:n - count], order[n - count:]
    names = (f"{arrays.source} without {count} validation examples",
             f"{arrays.source} validation part")
    return tuple(subset(arrays, index, name) for index, name in zip(parts, names))


def to_dataset(x, y=None, batch_size=100, shuffle=True, binarize=None, seed=0):
    """A batched `tf.data.Dataset` of x (and y), cached in memory.

    Args:
      x: array [N, ...].
      y: optional labels [N]; the dataset then yields (x, y) tuples.
      batch_size: examples per batch (the last batch may be smaller).
      shuffle: reshuffle the examples every epoch (seeded).
      binarize: None (x as it is), "static" (one fixed Bernoulli draw,
        `binarize_static`) or "dynamic" (a fresh Bernoulli draw of every
        batch in every epoch, inside the graph). Both need x in [0, 1].
      seed: seed of the shuffle and of the binarization.

    Returns:
      A `tf.data.Dataset` of float32 x batches (or (x, y) tuples), prefetched.
    """
    if binarize not in BINARIZE:
        raise ValueError(f"binarize must be one of {BINARIZE}; received {binarize!r}")
    batch_size = checks.positive_int(batch_size, "batch_size")
    x = numeric(x, "x")
    if binarize is not None:
        x = check_unit_interval(x, f"binarize={binarize!r}")
    x = binarize_static(x, seed) if binarize == "static" else x.astype(np.float32)
    y = None if y is None else labels(y, len(x), "y")
    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if binarize == "dynamic":
        dataset = binarized_dynamically(dataset, seed, labelled=y is not None)
    return dataset.prefetch(tf.data.AUTOTUNE)


def load(source, split="train", batch_size=100, binarize=None, scale=True, seed=0):
    """`load_arrays` then `to_dataset`: a dataset of x batches, shuffled for "train".

    Args:
      source: see `load_arrays`.
      split: "train" (shuffled every epoch) or "test" (in order).
      batch_size: examples per batch.
      binarize: None, "static" or "dynamic" (see `to_dataset`).
      scale: see `load_arrays`.
      seed: seed of the shuffle and of the binarization.

    Returns:
      (dataset, event_shape): the dataset yields float32 x batches (no labels).
    """
    arrays = load_arrays(source, split=split, scale=scale)
    dataset = to_dataset(arrays.x, batch_size=batch_size, shuffle=split == "train",
                         binarize=binarize, seed=seed)
    return dataset, arrays.event_shape


# --- checks and conversions ----------------------------------------------------------


def numeric(x, what):
    """x as a numpy array of numbers with at least one dimension per example.

    Args:
      x: array-like [N, ...].
      what: name of x in error messages (the file, usually).

    Returns:
      The numpy array (bool becomes uint8).
    """
    x = np.asarray(x)
    if x.dtype == bool:
        x = x.astype(np.uint8)
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{what}: data must be numeric; found dtype {x.dtype}")
    if x.ndim < 2:
        raise ValueError(f"{what}: data must have shape [N, ...] with one or more dimensions "
                         f"per example; found shape {x.shape}")
    if x.shape[0] == 0 or x.size == 0:
        raise ValueError(f"{what}: data is empty (shape {x.shape})")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise ValueError(f"{what}: data contains NaN or infinite values")
    return x


def labels(y, n, what):
    """Integer labels [n], checked against the number of examples n."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{what}: labels have shape {y.shape} but there are {n} examples; "
                         f"x and y must have the same length")
    if np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64)
    if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
        return y.astype(np.int64)
    raise ValueError(f"{what}: labels must be integers; found dtype {y.dtype}")


def check_unit_interval(x, what):
    """x as float32, checked to lie in [0, 1] (as Bernoulli probabilities must)."""
    x = np.asarray(x, dtype=np.float32)
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{what} needs x in [0, 1] (probabilities); x spans "
                         f"[{x.min():g}, {x.max():g}]: load with scale=True or rescale it")
    return x


def scaled(x, what, divisor=None):
    """x as float32, integer images divided into [0, 1].

    Args:
      x: numeric array.
      what: name of the source in error messages.
      divisor: divide by this instead of the rule below.

    Returns:
      float32 array: x / divisor if given; integer data in [0, 255] divided by
      255 unless it is already 0/1; float data unchanged.
    """
    divisor = integer_divisor(x, what) if divisor is None else divisor
    return (x / np.float32(divisor)).astype(np.float32)


def integer_divisor(x, what):
    """What scales x into [0, 1]: 255 for 8-bit integer images, 1 for 0/1 integers or floats."""
    if not np.issubdtype(x.dtype, np.integer):
        return 1.0
    low, high = int(x.min()), int(x.max())
    if low < 0 or high > 255:
        raise ValueError(f"{what}: integer values span [{low}, {high}]; scale=True expects 8-bit "
                         f"images in [0, 255]: pass scale=False and scale x yourself")
    return 255.0 if high > 1 else 1.0


def with_channel(x):
    """[N, H, W] images become [N, H, W, 1]; other shapes stay."""
    return x[..., None] if x.ndim == 3 else x


def make_arrays(x, y, source, scale, divisor=None):
    """Checks, shapes and scales x and y into an `Arrays`."""
    x = numeric(x, source)
    y = None if y is None else labels(y, len(x), source)
    x = with_channel(scaled(x, source, divisor) if scale else x.astype(np.float32))
    return Arrays(x=x, y=y, event_shape=tuple(x.shape[1:]), source=source)


def subset(arrays, index, source):
    """The examples of `arrays` at `index`, as an `Arrays` named `source`."""
    y = None if arrays.y is None else arrays.y[index]
    return Arrays(x=arrays.x[index], y=y, event_shape=arrays.event_shape, source=source)


def split_arrays(x, y, source, split, scale):
    """Train (first 90%) or test (last 10%) after a shuffle with seed 0.

    Args:
      x, y: all examples and their labels (or None).
      source: name of the source in messages.
      split: "train" or "test".
      scale: see `load_arrays`.

    Returns:
      An `Arrays` of the split.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; received {split!r}")
    arrays = make_arrays(x, y, source, scale)
    n = len(arrays.x)
    order = np.random.default_rng(0).permutation(n)
    index = order[:n * 9 // 10] if split == "train" else order[n * 9 // 10:]
    if not len(index):
        raise ValueError(f"{source}: {n} examples leave the {split} split (10%) empty")
    return subset(arrays, index, f"{source} ({split}: {'first 90%' if split == 'train' else 'last 10%'})")


# --- scikit-learn digits -----------------------------------------------------------


def load_digits(split, scale):
    """scikit-learn's 8x8 digits: train the first 1500, test the last 297."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    part = slice(0, 1500) if split == "train" else slice(1500, None)
    return make_arrays(digits.images[part], digits.target[part], f"digits ({split})", scale, divisor=16.0)


# --- local files ---------------------------------------------------------------------


def is_path(source):
    """Whether a source names a file or folder rather than a dataset name."""
    if isinstance(source, os.PathLike):
        return True
    if not isinstance(source, str):
        return False
    return (os.path.exists(os.path.expanduser(source)) or source.startswith((".", "/", "~"))
            or source.lower().endswith(FILE_SUFFIXES))


def load_path(path, split, scale):
    """Loads a split from a local file or folder (by its type)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    name = path.name.lower().removesuffix(".gz")
    if path.is_dir():
        x, y = read_image_folder(path)
        return split_arrays(x, y, str(path), split, scale)
    if name.endswith(".npz"):
        return load_npz(path, split, scale)
    if name.endswith(".npy"):
        return split_arrays(read_npy(path), None, str(path), split, scale)
    if name.endswith("-ubyte"):
        return load_idx(path, split, scale)
    raise ValueError(f"{path}: unknown file type; expected .npz, .npy, an MNIST IDX file "
                     f"(*-idx3-ubyte[.gz]) or a folder of PNG/JPEG images")


def unreadable(path, kind, err):
    """The ValueError for a numpy file that cannot be read."""
    if "allow_pickle" in str(err):
        return ValueError(f"{path}: holds Python objects, not numeric arrays")
    return ValueError(f"{path}: cannot read as {kind} (corrupt or truncated?): {err}")


def read_npy(path):
    """The array in an .npy file."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise unreadable(path, ".npy", err) from None


def read_npz(path):
    """All arrays of an .npz file, as a dict."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise unreadable(path, ".npz", err) from None


def load_npz(path, split, scale):
    """A split of an .npz: x_{split}/y_{split} (Keras format) or its single array.

    Args:
      path: the .npz file.
      split: "train" or "test".
      scale: see `load_arrays`.

    Returns:
      An `Arrays`; scaled by the range of all x in the file.
    """
    arrays = read_npz(path)
    if "x_train" in arrays and "x_test" in arrays:
        what = f"{path} (x_{split})"
        divisor = shared_divisor(arrays, path) if scale else None
        return make_arrays(arrays[f"x_{split}"], arrays.get(f"y_{split}"), what, scale, divisor)
    if len(arrays) == 1:
        return split_arrays(next(iter(arrays.values())), None, str(path), split, scale)
    raise ValueError(f"{path}: expected keys x_train and x_test (Keras format, y_train and "
                     f"y_test optional) or a single array; found keys {sorted(arrays)}")


def shared_divisor(arrays, path):
    """One divisor for x_train and x_test when both are integer images (so both scale alike), else None."""
    parts = [arrays[key] for key in ("x_train", "x_test")]
    if not all(np.issubdtype(x.dtype, np.integer) and x.size for x in parts):
        return None
    return max(integer_divisor(x, f"{path} ({key})") for key, x in zip(("x_train", "x_test"), parts))


def read_idx(path):
    """Parses an IDX file (MNIST's format), gzipped or not, into a numpy array.

    The header is two zero bytes, a type code, the number of dimensions, then
    each dimension as a big-endian uint32; the values follow, big-endian.

    Args:
      path: the file (.gz is decompressed).

    Returns:
      The array in native byte order.
    """
    data = read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {data[:4].hex() or 'none'})")
    ndim, offset = data[3], 4 + 4 * data[3]
    if len(data) < offset:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[data[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - offset != expected:
        raise ValueError(f"{path}: IDX data of shape {shape} needs {expected} bytes; "
                         f"found {len(data) - offset} (truncated or corrupt)")
    return np.frombuffer(data, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def read_bytes(path):
    """The bytes of a file, decompressed when its name ends in .gz."""
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as file:
                return file.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: cannot read (corrupt or truncated gzip?): {err}") from None


def sibling(path, old, new):
    """The file next to `path` with `old` replaced by `new` in its name, .gz or not; or None."""
    stem = path.name.removesuffix(".gz")
    if old not in stem:
        return None
    name = stem.replace(old, new)
    return next((c for c in (path.with_name(name), path.with_name(name + ".gz")) if c.exists()), None)


def split_sibling(path, split):
    """The IDX file of `split` next to `path` (train-* <-> t10k-*), or None without split words."""
    words = [w for ws in SPLIT_WORDS.values() for w in ws if w in path.name]
    if not words:
        return None
    if words[0] in SPLIT_WORDS[split]:
        return path
    found = [sibling(path, words[0], new) for new in SPLIT_WORDS[split]]
    match = next((f for f in found if f is not None), None)
    if match is None:
        names = [path.name.replace(words[0], new) for new in SPLIT_WORDS[split]]
        raise FileNotFoundError(f"{path}: no {split} split next to it (looked for {' or '.join(names)}[.gz])")
    return match


def load_idx(path, split, scale):
    """A split of MNIST-style IDX files, labels from the *-idx1-ubyte sibling if present.

    Args:
      path: an *-idx3-ubyte[.gz] image file.
      split: "train" or "test": a train-*/t10k-* name picks that file;
        other names use the 90%/10% rule.
      scale: see `load_arrays`.

    Returns:
      An `Arrays`.
    """
    chosen = split_sibling(path, split)
    target = chosen or path
    x = read_idx(target)
    label_path = sibling(target, "images-idx3", "labels-idx1") or sibling(target, "idx3", "idx1")
    y = None if label_path is None else read_idx(label_path)
    if y is not None and len(y) != len(x):
        raise ValueError(f"{label_path}: {len(y)} labels for {len(x)} images in {target.name}; "
                         f"x and y must have the same length")
    if chosen is None:
        return split_arrays(x, y, str(path), split, scale)
    return make_arrays(x, y, str(target), scale)


def image_files(folder):
    """(files, class names) of a folder of images, directly in it or one subfolder deep."""
    def images_in(directory):
        return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)

    top = images_in(folder)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and images_in(p))
    if top and classes:
        raise ValueError(f"{folder}: holds images both directly and in subfolders {classes}; "
                         f"use one layout (subfolders give labels)")
    if not top and not classes:
        raise ValueError(f"{folder}: no PNG/JPEG images found, directly or in subfolders")
    if top:
        return [(p, None) for p in top], classes
    return [(p, label) for label, name in enumerate(classes) for p in images_in(folder / name)], classes


def decode_image(path):
    """One image file as a uint8 array [H, W, C]."""
    try:
        return tf.io.decode_image(path.read_bytes(), expand_animations=False).numpy()
    except (tf.errors.InvalidArgumentError, OSError) as err:
        message = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "", getattr(err, "message", str(err))).strip()
        raise ValueError(f"{path}: cannot decode as an image: {message}") from None


def read_image_folder(folder):
    """All images of a folder, (x [N, H, W, C] uint8, labels [N] or None).

    Raises:
      ValueError: naming the first image whose size differs from the first one's.
    """
    files, classes = image_files(folder)
    images = []
    for path, _ in files:
        image = decode_image(path)
        if images and image.shape != images[0].shape:
            raise ValueError(f"{path}: image of shape {image.shape} differs from {files[0][0].name}'s "
                             f"{images[0].shape}; all images must have the same size")
        images.append(image)
    y = np.array([label for _, label in files], np.int64) if classes else None
    return np.stack(images), y


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


def load_tfds(name, split, scale, data_dir):
    """One split of a tensorflow-datasets dataset: x from "image", y from "label".

    Args:
      name: tfds name, e.g. "mnist" or "cifar10".
      split: a tfds split, e.g. "train" or "test".
      scale: see `load_arrays`.
      data_dir: tfds data dir (None: tfds's default).

    Returns:
      An `Arrays`.
    """
    examples = tfds_examples(tfds_builder(name, data_dir), split)
    if "image" not in examples:
        raise ValueError(f"tensorflow-datasets {name!r} has no 'image' feature (found {sorted(examples)}); "
                         f"only image datasets are supported")
    return make_arrays(examples["image"], examples.get("label"), f"tfds {name} ({split})", scale)


# --- dynamic binarization -------------------------------------------------------------


def binarized_dynamically(dataset, seed, labelled):
    """Maps each batch x to a fresh Bernoulli draw, new in every epoch.

    A seeded `tf.data.Dataset.random` stream (re-randomized per iteration)
    gives each batch a stateless seed, so the draws happen in the graph, are
    reproducible, and differ between epochs.

    Args:
      dataset: batches of x in [0, 1], or of (x, y).
      seed: seed of the stream.
      labelled: whether elements are (x, y) tuples.

    Returns:
      The mapped dataset.
    """
    def draw(x, key):
        pair = tf.stack([key, tf.constant(seed or 0, tf.int64)])
        uniform = tf.random.stateless_uniform(tf.shape(x), seed=pair)
        return tf.cast(uniform < x, tf.float32)

    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    pairs = tf.data.Dataset.zip((dataset, keys))
    if labelled:
        return pairs.map(lambda xy, key: (draw(xy[0], key), xy[1]), num_parallel_calls=tf.data.AUTOTUNE)
    return pairs.map(draw, num_parallel_calls=tf.data.AUTOTUNE)
