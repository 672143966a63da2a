import gzip
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits

from tfpvae import data

# --- writing real files --------------------------------------------------------------


def write_idx(path, array, type_code=0x08):
    """Writes `array` as an IDX file (gzipped when the name ends in .gz)."""
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    payload = header + np.asarray(array).astype(dtype).tobytes()
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def write_png(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())
    return path


def truncate(path, keep=0.5):
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)])
    return path


def rows(n, d=3):
    """Float rows [n, d] whose first value is the row index, so rows can be identified."""
    x = np.random.RandomState(0).uniform(size=(n, d)).astype(np.float32)
    x[:, 0] = np.arange(n)
    return x


def mnist_like(n, seed):
    rng = np.random.RandomState(seed)
    return rng.randint(0, 256, size=(n, 6, 5)).astype(np.uint8), rng.randint(0, 10, size=n).astype(np.uint8)


# --- sources ------------------------------------------------------------------------------


def test_digits_splits_values_and_labels():
    digits = load_digits()
    train, test = data.load_arrays("digits"), data.load_arrays("digits", split="test")
    assert train.x.shape == (1500, 8, 8, 1) and test.x.shape == (297, 8, 8, 1)
    assert train.x.dtype == np.float32 and train.event_shape == (8, 8, 1)
    np.testing.assert_allclose(train.x[..., 0], digits.images[:1500] / 16, rtol=1e-6)
    np.testing.assert_allclose(test.x[..., 0], digits.images[1500:] / 16, rtol=1e-6)
    np.testing.assert_array_equal(train.y, digits.target[:1500])
    np.testing.assert_array_equal(test.y, digits.target[1500:])
    assert train.x.min() == 0 and train.x.max() == 1
    assert data.load_arrays("digits", scale=False).x.max() == 16


