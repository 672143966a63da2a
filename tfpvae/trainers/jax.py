"""The VAE's training on the JAX backend.

Keras's JAX trainer calls a model's steps as pure functions of its
variables' values, `step(state, data) -> (outputs, new state)`. Each step
here runs the backend-neutral body of the VAE (its loss, metrics or
predictions) in a `keras.StatelessScope` that maps every variable to its
value in `state`, and reads back the values the body assigned: the seed
generator's state, the metrics' sums. Gradients come from `jax.vjp`, so an
objective whose inference network follows its own loss (STL, DReG) pulls
both losses back through one forward pass.
"""

import jax
import keras
import numpy as np


class Trainer:
    """The JAX half of `tfpvae.VAE`."""

    jit_auto = False

    def next_seed(self):
        """A fresh seed pair for TFP's samplers (a raw JAX PRNG key)."""
        return self.seed_generator.next()

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_values, metric_values = state
        x, c = self._split(data)
        fixed = [*zip(self.non_trainable_variables, non_trainable),
                 *zip(self.optimizer.variables, optimizer_values)]

        def losses(trainable):
            mapping = [*zip(self.trainable_variables, trainable), *fixed]
            with keras.StatelessScope(state_mapping=mapping, collect_losses=True) as scope:
                result = self._loss(x, c, training=True)
                penalty = sum(self.losses) if self.losses else 0.0
                loss = result.value + penalty
                encoder = loss if result.encoder_value is None else result.encoder_value + penalty
            new_values = [scope.get_current_value(v) for v in self.non_trainable_variables]
            scaled = (self.optimizer.scale_loss(loss), self.optimizer.scale_loss(encoder))
            return scaled, (loss, result.metrics, result.encoder_value is not None, new_values)

        (_, pull_back, aux) = jax.vjp(losses, trainable, has_aux=True)
        loss, metrics, split, non_trainable = aux
        one, zero = np.float32(1.0), np.float32(0.0)
        gradients = pull_back((one, zero))[0]
        if split:
            encoder_gradients = pull_back((zero, one))[0]
            inference = self._inference_variable_ids()
            gradients = [e if id(v) in inference else g
                         for v, g, e in zip(self.trainable_variables, gradients, encoder_gradients)]
        trainable, optimizer_values = self.optimizer.stateless_apply(optimizer_values, gradients, trainable)
        logs, metric_values = self._stateless_record(metric_values, loss, metrics)
        return logs, (trainable, non_trainable, optimizer_values, metric_values)

    def _stateless_record(self, metric_values, loss, metrics):
        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, metric_values))) as scope:
            logs = self._record(loss, metrics)
        return logs, [scope.get_current_value(v) for v in self.metrics_variables]

    def test_step(self, state, data):
        trainable, non_trainable, metric_values = state
        result, non_trainable = self._with_values(trainable, non_trainable, lambda: self._loss(*self._split(data)))
        logs, metric_values = self._stateless_record(metric_values, result.value, result.metrics)
        return logs, (trainable, non_trainable, metric_values)

    def predict_step(self, state, data):
        return self._with_values(*state, lambda: self._predict_batch(data))

    def _with_values(self, trainable, non_trainable, fn):
        """fn() with the model's variables at these values; its result and the
        non-trainable values it leaves (the seed generator's state)."""
        mapping = [*zip(self.trainable_variables, trainable), *zip(self.non_trainable_variables, non_trainable)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            result = fn()
        return result, [scope.get_current_value(v) for v in self.non_trainable_variables]

    def compile(self, optimizer="adam", steps_per_execution=32, jit_compile="auto", jit_update=None, **kwargs):
        """Keras's `compile`. `jit_compile` "auto" (the default) and True compile
        the steps with `jax.jit`; `steps_per_execution` (default 32) is how many
        steps run between calls of the batch-level callbacks. `jit_update`
        exists for the TensorFlow backend, whose optimizer step it compiles
        alone: under JAX the optimizer is inside the compiled step."""
        self.jit_auto = jit_compile == "auto"
        super().compile(optimizer=optimizer, steps_per_execution=steps_per_execution,
                        jit_compile=True if self.jit_auto else jit_compile, **kwargs)
        self.jit_update = False

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and self.jit_auto:
            config["jit_compile"] = "auto"
        return config

    def _graph_function(self, key, fn, jit_compile=None):
        """One `jax.jit` of `fn` per key: a pure function of the model's
        variables, whose assignments (the seed generator's state) are written back."""
        if key not in self._graph_functions:
            self._graph_functions[key] = StatelessFunction(self, fn)
        return self._graph_functions[key]

    def _step_outputs(self, results):
        return results


class StatelessFunction:
    """`fn(*args)`, reading the model's variables, compiled by `jax.jit` as a
    pure function of their values; the values it assigns are written back
    after each call."""

    def __init__(self, model, fn):
        self.variables = list(model.variables)

        def pure(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(self.variables, values))) as scope:
                outputs = fn(*args)
            changed = {i: scope.get_current_value(v) for i, v in enumerate(self.variables)
                       if scope.get_current_value(v) is not values[i]}
            return outputs, changed

        self.compiled = jax.jit(pure)

    def __call__(self, *args):
        outputs, changed = self.compiled([v.value for v in self.variables], *args)
        for i, value in changed.items():
            self.variables[i].assign(value)
        return outputs
