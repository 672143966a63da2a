"""beta_tc against its definition: the three terms are the KL, split."""

import dataclasses

import numpy as np
import pytest

import tfpvae
from tfpvae import backend, objectives
from tfpvae.backend import tf, tfp
from tfpvae.objectives import Batch

tfd = tfp.distributions
RNG = np.random.RandomState(1)
X = RNG.normal(size=(6, 2)).astype(np.float32)
LOC = RNG.normal(size=(6, 3)).astype(np.float32)
SCALE = RNG.uniform(0.4, 1.0, size=(6, 3)).astype(np.float32)
WEIGHT = np.float32(RNG.normal(size=(3, 2)))


def batch(num_samples, seed=0, kl_form="mc"):
    """A linear-Gaussian decoder p(x|z) = N(z W, 0.5^2 I) and q(z|x) = N(LOC, SCALE^2)."""
    return Batch(q=tfd.MultivariateNormalDiag(loc=LOC, scale_diag=SCALE),
                 prior=tfd.MultivariateNormalDiag(loc=tf.zeros(3)),
                 decode=lambda z: tfd.MultivariateNormalDiag(loc=tf.linalg.matmul(z, WEIGHT), scale_diag=[0.5, 0.5]),
                 x=tf.constant(X), num_samples=num_samples, kl_form=kl_form, seed=backend.seed_pair(seed),
                 latent_dim=3)


@pytest.mark.parametrize("sampling", ["mws", "mss"])
def test_terms_sum_to_the_average_kl_in_expectation(sampling):
    """Averaged over L = 20,000 draws, MI + TC + DW per example equals the
    analytic KL(q(z|x) || p(z)); the Monte Carlo KL's standard error here is
    below 0.01 nats and the test allows 0.04."""
    loss = objectives.get({"name": "beta_tc", "sampling": sampling, "dataset_size": 60000})(batch(20000))
    terms = sum(loss.metrics[name] for name in ("mutual_information", "total_correlation", "dimension_wise_kl"))
    analytic = tfd.kl_divergence(batch(1).q, batch(1).prior)
    np.testing.assert_allclose(terms, analytic, atol=0.04)


def test_unit_weights_give_the_monte_carlo_elbo():
    """alpha = beta = gamma = 1: the loss is the negative Monte Carlo ELBO of the same draws (rtol 1e-5)."""
    ours = objectives.get({"name": "beta_tc", "beta": 1.0})(batch(4, seed=3))
    elbo = objectives.get("elbo")(batch(4, seed=3))
    np.testing.assert_allclose(ours.value, elbo.value, rtol=1e-5)


def test_each_weight_scales_its_term():
    """The loss is -reconstruction + alpha I + beta TC + gamma DW, with beta
    the batch's KL weight (rtol 1e-5)."""
    objective = objectives.get({"name": "beta_tc", "alpha": 2.0, "beta": 7.0, "gamma": 0.5})
    plain = batch(3, seed=5)
    weighted = dataclasses.replace(plain, kl_weight=tf.constant(7.0))
    loss = objective(weighted)
    m = {k: np.mean(v) for k, v in loss.metrics.items()}
    expected = -m["reconstruction"] + 2.0 * m["mutual_information"] + 7.0 * m["total_correlation"] \
        + 0.5 * m["dimension_wise_kl"]
    np.testing.assert_allclose(loss.value, expected, rtol=1e-5)


def test_options_are_checked_and_a_flow_posterior_is_refused():
    with pytest.raises(ValueError, match=r"sampling must be one of \['mws', 'mss'\]; received 'mixed'"):
        objectives.get({"name": "beta_tc", "sampling": "mixed"})
    with pytest.raises(ValueError, match="dataset_size must be a positive int; received 0"):
        objectives.get({"name": "beta_tc", "dataset_size": 0})
    with pytest.raises(ValueError, match="objective 'beta_tc' needs the marginals"):
        tfpvae.VAE(event_shape=(4,), latent_dim=2, posterior="iaf", objective="beta_tc")
    tfpvae.VAE(event_shape=(4,), latent_dim=2, posterior="mvn_tril", prior="vamp", objective="beta_tc")
