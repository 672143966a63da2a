"""Keras callbacks for training VAEs."""

import math

import keras


class KLWarmup(keras.callbacks.Callback):
    """Ramps the KL weight beta linearly from 0 to the model's `beta`.

    Over the first `steps` training batches, or the first `epochs` epochs
    (Bowman et al., arXiv:1511.06349; Sonderby et al., arXiv:1602.02282):
    beta_t = beta * min(1, t / steps). A second `fit` with the same callback
    continues the ramp where the first stopped.

    Example:
      >>> vae.fit(x, epochs=20, callbacks=[tfpvae.callbacks.KLWarmup(epochs=5)])
    """

    def __init__(self, steps=None, epochs=None):
        super().__init__()
        if (steps is None) == (epochs is None):
            raise ValueError(f"give exactly one of steps and epochs; received steps={steps!r}, epochs={epochs!r}")
        length = steps if steps is not None else epochs
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"the warm-up length must be a positive int; received {length!r}")
        self.steps, self.epochs, self.step = steps, epochs, 0

    def set_fraction(self, fraction):
        self.model.kl_weight.assign(self.model.beta * min(1.0, fraction))

    def on_train_begin(self, logs=None):
        if self.steps is not None:
            self.set_fraction(self.step / self.steps)

    def on_epoch_begin(self, epoch, logs=None):
        if self.epochs is not None:
            self.set_fraction(epoch / self.epochs)

    def on_train_batch_begin(self, batch, logs=None):
        if self.steps is not None:
            self.set_fraction(self.step / self.steps)
            self.step += 1


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first non-finite loss and keeps the last good weights.

    The weights are copied at the start of each epoch; when a batch's loss,
    reconstruction or KL is NaN or inf, they are put back, training stops and
    `self.failure` says at which epoch and batch which ELBO term went
    non-finite (the reconstruction E_q[log p(x|z)] or the KL).
    """

    TERMS = ("reconstruction", "kl", "loss")

    def __init__(self):
        super().__init__()
        self.failure, self.good_weights, self.epoch = None, None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.good_weights = epoch, self.model.get_weights()

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        bad = [term for term in self.TERMS if term in logs and not math.isfinite(float(logs[term]))]
        if not bad:
            return
        self.model.set_weights(self.good_weights)
        self.model.stop_training = True
        self.failure = (
            f"training stopped at epoch {self.epoch + 1}, batch {batch + 1}: the {bad[0]} term "
            f"went non-finite ({float(logs[bad[0]])}); the weights are those from the start of "
            f"epoch {self.epoch + 1}"
        )
