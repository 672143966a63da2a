"""fit warns once when its tf.data pipeline limits the training speed, and only then."""

import time
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfpvae
from tfpvae import data
from tfpvae.data import feeding, pipeline_check
from tfpvae.data.pipeline_check import PipelineCheck, SlowPipelineWarning

BATCH = 8
STEPS = 72  # per epoch: 18 executions of 4 steps, 16 of them measured (64 = MIN_STEPS)


def vae():
    """An MNIST-shaped MLP VAE whose step takes about a millisecond on a CPU."""
    model = tfpvae.VAE(event_shape=(784,), latent_dim=2, encoder={"name": "mlp", "units": [200, 200]},
                       decoder={"name": "mlp", "units": [200, 200]})
    model.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=4, jit_compile=False)
    return model


def images():
    return np.random.default_rng(0).uniform(size=(STEPS * BATCH, 784)).astype("float32")


def slowly_binarized(x):
    """The usual pipeline made slow: a per-example map that sleeps 1 ms per example, then batch."""
    def binarize(v):
        time.sleep(0.001)
        return (np.random.uniform(size=v.shape) < v.numpy()).astype("float32")

    def mapped(v):
        return tf.ensure_shape(tf.py_function(binarize, [v], tf.float32), v.shape)

    return tf.data.Dataset.from_tensor_slices(x).map(mapped).batch(BATCH).prefetch(2)


def fit_warnings(dataset, epochs, model=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (model or vae()).fit(dataset, epochs=epochs, verbose=0)
    return [w for w in caught if issubclass(w.category, SlowPipelineWarning)]


def test_a_per_example_pipeline_that_starves_the_step_is_reported_once_with_the_fix():
    dataset, model = slowly_binarized(images()), vae()
    caught = fit_warnings(dataset, epochs=2, model=model)
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "limits fit" in text and "batch first and map whole batches" in text and "prefetch" in text
    assert not fit_warnings(dataset, epochs=1, model=model)  # a dataset is checked once per process


def test_batches_gathered_in_memory_are_not_reported():
    assert not fit_warnings(data.to_dataset(images(), batch_size=BATCH, binarize="dynamic"), epochs=2)


def test_the_probe_rates_a_slow_pipeline_below_a_fast_one_and_needs_two_batches():
    x = images()[:BATCH * 6]
    slow = pipeline_check.probe(slowly_binarized(x))
    fast = pipeline_check.probe(data.to_dataset(x, batch_size=BATCH))
    assert slow < 1 / (BATCH * 0.001), slow  # a slow batch sleeps 8 ms
    assert fast > 5 * slow, (fast, slow)
    assert pipeline_check.probe(data.to_dataset(x[:BATCH], batch_size=BATCH)) is None


def test_fit_checks_datasets_only():
    dataset = data.to_dataset(images()[:64], batch_size=BATCH)
    added = feeding.with_pipeline_check(dataset, {"callbacks": None})["callbacks"]
    assert len(added) == 1 and isinstance(added[0], PipelineCheck) and added[0].dataset is dataset
    assert feeding.with_pipeline_check(dataset, {"callbacks": added})["callbacks"] == added  # not twice
    assert feeding.with_pipeline_check(images()[:64], {"epochs": 2}) == {"epochs": 2}
    given = keras.callbacks.CallbackList([])
    assert feeding.with_pipeline_check(dataset, {"callbacks": given})["callbacks"] is given


def test_the_check_takes_a_dataset():
    with pytest.raises(ValueError, match="dataset must be a tf.data.Dataset; received ndarray"):
        PipelineCheck(images())
