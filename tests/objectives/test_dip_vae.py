"""DIP-VAE: its penalties against the covariance computed by hand."""

import numpy as np
import pytest

import tfpvae
from tfpvae import backend
from tfpvae.backend import tf, tfp
from tfpvae.objectives import Batch

tfd = tfp.distributions
RNG = np.random.default_rng(0)
LOC = RNG.standard_normal((6, 3)).astype(np.float32)
SCALE = RNG.uniform(0.2, 1.5, (6, 3)).astype(np.float32)


def penalties(spec):
    q = tfd.MultivariateNormalDiag(loc=LOC, scale_diag=SCALE)
    loss = tfpvae.objectives.get(spec)(Batch(
        q=q, prior=tfd.MultivariateNormalDiag(loc=tf.zeros(3)),
        decode=lambda z: tfd.Independent(tfd.Normal(tf.reduce_sum(z, -1, keepdims=True), 1.0), 1),
        x=tf.zeros((6, 1)), num_samples=1, kl_form="analytic", seed=backend.seed_pair(0, 1)))
    elbo = np.asarray(loss.metrics["elbo"]).mean()
    return np.asarray(loss.value) + elbo, np.asarray(loss.metrics["dip_off_diagonal"]), np.asarray(loss.metrics["dip_diagonal"])


@pytest.mark.parametrize("variant, lambda_d_factor", [("i", 10.0), ("ii", 1.0)])
def test_penalties_match_the_covariance_computed_by_hand(variant, lambda_d_factor):
    """C = Cov[mu] (i) or Cov[mu] + E[Sigma] (ii), with numpy's biased
    covariance; the loss is -ELBO plus the weighted penalties (rtol 1e-5),
    lambda_d = 10 lambda_od for i and lambda_od for ii by default."""
    covariance = np.cov(LOC.T, bias=True)
    if variant == "ii":
        covariance += np.diag(np.mean(SCALE**2, axis=0))
    off = np.sum(covariance**2) - np.sum(np.diag(covariance) ** 2)
    on = np.sum((np.diag(covariance) - 1) ** 2)
    penalty, off_metric, on_metric = penalties({"name": "dip_vae", "variant": variant, "lambda_od": 2.0})
    np.testing.assert_allclose(off_metric, np.full(6, off), rtol=1e-5)
    np.testing.assert_allclose(on_metric, np.full(6, on), rtol=1e-5)
    np.testing.assert_allclose(penalty, 2.0 * off + 2.0 * lambda_d_factor * on, rtol=1e-5)
    given, _, _ = penalties({"name": "dip_vae", "variant": variant, "lambda_od": 2.0, "lambda_d": 0.5})
    np.testing.assert_allclose(given, 2.0 * off + 0.5 * on, rtol=1e-5)


def test_the_penalty_pulls_the_code_covariance_towards_the_identity(digits):
    """Trained with lambda_od = 100 the codes' off-diagonal covariance is
    smaller than with lambda_od = 0 (the same seed and data)."""
    def off_diagonal(lambda_od):
        vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=3, encoder={"name": "mlp", "units": [32]},
                         decoder={"name": "mlp", "units": [32]}, seed=0,
                         objective={"name": "dip_vae", "lambda_od": lambda_od, "lambda_d": 0.0})
        vae.compile(optimizer="adam")
        vae.fit(digits[:1024], epochs=8, batch_size=128, verbose=0)
        covariance = np.cov(np.asarray(vae.encode(digits[:1024]).mean()).T)
        return np.sum(covariance**2) - np.sum(np.diag(covariance) ** 2)

    assert off_diagonal(100.0) < 0.5 * off_diagonal(0.0)


def test_needs_a_gaussian_posterior_and_a_known_variant():
    with pytest.raises(ValueError, match="'dip_vae' needs the mean and covariance"):
        tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, posterior="iaf", objective="dip_vae")
    with pytest.raises(ValueError, match="variant must be one of"):
        tfpvae.objectives.get({"name": "dip_vae", "variant": "iii"})
    tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, posterior="mvn_tril", objective={"name": "dip_vae",
                                                                                      "variant": "ii"})
