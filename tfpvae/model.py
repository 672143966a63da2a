"""The variational autoencoder as a Keras model."""

import math

import keras
import numpy as np
import tensorflow as tf

from tfpvae import checks, conditioning, networks, objectives
from tfpvae.data import batching
from tfpvae.metrics import Means
from tfpvae.layers import Likelihood, Posterior, Prior


@keras.saving.register_keras_serializable(package="tfpvae")
class VAE(keras.Model):
    """Auto-Encoding Variational Bayes (Kingma & Welling, arXiv:1312.6114).

    x ~ p(x|z), z ~ p(z), with the approximate posterior q(z|x). Training
    maximizes the ELBO, E_q[log p(x|z)] - KL(q(z|x) || p(z)), averaged over
    `num_samples` reparameterized draws z ~ q(z|x); the loss is its negative,
    averaged over the batch and summed over the dimensions of x.

    Args:
      event_shape: shape of one x, e.g. (28, 28, 1).
      latent_dim: size of z.
      prior: prior family spec (`tfpvae.families.names()["prior"]`).
      posterior: posterior family spec.
      likelihood: likelihood family spec.
      encoder: a network spec ("mlp", "conv", or a dict) or a Keras layer
        mapping x to features.
      decoder: the same, mapping z to features.
      kl: "auto" (analytic when TFP registers KL(q || p), else Monte Carlo),
        "analytic" or "mc".
      num_samples: L, draws of z per example in the ELBO (k in the IWAE bound).
      objective: "elbo", or "iwae", the importance-weighted bound
        log 1/L sum_l p(x, z_l) / q(z_l|x) (Burda et al., arXiv:1509.00519).
      beta: weight of the KL term (beta-VAE, Higgins et al. 2017); a
        `tfpvae.callbacks.KLWarmup` ramps it from 0.
      free_bits: nats per latent dimension below which the KL is not
        penalized (Kingma et al., arXiv:1606.04934); 0 turns it off.
      context_dim: 0 for a VAE of x alone; C > 0 for a conditional VAE with
        q(z|x, c) and p(x|z, c), c integer labels [N] in [0, C) (one-hot
        encoded) or features [N, C]; see `tfpvae.conditioning`. Data is then
        (x, c): `fit((x, c))`, `elbo((x, c))`, `sample(n, c=...)`.
      seed: seed of the model's own random draws (None: from Keras's global
        seed, see `keras.utils.set_random_seed`).

    Example:
      >>> vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2)
      >>> vae.compile(optimizer="adam")
      >>> vae.fit(x_train, epochs=10, validation_data=x_val)
      >>> vae.elbo(x_val)   # per-example ELBO, numpy [N]
    """

    def __init__(self, event_shape, latent_dim, prior="normal", posterior="normal",
                 likelihood="bernoulli", encoder="mlp", decoder="mlp", kl="auto",
                 num_samples=1, objective="elbo", beta=1.0, free_bits=0.0, context_dim=0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.objective, self.beta, self.free_bits = checks.objective(objective, beta, free_bits)
        self.event_shape = checks.shape_tuple(event_shape, "event_shape")
        self.latent_dim = checks.positive_int(latent_dim, "latent_dim")
        self.num_samples = checks.positive_int(num_samples, "num_samples")
        self.seed = checks.seed(seed)
        self.context_dim = checks.non_negative_int(context_dim, "context_dim")
        self.encoder_net = networks.build(deserialize(encoder), "encoder", self.event_shape, latent_dim)
        self.decoder_net = networks.build(deserialize(decoder), "decoder", self.event_shape, latent_dim)
        self.encoder_spec, self.decoder_spec = serialize(encoder), serialize(decoder)
        self.posterior_layer = Posterior(posterior, latent_dim, name="posterior")
        self.likelihood_layer = Likelihood(likelihood, self.event_shape, name="likelihood")
        self.prior_layer = Prior(prior, latent_dim, data_shape=self.event_shape, name="prior")
        if self.context_dim and self.prior_layer.needs_encoder:
            raise ValueError(f"prior {self.prior_layer.family.name!r} encodes pseudo-inputs without a "
                             f"context, so it cannot be used with context_dim={self.context_dim}")
        self.flat_context = len(self.event_shape) == 1 or networks.is_mlp(encoder)
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.kl_weight = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.beta),
                                         trainable=False, name="kl_weight")
        names = ("loss", "elbo", "reconstruction", "kl") + (("iwae",) if self.objective == "iwae" else ())
        self.means = Means(names)
        self.kl = kl
        self.kl_form = objectives.kl_form(self.build_parts(), self.prior(), kl)
        self.graph_functions, self.jit_update = {}, False

    def build_parts(self):
        """Builds every weight by running one x through; returns that q(z|x)."""
        c = tf.zeros((1, self.context_dim)) if self.context_dim else None
        q = self.posterior_of(tf.zeros((1, *self.event_shape)), c)
        self.likelihood_of(tf.zeros((1, self.latent_dim)), c)
        self.built = True
        return q

    # --- the model's distributions -------------------------------------------

    def prior(self):
        """p(z), a `tfd.Distribution` over R^latent_dim."""
        return self.prior_layer(encode=self.posterior_of)

    def encode(self, x, c=None, training=False):
        """q(z|x) (q(z|x, c) for a conditional VAE), a `tfd.Distribution` with batch shape [B]."""
        x = self.checked_x(x)
        return self.posterior_of(tf.cast(x, tf.float32), self.context_of(c, x.shape[0]), training=training)

    def posterior_of(self, x, c=None, training=False):
        """q(z|x, c) for a float32 tensor x and context features c (or None), unchecked."""
        inputs = x if c is None else conditioning.joined_x(x, c, self.flat_context)
        return self.posterior_layer(self.encoder_net(inputs, training=training))

    def decode(self, z, c=None, training=False):
        """p(x|z) (p(x|z, c)) for z of shape [..., latent_dim]; batch shape z.shape[:-1]."""
        z = tf.convert_to_tensor(z, tf.float32)
        n = z.shape[-2] if z.shape.rank and z.shape.rank > 1 else None
        return self.likelihood_of(z, self.context_of(c, n), training=training)

    def likelihood_of(self, z, c=None, training=False):
        """p(x|z, c) for z [..., latent_dim] and context features c [B, C] (or None),
        unchecked; c is shared by the draws of z of its example."""
        z = tf.convert_to_tensor(z, tf.float32)
        batch_shape = tf.shape(z)[:-1]
        inputs = tf.reshape(z, [-1, self.latent_dim])
        if c is not None:
            c = tf.reshape(conditioning.broadcast(c, batch_shape), [-1, self.context_dim])
            inputs = conditioning.joined_z(inputs, c)
        features = self.decoder_net(inputs, training=training)
        return self.likelihood_layer(features, batch_shape=batch_shape)

    def context_of(self, c, n, what="c"):
        """Context features [n, context_dim] from labels or features, checked
        (unless c is symbolic or n unknown); None for a VAE without a context."""
        if not self.context_dim:
            if c is not None:
                raise ValueError(f"this VAE has no context (context_dim=0); received {what}")
            return None
        if c is None:
            raise ValueError(f"this VAE is conditional (context_dim={self.context_dim}): pass {what}, "
                             f"integer labels [N] or features [N, {self.context_dim}]")
        if not checks.symbolic(c) and n is not None:
            c = conditioning.check(c, self.context_dim, n, what)
        return conditioning.features(c, self.context_dim)

    def split(self, data):
        """(x as float32, context features or None) of a checked batch x or (x, c, ...)."""
        x = tf.cast(checks.first_of(data), tf.float32)
        if not self.context_dim:
            return x, None
        return x, conditioning.features(data[1], self.context_dim)

    def call(self, inputs, training=False):
        """The reconstruction mean E[x | z = E_q[z]], what `predict` returns;
        `inputs` is x, or (x, c) for a conditional VAE."""
        x, c = (inputs[0], inputs[1]) if self.context_dim and isinstance(inputs, (tuple, list)) else (inputs, None)
        x = self.checked_x(x)
        return self.reconstruction_of(tf.cast(x, tf.float32), self.context_of(c, x.shape[0]), training)

    def reconstruction_of(self, x, c=None, training=False):
        """E[x | z = E_q[z]] for float32 x and context features c (or None), unchecked."""
        return self.likelihood_of(center(self.posterior_of(x, c, training=training)), c, training=training).mean()

    def parts(self, x, c=None, training=False):
        """q(z|x, c) and the map z -> p(x|z, c) that the objectives take, for
        float32 x and context features c (or None), unchecked."""
        return self.posterior_of(x, c, training=training), lambda z: self.likelihood_of(z, c, training=training)

    def next_seed(self):
        """A fresh stateless seed for TFP's samplers (int32 pair).

        Under a `tf.distribute` strategy each replica folds in its index, so
        replicas draw different z for their different examples.
        """
        seed = tf.cast(self.seed_generator.next(), tf.int32)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            seed = tf.random.experimental.stateless_fold_in(seed, context.replica_id_in_sync_group)
        return seed

    def elbo_terms(self, x, c=None, num_samples=None):
        """Per-example E_q[log p(x|z)] and KL(q(z|x) || p(z)), each [B], for
        float32 x and context features c (or None)."""
        q, decode = self.parts(x, c)
        return objectives.elbo_terms(q, self.prior(), decode, x, num_samples or self.num_samples,
                                     self.kl_form, self.next_seed())

    # --- training ----------------------------------------------------------------

    @property
    def metrics(self):
        return [self.means]

    def loss_and_metrics(self, x, c=None, training=False):
        """The training loss (a scalar) and per-example metrics, each [B]."""
        (q, decode), prior, seed = self.parts(x, c, training), self.prior(), self.next_seed()
        if self.objective == "iwae":
            log_px_z, log_ratio = objectives.log_weight_parts(q, prior, decode, x, self.num_samples, seed)
            bound = objectives.iwae_bound(log_px_z - self.kl_weight * log_ratio)
            reconstruction, kl = tf.reduce_mean(log_px_z, 0), tf.reduce_mean(log_ratio, 0)
            metrics = {"iwae": objectives.iwae_bound(log_px_z - log_ratio)}
            loss = -tf.reduce_mean(bound)
        else:
            reconstruction, kl_groups = objectives.elbo_parts(q, prior, decode, x, self.num_samples,
                                                              self.kl_form, seed)
            kl = tf.reduce_sum(kl_groups, axis=-1)
            kl_term = tf.reduce_mean(kl)
            if self.free_bits:
                kl_term = objectives.free_bits_kl(kl_groups, self.free_bits, self.latent_dim)
            loss, metrics = self.kl_weight * kl_term - tf.reduce_mean(reconstruction), {}
        metrics.update(elbo=reconstruction - kl, reconstruction=reconstruction, kl=kl)
        return loss, metrics

    def record(self, loss, metrics):
        batch = {"loss": loss, **{name: tf.reduce_mean(value) for name, value in metrics.items()}}
        self.means.update_state(batch, tf.shape(metrics["kl"])[0])
        results = self.means.result()
        if multi_worker():
            # Keras reduces step outputs across workers with a mean along axis 0,
            # which scalars lack; the metric values are already global.
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results

    def train_step(self, data):
        x, c = self.split(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            loss, metrics = self.loss_and_metrics(x, c, training=True)
            if self.losses:
                loss += tf.add_n(self.losses)
            scaled = self.optimizer.scale_loss(loss / replicas)
        self.apply_update(tape.gradient(scaled, self.trainable_variables))
        return self.record(loss, metrics)

    def apply_update(self, gradients):
        """The optimizer's step, compiled by XLA as one piece where `compile`
        asked for it (`jit_update`), else as Keras runs it."""
        if self.jit_update and not tf.distribute.has_strategy():
            return self.graph_function("jit_update", self.optimizer_step, jit_compile=True)(gradients)
        return self.optimizer_step(gradients)

    def optimizer_step(self, gradients):
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))

    def test_step(self, data):
        return self.record(*self.loss_and_metrics(*self.split(data)))

    def predict_step(self, data):
        if isinstance(data, tuple) and isinstance(data[0], (tuple, list)):
            data = tuple(data[0])  # arrays (x, c) arrive as the one input ([x, c],)
        return self.reconstruction_of(*self.split(data))

    def compile(self, optimizer="adam", steps_per_execution=None, jit_compile="auto", jit_update=None,
                **kwargs):
        """Keras's `compile`, with defaults that make `fit` fast.

        `steps_per_execution` defaults to 32: 32 training steps per call into
        the compiled graph, which removes most per-step Python overhead
        (batch-level callbacks then run once per 32 steps). Inside a
        `tf.distribute` strategy's scope it defaults to 1: Keras 3.15's
        multi-step loop fails under MirroredStrategy ("You must feed a value
        for placeholder tensor").

        `jit_compile="auto"` compiles each step with XLA, on a CPU as on a GPU,
        whenever every family and layer supports it (`low_rank` does not),
        outside `tf.distribute` and with op determinism off. Keras's own "auto"
        leaves XLA off on machines without a GPU; for a VAE's step, XLA fuses
        the elementwise work of the activations, the sampler, the log-densities
        and the optimizer: on 2 CPU cores the benchmark model's step took
        2.1 ms instead of 3.7 ms at batch 100 (benchmarks/RESULTS.md).

        `jit_update`, used when the whole step is not XLA-compiled, compiles the
        optimizer's step alone with XLA: Keras 3 runs an optimizer as about 20
        small ops per variable, which XLA fuses into a few loops. It defaults to
        True when no `tf.distribute` strategy is in use (its update step
        synchronizes replicas, which XLA cannot hold).
        """
        if steps_per_execution is None:
            steps_per_execution = 1 if tf.distribute.has_strategy() else 32
        if jit_compile == "auto":
            jit_compile = not kwargs.get("run_eagerly") and xla_compiles(self)
        super().compile(optimizer=optimizer, steps_per_execution=steps_per_execution,
                        jit_compile=jit_compile, **kwargs)
        if jit_update is None:
            jit_update = not self.jit_compile and not tf.distribute.has_strategy()
        self.jit_update = bool(jit_update)
        self.graph_functions.pop("jit_update", None)

    def compile_from_config(self, config):
        """Compiles a loaded model as it was saved, optimizer state included."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def checked(self, data, what="x"):
        """Data x or (x, c, ...) checked against the model: arrays fully, a
        dataset by its element spec; a conditional VAE's c included."""
        data = checks.check_x(data, self.event_shape, self.likelihood_layer.family, what)
        if not self.context_dim:
            return data
        x = checks.first_of(data)
        if isinstance(x, tf.data.Dataset):
            spec = x.element_spec
            if not isinstance(spec, tuple) or len(spec) < 2:
                raise ValueError(f"{self.needs_context(what)}; the dataset yields {spec}")
            conditioning.check_spec(spec[1], self.context_dim, f"the c of {what}")
            return data
        if not isinstance(data, tuple) or len(data) < 2:
            raise ValueError(self.needs_context(what))
        if checks.symbolic(x):
            return data
        c = conditioning.check(data[1], self.context_dim, len(x), f"the c of {what}")
        return (x, c, *data[2:])

    def needs_context(self, what):
        return (f"this VAE is conditional (context_dim={self.context_dim}): {what} must be (x, c), "
                f"c integer labels [N] or features [N, {self.context_dim}]")

    def checked_x(self, x, what="x"):
        """x alone out of x or (x, y, ...), checked."""
        return checks.first_of(checks.check_x(x, self.event_shape, self.likelihood_layer.family, what))

    def arrays(self, data, what="x"):
        """(x, c or None) of checked arrays x or (x, c)."""
        data = self.checked(data, what)
        return checks.first_of(data), data[1] if self.context_dim else None

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        data = self.checked(joined(x, y))
        if not args and fed_in_memory(data, kwargs, conditional=bool(self.context_dim)):
            data, kwargs = in_memory_feed(data, **kwargs)
        x, y = unpacked(data, None)
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)  # a dataset is shuffled by its own pipeline
        if validation_data is not None:
            validation_data = self.checked(validation_data, "validation_data")
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(*unpacked(self.checked(joined(x, y)), None), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        data = self.checked(x)
        if not self.context_dim:
            data = checks.first_of(data)
        return super().predict(data[:2] if isinstance(data, tuple) else data, *args, **kwargs)

    # --- evaluation over whole arrays -------------------------------------------

    def graph_function(self, key, fn, jit_compile=None):
        """One `tf.function` per key, traced once and reused."""
        if key not in self.graph_functions:
            self.graph_functions[key] = tf.function(fn, jit_compile=jit_compile)
        return self.graph_functions[key]

    def elbo(self, x, num_samples=None, batch_size=256):
        """Per-example ELBO, numpy [N], computed in batches; x is x or (x, c)."""
        x, c = self.arrays(x)
        num_samples = checks.positive_int(self.num_samples if num_samples is None else num_samples,
                                          "num_samples")
        batch_size = checks.positive_int(batch_size, "batch_size")
        step = self.graph_function(("elbo", num_samples), lambda xb, cb: tf.subtract(
            *self.elbo_terms(xb, self.features(cb), num_samples=num_samples)))
        return np.concatenate([step(*batch).numpy() for batch in batches(x, c, batch_size)])

    def features(self, c):
        """Context features of checked labels or features c; None stays None."""
        return None if c is None else conditioning.features(c, self.context_dim)

    def log_likelihood(self, x, num_samples=1000, batch_size=100, chunk_size=None,
                       return_stderr=False):
        """Importance-sampled log p(x) = log (1/k) sum_i p(x, z_i) / q(z_i|x).

        The k samples are drawn in chunks of `chunk_size` (default: what keeps a
        chunk's decoded x near 32M floats), so large k fits in memory.

        Args:
          x: x, or (x, c) for a conditional VAE.

        Returns:
          numpy [N]; with `return_stderr`, also the delta-method standard error
          of each estimate.
        """
        x, c = self.arrays(x)
        k = checks.positive_int(num_samples, "num_samples")
        batch_size = checks.positive_int(batch_size, "batch_size")
        chunk = int(objectives.chunk_size(batch_size, math.prod(self.event_shape)))
        if chunk_size is not None:
            chunk = checks.positive_int(chunk_size, "chunk_size")
        step = self.graph_function("log_weight_sums", self.log_weight_sums)
        estimates, errors = [], []
        for xb, cb in batches(x, c, batch_size):
            lse, lse2 = step(xb, cb, tf.constant(k), tf.constant(chunk))
            estimates.append((lse - math.log(k)).numpy())
            errors.append(objectives.standard_error(lse, lse2, k).numpy())
        estimates = np.concatenate(estimates)
        return (estimates, np.concatenate(errors)) if return_stderr else estimates

    def log_weight_sums(self, x, c, k, chunk):
        """log sum_i w_i and log sum_i w_i^2 over k draws, `chunk` at a time."""
        q, decode = self.parts(x, self.features(c))
        return objectives.log_weight_sums(q, self.prior(), decode, x, k, chunk, self.next_seed())

    def active_units(self, x, threshold=0.01, batch_size=256):
        """Burda et al.'s active units: dimensions u with Cov_x(E_q[z_u]) > threshold.

        Returns:
          (count, the per-dimension variances of the posterior means).
        """
        x, c = self.arrays(x)
        batch_size = checks.positive_int(batch_size, "batch_size")
        step = self.graph_function("center", lambda xb, cb: center(self.posterior_of(xb, self.features(cb))))
        means = np.concatenate([step(*batch).numpy() for batch in batches(x, c, batch_size)])
        variance = means.var(axis=0)
        return int(np.sum(variance > threshold)), variance

    def sample(self, num_samples, seed=None, mean=False, c=None, chunk_size=None):
        """New x: z ~ p(z), then x ~ p(x|z) (or its mean), numpy [n, *event_shape].

        A conditional VAE draws from p(x|z, c): c is one label for all n
        samples, labels [n] or features [n, context_dim].

        The draws are made `chunk_size` at a time (default: what keeps a
        chunk's x near `objectives.FLOATS_PER_CHUNK` floats, 128 MiB), into
        the returned array, so memory beyond it stays bounded for any n. The
        first chunk uses the seed itself and the chunk starting at i > 0 the
        seed folded with i; n within one chunk draws what the exported
        `sample` signature draws with the same seed.
        """
        n = checks.positive_int(num_samples, "num_samples")
        seed = checks.seed(seed)
        if c is not None and np.ndim(c) == 0:
            c = np.full(n, c)
        c = self.context_of(c, n)
        size = math.prod(self.event_shape)
        chunk = int(objectives.chunk_size(1, size)) if chunk_size is None else checks.positive_int(
            chunk_size, "chunk_size")
        base = self.next_seed() if seed is None else tf.constant([0, seed], tf.int32)
        x = np.empty((n, *self.event_shape), np.float32)
        for start in range(0, n, chunk):
            count = min(chunk, n - start)
            part_seed = base if start == 0 else tf.random.experimental.stateless_fold_in(base, start)
            part_c = None if c is None else c[start:start + count]
            x[start:start + count] = self.sample_chunk(count, part_seed, mean, part_c)
        return x

    def sample_chunk(self, n, seed, mean, c):
        """n draws (or means) of x with one stateless seed pair, a tensor."""
        px, likelihood_seed = self.generate(n, seed, c)
        return px.mean() if mean else px.sample(seed=likelihood_seed)

    def generate(self, n, seed, c=None):
        """p(x|z, c) at n draws z ~ p(z), and the seed left for drawing x.

        z comes from the prior family's `draw`: for a relaxed categorical prior,
        the discrete codes its relaxation stands for.

        The stateless seed pair splits in two: the first draws z, the second
        is returned; `sample` and the exported `sample` signature both use it.
        """
        prior_seed, likelihood_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        z = self.prior_layer.family.draw(self.prior(), n, prior_seed)
        return self.likelihood_of(z, c), likelihood_seed

    def export(self, path, **kwargs):
        """Writes a TF SavedModel with named signatures; see `tfpvae.export.export`."""
        from tfpvae.export import export

        return export(self, path, **kwargs)

    # --- configuration ------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update({
            "event_shape": list(self.event_shape),
            "latent_dim": self.latent_dim,
            "prior": self.prior_layer.family.get_config(),
            "posterior": self.posterior_layer.family.get_config(),
            "likelihood": self.likelihood_layer.family.get_config(),
            "encoder": self.encoder_spec,
            "decoder": self.decoder_spec,
            "kl": self.kl,
            "num_samples": self.num_samples,
            "objective": self.objective,
            "beta": self.beta,
            "free_bits": self.free_bits,
            "context_dim": self.context_dim,
            "seed": self.seed,
        })
        return config


