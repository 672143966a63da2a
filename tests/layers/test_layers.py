import json

import keras
import numpy as np
import pytest

from tfpvae import backend
from tfpvae.backend import tf, tfp
from tfpvae.layers import Likelihood, Posterior, Prior

tfd = tfp.distributions


def test_posterior_maps_features_to_a_distribution_over_z():
    layer = Posterior("normal", latent_dim=3)
    q = layer(np.random.RandomState(0).normal(size=(4, 10)).astype(np.float32))
    assert isinstance(q, tfd.Distribution)
    assert q.batch_shape == [4] and q.event_shape == [3]
    assert len(layer.trainable_weights) == 2  # the Dense kernel and bias


def test_likelihood_has_the_event_shape_of_x():
    p = Likelihood("bernoulli", event_shape=(2, 3, 1))(np.random.RandomState(0).normal(size=(4, 7)).astype(np.float32))
    assert p.batch_shape == [4] and p.event_shape == [2, 3, 1]


def test_likelihood_batch_shape_argument_reshapes_samples():
    p = Likelihood("normal", event_shape=(5,))(np.random.RandomState(0).normal(size=(6, 7)).astype(np.float32), batch_shape=[2, 3])
    assert p.batch_shape == [2, 3]


def test_likelihood_on_a_feature_map_uses_a_per_pixel_head():
    layer = Likelihood("normal", event_shape=(4, 4, 1))
    p = layer(np.random.RandomState(0).normal(size=(2, 4, 4, 8)).astype(np.float32))
    assert p.event_shape == [4, 4, 1]
    assert layer.params.kernel.shape == (8, 2)  # loc and scale per pixel, from 8 channels


def test_prior_is_called_with_no_input():
    layer = Prior("mixture", latent_dim=2)
    p = layer()
    assert isinstance(p, tfd.MixtureSameFamily) and p.event_shape == [2]
    with pytest.raises(TypeError, match="positional argument"):
        layer(tf.zeros([1, 2]))


@pytest.mark.parametrize("name,trainable", [("normal", False), ("learned_normal", True),
                                            ("mixture", True)])
def test_prior_trainability(name, trainable):
    layer = Prior(name, latent_dim=2)
    assert not layer.weights  # made in build, which the first call runs
    layer()
    assert bool(layer.trainable_weights) == trainable
    assert len(layer.weights) == 1


@pytest.mark.parametrize("layer", [
    Posterior({"name": "mvn_tril", "min_scale": 1e-3}, latent_dim=3),
    Likelihood("bernoulli", event_shape=(2, 2, 1)),
    Prior({"name": "mixture", "components": 4}, latent_dim=3),
], ids=["posterior", "likelihood", "prior"])
def test_config_is_json_and_round_trips(layer):
    config = json.loads(json.dumps(layer.get_config()))
    again = type(layer).from_config(config)
    assert again.get_config() == layer.get_config()
    serialized = keras.layers.serialize(layer)
    assert type(keras.layers.deserialize(serialized)) is type(layer)


def test_head_computes_in_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        q = Posterior("normal", latent_dim=2)(np.random.RandomState(0).normal(size=(3, 4)).astype(np.float16))
        assert q.dtype == tf.float32
        assert np.all(np.isfinite(np.asarray(q.log_prob(q.sample(seed=backend.seed_pair(1, 2))))))
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("make,match", [
    (lambda: Posterior(latent_dim=2.5), "latent_dim must be a positive int; received 2.5"),
    (lambda: Prior(latent_dim=0), "latent_dim must be a positive int; received 0"),
    (lambda: Likelihood("normal", event_shape=(3, -1)), "each entry of event_shape must be a positive int; "
                                                        "received -1"),
    (lambda: Posterior("bernoulli"), "unknown posterior family 'bernoulli'"),
    (lambda: Prior("vamp", latent_dim=2), "prior 'vamp' needs data_shape, the shape of one x; received"),
    (lambda: Posterior("normal", dtype="float16"), "dtype: distribution layers compute in float32"),
])
def test_bad_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_weights_are_made_in_build_and_prior_overrides_call_only():
    posterior = Posterior("normal", latent_dim=2)
    assert not posterior.weights
    posterior(tf.zeros([1, 5]))
    assert posterior.params.kernel.shape == (5, 4)
    assert "__call__" not in Prior.__dict__ and "call" in Prior.__dict__


def test_a_likelihood_starts_at_the_datas_marginal_whatever_its_features():
    x = (np.random.default_rng(0).uniform(size=(300, 6)) < np.linspace(0.1, 0.9, 6)).astype("float32")
    layer = Likelihood("bernoulli", event_shape=(6,))
    layer.build((None, 4))
    assert layer.initialize_from(x)
    features = np.zeros((2, 4), np.float32)
    np.testing.assert_allclose(layer(features).mean()[0], x.mean(axis=0), rtol=1e-5)


def test_a_likelihood_over_positions_shares_each_channels_fit():
    """A map of features over an image's positions: one bias per channel, the
    per-position fits averaged."""
    x = np.random.default_rng(1).uniform(size=(50, 4, 4, 2)).astype("float32") * [1.0, 0.2]
    layer = Likelihood({"name": "normal", "scale": 1.0}, event_shape=(4, 4, 2))
    layer.build((None, 4, 4, 3))
    assert layer.pixelwise((None, 4, 4, 3)) and layer.initialize_from(x)
    np.testing.assert_allclose(np.asarray(layer.params.bias), x.mean(axis=(0, 1, 2)), rtol=1e-5)


def test_a_likelihood_without_a_marginal_fit_keeps_its_bias():
    layer = Likelihood("beta", event_shape=(3,))
    layer.build((None, 4))
    before = np.asarray(layer.params.bias).copy()
    assert not layer.initialize_from(np.full((5, 3), 0.5, np.float32))
    np.testing.assert_array_equal(np.asarray(layer.params.bias), before)
