"""Each head's negative log-likelihood equals its `tfp.layers` counterpart on the legacy
tf_keras, for the same Dense weights and inputs (tfp.layers is a reference only)."""

import keras
import numpy as np
import pytest

from tfpvae.backend import tf, tfp
from tfpvae.layers import DistributionHead, KLDivergence
from tfpvae.losses import NegativeLogLikelihood

try:
    import tf_keras
    from tensorflow_probability import layers as tfpl

    tfpl.IndependentNormal  # noqa: B018  (the import is lazy; this loads it)
except ImportError as error:  # pragma: no cover
    pytest.skip(f"tf_keras or tfp.layers cannot be imported, so there is no reference: {error}",
                allow_module_level=True)

tfd = tfp.distributions
FEATURES, EVENT, BATCH = 5, 3, 8
TINY = 1e-30  # a min_scale that leaves softplus(raw) unchanged in float32, as tfp.layers has none


def interleave(n):
    """tfp.layers puts all n locs then all n raw scales; tfpvae alternates them per element."""
    return np.stack([np.arange(n), n + np.arange(n)], axis=-1).reshape(-1)


CASES = {
    "IndependentNormal": (lambda: tfpl.IndependentNormal(EVENT), tfpl.IndependentNormal.params_size(EVENT),
                          {"name": "normal", "min_scale": TINY}, interleave(EVENT), "real"),
    "IndependentBernoulli": (lambda: tfpl.IndependentBernoulli(EVENT), EVENT, "bernoulli", None, "binary"),
    "IndependentPoisson": (lambda: tfpl.IndependentPoisson(EVENT), EVENT, "poisson", None, "counts"),
    "MultivariateNormalTriL": (lambda: tfpl.MultivariateNormalTriL(EVENT),
                               tfpl.MultivariateNormalTriL.params_size(EVENT),
                               {"name": "mvn_tril", "min_scale": 1e-5}, None, "real"),  # its diag_shift
    "MixtureNormal": (lambda: tfpl.MixtureNormal(4, [EVENT]), tfpl.MixtureNormal.params_size(4, [EVENT]),
                      {"name": "normal_mixture", "components": 4, "min_scale": TINY}, None, "real"),
}


def targets(kind, rng):
    if kind == "binary":
        return rng.integers(0, 2, size=(BATCH, EVENT)).astype(np.float32)
    if kind == "counts":
        return rng.poisson(2.0, size=(BATCH, EVENT)).astype(np.float32)
    return rng.normal(size=(BATCH, EVENT)).astype(np.float32)


@pytest.mark.parametrize("name", list(CASES))
def test_negative_log_likelihood_equals_tfp_layers(name):
    make_layer, size, spec, order, kind = CASES[name]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(BATCH, FEATURES)).astype(np.float32), targets(kind, rng)
    kernel = rng.normal(scale=0.5, size=(FEATURES, size)).astype(np.float32)
    bias = rng.normal(scale=0.5, size=(size,)).astype(np.float32)

    reference = tf_keras.Sequential([tf_keras.layers.Dense(size, input_shape=(FEATURES,)), make_layer()])
    reference.layers[0].set_weights([kernel, bias])
    expected = -np.asarray(reference(x).log_prob(y))

    head = DistributionHead(spec, event_shape=(EVENT,))
    model = keras.Sequential([keras.Input((FEATURES,)), head])
    order = np.arange(size) if order is None else order
    head.params.set_weights([kernel[:, order], bias[order]])
    loss = NegativeLogLikelihood(spec, event_shape=(EVENT,), reduction=None)
    np.testing.assert_allclose(np.asarray(loss(y, model(x))), expected, rtol=1e-5, atol=1e-5)


def test_kl_layer_equals_the_kl_divergence_regularizer():
    """tfp.layers' regularizer adds weight * KL summed over the batch, and tf_keras divides
    activity losses by the batch size: weight * mean_n KL. tf_keras adds it once for each of
    the two outputs a DistributionLambda gives it (tensorflow/probability#1215), so the
    reference has two equal entries; tfpvae's layer adds it once."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH, FEATURES)).astype(np.float32)
    size = tfpl.MultivariateNormalTriL.params_size(EVENT)
    kernel, bias = rng.normal(scale=0.5, size=(FEATURES, size)).astype(np.float32), np.zeros(size, np.float32)
    prior = tfd.MultivariateNormalDiag(loc=tf.zeros(EVENT))
    regularizer = tfpl.KLDivergenceRegularizer(prior, weight=0.7, use_exact_kl=True)
    reference = tf_keras.Sequential([tf_keras.layers.Dense(size, input_shape=(FEATURES,)),
                                     tfpl.MultivariateNormalTriL(EVENT, activity_regularizer=regularizer)])
    reference.layers[0].set_weights([kernel, bias])
    reference(x)
    entries = [float(loss) for loss in reference.losses]
    assert len(entries) == 2 and entries[0] == entries[1]

    spec = {"name": "mvn_tril", "min_scale": 1e-5}
    head = DistributionHead(spec, event_shape=(EVENT,), role="posterior")
    kl = KLDivergence(posterior=spec, prior="normal", event_shape=(EVENT,), weight=0.7)
    model = keras.Sequential([keras.Input((FEATURES,)), head, kl])
    head.params.set_weights([kernel, bias])
    model(x)
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(entries[0], rel=1e-5)
