"""Keras losses over distribution parameters."""

import keras
import numpy as np

from tfpvae import backend
from tfpvae.backend import tf
from tfpvae.layers.head import event_shape_tuple, family_for, log_prob, role_of


def support_error(family, y):
    """A message when the array y lies outside the family's support, else None."""
    error = family.support_error(np.asarray(y, np.float64))
    if error is None:
        return None
    return f"targets outside the support of the {family.name!r} family: {error}"


def in_support(family, y):
    """A boolean tensor: every element of y is finite and within the family's declared bounds."""
    y = tf.cast(y, tf.float32)
    ok = tf.reduce_all(tf.math.is_finite(y))
    if family.low is not None:
        low = tf.reduce_min(y) > family.low if family.open_interval else tf.reduce_min(y) >= family.low
        ok = tf.logical_and(ok, low)
    if family.high is not None:
        high = tf.reduce_max(y) < family.high if family.open_interval else tf.reduce_max(y) <= family.high
        ok = tf.logical_and(ok, high)
    if family.integer:
        ok = tf.logical_and(ok, tf.reduce_all(tf.equal(y, tf.floor(y))))
    return ok


@keras.saving.register_keras_serializable(package="tfpvae")
class NegativeLogLikelihood(keras.losses.Loss):
    """-log p(y | params) for a family, averaged over examples: Keras's loss for a `DistributionHead`.

        loss(y, params) = mean_n [-log p(y_n; family(params_n))]

    y_true has the event shape per example (a target of shape [N] is read as
    [N, 1] for event_shape (1,)); y_pred is the head's parameter tensor.
    Computed in float32, also under mixed precision.

    Targets outside the family's support (e.g. negative or fractional counts
    for `poisson`) make the log-likelihood meaningless, so they are an error
    that names the family and its support:

    - `loss.check(y)` checks an array; call it on the training targets
      before `fit` (it returns y, so `model.fit(x, loss.check(y))` works);
    - the loss itself checks concrete (eager) targets, for instance with
      `compile(run_eagerly=True)` or when called directly;
    - in a traced step it asserts the family's bounds, failing the first
      batch with `InvalidArgumentError` and the same text. XLA compiles
      assertions away, so with `jit_compile=True` (Keras's default on a GPU)
      only `check` guards the data; so does a `jax.jit` step on JAX.

    Args:
      family: a family spec, as for `DistributionHead`.
      event_shape: shape of one y.
      role: "likelihood" or "posterior", as for `DistributionHead`.
      reduction: Keras's reduction over examples.
      name: the loss's name.

    Example:
      >>> loss = tfpvae.losses.NegativeLogLikelihood("poisson", event_shape=(1,))
      >>> model.compile(optimizer="adam", loss=loss)
      >>> model.fit(x, loss.check(counts))
    """

    def __init__(self, family, event_shape, role=None, reduction="sum_over_batch_size",
                 name="negative_log_likelihood", **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(name=name, reduction=reduction, dtype="float32", **kwargs)
        self.family = family_for(family, role)
        self.role = role_of(self.family, role)
        self.event_shape = event_shape_tuple(event_shape)

    def check(self, y):
        """Returns y unchanged when every target is in the family's support, else raises ValueError."""
        error = support_error(self.family, y)
        if error is not None:
            raise ValueError(error)
        return y

    def call(self, y_true, y_pred):
        if not backend.is_symbolic(y_true):
            self.check(np.asarray(y_true))
            return -self.log_prob(y_true, y_pred)
        if backend.is_jax:
            return -self.log_prob(y_true, y_pred)  # a jax.jit step cannot stop on a value it computes
        message = (f"a target in this batch is outside the support of the {self.family.name} family, "
                   f"{self.family.support}")
        assertion = tf.debugging.Assert(in_support(self.family, y_true), [message])
        with tf.control_dependencies([assertion]):
            return -self.log_prob(y_true, y_pred)

    def log_prob(self, y_true, y_pred):
        """log p(y_n | params_n) per example, float32 [N]."""
        return log_prob(self.family, y_pred, y_true, self.event_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        config.update({"family": self.family.get_config(), "event_shape": list(self.event_shape),
                       "role": self.role})
        return config
