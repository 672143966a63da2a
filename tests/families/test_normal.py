"""DiagonalNormal: TFP's MultivariateNormalDiag, drawn and scored elementwise."""

import numpy as np
import pytest
from scipy import stats

from tfpvae import backend
from tfpvae.backend import tf, tfp
from tfpvae.families.normal import DiagonalNormal

tfd = tfp.distributions
LOC = np.array([[0.5, -2.0, 3.0], [1.0, 0.0, -1.0]], np.float32)
SCALE = np.array([[0.1, 1.0, 2.5], [3.0, 0.5, 1e-3]], np.float32)


def test_draws_have_the_asked_moments_and_shape():
    """20,000 draws per coordinate: means within 4 standard errors of loc,
    standard deviations within 3% of scale (seeded)."""
    z = np.asarray(DiagonalNormal(LOC, SCALE).sample(20000, seed=backend.seed_pair(3, 4)))
    assert z.shape == (20000, 2, 3)
    assert np.all(np.abs(z.mean(0) - LOC) < 4 * SCALE / np.sqrt(20000))
    np.testing.assert_allclose(z.std(0), SCALE, rtol=0.03)
    assert DiagonalNormal(LOC, SCALE).sample(seed=backend.seed_pair(1, 2)).shape == (2, 3)
    assert DiagonalNormal(LOC, SCALE).sample((4, 5), seed=backend.seed_pair(1, 2)).shape == (4, 5, 2, 3)


def test_same_seed_same_draws():
    first = DiagonalNormal(LOC, SCALE).sample(3, seed=backend.seed_pair(5, 6))
    np.testing.assert_array_equal(first, DiagonalNormal(LOC, SCALE).sample(3, seed=backend.seed_pair(5, 6)))


def test_log_prob_moments_and_kls_are_tfps():
    """log_prob against scipy in float64 (float32 rounding: 1e-4 nats), the
    rest against TFP's MultivariateNormalDiag."""
    ours, tfps = DiagonalNormal(LOC, SCALE), tfd.MultivariateNormalDiag(LOC, SCALE)
    x = np.asarray(tfps.sample(4, seed=backend.seed_pair(7, 8)))
    exact = stats.norm.logpdf(x.astype(np.float64), LOC, SCALE).sum(-1)
    np.testing.assert_allclose(ours.log_prob(x), exact, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(ours.mean(), tfps.mean())
    np.testing.assert_allclose(ours.stddev(), tfps.stddev(), rtol=1e-6)
    tril = tfd.MultivariateNormalTriL(tf.zeros(3), [[1.0, 0, 0], [0.5, 1.0, 0], [0.2, -0.3, 2.0]])
    np.testing.assert_allclose(tfd.kl_divergence(ours, tril), tfd.kl_divergence(tfps, tril), rtol=1e-5)
    np.testing.assert_allclose(tfd.kl_divergence(tril, ours), tfd.kl_divergence(tril, tfps), rtol=1e-5)


def test_a_shared_scale_broadcasts_over_the_batch():
    dist = DiagonalNormal(LOC, SCALE[0])
    assert dist.stddev().shape == (2, 3) and dist.sample(2, seed=backend.seed_pair(1, 1)).shape == (2, 2, 3)
    np.testing.assert_allclose(dist.log_prob(LOC), tfd.MultivariateNormalDiag(LOC, SCALE[0]).log_prob(LOC),
                               rtol=1e-6)


@pytest.mark.tensorflow
def test_gradients_reach_loc_and_scale_through_a_draw():
    loc, scale = tf.Variable(LOC), tf.Variable(SCALE)
    with tf.GradientTape() as tape:
        z = DiagonalNormal(loc, scale).sample(2, seed=backend.seed_pair(9, 9))
        objective = tf.reduce_sum(tf.sin(z))
    grad_loc, grad_scale = tape.gradient(objective, [loc, scale])
    assert np.all(np.asarray(grad_loc) != 0) and np.all(np.asarray(grad_scale) != 0)
