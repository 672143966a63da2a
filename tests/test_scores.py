"""Sample-quality scores against closed forms and brute-force references, and
the feature networks."""

import time

import keras
import numpy as np
import pytest
import scipy.linalg
from sklearn.datasets import load_digits

from tfpvae import scores
from tfpvae.scores import features


def gaussian_sets(n, seed=0):
    """Draws from N(m_a, C_a) and N(m_b, C_b) in 3-D, and those parameters."""
    rng = np.random.RandomState(seed)
    m_a, m_b = np.array([0.0, 1.0, -1.0]), np.array([0.5, 0.0, 0.0])
    root_a, root_b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    c_a, c_b = root_a @ root_a.T + 0.1 * np.eye(3), root_b @ root_b.T + 0.1 * np.eye(3)
    a = rng.multivariate_normal(m_a, c_a, size=n)
    b = rng.multivariate_normal(m_b, c_b, size=n)
    return a, b, (m_a, c_a, m_b, c_b)


def reference_frechet(m_a, c_a, m_b, c_b):
    """The textbook formula with scipy's matrix square root."""
    return np.sum((m_a - m_b) ** 2) + np.trace(c_a + c_b - 2 * scipy.linalg.sqrtm(c_a @ c_b).real)


def test_frechet_distance_of_gaussian_samples_matches_the_closed_form():
    a, b, params = gaussian_sets(20000)
    # 20,000 draws estimate the means and covariances to about 1%; the distance follows.
    assert scores.frechet_distance(a, b) == pytest.approx(reference_frechet(*params), rel=0.03)
    sample_params = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert scores.frechet_distance(a, b) == pytest.approx(reference_frechet(*sample_params), rel=1e-8)


def test_frechet_distance_in_one_dimension_and_of_a_set_with_itself():
    # In 1-D it is (m_a - m_b)^2 + (s_a - s_b)^2.
    assert scores.gaussian_frechet([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)
    a, _, _ = gaussian_sets(500)
    assert scores.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert scores.frechet_distance(a, a + 2.0) == pytest.approx(12.0, rel=1e-8)


def test_kernel_distance_is_the_brute_force_unbiased_mmd():
    rng = np.random.RandomState(0)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)) + 0.3
    k = lambda u, v: (u @ v / 4 + 1) ** 3  # noqa: E731
    within = sum(k(a[i], a[j]) + k(b[i], b[j]) for i in range(6) for j in range(6) if i != j) / 30
    between = sum(k(a[i], b[j]) for i in range(6) for j in range(6)) / 36
    assert scores.kernel_distance(a, b, subsets=3, subset_size=6) == pytest.approx(within - 2 * between, rel=1e-10)


def test_kernel_distance_expectation_is_zero_for_equal_distributions():
    # 40 independent pairs of sets from one distribution: the mean of the estimates is 0
    # within 3 standard errors; a shift of 0.3 in every coordinate is far above that.
    rng = np.random.RandomState(0)
    same, shifted = [], []
    for _ in range(40):
        a, b = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
        same.append(scores.kernel_distance(a, b, subsets=1, subset_size=200))
        shifted.append(scores.kernel_distance(a, b + 0.3, subsets=1, subset_size=200))
    same = np.array(same)
    stderr = same.std(ddof=1) / np.sqrt(len(same))
    assert abs(same.mean()) < 3 * stderr
    assert np.mean(shifted) > 10 * stderr and min(shifted) > 0
    mean, error = scores.kernel_distance(a, b, subsets=10, subset_size=100, return_stderr=True)
    assert np.isfinite(mean) and error > 0


def test_precision_and_recall_of_identical_and_disjoint_sets():
    a = np.random.RandomState(0).normal(size=(300, 5))
    assert scores.precision_recall(a, a.copy(), k=3) == {"precision": 1.0, "recall": 1.0}
    assert scores.precision_recall(a, a + 100.0, k=3) == {"precision": 0.0, "recall": 0.0}


def test_precision_and_recall_match_a_brute_force_count():
    rng = np.random.RandomState(1)
    a, b = rng.normal(size=(60, 2)), rng.normal(size=(50, 2)) * 0.7 + 1.0

    def radii(points):
        d = np.linalg.norm(points[:, None] - points[None], axis=-1)
        return np.sort(d, axis=1)[:, 3]  # column 0 is the point itself

    def share(queries, centres):
        d = np.linalg.norm(queries[:, None] - centres[None], axis=-1)
        return np.mean([np.any(row <= radii(centres)) for row in d])

    result = scores.precision_recall(a, b, k=3, batch_size=7)
    assert result == pytest.approx({"precision": share(b, a), "recall": share(a, b)})
    assert 0 < result["precision"] < 1 and 0 < result["recall"] < 1


