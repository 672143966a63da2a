"""A .keras file written by tfpvae 0.1.0 loads into today's layers and gives the same results."""

from pathlib import Path

import keras
import numpy as np
import pytest

import tfpvae  # noqa: F401  (registers the classes the file names)

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def saved():
    return keras.models.load_model(DATA / "vae-0.1.0.keras"), np.load(DATA / "vae-0.1.0-expected.npz")


def test_reconstruction_and_posterior_are_exactly_those_saved(saved):
    vae, expected = saved
    np.testing.assert_allclose(vae.predict(expected["x"], verbose=0), expected["reconstruction"], rtol=1e-5)
    q = vae.encode(expected["x"])
    np.testing.assert_allclose(np.asarray(q.mean()), expected["loc"], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(q.stddev()), expected["stddev"], rtol=1e-5)


def test_elbo_with_2000_samples_matches_within_monte_carlo_error(saved):
    """Both estimates average 2000 draws from other seeds: each example's difference
    must be within 5 standard errors of the difference of two such means."""
    vae, expected = saved
    draws = np.stack([vae.elbo(expected["x"], num_samples=1) for _ in range(50)])
    standard_error = draws.std(axis=0) * np.sqrt(2.0 / 2000)
    elbo = vae.elbo(expected["x"], num_samples=2000)
    assert np.all(np.abs(elbo - expected["elbo_2000"]) <= 5 * standard_error + 1e-4)
