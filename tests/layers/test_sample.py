import json

import numpy as np
import pytest

from tfpvae.backend import tf
from tfpvae.layers import DistributionHead, Sample

PARAMS = np.array([[0.3, 0.2, -1.0, 1.5], [1.0, -0.5, 0.0, 0.1]], np.float32)


def test_draws_have_the_event_shape_differ_between_calls_and_repeat_with_the_seed():
    def draws(seed):
        layer = Sample("normal", event_shape=(2,), seed=seed)
        return [np.asarray(layer(PARAMS)) for _ in range(2)]
    first = draws(4)
    assert first[0].shape == (2, 2) and first[0].dtype == np.float32
    assert not np.array_equal(first[0], first[1])
    np.testing.assert_array_equal(draws(4)[1], first[1])


def test_draws_follow_the_distribution():
    """4,000 draws of two examples: means within 4 standard errors, stddevs within 5%."""
    params = np.repeat(PARAMS, 2000, axis=0)
    z = np.asarray(Sample("normal", event_shape=(2,), seed=0)(params)).reshape(2, 2000, 2)
    p = DistributionHead("normal", event_shape=(2,)).distribution(PARAMS)
    mean, stddev = np.asarray(p.mean()), np.asarray(p.stddev())
    assert np.all(np.abs(z.mean(axis=1) - mean) < 4 * stddev / np.sqrt(2000))
    np.testing.assert_allclose(z.std(axis=1), stddev, rtol=0.05)


@pytest.mark.tensorflow
def test_draws_are_reparameterized():
    params = tf.Variable(PARAMS)
    with tf.GradientTape() as tape:
        objective = tf.reduce_sum(tf.sin(Sample("normal", event_shape=(2,), seed=1)(params)))
    assert np.all(np.asarray(tape.gradient(objective, params)) != 0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="seed must be None or an int in"):
        Sample("normal", event_shape=(2,), seed=-3)
    with pytest.raises(ValueError, match="needs parameters with 4 entries on the last axis"):
        Sample("normal", event_shape=(2,))(np.zeros((2, 5), np.float32))


def test_config_is_json_and_round_trips():
    layer = Sample({"name": "student_t", "min_df": 3.0}, event_shape=(2,), seed=5)
    config = json.loads(json.dumps(layer.get_config()))
    assert Sample.from_config(config).get_config() == layer.get_config()
