"""Local files: .npz and .npy arrays, MNIST IDX files and folders of images."""

import gzip
import math
import os
import re
import zipfile
import zlib

import numpy as np

from tfpvae.backend import tensorflow as tf
from tfpvae.data.arrays import Raw, integer_divisor

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FILE_SUFFIXES = (".npz", ".npy", ".gz", "-ubyte")
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SPLIT_WORDS = {"train": ("train",), "test": ("t10k", "test")}

# --- local files ---------------------------------------------------------------------


def is_path(source):
    """Whether a source names a file or folder rather than a dataset name."""
    if isinstance(source, os.PathLike):
        return True
    if not isinstance(source, str):
        return False
    return (os.path.exists(os.path.expanduser(source)) or source.startswith((".", "/", "~"))
            or source.lower().endswith(FILE_SUFFIXES))


def read_path(path, split, scale):
    """What a local file or folder holds for a split (by its type), a `Raw`."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    name = path.name.lower().removesuffix(".gz")
    if path.is_dir():
        return Raw(*read_image_folder(path), str(path))
    if name.endswith(".npz"):
        return read_npz_split(path, split, scale)
    if name.endswith(".npy"):
        return Raw(read_npy(path), None, str(path))
    if name.endswith("-ubyte"):
        return read_idx_split(path, split)
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


def read_npz_split(path, split, scale):
    """A split of an .npz: x_{split}/y_{split} (Keras format) or its single array.

    Args:
      path: the .npz file.
      split: "train" or "test".
      scale: see `load_arrays`; the Keras format scales both splits by the
        range of all x in the file.

    Returns:
      A `Raw`.
    """
    arrays = read_npz(path)
    if "x_train" in arrays and "x_test" in arrays:
        divisor = shared_divisor(arrays, path) if scale else None
        return Raw(arrays[f"x_{split}"], arrays.get(f"y_{split}"), f"{path} (x_{split})", own_split=True,
                   divisor=divisor)
    if len(arrays) == 1:
        return Raw(next(iter(arrays.values())), None, str(path))
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


def read_idx_split(path, split):
    """A split of MNIST-style IDX files, labels from the *-idx1-ubyte sibling if present.

    Args:
      path: an *-idx3-ubyte[.gz] image file.
      split: "train" or "test": a train-*/t10k-* name picks that file;
        other names use the 90%/10% rule.

    Returns:
      A `Raw`.
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
        return Raw(x, y, str(path))
    return Raw(x, y, str(target), own_split=True)


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
        text = err.message if isinstance(err, tf.errors.OpError) else str(err)
        message = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "", text).strip()
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
