import keras
import numpy as np
import pytest
import tensorflow as tf

import tfpvae
from tfpvae import training_loop

SMALL = {"name": "mlp", "units": [16]}


def small_vae():
    return tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder=SMALL, decoder=SMALL)


class Executions(keras.callbacks.Callback):
    """Counts Keras's calls of the train function (one batch callback each)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1


def trained(x, train_function="loop", epochs=2, batch_size=50, steps_per_execution=32):
    """A small VAE trained from seed 3 with whole-step XLA, each execution run
    by the multi-step XLA loop ("loop") or by Keras's own function ("keras")."""
    keras.utils.set_random_seed(3)
    vae = small_vae()
    vae.compile(jit_compile=True, steps_per_execution=steps_per_execution)
    if train_function == "keras":
        vae.make_train_function = lambda force=False: keras.Model.make_train_function(vae, force)
    executions = Executions()
    history = vae.fit(x, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[executions])
    return vae, history.history["loss"], executions.count


def test_the_xla_loop_trains_as_kerass_step_by_step_execution(digits, monkeypatch):
    """From one seed, each execution's steps in one XLA loop give Keras's
    per-step XLA execution's losses and weights (float32 rounding: 1e-5),
    with Keras's steps and callbacks: steps_per_execution=4 over 11 batches
    (the last of 20 examples) is 3 executions per epoch, of 4 + 4 + 3 steps.
    With room for 3 batches per stack, an execution runs as several XLA
    calls and trains the same."""
    loop, loop_loss, loop_executions = trained(digits[:520], "loop", steps_per_execution=4)
    step, step_loss, step_executions = trained(digits[:520], "keras", steps_per_execution=4)
    assert loop.train_function.run.experimental_get_tracing_count() >= 1
    assert int(loop.optimizer.iterations) == int(step.optimizer.iterations) == 22
    assert loop_executions == step_executions == 6
    np.testing.assert_allclose(loop_loss, step_loss, rtol=1e-5)
    for a, b in zip(loop.get_weights(), step.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(training_loop, "MAX_STACK_BYTES", 3 * 50 * 64 * 4)
    split, split_loss, split_executions = trained(digits[:520], "loop", steps_per_execution=4)
    assert int(split.optimizer.iterations) == 22 and split_executions == 6
    np.testing.assert_allclose(split_loss, loop_loss, rtol=1e-5)


def test_batches_of_changing_shape_each_run_once(digits):
    """A dataset whose batches change size mid-execution: every batch is one step."""
    sizes = [10, 10, 5, 10]
    starts = np.cumsum([0] + sizes)
    x = digits[:starts[-1]]
    dataset = tf.data.Dataset.from_generator(lambda: (x[a:b] for a, b in zip(starts, starts[1:])),
                                             output_signature=tf.TensorSpec([None, 8, 8, 1], tf.float32))
    vae = small_vae()
    vae.compile(jit_compile=True)
    vae.fit(dataset, epochs=2, verbose=0)
    assert int(vae.optimizer.iterations) == 8


@pytest.mark.parametrize("args,kwargs,steps", [
    ((np.zeros((450, 3)),), {"batch_size": 100, "epochs": 3}, 15),
    ((np.zeros((64, 3)),), {}, 2),
    (((np.zeros((64, 3)), np.zeros(64)),), {"epochs": 2, "batch_size": 64}, 2),
    ((tf.data.Dataset.range(7).batch(2),), {"epochs": 10, "initial_epoch": 4}, 24),
    ((tf.data.Dataset.range(7).repeat(),), {"epochs": 3}, None),
    ((tf.data.Dataset.range(7).repeat(),), {"epochs": 3, "steps_per_epoch": 5}, 15),
    ((iter([1, 2]),), {}, None),
])
def test_planned_steps(args, kwargs, steps):
    assert training_loop.planned_steps(*args, **kwargs) == steps


def test_auto_uses_xla_for_fits_that_plan_many_steps(digits, monkeypatch):
    """jit_compile="auto" decides at each fit: 16 planned steps against a
    threshold of 10 turn XLA on, 8 turn it off again (and the optimizer's
    separate XLA step stays off: no XLA compile at all); a model XLA cannot
    compile never turns it on."""
    monkeypatch.setattr(training_loop, "XLA_MIN_STEPS", 10)
    vae = small_vae()
    vae.compile()
    assert vae.jit_auto and vae.jit_compile is False and not vae.jit_update
    vae.fit(digits[:400], epochs=2, batch_size=50, verbose=0)
    assert vae.jit_compile is True
    assert vae.train_function.run.experimental_get_tracing_count() >= 1
    vae.fit(digits[:400], epochs=1, batch_size=50, verbose=0)
    assert vae.jit_compile is False and not vae.jit_update and int(vae.optimizer.iterations) == 24
    assert "jit_update" not in vae._graph_functions
    low_rank = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder=SMALL, decoder=SMALL, posterior="low_rank")
    low_rank.compile()
    assert not low_rank.jit_auto and low_rank.jit_compile is False


def test_auto_survives_the_compile_config():
    vae = small_vae()
    vae.compile()
    assert vae.get_compile_config()["jit_compile"] == "auto"
    forced = small_vae()
    forced.compile(jit_compile=False)
    assert forced.get_compile_config()["jit_compile"] is False