def unpacked(data, y):
    """(x, y) for Keras from checked data that may be an (x, y, ...) tuple."""
    if isinstance(data, tuple):
        x, data_y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return x, data_y if y is None else y
    return data, y


KERAS_ARRAY_OPTIONS = ("sample_weight", "class_weight", "validation_split", "steps_per_epoch")


def fed_in_memory(data, kwargs, conditional=False):
    """Whether `fit` feeds arrays through `in_memory_feed`: a numpy array x, or
    (x, c) for a conditional VAE, outside `tf.distribute`, with none of the
    options that only Keras's array handling knows (`KERAS_ARRAY_OPTIONS`,
    `shuffle="batch"`). Anything else, an unused y included (Keras checks its
    length), stays with Keras."""
    arrays = data if isinstance(data, tuple) else (data,)
    return (len(arrays) == (2 if conditional else 1) and all(isinstance(a, np.ndarray) for a in arrays)
            and kwargs.get("shuffle", True) in (True, False)
            and not any(kwargs.get(option) is not None for option in KERAS_ARRAY_OPTIONS)
            and not tf.distribute.has_strategy())


def in_memory_feed(arrays, batch_size=None, shuffle=True, **kwargs):
    """`fit`'s data and keyword arguments for in-memory arrays: a
    `batching.batched` pipeline, in which each step gathers one batch of rows.
    Epochs hold the batches Keras's own array handling would give: every
    example once, reshuffled each epoch, the last batch the remainder."""
    batch_size = batch_size or 32
    if kwargs.get("validation_batch_size") is None:
        kwargs["validation_batch_size"] = batch_size
    seed = int(np.random.randint(2**31 - 1))  # reproducible under keras.utils.set_random_seed
    dataset = batching.batched(arrays, batch_size, shuffle=shuffle, seed=seed)
    return dataset.prefetch(batching.PREFETCH), kwargs


