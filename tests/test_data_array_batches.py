"""Numpy batches (`data.to_batches`, the input of runs on JAX): every row once
per epoch, a fresh order and binarization per epoch, and an epoch's batches
reproduced from its number alone, so a resumed run reads what an
uninterrupted one would."""

import keras
import numpy as np

import tfpvae
from tfpvae import data, runs
from tfpvae.checkpoints import RunCheckpoint

X = np.linspace(0.05, 0.95, 23 * 4, dtype=np.float32).reshape(23, 4)


def epoch(batches):
    """The epoch's batches concatenated, then moves `batches` to its next epoch."""
    rows = np.concatenate([batches[i] for i in range(len(batches))])
    batches.on_epoch_end()
    return rows


def test_an_epoch_holds_every_row_once_in_a_fresh_order():
    batches = data.to_batches(X, batch_size=5, seed=3)
    assert len(batches) == 5 and len(batches[4]) == 3
    first, second = epoch(batches), epoch(batches)
    np.testing.assert_array_equal(np.sort(first, axis=0), X)
    np.testing.assert_array_equal(np.sort(second, axis=0), X)
    assert not np.array_equal(first, second)


def test_dynamic_binarization_draws_afresh_each_epoch_with_the_pixels_as_means():
    x = np.full((2000, 4), 0.3, np.float32)
    batches = data.to_batches(x, batch_size=100, shuffle=False, binarize="dynamic", seed=0)
    first, second = epoch(batches), epoch(batches)
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert not np.array_equal(first, second)
    assert abs(first.mean() - 0.3) < 0.02  # 8,000 draws: 5 standard errors is 0.026


def test_an_epoch_is_reproduced_from_its_number():
    batches = data.to_batches(X, batch_size=4, binarize="dynamic", seed=5)
    epochs = [epoch(batches) for _ in range(3)]
    later = data.to_batches(X, batch_size=4, binarize="dynamic", seed=5)
    later.start_at(2)
    np.testing.assert_array_equal(epoch(later), epochs[2])


def test_a_resumed_run_reads_the_epochs_after_its_checkpoint(tmp_path, digits):
    def model():
        vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, seed=1)
        vae.compile(optimizer=keras.optimizers.Adam(1e-3))
        return vae

    first = model()
    first.fit(digits[:100], epochs=2, batch_size=50, verbose=0, callbacks=[RunCheckpoint(tmp_path / "run", first)])
    uninterrupted = data.to_batches(digits[:100], batch_size=50, seed=0)
    model().fit(uninterrupted, epochs=3, verbose=0)
    resumed = data.to_batches(digits[:100], batch_size=50, seed=0)
    runs.fit(model(), tmp_path / "run", resumed, None, {"epochs": 3, "warmup_epochs": 0}, verbose=0)
    assert resumed.epoch == uninterrupted.epoch  # the same epoch numbers, hence the same batches
