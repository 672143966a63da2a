"""Means (the running means a VAE reports) and the metrics of predicted distributions."""

import json

import keras
import numpy as np
import pytest
from scipy import stats

from tfpvae.metrics import IntervalCoverage, LogLikelihood, Means

PARAMS = np.array([[0.5, 0.3], [-1.0, 1.2], [2.0, -0.4], [0.0, 0.0]], np.float32)  # loc, raw scale
Y = np.array([[0.1], [-0.7], [4.5], [-3.0]], np.float32)
SCALE = np.logaddexp(0.0, PARAMS[:, 1]) + 1e-4  # the normal family's softplus(raw) + min_scale


def test_means_match_one_keras_mean_per_value_weighted_by_batch_size():
    rng = np.random.RandomState(0)
    means, reference = Means(["loss", "kl"]), {"loss": keras.metrics.Mean(), "kl": keras.metrics.Mean()}
    for size in (5, 3, 8):
        loss, kl = float(rng.normal()), rng.normal(size=size).astype("float32")
        means.update_state({"loss": loss, "kl": kl.mean()}, size)
        reference["loss"].update_state(loss, sample_weight=size)
        reference["kl"].update_state(kl)
    result = means.result()
    assert list(result) == ["loss", "kl"]
    for name in ("loss", "kl"):
        np.testing.assert_allclose(result[name], reference[name].result(), rtol=1e-6)


def test_reset_starts_again_from_nothing():
    means = Means(["elbo"])
    means.update_state({"elbo": -3.0}, 10)
    means.reset_state()
    assert float(means.result()["elbo"]) == 0.0
    means.update_state({"elbo": -5.0}, 2)
    assert float(means.result()["elbo"]) == -5.0


def test_log_likelihood_is_the_example_weighted_mean_of_log_densities():
    metric = LogLikelihood("normal", event_shape=(1,))
    metric.update_state(Y[:3], PARAMS[:3])
    metric.update_state(Y[3:], PARAMS[3:])
    expected = stats.norm.logpdf(Y[:, 0], PARAMS[:, 0], SCALE).mean()
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)


def test_interval_coverage_counts_targets_inside_the_central_interval():
    metric = IntervalCoverage("normal", event_shape=(1,), level=0.8)
    metric.update_state(Y, PARAMS)
    low, high = stats.norm.interval(0.8, PARAMS[:, 0], SCALE)
    expected = np.mean((low <= Y[:, 0]) & (Y[:, 0] <= high))
    assert 0 < expected < 1 and float(metric.result()) == pytest.approx(expected)
    assert metric.name == "coverage_80"


def test_interval_coverage_of_counts_uses_draws():
    """TFP's Poisson has no quantile function: the 90% interval of Poisson(5), [2, 9], comes
    from 20,000 draws (its CDF is 0.01 or more from 0.05 and 0.95 at every count, over 6
    standard errors of the draws' empirical CDF)."""
    metric = IntervalCoverage("poisson", event_shape=(1,), level=0.9, num_samples=20000)
    params = np.full((4, 1), np.log(5.0), np.float32)
    metric.update_state(np.array([[2.0], [9.0], [10.0], [5.0]], np.float32), params)
    assert float(metric.result()) == pytest.approx(0.75)


@pytest.mark.parametrize("metric", [LogLikelihood({"name": "student_t", "min_df": 3.0}, (2,)),
                                    IntervalCoverage("poisson", (1,), level=0.5, seed=4)],
                         ids=["log_likelihood", "coverage"])
def test_metric_configs_are_json_and_round_trip(metric):
    serialized = json.loads(json.dumps(keras.metrics.serialize(metric)))
    again = keras.metrics.deserialize(serialized)
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_bad_level_is_named():
    with pytest.raises(ValueError, match=r"level must be a number in \(0, 1\); received 1.0"):
        IntervalCoverage("normal", (1,), level=1.0)
