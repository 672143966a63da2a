"""Keras callbacks for training VAEs."""

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
