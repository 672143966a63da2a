"""`shapes`: 64x64 binary images of three shapes over a full grid of five known factors.

A stand-in for dSprites (Matthey et al. 2017) that needs no download: the
images are rasterized here, deterministically, from their factors

    shape        3   square, ellipse, heart (all three of equal area at a scale)
    scale        6   0.5 .. 1 in equal steps (the shape's size times the scale)
    orientation 40   k * 9 degrees, k = 0..39, counter-clockwise
    x           32   the centre moves right in whole-pixel steps, columns 16..47
    y           32   the centre moves down in whole-pixel steps, rows 16..47

737,280 images in all, in grid order (shape slowest, y fastest), as dSprites
orders its images. A pixel is 1 where its centre lies inside the shape.

Each (shape, scale, orientation) is drawn once on a 96x96 canvas, and the
image at (x, y) is the 64x64 window of that canvas that puts the shape's
centre at (16 + x, 16 + y): moving a shape moves its pixels unchanged, and no
shape ever touches the border (its farthest point is under 16 pixels from its
centre).

How it differs from dSprites: its own pixels, not dSprites' (the same
factors, not the same images); positions step by 1 pixel over the middle 32
pixels, where dSprites spreads 32 positions over the whole image; the 40
orientations are distinct (dSprites' linspace(0, 2 pi, 40) repeats its first
angle as its last); the three shapes have equal areas; `.y` holds the five
factors' indices (dSprites also has a constant colour factor). As in dSprites,
a square looks the same every 90 degrees and an ellipse every 180, so
orientation is only partly identifiable from the image.

The whole grid is kept on disk as packed bits (377 MB) in a cache folder,
written once atomically; held in memory as float32 it takes 12 GB, so small
runs ask for `max_examples`, which draws only the images it keeps.
"""

import math
import os
from pathlib import Path

import numpy as np

from tfpvae import checks, files
from tfpvae.data.arrays import Arrays

FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
SIZE = 64          # the image's height and width
CANVAS = 96        # the canvas one shape is drawn on; its centre is at (48, 48)
OFFSET = 16        # the shape's centre in the image is at (OFFSET + x, OFFSET + y)
TOTAL = math.prod(FACTOR_SIZES)
TEST_SIZE = TOTAL // 10
CACHE_NAME = "shapes-v1-bits.npy"
CACHE_ENV = "TFPVAE_DATA_DIR"


class FactorSource:
    """Images drawn from chosen factors of variation: what the intervention-based
    disentanglement metrics (`tfpvae.disentanglement`) need of a data set.

    A subclass sets `factor_names` and `factor_sizes` (factor j takes the
    integer values 0..factor_sizes[j] - 1) and implements `images`.
    """

    factor_names = ()
    factor_sizes = ()

    def sample_factors(self, n, rng):
        """n factor vectors drawn uniformly from the grid, int64 [n, F].

        Args:
          n: how many.
          rng: a `numpy.random.Generator`.
        """
        n = checks.positive_int(n, "n")
        return np.stack([rng.integers(size, size=n) for size in self.factor_sizes], axis=1).astype(np.int64)

    def images(self, factors):
        """The images of the factor vectors `factors` [n, F], float32 [n, *event_shape]."""
        raise NotImplementedError

    def check_factors(self, factors):
        """`factors` as int64 [n, F], each column within its factor's range."""
        factors = np.asarray(factors)
        if factors.ndim != 2 or factors.shape[1] != len(self.factor_sizes):
            raise ValueError(f"factors must have shape [n, {len(self.factor_sizes)}] ({', '.join(self.factor_names)}); "
                             f"received shape {factors.shape}")
        if not np.issubdtype(factors.dtype, np.integer):
            raise ValueError(f"factors must be integers; received dtype {factors.dtype}")
        for j, (name, size) in enumerate(zip(self.factor_names, self.factor_sizes)):
            column = factors[:, j]
            if column.size and (column.min() < 0 or column.max() >= size):
                raise ValueError(f"factor {name!r} takes values 0..{size - 1}; received values from "
                                 f"{column.min()} to {column.max()}")
        return factors.astype(np.int64)


