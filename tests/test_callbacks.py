import keras
import numpy as np
import pytest

import tfpvae
from tfpvae.callbacks import KLWarmup, StopOnNaN, TemperatureAnnealing

SMALL = {"name": "mlp", "units": [16]}


class Recorder(keras.callbacks.Callback):
    """The KL weight each training batch saw."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(float(np.asarray(self.model.kl_weight)))


def vae(beta=2.0, steps_per_execution=1):
    """One step per execution, so batch callbacks see every step."""
    model = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder=SMALL, decoder=SMALL, beta=beta)
    model.compile(optimizer="adam", steps_per_execution=steps_per_execution)
    return model


def test_warmup_by_steps_ramps_linearly_to_beta(digits):
    model, record = vae(beta=2.0), Recorder()
    model.fit(digits[:400], batch_size=50, epochs=2, verbose=0, callbacks=[KLWarmup(steps=10), record])
    expected = [2.0 * min(1.0, t / 10) for t in range(16)]
    np.testing.assert_allclose(record.seen, expected, rtol=1e-6)


def test_warmup_by_steps_with_the_default_steps_per_execution(digits):
    """beta changes once per execution of 32 steps: 0, then 32/100 of beta, ..."""
    model, record = vae(beta=1.0, steps_per_execution=32), Recorder()
    model.fit(digits[:1600], batch_size=10, epochs=1, verbose=0, callbacks=[KLWarmup(steps=100), record])
    np.testing.assert_allclose(record.seen, [0.0, 0.32, 0.64, 0.96, 1.0], atol=1e-6)


def test_warmup_by_epochs(digits):
    model, record = vae(beta=1.0), Recorder()
    model.fit(digits[:200], batch_size=100, epochs=4, verbose=0, callbacks=[KLWarmup(epochs=2), record])
    np.testing.assert_allclose(record.seen, [0, 0, 0.5, 0.5, 1, 1, 1, 1], atol=1e-6)


def test_warmup_changes_the_loss_not_the_reported_elbo(digits):
    """At beta 0 the loss is the negative reconstruction alone."""
    model = vae()
    history = model.fit(digits[:100], batch_size=100, epochs=1, verbose=0,
                        callbacks=[KLWarmup(steps=1000)]).history
    np.testing.assert_allclose(history["loss"], -np.array(history["reconstruction"]), rtol=1e-5)
    assert history["elbo"][0] < history["reconstruction"][0]


@pytest.mark.parametrize("kwargs", [{}, {"steps": 3, "epochs": 2}, {"steps": 0}, {"epochs": 1.5}])
def test_bad_warmup_lengths(kwargs):
    with pytest.raises(ValueError, match="steps and epochs|positive int"):
        KLWarmup(**kwargs)


def test_stop_on_nan_keeps_the_last_good_weights():
    """A learning rate of 1e12 sends a Gaussian-likelihood VAE to inf within an epoch."""
    model = tfpvae.VAE(event_shape=(4,), latent_dim=2, likelihood="normal", encoder=SMALL, decoder=SMALL)
    model.compile(optimizer=keras.optimizers.SGD(1e12))
    x = np.random.RandomState(0).normal(size=(400, 4)).astype("float32")
    guard = StopOnNaN()
    model.fit(x, batch_size=20, epochs=3, verbose=0, callbacks=[guard])
    assert guard.failure is not None and "in epoch 1 by batch" in guard.failure
    assert any(term in guard.failure for term in ("reconstruction term", "kl term", "loss term"))
    weights = model.get_weights()
    assert all(np.all(np.isfinite(w)) for w in weights)
    assert np.all(np.isfinite(model.elbo(x[:10])))


class TemperatureRecorder(keras.callbacks.Callback):
    """The posterior temperature each training batch saw."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(float(np.exp(np.asarray(self.model.stack.posterior_layer.shared)[0])))


def discrete_vae(temperature=1.0):
    model = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=4, encoder=SMALL, decoder=SMALL,
                       prior={"name": "categorical", "categories": 2},
                       posterior={"name": "relaxed_categorical", "categories": 2, "temperature": temperature})
    model.compile(optimizer="adam", steps_per_execution=1)
    return model


def test_temperature_anneals_exponentially_then_holds_and_is_not_trained(digits, tmp_path):
    """lambda_t = 1 * 0.25^min(1, t / 4) over 8 steps; training leaves it alone
    and a saved model keeps the last temperature."""
    model, record = discrete_vae(), TemperatureRecorder()
    model.fit(digits[:400], batch_size=50, epochs=1, verbose=0,
              callbacks=[TemperatureAnnealing(0.25, steps=4), record])
    np.testing.assert_allclose(record.seen, [0.25 ** min(1.0, t / 4) for t in range(8)], rtol=1e-5)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.exp(np.asarray(again.stack.posterior_layer.shared)), [0.25], rtol=1e-6)


def test_temperature_anneals_by_epochs(digits):
    model, record = discrete_vae(temperature=2.0), TemperatureRecorder()
    model.fit(digits[:200], batch_size=100, epochs=3, verbose=0,
              callbacks=[TemperatureAnnealing(0.5, epochs=2), record])
    np.testing.assert_allclose(record.seen, [2, 2, 1, 1, 0.5, 0.5], rtol=1e-5)


@pytest.mark.parametrize("kwargs", [{"final": 0.0, "steps": 3}, {"final": 0.5}, {"final": "1", "epochs": 2}])
def test_bad_annealing_arguments(kwargs):
    with pytest.raises(ValueError, match="final must be|steps and epochs"):
        TemperatureAnnealing(**kwargs)


def test_annealing_needs_a_relaxed_posterior(digits):
    with pytest.raises(ValueError, match="needs a 'relaxed_categorical' posterior; received 'normal'"):
        vae().fit(digits[:100], batch_size=100, epochs=1, verbose=0,
                  callbacks=[TemperatureAnnealing(epochs=1)])
