"""Keras callbacks for training VAEs."""

import math

import keras

from tfpvae import checks
from tfpvae.families.relaxed_categorical import RelaxedCategorical


class Ramp(keras.callbacks.Callback):
    """A schedule over the first `steps` training batches or the first `epochs`
    epochs: `set_fraction(f)` is called with the fraction f of it done (t the
    optimizer's step count for `steps`, so a second `fit` continues).

    Args:
      steps: length in batches; or
      epochs: length in epochs.
    """

    def __init__(self, steps=None, epochs=None):
        super().__init__()
        if (steps is None) == (epochs is None):
            raise ValueError(f"give exactly one of steps and epochs; received steps={steps!r}, epochs={epochs!r}")
        checks.positive_int(steps if steps is not None else epochs, "the ramp length")
        self.steps, self.epochs = steps, epochs

    def set_fraction(self, fraction):
        raise NotImplementedError

    def on_epoch_begin(self, epoch, logs=None):
        if self.epochs is not None:
            self.set_fraction(epoch / self.epochs)

    def on_train_batch_begin(self, batch, logs=None):
        if self.steps is not None:
            self.set_fraction(int(self.model.optimizer.iterations.numpy()) / self.steps)


class KLWarmup(Ramp):
    """Ramps the KL weight beta linearly from 0 to the objective's `beta`.

    Over the first `steps` training batches, or the first `epochs` epochs
    (Bowman et al., arXiv:1511.06349; Sonderby et al., arXiv:1602.02282):
    beta_t = beta * min(1, t / steps), with t the optimizer's step count, so a
    second `fit` continues the ramp where the first stopped. beta changes at
    the start of each execution of `steps_per_execution` steps.

    Example:
      >>> vae.fit(x, epochs=20, callbacks=[tfpvae.callbacks.KLWarmup(epochs=5)])
    """

    def set_fraction(self, fraction):
        self.model.kl_weight.assign(self.model.objective.beta * min(1.0, fraction))


class TemperatureAnnealing(Ramp):
    """Lowers a `relaxed_categorical` posterior's temperature during training.

    lambda_t = lambda_0 (final / lambda_0)^min(1, t / steps), the exponential
    decay of Jang et al. (arXiv:1611.01144), from the posterior's
    `temperature` option lambda_0 to `final` over the first `steps` training
    batches (t the optimizer's step count, so a second `fit` continues) or
    the first `epochs` epochs, then held. The temperature is a weight of the
    posterior layer, saved with the model.

    Args:
      final: the temperature at the end, > 0.
      steps: length of the decay in batches; or
      epochs: its length in epochs.

    Example:
      >>> vae = tfpvae.VAE(event_shape=(28, 28, 1), latent_dim=200, prior="categorical",
      ...                  posterior={"name": "relaxed_categorical", "temperature": 1.0})
      >>> vae.fit(x, epochs=20, callbacks=[tfpvae.callbacks.TemperatureAnnealing(0.5, epochs=10)])
    """

    def __init__(self, final=0.5, steps=None, epochs=None):
        super().__init__(steps=steps, epochs=epochs)
        self.final = checks.real(final, "final", strict=True)

    def on_train_begin(self, logs=None):
        layer = self.model.stack.posterior_layer
        if not isinstance(layer.family, RelaxedCategorical):
            raise ValueError(f"TemperatureAnnealing needs a 'relaxed_categorical' posterior; "
                             f"received {layer.family.name!r}")
        self.layer = layer

    def set_fraction(self, fraction):
        family = self.layer.family
        temperature = family.temperature * (self.final / family.temperature) ** min(1.0, fraction)
        self.layer.shared.assign(family.temperature_weights(temperature))


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first non-finite loss and keeps the last good weights.

    The weights are copied at the start of each epoch; when the loss,
    reconstruction or KL is NaN or inf at the end of a batch (of an execution
    of `steps_per_execution` batches), they are put back, training stops and
    `self.failure` says by which epoch and batch which ELBO term went
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
            f"training stopped in epoch {self.epoch + 1} by batch {batch + 1}: the {bad[0]} term "
            f"went non-finite ({float(logs[bad[0]])}); the weights are those from the start of "
            f"epoch {self.epoch + 1}"
        )
