"""The `shapes` data set: its factors, its images, its splits and its cache."""

import numpy as np
import pytest

from tfpvae import data
from tfpvae.data import shapes


@pytest.fixture(scope="module")
def source():
    return data.ShapesSource()


def test_a_sample_has_binary_images_and_the_factors_in_range(tmp_path):
    arrays = data.load_arrays("shapes", max_examples=3000, data_dir=tmp_path)
    assert arrays.x.shape == (3000, 64, 64, 1) and arrays.x.dtype == np.float32
    assert set(np.unique(arrays.x)) == {0.0, 1.0}
    assert arrays.y.shape == (3000, 5) and arrays.y.dtype == np.int64
    assert arrays.event_shape == (64, 64, 1)
    for j, size in enumerate(shapes.FACTOR_SIZES):
        assert set(np.unique(arrays.y[:, j])) == set(range(size)), shapes.FACTOR_NAMES[j]
    assert not list(tmp_path.iterdir()), "a sample must not build the whole grid's cache"


def test_the_same_sample_every_time_and_images_match_their_factors(source):
    first = data.load_arrays("shapes", max_examples=200)
    again = data.load_arrays("shapes", max_examples=200)
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.y, again.y)
    np.testing.assert_array_equal(source.images(first.y), first.x)
    assert len(np.unique(first.y, axis=0)) == 200


def test_x_and_y_move_the_shape_by_whole_pixels(source):
    base = np.array([[2, 3, 7, 10, 12]])
    image = source.images(base)[0]
    right, down = base.copy(), base.copy()
    right[0, 3] += 5
    down[0, 4] += 3
    np.testing.assert_array_equal(source.images(right)[0], np.roll(image, 5, axis=1))
    np.testing.assert_array_equal(source.images(down)[0], np.roll(image, 3, axis=0))


def test_orientation_symmetries_and_the_other_factors_change_the_image(source):
    """A square looks the same after 90 degrees (10 steps), an ellipse after
    180 (20 steps); a heart only after a full turn; shape and scale always
    change the image."""
    def image(*factors):
        return source.images(np.array([factors]))[0]

    np.testing.assert_array_equal(image(0, 5, 3, 16, 16), image(0, 5, 13, 16, 16))
    np.testing.assert_array_equal(image(1, 5, 3, 16, 16), image(1, 5, 23, 16, 16))
    assert np.any(image(1, 5, 3, 16, 16) != image(1, 5, 13, 16, 16))
    for k in range(1, 40):
        assert np.any(image(2, 5, 0, 16, 16) != image(2, 5, k, 16, 16)), k
    assert np.any(image(0, 5, 0, 16, 16) != image(1, 5, 0, 16, 16))
    assert image(2, 0, 0, 16, 16).sum() < image(2, 5, 0, 16, 16).sum()


def test_the_three_shapes_have_equal_areas_at_each_scale(source):
    """Within 3% of their mean: the pixel count does not give the shape away."""
    for scale in range(6):
        factors = np.array([[shape, scale, k, 16, 16] for shape in range(3) for k in range(40)])
        areas = source.images(factors).sum(axis=(1, 2, 3)).reshape(3, 40).mean(axis=1)
        np.testing.assert_allclose(areas, areas.mean(), rtol=0.03)


def test_train_and_test_samples_share_no_image():
    train = data.load_arrays("shapes", max_examples=2000)
    test = data.load_arrays("shapes", split="test", max_examples=500)
    assert len(test.x) == 500
    as_rows = lambda y: {tuple(row) for row in y}  # noqa: E731
    assert not as_rows(train.y) & as_rows(test.y)
    assert set(np.ravel_multi_index(test.y.T, shapes.FACTOR_SIZES)) <= set(shapes.split_index("test"))
    assert len(shapes.split_index("test")) == 73728 and len(shapes.split_index("train")) == 737280


def test_the_whole_grid_is_cached_atomically_and_read_back(tmp_path, source):
    """The cache holds all 737,280 images (packed bits, grid order); a second
    call reuses the file; loading a sample from the cache gives the images
    drawn directly. About 5 s and 377 MB of disk."""
    path = tmp_path / shapes.CACHE_NAME
    bits = shapes.cached_bits(path)
    assert bits.shape == (737280, 512) and path.stat().st_size > 737280 * 512
    assert [p.name for p in tmp_path.iterdir()] == [shapes.CACHE_NAME]
    stamp = path.stat().st_mtime_ns
    assert shapes.cached_bits(path).shape == bits.shape and path.stat().st_mtime_ns == stamp
    index = np.random.default_rng(0).integers(0, 737280, 300)
    np.testing.assert_array_equal(shapes.unpack(bits[index]), source.images(shapes.grid_factors(index)))
    np.testing.assert_array_equal(shapes.grid_factors(np.array([0, 737279])), [[0, 0, 0, 0, 0], [2, 5, 39, 31, 31]])
    from_cache = data.load_arrays("shapes", max_examples=100, data_dir=tmp_path)
    np.testing.assert_array_equal(from_cache.x, source.images(from_cache.y))


def test_bad_requests_are_errors_that_name_them(source):
    with pytest.raises(ValueError, match="max_examples"):
        data.load_arrays("shapes", max_examples=0)
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_arrays("shapes", split="validation")
    with pytest.raises(ValueError, match="factor 'orientation' takes values 0..39"):
        source.images(np.array([[0, 0, 40, 0, 0]]))
    with pytest.raises(ValueError, match=r"shape \[n, 5\]"):
        source.images(np.zeros((3, 4), int))
    with pytest.raises(ValueError, match="integers"):
        source.images(np.zeros((3, 5)))


def test_sample_factors_is_uniform_over_the_grid(source):
    """Each factor's values are drawn with equal chances: with 40,000 draws
    every value's share is within 15% of 1/size."""
    factors = source.sample_factors(40000, np.random.default_rng(0))
    for j, size in enumerate(shapes.FACTOR_SIZES):
        shares = np.bincount(factors[:, j], minlength=size) / len(factors)
        np.testing.assert_allclose(shares, 1 / size, rtol=0.15)


def test_max_examples_keeps_the_first_examples_of_other_sources():
    arrays = data.load_arrays("digits", max_examples=10)
    np.testing.assert_array_equal(arrays.x, data.load_arrays("digits").x[:10])
    assert len(data.load_arrays("digits", max_examples=10**6).x) == 1500
