"""Arrays in memory: what a loader reads (`Raw`), the one pass that makes it an
`Arrays` (`prepare`: check, split, scale), and the digits.

Every source's loader returns a `Raw`; `prepare` then checks the examples and
labels, takes the split (the source's own, or the first 90% / last 10% after
a shuffle with seed 0) and scales the images into [0, 1].
"""

import dataclasses

import numpy as np

SPLITS = ("train", "test")


@dataclasses.dataclass
class Arrays:
    """One split of a data set, held in memory.

    Attributes:
      x: float32 [N, *event_shape], scaled into [0, 1] when loaded with scale=True.
      y: int64 labels [N] where the source has them (for "shapes" its factors
        [N, 5]), else None.
      event_shape: shape of one x, e.g. (28, 28, 1), (8, 8, 1) or (d,).
      source: what was loaded, for messages.
    """

    x: np.ndarray
    y: np.ndarray | None
    event_shape: tuple
    source: str


@dataclasses.dataclass
class Raw:
    """Examples as a source holds them, before checks, splitting and scaling.

    Attributes:
      x, y: the examples and their labels (or None): those of the requested
        split when `own_split`, else all of the source's.
      source: what was read, for messages.
      own_split: True when the source has its own train/test split.
      divisor: what scales x into [0, 1] (None: the rule of `integer_divisor`).
    """

    x: object
    y: object
    source: str
    own_split: bool = False
    divisor: float | None = None


def prepare(raw, split, scale):
    """The `Arrays` of one split of what a loader read: checked, split and scaled.

    Args:
      raw: a `Raw`.
      split: "train" or "test" (a source with its own split has taken it already).
      scale: see `tfpvae.data.load_arrays`.
    """
    if raw.own_split:
        return make_arrays(raw.x, raw.y, raw.source, scale, raw.divisor)
    return split_arrays(raw.x, raw.y, raw.source, split, scale)


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


def read_digits(split):
    """scikit-learn's 8x8 digits: train the first 1500, test the last 297."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    part = slice(0, 1500) if split == "train" else slice(1500, None)
    return Raw(digits.images[part], digits.target[part], f"digits ({split})", own_split=True, divisor=16.0)
