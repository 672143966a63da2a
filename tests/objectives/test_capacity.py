"""capacity against its definition, and its schedule driven by the optimizer's step count."""

import keras
import numpy as np
import pytest

import tfpvae
from tfpvae import backend, objectives
from tfpvae.backend import tf, tfp
from tfpvae.objectives import Batch

tfd = tfp.distributions
SMALL = {"name": "mlp", "units": [16]}


def test_capacity_grows_linearly_to_its_target():
    objective = objectives.get({"name": "capacity", "capacity": 8.0, "steps": 100})
    assert [float(objective.target(tf.constant(t))) for t in (0, 25, 100, 500)] == [0.0, 2.0, 8.0, 8.0]
    assert float(objective.target(None)) == 8.0


def test_loss_is_gamma_times_the_distance_of_the_kl_from_the_capacity():
    """loss = gamma * mean_x |KL(q(z|x) || p(z)) - C_t| - reconstruction, with TFP's analytic KL (rtol 1e-5)."""
    x = np.array([[0.3, -1.2], [2.0, 0.5]], np.float32)
    q = tfd.MultivariateNormalDiag(loc=x, scale_diag=tf.fill([2, 2], 0.5))
    prior = tfd.MultivariateNormalDiag(loc=tf.zeros(2))
    batch = Batch(q=q, prior=prior, decode=lambda z: tfd.MultivariateNormalDiag(loc=z, scale_diag=[0.5, 0.5]),
                  x=tf.constant(x), num_samples=3, kl_form="analytic", seed=backend.seed_pair(0, 1),
                  step=tf.constant(40, tf.int64))
    loss = objectives.get({"name": "capacity", "gamma": 10.0, "capacity": 5.0, "steps": 100})(batch)
    kl = np.asarray(tfd.kl_divergence(q, prior))
    expected = 10.0 * np.mean(np.abs(kl - 2.0)) - np.mean(loss.metrics["reconstruction"])
    np.testing.assert_allclose(loss.value, expected, rtol=1e-5)
    np.testing.assert_allclose(loss.metrics["capacity"], [2.0, 2.0])


def test_the_model_feeds_its_step_count_to_the_schedule(digits):
    """4 steps an epoch with C_t = 5 t / 10: the epochs' mean capacities are
    5 (0 + .1 + .2 + .3) / 4 = 0.75, then 2.75 in a second fit, and an
    evaluation after 8 steps uses C_8 = 4."""
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder=SMALL, decoder=SMALL, seed=0,
                     objective={"name": "capacity", "gamma": 2.0, "capacity": 5.0, "steps": 10})
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    first = vae.fit(digits[:256], epochs=1, batch_size=64, verbose=0).history["capacity"]
    second = vae.fit(digits[:256], epochs=1, batch_size=64, verbose=0).history["capacity"]
    assert first == pytest.approx([0.75]) and second == pytest.approx([2.75])
    assert vae.evaluate(digits[:64], verbose=0, return_dict=True)["capacity"] == pytest.approx(4.0)


def test_options_are_checked():
    with pytest.raises(ValueError, match="steps must be a positive int; received 0"):
        objectives.get({"name": "capacity", "steps": 0})
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0; received -1"):
        objectives.get({"name": "capacity", "gamma": -1})