def test_keras_npz_keeps_its_splits_and_scales_by_255(tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist_like(20, 0), mnist_like(7, 1)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    train, test = data.load_arrays(str(path)), data.load_arrays(path, split="test")
    assert train.x.shape == (20, 6, 5, 1) and test.x.shape == (7, 6, 5, 1)
    assert train.event_shape == (6, 5, 1) and train.x.dtype == np.float32
    np.testing.assert_allclose(train.x[..., 0], x_train / 255.0, rtol=1e-6)
    np.testing.assert_allclose(test.x[..., 0], x_test / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(train.y, y_train)
    np.testing.assert_array_equal(test.y, y_test)
    np.testing.assert_array_equal(data.load_arrays(path, scale=False).x[..., 0], x_train)


def check_ninety_ten(train, test, x):
    """Train and test are disjoint, together all of x, and not simply in file order."""
    assert len(train.x) == len(x) * 9 // 10 and len(test.x) == len(x) - len(x) * 9 // 10
    ids = np.concatenate([train.x[:, 0], test.x[:, 0]]).astype(int)
    np.testing.assert_array_equal(np.sort(ids), np.arange(len(x)))
    assert not np.array_equal(ids[:len(train.x)], np.arange(len(train.x)))
    np.testing.assert_array_equal(train.x, x[train.x[:, 0].astype(int)])


@pytest.mark.parametrize("kind", ["npy", "npz", "memory"])
def test_sources_without_splits_use_seeded_ninety_ten(tmp_path, kind):
    x = rows(50)
    if kind == "npy":
        np.save(tmp_path / "x.npy", x)
        source = tmp_path / "x.npy"
    elif kind == "npz":
        np.savez(tmp_path / "x.npz", anything=x)
        source = str(tmp_path / "x.npz")
    else:
        source = x
    train, test = data.load_arrays(source), data.load_arrays(source, split="test")
    check_ninety_ten(train, test, x)
    assert train.event_shape == (3,) and train.y is None
    np.testing.assert_array_equal(data.load_arrays(source).x, train.x)


def test_integer_zero_one_data_is_not_divided(tmp_path):
    bits = (np.random.RandomState(0).uniform(size=(30, 4, 4)) < 0.5).astype(np.uint8)
    np.save(tmp_path / "bits.npy", bits)
    arrays = data.load_arrays(tmp_path / "bits.npy")
    assert arrays.x.shape == (27, 4, 4, 1)
    assert set(np.unique(arrays.x)) == {0.0, 1.0}


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_files_with_labels_and_splits(tmp_path, suffix):
    (x_train, y_train), (x_test, y_test) = mnist_like(12, 0), mnist_like(5, 1)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", x_train)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y_train)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", x_test)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", y_test)
    source = tmp_path / f"train-images-idx3-ubyte{suffix}"
    train, test = data.load_arrays(source), data.load_arrays(source, split="test")
    np.testing.assert_allclose(train.x[..., 0], x_train / 255.0, rtol=1e-6)
    np.testing.assert_allclose(test.x[..., 0], x_test / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(train.y, y_train)
    np.testing.assert_array_equal(test.y, y_test)
    assert test.event_shape == (6, 5, 1) and "t10k" in test.source


def test_idx_without_labels_or_split_words(tmp_path):
    x = np.arange(20 * 2 * 3, dtype=np.int16).reshape(20, 2, 3) - 7
    write_idx(tmp_path / "values-idx3-ubyte", x, type_code=0x0B)
    train = data.load_arrays(tmp_path / "values-idx3-ubyte", scale=False)
    test = data.load_arrays(tmp_path / "values-idx3-ubyte", split="test", scale=False)
    assert train.y is None and len(train.x) == 18 and len(test.x) == 2
    together = np.concatenate([train.x, test.x])[..., 0]
    np.testing.assert_array_equal(np.sort(together.ravel()), x.ravel())


def test_idx_big_endian_floats(tmp_path):
    x = np.linspace(-1, 1, 10 * 4, dtype=np.float32).reshape(10, 4)
    path = write_idx(tmp_path / "train-images-idx3-ubyte", x, type_code=0x0D)
    arrays = data.load_arrays(path)
    np.testing.assert_array_equal(arrays.x, x)
    assert arrays.event_shape == (4,)


def test_image_folder_flat_and_by_class(tmp_path):
    for i in range(10):
        write_png(tmp_path / "flat" / f"{i}.png", np.full((4, 3, 1), 20 * i, np.uint8))
        write_png(tmp_path / "classes" / ("cat" if i % 2 else "ant") / f"{i}.png",
                  np.full((4, 3, 3), 100 * (i % 2) + i, np.uint8))
    flat = data.load_arrays(tmp_path / "flat")
    assert flat.x.shape == (9, 4, 3, 1) and flat.y is None
    assert len(data.load_arrays(tmp_path / "flat", split="test").x) == 1
    values = set(np.round(flat.x[:, 0, 0, 0] * 255).astype(int))
    assert values < {20 * i for i in range(10)} and len(values) == 9
    both = [data.load_arrays(tmp_path / "classes", split=s) for s in ("train", "test")]
    x = np.concatenate([a.x for a in both]) * 255
    y = np.concatenate([a.y for a in both])
    assert x.shape == (10, 4, 3, 3)
    np.testing.assert_array_equal(y, (np.round(x[:, 0, 0, 0]) >= 100).astype(int))  # ant=0, cat=1


def test_jpeg_images_are_read(tmp_path):
    for i in range(10):
        image = np.full((8, 8, 3), 25 * i, np.uint8)
        (tmp_path / f"{i}.JPG").write_bytes(tf.io.encode_jpeg(image).numpy())
    arrays = data.load_arrays(tmp_path)
    assert arrays.x.shape == (9, 8, 8, 3) and 0 <= arrays.x.min() and arrays.x.max() <= 1


def test_tfds_mnist_under_mock_data():
    with tfds.testing.mock_data(num_examples=6):
        arrays = data.load_arrays("mnist")
    assert arrays.x.shape == (6, 28, 28, 1) and arrays.x.dtype == np.float32
    assert arrays.event_shape == (28, 28, 1)
    assert 0 <= arrays.x.min() and arrays.x.max() <= 1 and arrays.x.max() > 0.5
    assert arrays.y.shape == (6,) and arrays.y.dtype == np.int64 and set(arrays.y) <= set(range(10))


def test_tfds_offline_fails_fast_with_a_local_file_hint(tmp_path):
    if data.tfds.reachable(*data.tfds.proxy_address(*data.tfds.TFDS_HOST)):
        pytest.skip("the network is up, so tfds would really download fashion_mnist")
    start = time.monotonic()
    with pytest.raises(ValueError) as error:
        data.load_arrays("fashion_mnist", data_dir=str(tmp_path / "tfds"))
    assert time.monotonic() - start < 10
    message = str(error.value)
    assert "fashion_mnist" in message and "no network" in message and "mnist.npz" in message


def test_unknown_tfds_name_says_how_to_list_names():
    with pytest.raises(ValueError) as error:
        data.load_arrays("no_such_dataset_xyz")
    message = str(error.value)
    assert "no_such_dataset_xyz" in message and "list_builders" in message and "mnist.npz" in message
    assert "network" not in message


# --- errors name the file and the problem --------------------------------------------


def make_bad_source(tmp_path, problem):
    """Writes a broken source; returns (path, words the message must contain)."""
    x = rows(20)
    if problem == "missing":
        return tmp_path / "nothere.npz", ["no such file"]
    if problem == "truncated npz":
        path = tmp_path / "cut.npz"
        np.savez(path, x_train=x, x_test=x)
        return truncate(path), ["cannot read", ".npz"]
    if problem == "truncated npy":
        np.save(tmp_path / "cut.npy", x)
        return truncate(tmp_path / "cut.npy"), ["cannot read", ".npy"]
    if problem == "truncated idx":
        path = write_idx(tmp_path / "train-images-idx3-ubyte", mnist_like(10, 0)[0])
        return truncate(path, 0.9), ["truncated"]
    if problem == "truncated gzip":
        path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", mnist_like(10, 0)[0])
        return truncate(path, 0.7), ["cannot read", "gzip"]
    if problem == "bad magic":
        (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x1f\x00\x08\x03" + bytes(40))
        return tmp_path / "train-images-idx3-ubyte", ["not an IDX file"]
    if problem == "unknown type":
        (tmp_path / "x.csv").write_text("1,2,3\n")
        return tmp_path / "x.csv", ["unknown file type"]
    if problem == "empty":
        np.save(tmp_path / "empty.npy", np.zeros((0, 5), np.float32))
        return tmp_path / "empty.npy", ["empty"]
    if problem == "non-numeric":
        np.save(tmp_path / "words.npy", np.array([["a", "b"]] * 10))
        return tmp_path / "words.npy", ["numeric"]
    if problem == "objects":
        np.save(tmp_path / "objects.npy", np.array([{"a": 1}] * 10, dtype=object), allow_pickle=True)
        return tmp_path / "objects.npy", ["Python objects"]
    if problem == "x and y lengths":
        np.savez(tmp_path / "mismatch.npz", x_train=x, y_train=np.zeros(19), x_test=x)
        return tmp_path / "mismatch.npz", ["same length"]
    if problem == "idx label count":
        write_idx(tmp_path / "train-images-idx3-ubyte", mnist_like(10, 0)[0])
        write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(9, np.uint8))
        return tmp_path / "train-images-idx3-ubyte", ["9 labels for 10 images"]
    if problem == "image sizes":
        write_png(tmp_path / "a.png", np.zeros((4, 4, 1), np.uint8))
        write_png(tmp_path / "b.png", np.zeros((5, 4, 1), np.uint8))
        return tmp_path / "b.png", ["differs", "same size"]
    if problem == "corrupt image":
        write_png(tmp_path / "a.png", np.zeros((4, 4, 1), np.uint8))
        (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(10))
        return tmp_path / "b.png", ["cannot decode", "Invalid PNG"]
    if problem == "no images":
        (tmp_path / "readme.txt").write_text("nothing here")
        return tmp_path, ["no PNG/JPEG images"]
    raise AssertionError(problem)


PROBLEMS = ["missing", "truncated npz", "truncated npy", "truncated idx", "truncated gzip",
            "bad magic", "unknown type", "empty", "non-numeric", "objects", "x and y lengths",
            "idx label count", "image sizes", "corrupt image", "no images"]


@pytest.mark.parametrize("problem", PROBLEMS)
def test_errors_name_the_file_and_the_problem(tmp_path, problem):
    path, words = make_bad_source(tmp_path, problem)
    source = tmp_path if problem in ("image sizes", "corrupt image") else path
    with pytest.raises((ValueError, FileNotFoundError)) as error:
        data.load_arrays(source)
    message = str(error.value)
    assert path.name in message
    for word in words:
        assert word in message
    assert "Traceback" not in message and "{{" not in message and len(message) < 600


def test_out_of_range_integers_need_scale_false(tmp_path):
    np.save(tmp_path / "wide.npy", np.arange(40, dtype=np.int32).reshape(10, 4) * 100)
    with pytest.raises(ValueError, match="wide.npy.*scale=False"):
        data.load_arrays(tmp_path / "wide.npy")
    assert data.load_arrays(tmp_path / "wide.npy", scale=False).x.max() == 3900


def test_bad_split_and_bad_source_type():
    with pytest.raises(ValueError, match="split"):
        data.load_arrays("digits", split="validation")
    with pytest.raises(ValueError, match="source"):
        data.load_arrays(3)


# --- splitting and pipelines ---------------------------------------------------------------


def test_split_validation_is_seeded_and_keeps_labels():
    x = rows(40)
    arrays = data.Arrays(x=x, y=np.arange(40), event_shape=(3,), source="rows")
    train, validation = data.split_validation(arrays, 0.25, seed=3)
    assert len(train.x) == 30 and len(validation.x) == 10
    np.testing.assert_array_equal(train.x[:, 0].astype(int), train.y)
    np.testing.assert_array_equal(np.sort(np.concatenate([train.y, validation.y])), np.arange(40))
    again, _ = data.split_validation(arrays, 0.25, seed=3)
    other, _ = data.split_validation(arrays, 0.25, seed=4)
    np.testing.assert_array_equal(again.y, train.y)
    assert not np.array_equal(other.y, train.y)
    for fraction in (0, 1, 0.001, "half"):
        with pytest.raises(ValueError, match="fraction"):
            data.split_validation(arrays, fraction)


def epochs(dataset, count):
    return [np.concatenate([np.asarray(b) for b in dataset.as_numpy_iterator()]) for _ in range(count)]


def test_to_dataset_batches_and_reshuffles_each_epoch():
    x = rows(25)
    first, second = epochs(data.to_dataset(x, batch_size=10, seed=1), 2)
    sizes = [len(b) for b in data.to_dataset(x, batch_size=10).as_numpy_iterator()]
    assert sizes == [10, 10, 5]
    for epoch in (first, second):
        np.testing.assert_array_equal(np.sort(epoch[:, 0]), np.arange(25))
    assert not np.array_equal(first[:, 0], second[:, 0])
    in_order, = epochs(data.to_dataset(x, batch_size=10, shuffle=False), 1)
    np.testing.assert_array_equal(in_order, x)


def test_to_dataset_with_labels_keeps_pairs():
    x = rows(30)
    dataset = data.to_dataset(x, y=np.arange(30), batch_size=7)
    for xb, yb in dataset.as_numpy_iterator():
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb[:, 0], yb)
    with pytest.raises(ValueError, match="same length"):
        data.to_dataset(x, y=np.arange(29))


def test_dynamic_binarization_is_fresh_each_epoch_and_unbiased():
    x = np.concatenate([np.full((2000, 10), 0.3), np.zeros((10, 10)), np.ones((10, 10))]).astype(np.float32)
    dataset = data.to_dataset(x, batch_size=512, shuffle=False, binarize="dynamic", seed=5)
    first, second = epochs(dataset, 2)
    for epoch in (first, second):
        assert set(np.unique(epoch)) == {0.0, 1.0} and epoch.dtype == np.float32
        # 20000 draws of Bernoulli(0.3): the mean's standard error is 0.0032; 0.015 is 4.6 of them.
        assert abs(epoch[:2000].mean() - 0.3) < 0.015
        assert epoch[2000:2010].max() == 0 and epoch[2010:].min() == 1
    assert np.mean(first[:2000] != second[:2000]) > 0.3


def test_dynamic_binarization_with_labels():
    x = np.full((20, 3), 0.5, np.float32)
    xb, yb = next(data.to_dataset(x, y=np.arange(20), batch_size=20, shuffle=False,
                                  binarize="dynamic").as_numpy_iterator())
    assert set(np.unique(xb)) == {0.0, 1.0}
    np.testing.assert_array_equal(yb, np.arange(20))


def test_static_binarization_is_the_same_every_time():
    x = np.random.RandomState(0).uniform(size=(300, 10)).astype(np.float32)
    fixed = data.binarize_static(x, seed=2)
    assert fixed.dtype == np.float32 and set(np.unique(fixed)) == {0.0, 1.0}
    np.testing.assert_array_equal(fixed, data.binarize_static(x, seed=2))
    assert not np.array_equal(fixed, data.binarize_static(x, seed=3))
    # 3000 draws with mean 0.5: standard error about 0.009; 0.04 is over 4 of them.
    assert abs(fixed.mean() - x.mean()) < 0.04
    first, second = epochs(data.to_dataset(x, batch_size=64, shuffle=False, binarize="static", seed=2), 2)
    np.testing.assert_array_equal(first, fixed)
    np.testing.assert_array_equal(second, fixed)


def test_binarization_checks_its_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.to_dataset(np.full((4, 2), 2.0), binarize="dynamic")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.binarize_static(np.full((4, 2), -0.5))
    with pytest.raises(ValueError, match="'static', 'dynamic'"):
        data.to_dataset(np.zeros((4, 2)), binarize="yes")


def test_load_gives_a_dataset_and_the_event_shape():
    dataset, event_shape = data.load("digits", batch_size=100, binarize="dynamic")
    assert event_shape == (8, 8, 1)
    batches = list(dataset.as_numpy_iterator())
    assert len(batches) == 15 and batches[0].shape == (100, 8, 8, 1)
    assert set(np.unique(np.concatenate(batches))) == {0.0, 1.0}
    test, _ = data.load("digits", split="test", batch_size=300)
    np.testing.assert_allclose(next(test.as_numpy_iterator()), data.load_arrays("digits", "test").x)


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
def test_loaded_dataset_trains_a_vae():
    import tfpvae

    dataset, event_shape = data.load("digits", batch_size=250, binarize="dynamic")
    validation, _ = data.load("digits", split="test", batch_size=300, binarize="static")
    vae = tfpvae.VAE(event_shape=event_shape, latent_dim=2)
    vae.compile(optimizer="adam")
    history = vae.fit(dataset, epochs=2, validation_data=validation, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and np.isfinite(history["val_loss"][-1])
    assert history["loss"][1] < history["loss"][0]


def test_keras_npz_zero_one_integers_stay_zero_one(tmp_path):
    x_train = (np.random.RandomState(0).uniform(size=(10, 3, 3)) < 0.5).astype(np.uint8)
    np.savez(tmp_path / "bits.npz", x_train=x_train, x_test=x_train[:4])
    arrays = data.load_arrays(tmp_path / "bits.npz", split="test")
    np.testing.assert_array_equal(arrays.x[..., 0], x_train[:4])
    assert arrays.y is None
