"""The evaluation functions shared by the VAE's methods and its SavedModel signatures."""

import numpy as np
import tensorflow as tf

from tfpvae import evaluation
from tfpvae.objectives import bounds
from tests.test_export import small_vae


def test_log_likelihood_signature_chunks_large_k():
    """Within one chunk the estimate is log_weights with the same seed, exactly;
    in chunks of 7 draws (k = 700) it agrees with the in-process estimate
    within 4 of their combined standard errors."""
    model = small_vae()
    x = np.random.RandomState(1).binomial(1, 0.3, size=(10, 8, 8, 1)).astype("float32")
    seed = tf.constant([0, 5], tf.int32)
    one = evaluation.log_likelihood(model, x, None, tf.constant(6), seed)
    log_w = bounds.log_weights(model.encode(x), model.prior(), model.decode, x, 6, seed)
    np.testing.assert_allclose(one, bounds.log_mean_exp(log_w, 0), rtol=1e-6)
    small_chunks = evaluation.log_likelihood(model, x, None, tf.constant(700), seed,
                                                floats_per_chunk=7 * 10 * 64)
    reference, stderr = model.log_likelihood(x, num_samples=700, return_stderr=True)
    combined = np.sqrt(2 * np.sum(stderr**2)) / len(x)
    assert abs(float(tf.reduce_mean(small_chunks)) - reference.mean()) < 4 * combined
