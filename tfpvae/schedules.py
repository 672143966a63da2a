"""Learning-rate schedules for training VAEs."""

import keras
from keras import ops

from tfpvae import checks

STAGES = 8
"""The IWAE schedule's stages i = 0, ..., 7."""

PASSES = (3**STAGES - 1) // 2
"""Passes over the data of the IWAE schedule at full length: sum_i 3^i = 3,280."""

NAMES = ("constant", "iwae")
"""The schedules a run's config can name."""


@keras.saving.register_keras_serializable(package="tfpvae")
class IWAESchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The IWAE paper's schedule, compressed into any number of epochs.

    At full length (epochs = 3,280) stage i = 0, ..., 7 lasts 3^i passes over
    the data at learning rate

        lr_i = initial_learning_rate * 10^(-i/7),

    from 1e-3 down to 1e-4 with the paper's initial rate. With `epochs` = N
    every stage keeps its share of the run: stage i covers the epochs from
    N * (3^i - 1) / 6,560 to N * (3^(i+1) - 1) / 6,560. In passes
    p = step / steps_per_epoch * 3,280 / N the stage is the number of stage
    boundaries (1, 4, 13, 40, 121, 364, 1,093 passes, i.e. (3^j - 1) / 2)
    that p has reached. Steps past the end stay at the last rate.

    Args:
      steps_per_epoch: optimizer steps per pass over the training data.
      epochs: the run's length in epochs, N (default: the paper's 3,280).
      initial_learning_rate: lr_0 (default: the paper's 1e-3).

    Example:

        schedule = tfpvae.schedules.IWAESchedule(steps_per_epoch=600, epochs=100)
        vae.compile(optimizer=keras.optimizers.Adam(schedule, epsilon=1e-4))
        vae.fit(x, batch_size=100, epochs=100)

    References:
      Burda, Grosse and Salakhutdinov, "Importance Weighted Autoencoders",
      section 5, arXiv:1509.00519.
    """

    def __init__(self, steps_per_epoch, epochs=PASSES, initial_learning_rate=1e-3):
        super().__init__()
        self.steps_per_epoch = checks.positive_int(steps_per_epoch, "steps_per_epoch")
        self.epochs = checks.positive_int(epochs, "epochs")
        self.initial_learning_rate = checks.real(initial_learning_rate, "initial_learning_rate", strict=True)

    def boundaries(self):
        """The steps at which stages 1, ..., 7 begin (floats; a step on a boundary is in the later stage)."""
        steps_per_pass = self.steps_per_epoch * self.epochs / PASSES
        return [(3**j - 1) / 2 * steps_per_pass for j in range(1, STAGES)]

    def __call__(self, step):
        step = ops.cast(step, "float32")
        stage = sum(ops.cast(step >= boundary, "float32") for boundary in self.boundaries())
        return self.initial_learning_rate * ops.power(10.0, -stage / (STAGES - 1))

    def get_config(self):
        return {"steps_per_epoch": self.steps_per_epoch, "epochs": self.epochs,
                "initial_learning_rate": self.initial_learning_rate}


def learning_rate(name, initial_learning_rate, steps_per_epoch, epochs):
    """The learning rate a run's config names: a float ("constant") or an `IWAESchedule` ("iwae")
    over the run's `epochs` epochs of `steps_per_epoch` steps."""
    if name not in NAMES:
        raise ValueError(f"schedule must be one of {list(NAMES)}; received {name!r}")
    if name == "constant":
        return initial_learning_rate
    return IWAESchedule(steps_per_epoch, epochs=epochs, initial_learning_rate=initial_learning_rate)


__all__ = ["IWAESchedule", "NAMES", "PASSES", "learning_rate"]
