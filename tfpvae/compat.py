"""The few private Keras and TensorFlow names that have no public form.

Each is reached only through this module, and tests/test_compat.py fails
loudly if one disappears. Checked against Keras 3.15, TensorFlow 2.21 and
TensorFlow Probability 0.26.0.dev20261027 (tfp-nightly).

- `keras.src.trainers.trainer.model_supports_jit`: Keras's own test of
  whether XLA can compile a model's step (every layer's `supports_jit`, op
  determinism off, and its platform guards).
- `tf.distribute.MultiWorkerMirroredStrategy.extended._in_multi_worker_mode`:
  whether the strategy spans several workers (Keras's TF trainer reads it too).

`tfpvae.backend` reaches two modules of TFP's that are internal: `prefer_static`
(shape arithmetic that stays static where shapes are known, which `jax.jit`
needs) and, on JAX, the TensorFlow-shaped array API TFP's JAX substrate runs
on (`tensorflow_probability.python.internal.backend.jax`). The TFP build is
pinned (pyproject.toml) and the whole suite exercises both on each backend.

`tfpvae.families.normal.DiagonalNormal` overrides TFP's sampling hook
`_call_sample_n`, the method TFP's `Distribution.sample` dispatches to (its
documented `_sample_n` is not reached through a `TransformedDistribution`);
the same test checks that `sample` still goes through it.
"""

from keras.src.trainers import trainer as _keras_trainer

from tfpvae.backend import tensorflow as tf


def model_supports_jit(model):
    """Whether Keras would compile `model`'s steps with XLA (its layers and guards)."""
    return _keras_trainer.model_supports_jit(model)


def multi_worker(strategy):
    """True for a `MultiWorkerMirroredStrategy` spanning several workers."""
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())
