"""`Family.marginal_params`: raw parameters under which each element follows its marginal."""

import numpy as np
import pytest

from tfpvae import families
from tfpvae.backend import tf
from tfpvae.families.bernoulli import MARGINAL_EPSILON
from tfpvae.families.poisson import MIN_RATE

RNG = np.random.default_rng(0)


def fitted(name, x, **options):
    family = families.get({"name": name, **options}, role="likelihood")
    params = family.marginal_params(x)
    return family.distribution(tf.constant(params[None]), x.shape[1:])


def test_bernoulli_starts_at_each_pixels_mean_kept_inside_the_interval():
    x = (RNG.uniform(size=(500, 3, 4)) < np.linspace(0.0, 1.0, 12).reshape(3, 4)).astype("float32")
    expected = np.clip(x.mean(axis=0), MARGINAL_EPSILON, 1.0 - MARGINAL_EPSILON)
    np.testing.assert_allclose(fitted("bernoulli", x).mean()[0], expected, rtol=1e-5)


def test_normal_starts_at_each_elements_mean_and_standard_deviation():
    x = RNG.normal(loc=[1.0, -2.0, 0.0], scale=[0.5, 3.0, 1e-9], size=(400, 3)).astype("float32")
    p = fitted("normal", x)
    np.testing.assert_allclose(p.mean()[0], x.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.stddev()[0][:2], x.std(axis=0)[:2], rtol=1e-4)
    assert np.all(np.isfinite(p.stddev())) and p.stddev()[0][2] > 0  # a constant element keeps a scale


def test_normal_with_a_fixed_scale_starts_at_the_means_only():
    x = RNG.normal(loc=3.0, size=(300, 2)).astype("float32")
    p = fitted("normal", x, scale=0.5)
    np.testing.assert_allclose(p.mean()[0], x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(p.stddev()[0], 0.5)


def test_poisson_starts_at_each_count_mean_with_a_floor():
    x = RNG.poisson(lam=[0.0, 2.0, 30.0], size=(600, 3)).astype("float32")
    expected = np.maximum(x.mean(axis=0), MIN_RATE)
    np.testing.assert_allclose(fitted("poisson", x).mean()[0], expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["beta", "logistic", "student_t"])
def test_a_family_without_a_marginal_fit_says_so(name):
    family = families.get(name, role="likelihood")
    assert family.marginal_params(np.full((10, 3), 0.5, np.float32)) is None