def test_summary_holds_every_score():
    a, b, _ = gaussian_sets(300)
    result = scores.summary(a, b)
    assert set(result) == {"frechet_distance", "kernel_distance", "kernel_distance_stderr", "precision", "recall"}


def test_bad_features_are_refused():
    a = np.zeros((10, 3))
    with pytest.raises(ValueError, match=r"features_a must have shape \[N, D\]; received shape \(10,\)"):
        scores.frechet_distance(np.zeros(10), a)
    with pytest.raises(ValueError, match="features_b must have D = 3 columns"):
        scores.kernel_distance(a, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="features_b must be finite"):
        scores.frechet_distance(a, np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="features_a must hold at least 4 rows; received 3"):
        scores.precision_recall(a[:3], a, k=3)
    with pytest.raises(ValueError, match="k must be a positive int; received 0"):
        scores.precision_recall(a, a, k=0)


def test_inception_weights_fail_fast_in_one_line_when_not_cached_and_unreachable(tmp_path):
    start = time.monotonic()
    with pytest.raises(OSError) as error:
        scores.inception_weights("imagenet", cache_dir=tmp_path, url="http://127.0.0.1:9/inception_notop.h5")
    message = str(error.value)
    assert "\n" not in message and "inception_notop.h5" in message and "weights=PATH" in message
    assert time.monotonic() - start < 10


def test_inception_weights_come_from_the_cache_or_a_file(tmp_path):
    cached = tmp_path / "models" / features.INCEPTION_URL.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    cached.write_bytes(b"")
    assert scores.inception_weights("imagenet", cache_dir=tmp_path) == str(cached)
    assert scores.inception_weights(cached) == str(cached)
    assert scores.inception_weights(None) is None
    with pytest.raises(ValueError, match="is not a file"):
        scores.inception_weights(tmp_path / "missing.h5")


def test_inception_features_are_2048_pool_features():
    # Random weights: the network, the resizing and the pooling up to where ImageNet weights load.
    x = np.random.RandomState(0).uniform(size=(3, 8, 8, 1)).astype("float32")
    out = scores.inception_features(x, weights=None, batch_size=2)
    assert out.shape == (3, 2048) and np.all(np.isfinite(out)) and np.all(out >= 0)
    with pytest.raises(ValueError, match=r"x must be images \[N, H, W, 1 or 3\]"):
        scores.inception_features(np.zeros((3, 64)), weights=None)


@pytest.fixture(scope="module")
def digits_split():
    digits = load_digits()
    x = (digits.images[..., None] / 16.0).astype("float32")
    return x[:1500], digits.target[:1500], x[1500:], digits.target[1500:]


def test_the_classifier_learns_the_labels_and_its_features_round_trip(digits_split, tmp_path):
    x, y, x_test, y_test = digits_split
    keras.utils.set_random_seed(0)
    classifier = scores.train_classifier(x, y, epochs=15, feature_dim=32)
    accuracy = classifier.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    assert accuracy > 0.8, accuracy  # measured 0.89; guessing is 0.1
    f = scores.classifier_features(classifier, x_test)
    assert f.shape == (len(x_test), 32)
    classifier.save(tmp_path / "classifier.keras")
    again = keras.models.load_model(tmp_path / "classifier.keras")
    np.testing.assert_allclose(scores.classifier_features(again, x_test), f, rtol=1e-5, atol=1e-6)
    # Features of the test digits are closer to the training digits' than to noise's.
    train_features = scores.classifier_features(classifier, x)
    noise = scores.classifier_features(classifier, np.random.RandomState(0).uniform(size=x_test.shape))
    assert scores.frechet_distance(train_features, f) < scores.frechet_distance(train_features, noise)


def test_the_classifier_needs_labels(digits_split):
    x = digits_split[0]
    with pytest.raises(ValueError, match="received y=None"):
        scores.train_classifier(x, None)
    with pytest.raises(ValueError, match=r"y must be integer labels >= 0 of shape \[1500\]"):
        scores.train_classifier(x, np.zeros(10, int))
