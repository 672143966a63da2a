"""miwae, ciwae and piwae against the bounds they combine, with the same seed and so the same draws."""

import numpy as np
import pytest
from scipy import special

import tfpvae
from tfpvae import backend, objectives
from tfpvae.backend import tf, tfp
from tfpvae.objectives import Batch
from tfpvae.objectives.miwae import group_bounds

tfd = tfp.distributions
X = np.array([[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]], np.float32)


def batch(num_samples, seed=3):
    """The linear-Gaussian model p(z) = N(0, I), p(x|z) = N(z, 0.5^2 I), with q away from p(z|x)."""
    return Batch(q=tfd.MultivariateNormalDiag(loc=X * 0.5 + 0.3, scale_diag=tf.fill([3, 2], 0.7)),
                 prior=tfd.MultivariateNormalDiag(loc=tf.zeros(2)),
                 decode=lambda z: tfd.MultivariateNormalDiag(loc=z, scale_diag=[0.5, 0.5]), x=tf.constant(X),
                 num_samples=num_samples, kl_form="mc", seed=backend.seed_pair(seed), latent_dim=2)


def value(spec, num_samples):
    return np.asarray(objectives.get(spec)(batch(num_samples)).value)


def test_group_bounds_match_scipy():
    log_w = np.random.RandomState(0).normal(size=(12, 3)).astype(np.float32) * 5
    expected = special.logsumexp(log_w.reshape(4, 3, 3), axis=1) - np.log(3)
    np.testing.assert_allclose(group_bounds(log_w, 4), expected, rtol=1e-5)


def test_ciwae_ends_are_the_elbo_and_the_iwae_bound():
    """beta = 1 is the Monte Carlo ELBO and beta = 0 the IWAE bound (rtol 1e-6);
    in between it is their combination."""
    np.testing.assert_allclose(value({"name": "ciwae", "beta": 1.0}, 5), value("elbo", 5), rtol=1e-6)
    np.testing.assert_allclose(value({"name": "ciwae", "beta": 0.0}, 5), value("iwae", 5), rtol=1e-6)
    np.testing.assert_allclose(value({"name": "ciwae", "beta": 0.3}, 5),
                               0.3 * value("elbo", 5) + 0.7 * value("iwae", 5), rtol=1e-6)


def test_miwae_with_one_estimate_is_iwae_and_with_one_sample_the_elbo():
    """MIWAE_{1,K} = IWAE_K and MIWAE_{M,1} = the Monte Carlo ELBO with M draws (rtol 1e-6)."""
    np.testing.assert_allclose(value({"name": "miwae", "num_estimates": 1}, 6), value("iwae", 6), rtol=1e-6)
    np.testing.assert_allclose(value({"name": "miwae", "num_estimates": 6}, 1), value("elbo", 6), rtol=1e-6)


def test_piwae_is_iwae_for_the_decoder_and_miwae_for_the_encoder():
    """Its value is IWAE over all M K draws, its encoder surrogate the MIWAE_{M,K} loss (rtol 1e-6)."""
    loss = objectives.get({"name": "piwae", "num_estimates": 3})(batch(4))
    np.testing.assert_allclose(loss.value, value("iwae", 12), rtol=1e-6)
    np.testing.assert_allclose(loss.encoder_value, value({"name": "miwae", "num_estimates": 3}, 4), rtol=1e-6)


def test_options_are_checked():
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\]; received 2.0"):
        objectives.get({"name": "ciwae", "beta": 2.0})
    with pytest.raises(ValueError, match="num_estimates must be a positive int; received 0"):
        objectives.get({"name": "miwae", "num_estimates": 0})
    with pytest.raises(ValueError, match="beta must be in"):
        tfpvae.VAE(event_shape=(4,), latent_dim=2, objective="ciwae", beta=3.0)
