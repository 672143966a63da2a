import json

import keras
import numpy as np
import pytest

from tfpvae import backend
from tfpvae.backend import tf, tfp
from tfpvae.layers import DistributionHead, KLDivergence

tfd = tfp.distributions
PARAMS = np.array([[0.3, 0.2, -1.0, 1.5], [1.0, -0.5, 0.0, 0.1]], np.float32)  # loc, raw scale per z_i


def q_of(params, posterior="normal"):
    return DistributionHead(posterior, event_shape=(2,), role="posterior").distribution(params)


def test_identity_on_the_parameters_and_adds_the_weighted_analytic_kl():
    layer = KLDivergence(posterior="normal", prior="normal", event_shape=(2,), weight=0.5)
    out = layer(PARAMS)
    np.testing.assert_array_equal(np.asarray(out), PARAMS)
    expected = tfd.kl_divergence(q_of(PARAMS), tfd.MultivariateNormalDiag(tf.zeros(2)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(np.asarray(layer.losses[0]), 0.5 * np.mean(expected), rtol=1e-6)


def test_monte_carlo_kl_agrees_with_the_analytic_one():
    """20,000 draws per example: the estimate is within 4 standard errors of the closed form."""
    layer = KLDivergence(posterior="normal", prior="normal", event_shape=(2,), kl="mc", num_samples=20000,
                         seed=3)
    layer(PARAMS)
    q = q_of(PARAMS)
    z = q.sample(20000, seed=backend.seed_pair(5, 6))
    log_ratio = np.asarray((q.log_prob(z) - tfd.MultivariateNormalDiag(tf.zeros(2)).log_prob(z)))
    standard_error = np.sqrt(np.sum(log_ratio.var(axis=0))) / np.sqrt(20000) / 2  # of the mean over 2 examples
    analytic = np.mean(tfd.kl_divergence(q, tfd.MultivariateNormalDiag(tf.zeros(2))))
    assert abs(float(layer.losses[0]) - analytic) < 4 * standard_error


@pytest.mark.tensorflow
def test_a_mixture_prior_falls_back_to_monte_carlo_and_trains():
    layer = KLDivergence(posterior="normal", prior={"name": "mixture", "components": 3}, event_shape=(2,))
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layer(inputs))
    assert len(layer.prior_layer.trainable_weights) == 1 and layer.prior_layer.trainable_weights[0] is \
        model.trainable_weights[0]
    with tf.GradientTape() as tape:
        model(PARAMS)
        loss = tf.add_n(model.losses)
    assert np.isfinite(float(loss))
    assert np.abs(np.asarray(tape.gradient(loss, layer.prior_layer.params))).sum() > 0


def test_draws_differ_between_calls_and_repeat_with_the_seed():
    def losses(seed):
        layer = KLDivergence(posterior="normal", prior="mixture", event_shape=(2,), seed=seed)
        values = []
        for _ in range(2):
            layer(PARAMS)
            values.append(float(layer.losses[0]))
        return values
    first = losses(7)
    assert first[0] != first[1] and losses(7) == first


@pytest.mark.parametrize("kwargs,match", [
    ({"prior": "mixture", "kl": "analytic"}, "kl='analytic' needs a closed-form KL"),
    ({"kl": "exact"}, r"kl must be one of \['auto', 'analytic', 'mc'\]; received 'exact'"),
    ({"weight": -1.0}, "weight must be a finite number >= 0; received -1.0"),
    ({"event_shape": (2, 2)}, r"event_shape must have one dimension, the size of z; received \(2, 2\)"),
    ({"prior": "vamp"}, "prior 'vamp' is built from an encoder"),
    ({"posterior": "poisson"}, "unknown posterior family 'poisson'"),
    ({"num_samples": 0}, "num_samples must be a positive int; received 0"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        KLDivergence(**{"event_shape": (2,), **kwargs})(PARAMS)


def test_parameters_of_the_wrong_width_are_refused():
    with pytest.raises(ValueError, match="needs parameters with 4 entries on the last axis; received shape"):
        KLDivergence(event_shape=(2,))(np.zeros((2, 3), np.float32))


def test_config_is_json_and_round_trips():
    layer = KLDivergence(posterior="mvn_tril", prior="learned_normal", event_shape=(3,), weight=2.0, seed=1)
    config = json.loads(json.dumps(layer.get_config()))
    assert KLDivergence.from_config(config).get_config() == layer.get_config()
