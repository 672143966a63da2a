"""Parameters and log-probabilities stay float32 under mixed precision and under XLA."""

import keras
import numpy as np
import pytest

import tfpvae
from tfpvae.backend import tf
from tfpvae.layers import DistributionHead, KLDivergence, Sample


@pytest.fixture(params=["float32", "mixed_float16"])
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


def functional_vae(size=4, latent=2):
    x = keras.Input((size,))
    h = keras.layers.Dense(8, activation="relu")(x)
    q = DistributionHead("normal", event_shape=(latent,), role="posterior")(h)
    q = KLDivergence(posterior="normal", prior="mixture", event_shape=(latent,), seed=0)(q)
    z = Sample("normal", event_shape=(latent,), role="posterior", seed=1)(q)
    px = DistributionHead("normal", event_shape=(size,))(keras.layers.Dense(8, activation="relu")(z))
    return keras.Model(x, [q, z, px])


def test_outputs_losses_and_metrics_are_float32(policy):
    model = functional_vae()
    h = model.layers[1](tf.zeros([2, 4]))
    assert h.dtype == (tf.float16 if policy == "mixed_float16" else tf.float32)
    q, z, px = model(tf.zeros([2, 4]))
    assert q.dtype == z.dtype == px.dtype == tf.float32
    assert all(loss.dtype == tf.float32 for loss in model.losses)
    loss = tfpvae.losses.NegativeLogLikelihood("normal", (4,))
    metric = tfpvae.metrics.LogLikelihood("normal", (4,))
    metric.update_state(tf.ones([2, 4], tf.float16), px)
    assert loss(tf.ones([2, 4], tf.float16), px).dtype == tf.float32 and metric.result().dtype == tf.float32


def test_training_under_xla_and_mixed_precision_keeps_float32_and_stays_finite():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        train_under_xla()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def train_under_xla():
    keras.utils.set_random_seed(0)
    model = functional_vae()
    model.compile(optimizer="adam", loss=[None, None, tfpvae.losses.NegativeLogLikelihood("normal", (4,))],
                  jit_compile=True)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    history = model.fit(x, (x, x, x), epochs=1, batch_size=16, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    q, z, px = model.predict(x, verbose=0)
    assert q.dtype == z.dtype == px.dtype == np.float32
    log_prob = DistributionHead("normal", event_shape=(4,)).distribution(px).log_prob(x)
    assert log_prob.dtype == tf.float32 and np.all(np.isfinite(np.asarray(log_prob)))
