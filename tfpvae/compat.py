"""The few private Keras and TensorFlow names that have no public form.

Each is reached only through this module, and tests/test_compat.py fails
loudly if one disappears. Checked against Keras 3.15, TensorFlow 2.21 and
TensorFlow Probability 0.25.

- `keras.src.trainers.trainer.model_supports_jit`: Keras's own test of
  whether XLA can compile a model's step (every layer's `supports_jit`, op
  determinism off, and its platform guards).
- `tf.distribute.MultiWorkerMirroredStrategy.extended._in_multi_worker_mode`:
  whether the strategy spans several workers (Keras's TF trainer reads it too).

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
