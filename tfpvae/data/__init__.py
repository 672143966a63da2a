"""Data for the VAEs: arrays from files, scikit-learn or tfds, and input pipelines.

`load_arrays` reads one split of a source into an `Arrays`; `to_dataset` turns
arrays into a batched `tf.data.Dataset` (optionally binarized); `load` does both.
Their pipelines batch first: every transformation after loading (the gather
of a batch's rows, binarization) works on whole batches. `fit` warns with a
`SlowPipelineWarning` when the step waits for the batches of a dataset it is given
(`pipeline_check`).

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
  "shapes": 64x64 binary images of three shapes over the full grid of five
    known factors (shape, scale, orientation, x, y; 737,280 images),
    generated here and cached (`tfpvae.data.shapes`); `.y` holds the factors
    [N, 5]. Train is the whole grid, test a fixed tenth of it.

Sources without their own train/test split (an .npy, a single-array .npz, an
IDX file whose name holds neither "train" nor "t10k"/"test", an image folder,
an in-memory array) are shuffled with a fixed seed (0), then train is the first
90% of the examples and test the last 10%.
"""

import pathlib

import numpy as np

from tfpvae import checks
from tfpvae.backend import tensorflow as tf
from tfpvae.data import shapes
from tfpvae.data.array_batches import ArrayBatches
from tfpvae.data.arrays import SPLITS, Arrays, Raw, check_unit_interval, labels, numeric, prepare, read_digits, subset
from tfpvae.data.batching import PREFETCH, batched
from tfpvae.data.local import is_path, read_path
from tfpvae.data.pipeline_check import SlowPipelineWarning
from tfpvae.data.shapes import FactorSource, ShapesSource
from tfpvae.data.tfds import is_tfds_name, read_tfds

BINARIZE = (None, "static", "dynamic")


# --- the public interface ---------------------------------------------------------


def load_arrays(source, split="train", scale=True, data_dir=None, max_examples=None):
    """Loads one split of a source into memory (see the module docstring for sources).

    Args:
      source: "digits", "shapes", a tensorflow-datasets name, a path to a file
        or folder, or a numpy array [N, ...].
      split: "train" or "test" (tfds names also take any tfds split string).
      scale: divide integer images by 255 (digits by 16) into [0, 1]; integer
        data that is already 0/1 and float data are left as they are.
      data_dir: tensorflow-datasets data dir (None: tfds's default); for
        "shapes", the folder of its cache file (None: $TFPVAE_DATA_DIR, else
        ~/.cache/tfpvae).
      max_examples: keep at most this many examples of the split (None: all):
        the first ones, or for "shapes", whose images come in grid order, a
        fixed uniform sample, drawn without making the rest.

    Returns:
      An `Arrays`. Examples [N, H, W] get a channel axis: [N, H, W, 1].

    Raises:
      FileNotFoundError: a path that does not exist.
      ValueError: anything else that cannot be loaded, naming the source.
    """
    if max_examples is not None:
        max_examples = checks.positive_int(max_examples, "max_examples")
    if isinstance(source, str) and source == "shapes":
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; received {split!r}")
        return shapes.load(split, max_examples, data_dir)
    arrays = prepare(read(source, split, scale, data_dir), split, scale)
    if max_examples is None or max_examples >= len(arrays.x):
        return arrays
    return subset(arrays, slice(0, max_examples), f"{arrays.source}, first {max_examples}")


def read(source, split, scale, data_dir):
    """What the source holds for a split, unchecked: a `Raw` from its loader."""
    if isinstance(source, np.ndarray):
        return Raw(source, None, "array of shape " + str(source.shape))
    if split not in SPLITS and not is_tfds_name(source):
        raise ValueError(f"split must be one of {SPLITS}; received {split!r}")
    if isinstance(source, str) and source == "digits":
        return read_digits(split)
    if is_path(source):
        return read_path(pathlib.Path(source).expanduser(), split, scale)
    if isinstance(source, str):
        return read_tfds(source, split, data_dir)
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
    """A batched `tf.data.Dataset` of x (and y), held in memory (`batching.batched`).

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
    arrays, batch_size = checked_for_batches(x, y, batch_size, binarize, seed)
    dataset = batched(arrays, batch_size, shuffle=shuffle, seed=seed)
    if binarize == "dynamic":
        dataset = binarized_dynamically(dataset, seed, labelled=y is not None)
    return dataset.prefetch(PREFETCH)


def to_batches(x, y=None, batch_size=100, shuffle=True, binarize=None, seed=0):
    """`to_dataset`'s batches made by numpy (`array_batches.ArrayBatches`, a
    `keras.utils.PyDataset`), for backends without `tf.data`; the same arguments."""
    arrays, batch_size = checked_for_batches(x, y, batch_size, binarize, seed)
    return ArrayBatches(arrays, batch_size, shuffle=shuffle,
                        binarize_dynamically=binarize == "dynamic", seed=seed)


def checked_for_batches(x, y, batch_size, binarize, seed):
    """(x or (x, y) as float32 x and int labels, batch size), checked, x binarized
    once where `binarize` is "static"."""
    if binarize not in BINARIZE:
        raise ValueError(f"binarize must be one of {BINARIZE}; received {binarize!r}")
    batch_size = checks.positive_int(batch_size, "batch_size")
    x = numeric(x, "x")
    if binarize is not None:
        x = check_unit_interval(x, f"binarize={binarize!r}")
    x = binarize_static(x, seed) if binarize == "static" else x.astype(np.float32)
    y = None if y is None else labels(y, len(x), "y")
    return (x if y is None else (x, y)), batch_size


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


__all__ = ["Arrays", "BINARIZE", "FactorSource", "SPLITS", "ShapesSource", "SlowPipelineWarning", "binarize_static",
           "load", "load_arrays", "split_validation", "to_dataset"]
