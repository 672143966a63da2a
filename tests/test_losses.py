import json

import keras
import numpy as np
import pytest
from scipy import stats

import tfpvae
from tfpvae import backend
from tfpvae.backend import tf
from tfpvae.layers import DistributionHead
from tfpvae.losses import NegativeLogLikelihood

SUPPORT = r"'poisson' needs x in non-negative integers; received values in \[-1, 2\]"


def test_loss_is_the_mean_negative_log_density():
    params = np.array([[0.5, 0.3], [-1.0, 1.2], [2.0, -0.4]], np.float32)
    y = np.array([0.1, -0.7, 2.5], np.float32)
    scale = np.logaddexp(0.0, params[:, 1]) + 1e-4  # the family's softplus(raw) + min_scale
    expected = -stats.norm.logpdf(y, params[:, 0], scale)
    loss = NegativeLogLikelihood("normal", event_shape=(1,))
    assert float(loss(y, params)) == pytest.approx(expected.mean(), rel=1e-5)
    assert float(loss(y[:, None], params)) == pytest.approx(expected.mean(), rel=1e-5)  # [N] or [N, 1]
    per_example = NegativeLogLikelihood("normal", event_shape=(1,), reduction=None)(y, params)
    np.testing.assert_allclose(np.asarray(per_example), expected, rtol=1e-5)


def test_config_is_json_and_round_trips():
    loss = NegativeLogLikelihood({"name": "negative_binomial", "min_scale": 0.01}, event_shape=(2,))
    config = json.loads(json.dumps(keras.losses.serialize(loss)))
    again = keras.losses.deserialize(config)
    assert type(again) is NegativeLogLikelihood and again.get_config() == loss.get_config()


def count_model():
    model = keras.Sequential([keras.Input((2,)), DistributionHead("poisson", event_shape=(1,))])
    return model


def test_check_names_the_family_and_support_and_returns_good_targets():
    loss = NegativeLogLikelihood("poisson", event_shape=(1,))
    y = np.array([0.0, 3.0, 7.0])
    assert loss.check(y) is y
    with pytest.raises(ValueError, match=SUPPORT):
        loss.check(np.array([2.0, -1.0]))


@pytest.mark.tensorflow
def test_eager_targets_outside_the_support_fail_before_training():
    model = count_model()
    model.compile(optimizer="adam", loss=NegativeLogLikelihood("poisson", event_shape=(1,)), run_eagerly=True)
    before = [np.asarray(w).copy() for w in model.weights]
    x, y = np.ones((4, 2), np.float32), np.array([[2.0], [-1.0], [0.0], [1.0]], np.float32)
    with pytest.raises(ValueError, match=SUPPORT):
        model.fit(x, y, verbose=0)
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, np.asarray(new))


@pytest.mark.tensorflow
def test_graph_targets_outside_the_support_fail_at_the_first_batch():
    model = count_model()
    model.compile(optimizer="adam", loss=NegativeLogLikelihood("poisson", event_shape=(1,)), jit_compile=False)
    before = [np.asarray(w).copy() for w in model.weights]
    x, y = np.ones((4, 2), np.float32), np.array([[0.5], [1.0], [0.0], [1.0]], np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="outside the support of the poisson family, non-negative integers"):
        model.fit(x, y, verbose=0)
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, np.asarray(new))


def test_targets_inside_the_support_train():
    model = count_model()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=NegativeLogLikelihood("poisson", (1,)))
    x = np.ones((64, 2), np.float32)
    y = np.random.default_rng(0).poisson(4.0, size=(64, 1)).astype(np.float32)
    history = model.fit(x, y, epochs=20, verbose=0).history["loss"]
    assert history[-1] < history[0]


def test_a_family_for_images_scores_the_whole_event():
    loss = NegativeLogLikelihood("bernoulli", event_shape=(2, 2, 1), reduction=None)
    y = np.array([[[[1.0], [0.0]], [[1.0], [1.0]]]], np.float32)
    params = np.zeros((1, 4), np.float32)  # logits 0: each pixel has probability 1/2
    np.testing.assert_allclose(np.asarray(loss(y, params)), [4 * np.log(2.0)], rtol=1e-6)


def test_posterior_only_families_are_found_for_the_loss():
    loss = NegativeLogLikelihood("iaf", event_shape=(2,))
    head = DistributionHead("iaf", event_shape=(2,))
    params = head(tf.zeros([3, 4]))
    z = head.distribution(params).sample(seed=backend.seed_pair(1, 2))
    np.testing.assert_allclose(float(loss(z, params)), -np.mean(head.distribution(params).log_prob(z)),
                               rtol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown family 'gauss'"):
        NegativeLogLikelihood("gauss", event_shape=(1,))
    with pytest.raises(ValueError, match="event_shape must be a tuple of positive ints; received None"):
        NegativeLogLikelihood("normal", event_shape=None)
    assert tfpvae.losses.NegativeLogLikelihood is NegativeLogLikelihood
