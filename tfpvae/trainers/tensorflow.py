"""The VAE's training on the TensorFlow backend: a `tf.GradientTape` step,
the optimizer's step compiled by XLA, the XLA loop (`tfpvae.training_loop`),
`tf.distribute` replicas, and `tf.function` for evaluation."""

import tensorflow as tf

from tfpvae import backend, compat, training_loop


class Trainer(training_loop.XLATraining):
    """The TensorFlow half of `tfpvae.VAE`: what its training needs from TensorFlow."""

    def next_seed(self):
        """A fresh stateless seed for TFP's samplers (int32 pair).

        Under a `tf.distribute` strategy each replica folds in its index, so
        replicas draw different z for their different examples.
        """
        seed = backend.next_seed(self.seed_generator)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            seed = tf.random.experimental.stateless_fold_in(seed, context.replica_id_in_sync_group)
        return seed

    def train_step(self, data):
        x, c = self._split(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape(persistent=True) as tape:
            result = self._loss(x, c, training=True)
            penalty = tf.add_n(self.losses) if self.losses else 0.0
            loss = result.value + penalty
            scaled = self.optimizer.scale_loss(loss / replicas)
            if result.encoder_value is not None:
                encoder_scaled = self.optimizer.scale_loss((result.encoder_value + penalty) / replicas)
        if result.encoder_value is None:
            gradients = tape.gradient(scaled, self.trainable_variables)
        else:
            gradients = self._split_gradients(tape, scaled, encoder_scaled)
        del tape
        self._apply_update(gradients)
        self.objective.update(result)
        return self._record(loss, result.metrics)

    def _split_gradients(self, tape, loss, encoder_loss):
        """Gradients of `encoder_loss` for the inference network's weights (the
        encoder's and the posterior's) and of `loss` for every other weight."""
        inference = self._inference_variable_ids()
        variables = self.trainable_variables
        is_inference = [id(v) in inference for v in variables]
        encoder = tape.gradient(encoder_loss, [v for v, i in zip(variables, is_inference) if i])
        rest = tape.gradient(loss, [v for v, i in zip(variables, is_inference) if not i])
        encoder, rest = iter(encoder), iter(rest)
        return [next(encoder) if i else next(rest) for i in is_inference]

    def _apply_update(self, gradients):
        """The optimizer's step, compiled by XLA as one piece where `compile`
        asked for it (`jit_update`), else as Keras runs it."""
        if self.jit_update and not tf.distribute.has_strategy():
            return self._graph_function("jit_update", self._optimizer_step, jit_compile=True)(gradients)
        return self._optimizer_step(gradients)

    def _optimizer_step(self, gradients):
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))

    def compile(self, optimizer="adam", steps_per_execution=None, jit_compile="auto", jit_update=None,
                **kwargs):
        """Keras's `compile`, with defaults that make `fit` fast.

        `steps_per_execution` defaults to 32: 32 training steps per call into
        the compiled graph, which removes most per-step Python overhead
        (batch-level callbacks then run once per 32 steps). Inside a
        `tf.distribute` strategy's scope it defaults to 1: Keras 3.15's
        multi-step loop fails under MirroredStrategy ("You must feed a value
        for placeholder tensor").

        `jit_compile=True` compiles the whole training step with XLA, on a CPU
        as on a GPU, and runs each execution's steps as one XLA loop
        (`tfpvae.training_loop`); for a VAE's step, XLA fuses the elementwise
        work of the activations, the sampler, the log-densities and the
        optimizer (docs/results/throughput.md measures it). `jit_compile="auto"`
        does so for each `fit` that plans at least
        `training_loop.XLA_MIN_STEPS` steps (epochs x steps per epoch), where
        the compile pays for itself, whenever Keras finds that every layer
        supports XLA (`low_rank` does not) and op determinism is off, outside
        `tf.distribute`. Keras's own "auto" leaves XLA off on machines without
        a GPU.

        `jit_update`, used when the whole step is not XLA-compiled, compiles the
        optimizer's step alone with XLA: Keras 3 runs an optimizer as about 20
        small ops per variable, which XLA fuses into a few loops. It defaults to
        True when the whole step is not XLA-compiled, "auto" is not in use
        (a `fit` too short for whole-step XLA is also too short to repay this
        smaller compile), and no `tf.distribute` strategy is in use (its
        update step synchronizes replicas, which XLA cannot hold).
        """
        if steps_per_execution is None:
            steps_per_execution = 1 if tf.distribute.has_strategy() else 32
        auto = jit_compile == "auto"
        if auto:
            jit_compile = (not kwargs.get("run_eagerly") and not tf.distribute.has_strategy()
                           and compat.model_supports_jit(self))
        self.jit_auto = auto and jit_compile
        super().compile(optimizer=optimizer, steps_per_execution=steps_per_execution,
                        jit_compile=jit_compile and not auto, **kwargs)
        if jit_update is None:
            jit_update = not self.jit_compile and not self.jit_auto and not tf.distribute.has_strategy()
        self.jit_update = bool(jit_update)
        self._graph_functions.pop("jit_update", None)

    def _graph_function(self, key, fn, jit_compile=None):
        """One `tf.function` per key, traced once and reused."""
        if key not in self._graph_functions:
            self._graph_functions[key] = tf.function(fn, jit_compile=jit_compile)
        return self._graph_functions[key]

    def test_step(self, data):
        result = self._loss(*self._split(data))
        return self._record(result.value, result.metrics)

    def predict_step(self, data):
        return self._predict_batch(data)

    def _step_outputs(self, results):
        """The metric values a step returns to Keras."""
        if compat.multi_worker(tf.distribute.get_strategy()):
            # Keras reduces step outputs across workers with a mean along axis 0,
            # which scalars lack; the metric values are already global.
            return {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results
