"""The IWAE paper's learning-rate schedule: its values, its compression, its config."""

import keras
import numpy as np
import pytest

import tfpvae
from tfpvae.schedules import PASSES, IWAESchedule

FIRST_PASS_OF_STAGE = [0, 1, 4, 13, 40, 121, 364, 1093]  # sum_{j<i} 3^j


def rates(schedule, steps):
    return np.asarray(schedule(np.asarray(steps)))


def test_full_length_is_the_paper_schedule_stage_by_stage():
    schedule = IWAESchedule(steps_per_epoch=1)  # one step per pass: steps are passes
    assert PASSES == 3280 and schedule.epochs == 3280
    for i, first in enumerate(FIRST_PASS_OF_STAGE):
        expected = 1e-3 * 10 ** (-i / 7)
        last = first + 3**i - 1
        np.testing.assert_allclose(rates(schedule, [first, last]), [expected, expected], rtol=1e-6)
        if i:
            np.testing.assert_allclose(rates(schedule, first - 1), 1e-3 * 10 ** (-(i - 1) / 7), rtol=1e-6)
    np.testing.assert_allclose(rates(schedule, [3279, 3280, 10**6]), [1e-4] * 3, rtol=1e-6)


def test_every_stage_lasts_3_to_the_i_passes():
    schedule = IWAESchedule(steps_per_epoch=2)
    stages = np.round(-7 * np.log10(rates(schedule, np.arange(2 * PASSES)) / 1e-3)).astype(int)
    np.testing.assert_array_equal(np.bincount(stages), [2 * 3**i for i in range(8)])


def test_compressed_into_n_epochs_each_stage_keeps_its_share():
    # 328 epochs is the paper's schedule at a tenth of its length: stage i lasts 3^i / 10 epochs.
    schedule = IWAESchedule(steps_per_epoch=100, epochs=328)
    stages = np.round(-7 * np.log10(rates(schedule, np.arange(100 * 328)) / 1e-3)).astype(int)
    np.testing.assert_array_equal(np.bincount(stages), [10 * 3**i for i in range(8)])
    # Any N: the steps of stage i are within one step of its share 3^i / 3280 of the run.
    schedule = IWAESchedule(steps_per_epoch=600, epochs=60, initial_learning_rate=2e-3)
    lr = rates(schedule, np.arange(600 * 60))
    assert lr[0] == pytest.approx(2e-3) and lr[-1] == pytest.approx(2e-4)
    counts = np.bincount(np.round(-7 * np.log10(lr / 2e-3)).astype(int))
    np.testing.assert_allclose(counts, [36000 * 3**i / 3280 for i in range(8)], atol=1.0)


def test_config_round_trips_through_keras_serialization():
    schedule = IWAESchedule(steps_per_epoch=7, epochs=11, initial_learning_rate=5e-4)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(again, IWAESchedule) and again.get_config() == schedule.get_config()
    np.testing.assert_array_equal(rates(again, np.arange(77)), rates(schedule, np.arange(77)))
    assert tfpvae.schedules.IWAESchedule is IWAESchedule


def test_a_saved_vae_keeps_the_schedule_and_its_step(tmp_path, digits):
    x = digits.reshape(len(digits), -1)[:200]
    mlp = {"name": "mlp", "units": [16]}
    vae = tfpvae.VAE(event_shape=(64,), latent_dim=2, encoder=mlp, decoder=mlp)
    schedule = IWAESchedule(steps_per_epoch=4, epochs=3)
    vae.compile(optimizer=keras.optimizers.Adam(schedule, epsilon=1e-4))
    vae.fit(x, batch_size=50, epochs=2, verbose=0)
    assert int(vae.optimizer.iterations) == 8
    vae.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    restored = keras.saving.deserialize_keras_object(loaded.optimizer.get_config()["learning_rate"])
    assert isinstance(restored, IWAESchedule) and restored.get_config() == schedule.get_config()
    assert int(loaded.optimizer.iterations) == 8 and loaded.optimizer.epsilon == 1e-4
    assert float(loaded.optimizer.learning_rate) == pytest.approx(float(schedule(8)))


def test_a_config_names_a_constant_rate_or_the_iwae_schedule():
    assert tfpvae.schedules.learning_rate("constant", 2e-3, steps_per_epoch=10, epochs=5) == 2e-3
    schedule = tfpvae.schedules.learning_rate("iwae", 2e-3, steps_per_epoch=10, epochs=5)
    assert schedule.get_config() == {"steps_per_epoch": 10, "epochs": 5, "initial_learning_rate": 2e-3}
    with pytest.raises(ValueError, match=r"schedule must be one of \['constant', 'iwae'\]; received 'step'"):
        tfpvae.schedules.learning_rate("step", 2e-3, steps_per_epoch=10, epochs=5)


@pytest.mark.parametrize("kwargs, message", [
    ({"steps_per_epoch": 0}, "steps_per_epoch must be a positive int; received 0"),
    ({"steps_per_epoch": 1.5}, "steps_per_epoch must be a positive int; received 1.5"),
    ({"steps_per_epoch": 10, "epochs": -1}, "epochs must be a positive int; received -1"),
    ({"steps_per_epoch": 10, "initial_learning_rate": 0.0}, "initial_learning_rate must be a finite number > 0"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        IWAESchedule(**kwargs)
