"""mmd against its definition: the kernels, the unbiased MMD^2 and InfoVAE's weights."""

import numpy as np
import pytest

from tfpvae import backend, objectives
from tfpvae.backend import tf, tfp
from tfpvae.objectives import Batch
from tfpvae.objectives.mmd import mmd

tfd = tfp.distributions


def reference_mmd(a, b, kernel, bandwidth):
    """MMD^2's U-statistic written out pair by pair in numpy."""
    c = 2 * a.shape[1] * bandwidth**2
    k = {"imq": lambda u, v: c / (c + np.sum((u - v) ** 2)),
         "rbf": lambda u, v: np.exp(-np.sum((u - v) ** 2) / c)}[kernel]
    n, m = len(a), len(b)
    aa = sum(k(a[i], a[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    bb = sum(k(b[i], b[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    ab = sum(k(a[i], b[j]) for i in range(n) for j in range(m)) / (n * m)
    return aa + bb - 2 * ab


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_mmd_matches_its_pairwise_definition(kernel):
    rng = np.random.RandomState(0)
    a, b = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32) + 0.5
    np.testing.assert_allclose(mmd(a, b, kernel, 0.7), reference_mmd(a, b, kernel, 0.7), rtol=1e-5)


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_mmd_of_a_distribution_with_itself_is_near_zero_and_grows_with_a_shift(kernel):
    """400 draws each from N(0, I) in 2-d: the unbiased MMD^2's standard error
    is about 0.0013, and |MMD^2| < 0.006; shifting one mean by 0.5, 1 and 2
    gives MMD^2 > 0.01 that grows with the shift."""
    rng = np.random.RandomState(0)
    draw = lambda shift: (rng.normal(size=(400, 2)) + [shift, 0.0]).astype(np.float32)  # noqa: E731
    assert abs(float(mmd(draw(0.0), draw(0.0), kernel))) < 0.006
    shifted = [float(mmd(draw(0.0), draw(shift), kernel)) for shift in (0.5, 1.0, 2.0)]
    assert shifted[0] > 0.01 and shifted[0] < shifted[1] < shifted[2]


def batch():
    x = np.random.RandomState(2).normal(size=(8, 2)).astype(np.float32)
    return Batch(q=tfd.MultivariateNormalDiag(loc=x * 0.8, scale_diag=tf.fill([8, 2], 0.6)),
                 prior=tfd.MultivariateNormalDiag(loc=tf.zeros(2)),
                 decode=lambda z: tfd.MultivariateNormalDiag(loc=z, scale_diag=[0.5, 0.5]), x=tf.constant(x),
                 num_samples=2, kl_form="analytic", seed=backend.seed_pair(0, 4), latent_dim=2)


def test_infovae_weights():
    """loss = -reconstruction + (1 - alpha) KL + (alpha + lambda - 1) MMD^2 (rtol 1e-5),
    with the analytic KL; alpha = 1 drops the KL term."""
    for alpha, lam in ((0.25, 3.0), (1.0, 50.0)):
        loss = objectives.get({"name": "mmd", "alpha": alpha, "lambda_": lam})(batch())
        m = {k: np.mean(v) for k, v in loss.metrics.items()}
        np.testing.assert_allclose(m["kl"], np.mean(tfd.kl_divergence(batch().q, batch().prior)), rtol=1e-5)
        expected = -m["reconstruction"] + (1 - alpha) * m["kl"] + (alpha + lam - 1) * m["mmd"]
        np.testing.assert_allclose(loss.value, expected, rtol=1e-5)


def test_options_are_checked():
    with pytest.raises(ValueError, match=r"kernel must be one of \['imq', 'rbf'\]; received 'gauss'"):
        objectives.get({"name": "mmd", "kernel": "gauss"})
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]; received 1.5"):
        objectives.get({"name": "mmd", "alpha": 1.5})
    with pytest.raises(ValueError, match="alpha \\+ lambda_ - 1 must be >= 0; received alpha=0.0, lambda_=0.5"):
        objectives.get({"name": "mmd", "alpha": 0.0, "lambda_": 0.5})
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0; received 0"):
        objectives.get({"name": "mmd", "bandwidth": 0})
