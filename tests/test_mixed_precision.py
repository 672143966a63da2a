"""Under a mixed policy the networks compute in half precision; distribution
parameters, log-probs and the KL stay float32."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfpvae
from tfpvae import backend

SMALL = {"name": "mlp", "units": [64]}


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


def trained_elbo(digits, epochs=8):
    keras.utils.set_random_seed(3)
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=4, encoder=SMALL, decoder=SMALL)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = vae.fit(digits[:1500], epochs=epochs, batch_size=100, verbose=0).history
    return vae, history, vae.elbo(digits[1500:]).mean()


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_mixed_policy_trains_close_to_float32(digits, policy):
    """Same seed and data: the test ELBO after 8 epochs is within 1.5 nats
    of the float32 run's (rounding in half precision changes the path)."""
    vae, history, elbo = trained_elbo(digits)
    half = tf.float16 if policy == "mixed_float16" else tf.bfloat16
    assert vae.stack.encoder_net.layers[-1].compute_dtype == half.name
    q = vae.encode(digits[:4])
    assert q.dtype == tf.float32
    assert vae.decode(q.sample(seed=backend.seed_pair(1, 2))).log_prob(digits[:4]).dtype == tf.float32
    assert all(w.dtype == "float32" for w in vae.weights)
    assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
    keras.mixed_precision.set_global_policy("float32")
    _, _, reference = trained_elbo(digits)
    assert abs(elbo - reference) < 1.5, (elbo, reference)
