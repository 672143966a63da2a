"""The variational autoencoder as a Keras model."""

import math

import keras
import numpy as np

from tfpvae import backend, checks, conditioning, evaluation, objectives, samplers, saved_model, trainers
from tfpvae.backend import ps, tf
from tfpvae.data import feeding
from tfpvae.metrics import Means
from tfpvae.objectives import bounds
from tfpvae.stack import Stack

# How many of the first examples given to `fit` set where p(x|z) starts (`VAE.initialize_from_data`).
MARGINAL_EXAMPLES = 10000


@keras.saving.register_keras_serializable(package="tfpvae")
class VAE(trainers.Trainer, keras.Model):
    """Auto-Encoding Variational Bayes (Kingma & Welling, arXiv:1312.6114).

    x ~ p(x|z), z ~ p(z), with the approximate posterior q(z|x). Training
    maximizes the ELBO, E_q[log p(x|z)] - KL(q(z|x) || p(z)), averaged over
    `num_samples` reparameterized draws z ~ q(z|x); the loss is its negative,
    averaged over the batch and summed over the dimensions of x. Another
    objective (`tfpvae.objectives.names()`) is chosen by name or spec.

    Args:
      event_shape: shape of one x, e.g. (28, 28, 1).
      latent_dim: size of z; or a list [d_1, ..., d_L] for a stack of L
        stochastic layers, z_1 next to x (see `tfpvae.stack`):
        q(z|x) = q(z_1|x) prod_l q(z_l|z_{l-1}) and
        p(z) = p(z_L) prod_l p(z_l|z_{l+1}), each p(z_l|z_{l+1}) a diagonal
        Gaussian. z is then the levels concatenated, [..., d_1 + ... + d_L].
      prior: prior family spec (`tfpvae.families.names()["prior"]`), the top
        level's p(z_L) in a stack.
      posterior: posterior family spec; for a stack, one for every level or a
        list of one per level.
      likelihood: likelihood family spec.
      encoder: a network spec ("mlp", "conv", or a dict) or a Keras layer
        mapping x to features; for a stack, a list of one per level, the l-th
        mapping z_{l-1} (x for l = 1) to the features of q(z_l|.), or one
        spec for every level.
      decoder: the same, mapping z to features; for a stack, the l-th maps
        z_l to the features of p(z_{l-1}|z_l) (p(x|z_1) for l = 1).
      kl: "auto" (analytic when TFP registers KL(q || p), else Monte Carlo),
        "analytic" or "mc".
      num_samples: L, draws of z per example in the ELBO (k in the IWAE bound).
      objective: an objective spec: "elbo", "iwae" (Burda et al.,
        arXiv:1509.00519), "stl", "dreg", or e.g. {"name": "elbo", "beta": 4.0}.
      beta: weight of the KL term (beta-VAE, Higgins et al. 2017), the same as
        the objective's `beta` option; a `tfpvae.callbacks.KLWarmup` ramps it from 0.
      free_bits: the "elbo" objective's `free_bits` option: nats per latent
        dimension below which the KL is not penalized (Kingma et al.,
        arXiv:1606.04934); 0 turns it off.
      context_dim: 0 for a VAE of x alone; C > 0 for a conditional VAE with
        q(z|x, c) and p(x|z, c), c integer labels [N] in [0, C) (one-hot
        encoded) or features [N, C]; see `tfpvae.conditioning`. Data is then
        (x, c): `fit((x, c))`, `elbo((x, c))`, `sample(n, c=...)`.
      seed: seed of the model's own random draws (None: from Keras's global
        seed, see `keras.utils.set_random_seed`).
      inference: how a stack infers z, one of `tfpvae.stack.INFERENCE`:
        "bottom_up" (Burda et al.) or "ladder" (Sonderby et al.,
        arXiv:1602.02282, trained with `tfpvae.callbacks.KLWarmup`); see
        `tfpvae.stack.Stack`.

    Example:
      >>> vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2)
      >>> vae.compile(optimizer="adam")
      >>> vae.fit(x_train, epochs=10, validation_data=x_val)
      >>> vae.elbo(x_val)   # per-example ELBO, numpy [N]
      >>> two_level = tfpvae.VAE(event_shape=(784,), latent_dim=[100, 50],
      ...     encoder=[{"name": "mlp", "units": [100, 100]}, {"name": "mlp", "units": [50, 50]}],
      ...     decoder=[{"name": "mlp", "units": [100, 100]}, {"name": "mlp", "units": [50, 50]}])
    """

    def __init__(self, event_shape, latent_dim, prior="normal", posterior="normal",
                 likelihood="bernoulli", encoder="mlp", decoder="mlp", kl="auto",
                 num_samples=1, objective="elbo", beta=1.0, free_bits=0.0, context_dim=0, seed=None,
                 inference="bottom_up", **kwargs):
        super().__init__(**kwargs)
        self.objective = objectives.with_weights(objective, beta, free_bits)
        self.stack = Stack(event_shape, latent_dim, prior=prior, posterior=posterior, likelihood=likelihood,
                           encoder=encoder, decoder=decoder, kl=kl, context_dim=context_dim, inference=inference)
        for name, layers in self.stack.parts():
            # Tracked as the model's own, so its saved weights are named by these attributes.
            setattr(self, name, layers)
        self.num_samples = checks.positive_int(num_samples, "num_samples")
        self.seed = checks.seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.kl_weight = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.objective.beta),
                                         trainable=False, name="kl_weight")
        self.means = Means(("loss", "elbo", "reconstruction", "kl", *self.objective.metric_names))
        self.objective_layer = self.objective.own_layer(self.latent_size)
        self.kl_form = self.stack.kl_form(check=self.objective.check)
        self._graph_functions, self.jit_update = {}, False
        self.data_initialized = False
        self.build()

    @property
    def event_shape(self):
        """Shape of one x."""
        return self.stack.event_shape

    @property
    def latent_dim(self):
        """latent_dim as given: an int, or a list of one size per level."""
        return self.stack.latent_dim

    @property
    def latent_size(self):
        """Size of z: latent_dim, or the sum of a stack's levels."""
        return self.stack.latent_size

    @property
    def context_dim(self):
        """Size of the context features c; 0 for a VAE of x alone."""
        return self.stack.context_dim

    def build(self, input_shape=None):
        """Builds every weight (`Stack.build`); nothing runs."""
        self.stack.build()
        self.built = True

    # --- the model's distributions -------------------------------------------

    def prior(self, training=False):
        """p(z), a `tfd.Distribution` over R^latent_dim; for a stack, a
        `hierarchy.Chain` p(z_L) prod_l p(z_l|z_{l+1}) over the levels."""
        return self.stack.prior(training=training)

    def encode(self, x, c=None, training=False):
        """q(z|x) (q(z|x, c) for a conditional VAE, c labels [B] or features
        [B, C]), a `tfd.Distribution` with batch shape [B]; for a stack, a
        `hierarchy.Chain` over the levels (`.levels(z)` gives each level's
        distribution)."""
        x = self._checked_x(x)
        return self.stack.posterior(tf.cast(x, tf.float32), self._context(c, x.shape[0]), training=training)

    def decode(self, z, c=None, training=False):
        """p(x|z) (p(x|z, c)) for z of shape [..., latent_dim]; batch shape
        z.shape[:-1]. For a stack, z is z_1 or all levels [..., d_1 + ... + d_L]."""
        z = tf.convert_to_tensor(z, tf.float32)
        n = z.shape[-2] if len(z.shape) > 1 else None
        return self.stack.likelihood(z, self._context(c, n), training=training)

    def call(self, inputs, training=False):
        """The reconstruction mean E[x | z = E_q[z]], what `predict` returns;
        `inputs` is x, or (x, c) for a conditional VAE."""
        x, c = (inputs[0], inputs[1]) if self.context_dim and isinstance(inputs, (tuple, list)) else (inputs, None)
        x = self._checked_x(x)
        return evaluation.reconstruction(self, tf.cast(x, tf.float32), self._context(c, x.shape[0]))

    # --- training ----------------------------------------------------------------

    @property
    def metrics(self):
        return [self.means]

    def _loss(self, x, c=None, training=False):
        """The objective's `Loss` for float32 x and context features c (or None)."""
        return self.objective(objectives.Batch(
            q=self.stack.posterior(x, c, training=training), prior=self.stack.prior(training=training),
            decode=lambda z: self.stack.likelihood(z, c, training=training), x=x,
            num_samples=self.num_samples, kl_form=self.kl_form, seed=self.next_seed(),
            kl_weight=self.kl_weight, latent_dim=self.latent_size, step=self.optimizer.iterations))

    def _inference_variable_ids(self):
        """ids of the inference network's weights (the encoders' and the posteriors')."""
        return {id(v) for layer in self.stack.inference_layers() for v in layer.trainable_variables}

    def _record(self, loss, metrics):
        batch = {"loss": loss, **{name: tf.reduce_mean(value) for name, value in metrics.items()}}
        self.means.update_state(batch, ps.shape(metrics["kl"])[0])
        return self._step_outputs(self.means.result())

    def _predict_batch(self, data):
        """The reconstruction means of a batch x or (x, c), what `predict` returns."""
        if isinstance(data, tuple) and isinstance(data[0], (tuple, list)):
            data = tuple(data[0])  # arrays (x, c) arrive as the one input ([x, c],)
        return evaluation.reconstruction(self, *self._split(data))

    def compile_from_config(self, config):
        """Compiles a loaded model as it was saved, optimizer state included."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        data = self._checked(feeding.joined(x, y))
        if not self.data_initialized:
            examples = feeding.leading_examples(data, MARGINAL_EXAMPLES)
            if examples is not None:
                self.initialize_from_data(examples)
        data, kwargs = feeding.with_pipeline_check(data, kwargs)
        if not args and feeding.fed_in_memory(data, kwargs, conditional=bool(self.context_dim)):
            data, kwargs = feeding.in_memory(data, **kwargs)
        x, y = feeding.unpacked(data)
        if backend.is_dataset(x):
            kwargs.setdefault("shuffle", False)  # a dataset is shuffled by its own pipeline
        if validation_data is not None:
            validation_data = self._checked(validation_data, "validation_data")
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(*feeding.unpacked(self._checked(feeding.joined(x, y))), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        data = self._checked(x)
        if not self.context_dim:
            data = checks.first_of(data)
        return super().predict(data[:2] if isinstance(data, tuple) else data, *args, **kwargs)

    def initialize_from_data(self, x):
        """Starts p(x|z) at the data's marginal: the likelihood's output bias
        becomes the family's fit of each element of x over the examples
        (each pixel's log-odds for `bernoulli`, mean and standard deviation
        for `normal`, log mean for `poisson`; `Family.marginal_params`).

        The first `fit` of a new model does this with the first
        `MARGINAL_EXAMPLES` examples it is given; a model whose weights were
        loaded or set, or that was initialized once, is left as it is (set
        `data_initialized = True` to keep the default bias). Without it a
        decoder spends its first steps learning the pixels' means while the
        KL term pulls q(z|x) onto the prior, which in a stack of latent
        layers, whose conditional priors are learned, ends with z unused
        (docs/results/stack.md).

        Args:
          x: examples x (or (x, c)), numpy [N, *event_shape].
        """
        x = self._checked_x(x)
        self.stack.likelihood_layer.initialize_from(x)
        self.data_initialized = True

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self.data_initialized = True

    def set_weights(self, weights):
        super().set_weights(weights)
        self.data_initialized = True

    # --- evaluation over whole arrays -------------------------------------------

    def elbo(self, x, num_samples=None, batch_size=256):
        """Per-example ELBO, numpy [N], computed in batches; x is x or (x, c)."""
        x, c = self._arrays(x)
        num_samples = checks.positive_int(self.num_samples if num_samples is None else num_samples,
                                          "num_samples")
        batch_size = checks.positive_int(batch_size, "batch_size")
        step = self._graph_function(("elbo", num_samples), lambda xb, cb: tf.subtract(*evaluation.elbo_terms(
            self, xb, self._features(cb), num_samples, self.next_seed())))
        return evaluation.over_batches(step, x, c, batch_size)

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
        x, c = self._arrays(x)
        k = checks.positive_int(num_samples, "num_samples")
        batch_size = checks.positive_int(batch_size, "batch_size")
        chunk = evaluation.chunk_size(batch_size, math.prod(self.event_shape))
        if chunk_size is not None:
            chunk = checks.positive_int(chunk_size, "chunk_size")
        step = self._graph_function(("log_weight_sums", k, chunk), lambda xb, cb: evaluation.log_weight_sums(
            self, xb, self._features(cb), k, chunk, self.next_seed()))
        estimates, errors = [], []
        for xb, cb in evaluation.batches(x, c, batch_size):
            lse, lse2 = step(xb, cb)
            estimates.append(np.asarray(lse - math.log(k)))
            errors.append(np.asarray(bounds.standard_error(lse, lse2, k)))
        estimates = np.concatenate(estimates)
        return (estimates, np.concatenate(errors)) if return_stderr else estimates

    def posterior_means(self, x, batch_size=256):
        """E_q[z|x] of each example (`evaluation.center`), numpy [N, latent_size],
        computed in batches; x is x or (x, c)."""
        x, c = self._arrays(x)
        batch_size = checks.positive_int(batch_size, "batch_size")
        step = self._graph_function("center", lambda xb, cb: evaluation.center(
            self.stack.posterior(xb, self._features(cb))))
        return evaluation.over_batches(step, x, c, batch_size)

    def active_units(self, x, threshold=0.01, batch_size=256):
        """Burda et al.'s active units: dimensions u with Cov_x(E_q[z_u]) > threshold.

        Returns:
          (count, the per-dimension variances of the posterior means).
        """
        return evaluation.active_units(self.posterior_means(x, batch_size), threshold)

    def diagnostics(self, x, batch_size=256, seed=None):
        """The latent code's diagnostics over the examples x (x or (x, c)):
        per-dimension KL, I(x; z) and total correlation; see `evaluation.diagnostics`."""
        x, c = self._arrays(x)
        batch_size = checks.positive_int(batch_size, "batch_size")
        seed = self.next_seed() if checks.seed(seed) is None else backend.seed_pair(seed)
        return evaluation.diagnostics(self, x, self._features(c), batch_size, seed)

    def sample(self, num_samples, seed=None, mean=False, c=None, chunk_size=None, sampler=None):
        """New x: z ~ p(z), then x ~ p(x|z) (or its mean), numpy [n, *event_shape].

        `sampler`, a post-hoc sampler of this model (`tfpvae.samplers.fit`),
        draws z in place of p(z).

        A conditional VAE draws from p(x|z, c): c is one label for all n
        samples, labels [n] or features [n, context_dim].

        The draws are made `chunk_size` at a time (default: what keeps a
        chunk's x near `evaluation.FLOATS_PER_CHUNK` floats, 128 MiB), into
        the returned array, so memory beyond it stays bounded for any n. The
        first chunk uses the seed itself and the chunk starting at i > 0 the
        seed folded with i; n within one chunk draws what the exported
        `sample` signature draws with the same seed.
        """
        n = checks.positive_int(num_samples, "num_samples")
        seed = checks.seed(seed)
        if sampler is not None:
            samplers.check(sampler, self)
        if c is not None and np.ndim(c) == 0:
            c = np.full(n, c)
        c = self._context(c, n)
        chunk = (evaluation.chunk_size(1, math.prod(self.event_shape)) if chunk_size is None
                 else checks.positive_int(chunk_size, "chunk_size"))
        base = self.next_seed() if seed is None else backend.seed_pair(seed)
        x = np.empty((n, *self.event_shape), np.float32)
        for start, count, part_seed in evaluation.chunk_seeds(base, n, chunk):
            px, likelihood_seed = evaluation.generate(self, count, part_seed,
                                                      None if c is None else c[start:start + count], sampler)
            x[start:start + count] = px.mean() if mean else px.sample(seed=likelihood_seed)
        return x

    def export(self, path, version=None, overwrite=False):
        """Writes a TF SavedModel with named signatures; see `tfpvae.saved_model`."""
        return saved_model.export(self, path, version=version, overwrite=overwrite)

    # --- helpers ------------------------------------------------------------------

    def _context(self, c, n, what="c"):
        return conditioning.context_features(c, self.context_dim, n, what)

    def _features(self, c):
        """Context features of checked labels or features c; None stays None."""
        return None if c is None else conditioning.features(c, self.context_dim)

    def _split(self, data):
        """(x as float32, context features or None) of a checked batch x or (x, c, ...)."""
        x = tf.cast(checks.first_of(data), tf.float32)
        if not self.context_dim:
            return x, None
        return x, conditioning.features(data[1], self.context_dim)

    def _checked(self, data, what="x"):
        return conditioning.check_data(data, self.event_shape, self.stack.likelihood_layer.family,
                                       self.context_dim, what)

    def _checked_x(self, x, what="x"):
        """x alone out of x or (x, y, ...), checked."""
        return checks.first_of(checks.check_x(x, self.event_shape, self.stack.likelihood_layer.family, what))

    def _arrays(self, data, what="x"):
        """(x, c or None) of checked arrays x or (x, c)."""
        data = self._checked(data, what)
        return checks.first_of(data), data[1] if self.context_dim else None

    # --- configuration ------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(self.stack.get_config())
        config.update({"num_samples": self.num_samples, "objective": self.objective.get_config(), "seed": self.seed})
        return config
