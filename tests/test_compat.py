"""The private Keras, TF and TFP names tfpvae relies on still exist and behave as relied on."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfpvae
from tfpvae import compat
from tfpvae.families.normal import DiagonalNormal

tfd = tfp.distributions


def test_keras_xla_check_reads_layers_and_op_determinism():
    vae = tfpvae.VAE(event_shape=(4,), latent_dim=2)
    assert compat.model_supports_jit(vae)
    assert not compat.model_supports_jit(tfpvae.VAE(event_shape=(4,), latent_dim=2, posterior="low_rank"))
    tf.config.experimental.enable_op_determinism()
    try:
        assert not compat.model_supports_jit(vae)
    finally:
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()


def test_multi_worker_mode_is_read_from_the_strategy():
    assert not compat.multi_worker(tf.distribute.get_strategy())
    assert not compat.multi_worker(tf.distribute.MirroredStrategy(["/cpu:0"]))


def test_diagonal_normal_samples_through_its_own_hook():
    """`sample` reaches DiagonalNormal's `_call_sample_n`: its draws are
    loc + scale * eps with eps from Philox, exactly."""
    loc, scale = np.array([[0.5, -1.0]], np.float32), np.array([[2.0, 0.1]], np.float32)
    seed = tf.constant([3, 4])
    z = DiagonalNormal(loc=loc, scale_diag=scale).sample(5, seed=seed)
    eps = tf.random.stateless_normal([5, 1, 2], seed=tfp.random.sanitize_seed(seed), alg="philox")
    np.testing.assert_allclose(z, loc + scale * eps, rtol=1e-6)
