"""FactorVAE: the discriminator's estimate of the total correlation, and its training and saving inside a model."""

import keras
import numpy as np
import pytest

import tfpvae
from tfpvae import backend
from tfpvae.backend import tf
from tfpvae.objectives.factor_vae import Discriminator, permute_dims

SMALL = {"name": "mlp", "units": [16]}
OBJECTIVE = {"name": "factor_vae", "gamma": 10.0, "discriminator_units": [32, 32],
             "discriminator_learning_rate": 1e-3}


def test_permute_dims_shuffles_each_column_on_its_own():
    """Each column keeps its values; two columns that were equal are no
    longer aligned (correlation below 0.1 over 2,000 rows, from 1)."""
    z = np.repeat(np.random.default_rng(0).standard_normal((2000, 1)), 2, axis=1).astype(np.float32)
    permuted = np.asarray(permute_dims(tf.constant(z), backend.seed_pair(0, 3)))
    for j in range(2):
        np.testing.assert_array_equal(np.sort(permuted[:, j]), np.sort(z[:, j]))
    assert abs(np.corrcoef(permuted.T)[0, 1]) < 0.1


@pytest.mark.parametrize("rho", [0.0, 0.9])
def test_the_discriminator_estimates_the_total_correlation_of_a_gaussian(rho):
    """For z ~ N(0, [[1, rho], [rho, 1]]), TC = -1/2 log(1 - rho^2) (0 and
    0.830 nats); after 1,500 steps on batches of 512 the mean logit is
    within 0.1 nats of it (measured: 0.828 for rho = 0.9)."""
    keras.utils.set_random_seed(0)
    chol = np.linalg.cholesky(np.array([[1, rho], [rho, 1]], np.float32))
    discriminator = Discriminator(2, units=[64, 64], learning_rate=1e-3)

    @tf.function
    def step(seed):
        z = tf.random.stateless_normal([512, 2], seed=seed) @ tf.constant(chol.T)
        discriminator.train_on(z, permute_dims(z, seed + 1))

    for i in range(1500):
        step(tf.constant([0, i]))
    z = np.random.default_rng(0).standard_normal((20000, 2)).astype(np.float32) @ chol.T
    assert abs(float(tf.reduce_mean(discriminator(z))) + 0.5 * np.log(1 - rho**2)) < 0.1


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_trains_the_discriminator_with_its_own_optimizer(digits, jit_compile):
    """The discriminator takes one step of its own optimizer per model step
    (under the XLA loop too); the model's optimizer does not hold its weights."""
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=3, encoder=SMALL, decoder=SMALL, objective=OBJECTIVE,
                     seed=0)
    vae.compile(optimizer="adam", jit_compile=jit_compile)
    discriminator = vae.objective_layer
    before = [np.asarray(w).copy() for w in discriminator.weights]
    vae.fit(digits[:256], epochs=2, batch_size=64, verbose=0)
    assert int(discriminator.optimizer.iterations) == int(vae.optimizer.iterations) == 8
    assert all(np.any(np.asarray(w) != b) for w, b in zip(discriminator.weights, before))
    own = {id(w) for w in discriminator.weights}
    assert not own & {id(v) for v in vae.trainable_variables}
    assert own <= {id(v) for v in vae.non_trainable_variables}
    vae.trainable = False
    vae.trainable = True  # unfreezing the model leaves the discriminator to its own optimizer
    assert not own & {id(v) for v in vae.trainable_variables} and vae.trainable_variables


def test_the_discriminator_and_its_optimizer_are_saved_with_the_model(digits, tmp_path):
    """The reloaded model has the same discriminator weights and optimizer
    state (step count and Adam moments), and goes on training."""
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=3, encoder=SMALL, decoder=SMALL, objective=OBJECTIVE,
                     seed=0)
    vae.compile(optimizer="adam")
    vae.fit(digits[:256], epochs=1, batch_size=64, verbose=0)
    vae.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    saved, restored = vae.objective_layer, loaded.objective_layer
    for a, b in zip(saved.weights + saved.optimizer.variables, restored.weights + restored.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(restored.optimizer.iterations) == 4
    loaded.fit(digits[:128], epochs=1, batch_size=64, verbose=0)
    assert int(restored.optimizer.iterations) == 6


def test_one_objective_serves_one_latent_size():
    objective = tfpvae.objectives.get(OBJECTIVE)
    tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=3, encoder=SMALL, decoder=SMALL, objective=objective)
    with pytest.raises(ValueError, match="reads z of size 3, not 4"):
        tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=4, encoder=SMALL, decoder=SMALL, objective=objective)


def test_bad_options_are_refused_by_name():
    with pytest.raises(ValueError, match="discriminator_units"):
        tfpvae.objectives.get({"name": "factor_vae", "discriminator_units": []})
    with pytest.raises(ValueError, match="gamma"):
        tfpvae.objectives.get({"name": "factor_vae", "gamma": -1.0})
    with pytest.raises(ValueError, match="discriminator_learning_rate"):
        tfpvae.objectives.get({"name": "factor_vae", "discriminator_learning_rate": 0.0})
