"""Means: one metric for the running means a VAE reports."""

import keras
import numpy as np

from tfpvae.metrics import Means


def test_means_match_one_keras_mean_per_value_weighted_by_batch_size():
    rng = np.random.RandomState(0)
    means, reference = Means(["loss", "kl"]), {"loss": keras.metrics.Mean(), "kl": keras.metrics.Mean()}
    for size in (5, 3, 8):
        loss, kl = float(rng.normal()), rng.normal(size=size).astype("float32")
        means.update_state({"loss": loss, "kl": kl.mean()}, size)
        reference["loss"].update_state(loss, sample_weight=size)
        reference["kl"].update_state(kl)
    result = means.result()
    assert list(result) == ["loss", "kl"]
    for name in ("loss", "kl"):
        np.testing.assert_allclose(result[name], reference[name].result(), rtol=1e-6)


def test_reset_starts_again_from_nothing():
    means = Means(["elbo"])
    means.update_state({"elbo": -3.0}, 10)
    means.reset_state()
    assert float(means.result()["elbo"]) == 0.0
    means.update_state({"elbo": -5.0}, 2)
    assert float(means.result()["elbo"]) == -5.0