class ShapesSource(FactorSource):
    """The `shapes` images (see the module docstring), drawn for any factors.

    Example:
      >>> source = ShapesSource()
      >>> factors = source.sample_factors(8, np.random.default_rng(0))
      >>> factors[:, 0] = 2                      # all hearts
      >>> source.images(factors).shape
      (8, 64, 64, 1)
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    event_shape = (SIZE, SIZE, 1)

    def __init__(self):
        self._windows = None

    def images(self, factors):
        factors = self.check_factors(factors)
        if self._windows is None:
            self._windows = np.lib.stride_tricks.sliding_window_view(canvases(), (SIZE, SIZE), axis=(3, 4))
        shape, scale, orientation, x, y = factors.T
        start = CANVAS // 2 - OFFSET
        chosen = self._windows[shape, scale, orientation, start - y, start - x]
        return chosen[..., None].astype(np.float32)


def canvases():
    """Every (shape, scale, orientation) drawn centred on a canvas, bool [3, 6, 40, 96, 96]."""
    centres = np.arange(CANVAS) + 0.5 - CANVAS / 2
    dy, dx = np.meshgrid(centres, centres, indexing="ij")
    scales = np.linspace(0.5, 1.0, FACTOR_SIZES[1])[:, None, None, None]
    angles = (2 * np.pi * np.arange(FACTOR_SIZES[2]) / FACTOR_SIZES[2])[None, :, None, None]
    # (u, v): the pixel centre in the shape's own frame, rotated by -angle, in units of the scale;
    # v points up, as the image's rows point down.
    u = (np.cos(angles) * dx - np.sin(angles) * dy) / scales
    v = (-np.sin(angles) * dx - np.cos(angles) * dy) / scales
    return np.stack([inside(name, u, v) for name in SHAPES])


def inside(shape, u, v):
    """Whether the points (u, v) lie in a shape of scale 1 centred at 0 (sizes in pixels).

    square: side 22; ellipse: semi-axes 15.5 and 10; heart: the curve
    (X^2 + Y^2 - 1)^3 = X^2 Y^3 with X = u / 11.5, Y = v / 11.5 + 0.118
    (centred on its bounding box). Each has an area of about 484 pixels and
    reaches less than 16 pixels from its centre.
    """
    if shape == "square":
        return (np.abs(u) <= 11.0) & (np.abs(v) <= 11.0)
    if shape == "ellipse":
        return (u / 15.5) ** 2 + (v / 10.0) ** 2 <= 1.0
    big_x, big_y = u / 11.5, v / 11.5 + 0.118
    return (big_x**2 + big_y**2 - 1.0) ** 3 - big_x**2 * big_y**3 <= 0.0


# --- the data set: splits, samples and the cache ---------------------------------------------


def grid_factors(index):
    """The factors of grid positions `index` [n] (grid order, y fastest), int64 [n, 5]."""
    return np.stack(np.unravel_index(index, FACTOR_SIZES), axis=1).astype(np.int64)


def split_index(split, max_examples=None):
    """The grid positions of a split, in grid order.

    "train" is the whole grid (as dSprites, which has no held-out images);
    "test" a fixed sample of a tenth of it. With `max_examples` = N, train
    keeps a fixed uniform sample of N positions and test its first N, from
    the two ends of one fixed permutation of the grid (seed 0), so a train
    sample and a test sample share no image while N_train <= 90% of the grid.
    """
    if split == "train" and (max_examples is None or max_examples >= TOTAL):
        return np.arange(TOTAL)
    order = np.random.default_rng(0).permutation(TOTAL)
    if split == "train":
        return np.sort(order[:max_examples])
    test = order[TOTAL - TEST_SIZE:]
    return np.sort(test if max_examples is None else test[:max_examples])


def cache_path(data_dir=None):
    """The cache file of the whole grid: in `data_dir`, else $TFPVAE_DATA_DIR, else ~/.cache/tfpvae."""
    folder = data_dir or os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tfpvae"
    return Path(folder).expanduser() / CACHE_NAME


def cached_bits(path, source=None, chunk=1024):
    """The whole grid's images as packed bits, uint8 [737280, 512], memory-mapped from `path`.

    The file is made on first use, chunk by chunk, and renamed into place
    when complete (`files.atomic_path`), so a killed process leaves no
    partial cache.
    """
    path = Path(path)
    if not path.exists():
        source = source or ShapesSource()
        with files.atomic_path(path) as temporary:
            bits = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.uint8, shape=(TOTAL, SIZE * SIZE // 8))
            for start in range(0, TOTAL, chunk):
                index = np.arange(start, min(start + chunk, TOTAL))
                bits[index] = pack(source.images(grid_factors(index)))
            bits.flush()
            del bits
    return np.load(path, mmap_mode="r")


def pack(images):
    """Binary images [n, 64, 64, 1] as packed bits, uint8 [n, 512]."""
    return np.packbits(images.reshape(len(images), -1) > 0.5, axis=1)


def unpack(bits):
    """The inverse of `pack`: float32 [n, 64, 64, 1]."""
    return np.unpackbits(np.asarray(bits), axis=1).reshape(-1, SIZE, SIZE, 1).astype(np.float32)


def load(split, max_examples=None, data_dir=None):
    """One split of `shapes` as an `Arrays` whose `.y` holds the factors [N, 5].

    The whole train split comes from the cache (made on first use); a
    sample (`max_examples`) or the test split is drawn directly, or read from
    the cache where it exists already.
    """
    index = split_index(split, max_examples)
    path = cache_path(data_dir)
    if len(index) == TOTAL or path.exists():
        x = unpack(cached_bits(path)[index])
    else:
        x = ShapesSource().images(grid_factors(index))
    part = "all" if len(index) == TOTAL else f"{len(index)} images"
    return Arrays(x=x, y=grid_factors(index), event_shape=(SIZE, SIZE, 1), source=f"shapes ({split}: {part})")