def joined(x, y):
    """Keras's (x, y) arguments as one data argument: x, or (x, y, ...) when y is given."""
    if y is None:
        return x
    if isinstance(x, tf.data.Dataset):
        raise ValueError("y must be None when x is a tf.data.Dataset: the dataset yields (x, c) itself")
    return (x[0], y, *x[2:]) if isinstance(x, tuple) else (x, y)


def batches(x, c, size):
    """(x, c) in batches of `size` examples; c may be None."""
    for i in range(0, len(x), size):
        yield x[i:i + size], None if c is None else c[i:i + size]


def xla_compiles(model):
    """Whether XLA can compile the model's steps: every layer supports it, no
    `tf.distribute` strategy is in use and op determinism is off."""
    return (all(layer.supports_jit for layer in model._flatten_layers())
            and not tf.distribute.has_strategy() and not op_determinism())


def op_determinism():
    """Whether `tf.config.experimental.enable_op_determinism()` is on (Keras
    reads the same private flag to keep XLA off then)."""
    from tensorflow.python.framework.config import is_op_determinism_enabled

    return is_op_determinism_enabled()


def multi_worker():
    """True inside a MultiWorkerMirroredStrategy spanning several workers."""
    strategy = tf.distribute.get_strategy()
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())


def center(q):
    """E_q[z] where TFP computes it; for a flow, the flow of its base mean."""
    try:
        return q.mean()
    except NotImplementedError:
        return q.bijector.forward(q.distribution.mean())


def serialize(network):
    """A network spec as JSON-able data: a Keras layer becomes its serialized config."""
    if isinstance(network, keras.layers.Layer):
        return keras.saving.serialize_keras_object(network)
    return network


def deserialize(network):
    """The inverse of `serialize`."""
    if isinstance(network, dict) and "class_name" in network:
        return keras.saving.deserialize_keras_object(network)
    return network
