"""What a training objective is: a declared map from one batch to a loss.

An objective sees a `Batch` (q(z|x), p(z), the decoder z -> p(x|z), x, the
number of draws, the KL form, a seed and the KL weight) and returns a `Loss`:
the scalar to minimize, the per-example values it reports as metrics, and,
for estimators that give the inference network a gradient of its own, a
separate surrogate for the encoder's and posterior's weights.
"""

import dataclasses
import inspect
from typing import Callable, Optional

from tfpvae import checks
from tfpvae.backend import tf


@dataclasses.dataclass(frozen=True)
class Batch:
    """One batch as an objective sees it.

    Attributes:
      q: q(z|x), a distribution with batch shape [B].
      prior: p(z).
      decode: z [L, B, d] -> p(x|z) with batch shape [L, B].
      x: float32 data [B, *event_shape].
      num_samples: L, draws of z per example.
      kl_form: "analytic" or "mc" (`bounds.kl_form`).
      seed: a stateless int32 seed pair.
      kl_weight: beta, a scalar tensor (annealed by `callbacks.KLWarmup`).
      latent_dim: size of z.
      step: the optimizer's step count t (a scalar tensor; the model's
        training and test steps pass it) for objectives scheduled by it
        (`capacity`); None, where they use the schedule's end.
    """

    q: object
    prior: object
    decode: Callable
    x: tf.Tensor
    num_samples: int
    kl_form: str
    seed: tf.Tensor
    kl_weight: tf.Tensor = 1.0
    latent_dim: int = 1
    step: Optional[tf.Tensor] = None


@dataclasses.dataclass(frozen=True)
class Loss:
    """What an objective returns for one batch.

    Attributes:
      value: the scalar loss; its gradient trains every weight unless
        `encoder_value` is given.
      metrics: per-example values [B] by name: "elbo", "reconstruction" and
        "kl" always, then the objective's own `metric_names`.
      encoder_value: None, or a scalar surrogate whose gradient trains the
        inference network (encoder and posterior) in place of `value`'s.
      own_inputs: None, or the tensors the objective's own step
        (`Objective.update`) trains its own weights on, cut from the
        gradient (FactorVAE: the batch's codes and their permutation).
    """

    value: tf.Tensor
    metrics: dict
    encoder_value: Optional[tf.Tensor] = None
    own_inputs: Optional[tuple] = None


class Objective:
    """A named training objective with options.

    A subclass sets `name`, lists its own per-example metrics in
    `metric_names`, takes its options as keyword arguments of `__init__`
    (checked there, stored in `self.options`) and implements `__call__`.

    Hooks with defaults:
      `beta`: the starting KL weight (1.0); `callbacks.KLWarmup` ramps the
        model's KL weight towards it.
      `check(q, prior)`: raises ValueError when the objective cannot work with
        a posterior or prior (called once when the model is built).
      `own_layer(latent_size)`: a Keras layer of weights the objective trains
        itself (FactorVAE's discriminator, with its own optimizer), or None.
        The model makes it once, holds it (so `save` and checkpoints keep its
        weights and optimizer state) and leaves it out of its own
        `trainable_variables`, which its optimizer trains.
      `update(loss)`: trains those weights on a training batch, after the
        model's optimizer step, from the batch's `Loss.own_inputs`; called
        by the model's `train_step` (nothing by default).
    """

    name = None
    metric_names = ()
    beta = 1.0

    def __init__(self, **options):
        self.options = options

    def __call__(self, batch):
        """The `Loss` of a `Batch`."""
        raise NotImplementedError

    @classmethod
    def option_names(cls):
        """The names of the options `__init__` takes."""
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        return [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def check(self, q, prior):
        """Raises ValueError when q(z|x) or p(z) does not suit the objective."""

    def own_layer(self, latent_size):
        """The Keras layer of the objective's own weights for z of `latent_size`, or None (the default)."""
        return None

    def update(self, loss):
        """Trains the objective's own weights on one training batch's `Loss` (by default nothing)."""

    def get_config(self):
        """A spec that rebuilds the objective: its name alone when no option differs from the default."""
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        options = {k: v for k, v in self.options.items() if defaults.get(k, object()) != v}
        return {"name": self.name, **options} if options else self.name

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()!r})"


def weight(value, name):
    """A KL weight or similar option: a finite float >= 0."""
    return checks.real(value, name)
