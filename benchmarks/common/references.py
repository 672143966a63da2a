"""Two reference VAEs that tfpvae is benchmarked against, and how to score them.

Both have tfpvae's MLP architecture (Kingma & Welling; the IWAE paper's
1-stochastic-layer model):

    encoder  x -> Dense(h, tanh) x len(hidden) -> Dense(2 * latent) -> loc, softplus scale
    q(z|x) = N(loc, diag(scale^2)),   p(z) = N(0, I)
    decoder  z -> Dense(h, tanh) x len(hidden) -> Dense(D) -> Bernoulli logits of p(x|z)

trained on loss = -ELBO = KL(q(z|x) || p(z)) - log p(x|z) with one z ~ q(z|x),
summed over pixels and averaged over the batch (nats per example), the KL in
closed form, Adam(1e-3), Glorot-uniform weights and zero biases (Keras's
defaults, as in tfpvae):

- `keras3_reference`: a Keras-3 subclassed model, in the style of the keras.io
  VAE example, whose `compute_loss` is written in `keras.ops`: it trains on
  any Keras backend (TensorFlow or JAX) with Keras's own train step.
- `tfp_layers_reference`: TFP's legacy `tfp.layers` on `tf_keras`, in the
  style of TFP's "Probabilistic Layers VAE" example (`IndependentNormal` with a
  `KLDivergenceRegularizer`, `IndependentBernoulli`, loss -log p(x|z)).

Each factory returns a `Reference`: the compiled model, `fit(x, ...)` (which
calls `fit(x)` or `fit(x, x)` as the model needs), and `encode`/`decode`
functions from which `elbo` and `log_likelihood` below score test data.

x is always flat: float32 [N, D] with values in {0, 1}.

Importing this module imports Keras and numpy only: TensorFlow is imported
where it is needed (the tfp.layers reference and the scoring functions), so
the Keras-3 reference trains on the JAX backend without TensorFlow installed.
"""

import dataclasses
import math
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

MIN_SCALE = 1e-4  # tfpvae's floor on the posterior scale (softplus(raw) + 1e-4)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclasses.dataclass
class Reference:
    """A compiled reference VAE.

    Attributes:
      name: a short label for tables.
      model: the compiled Keras model (Keras 3 or tf_keras).
      encode: x [B, D] float32 tensor -> (loc, scale) of q(z|x), each [B, d].
      decode: z [M, d] float32 tensor -> Bernoulli logits of p(x|z), [M, D].
      latent_dim: d.
      needs_target: the model trains with fit(x, x) rather than fit(x).
    """

    name: str
    model: object
    encode: Callable
    decode: Callable
    latent_dim: int
    needs_target: bool = False

    def fit(self, x, **kwargs):
        """`model.fit` on x, with x as the target too where the model needs one."""
        if self.needs_target:
            return self.model.fit(x, x, **kwargs)
        return self.model.fit(x, **kwargs)


# --- closed-form pieces shared by training (Keras 3) and scoring --------------------
# In keras.ops: they run on the Keras backend's tensors (and on TensorFlow's,
# for the tfp.layers reference, when the backend is TensorFlow).


def bernoulli_log_prob(x, logits):
    """log p(x|z) of independent Bernoulli pixels, summed over the last axis."""
    return ops.sum(x * logits - ops.softplus(logits), axis=-1)


def normal_log_prob(z, loc, scale):
    """log N(z; loc, diag(scale^2)), summed over the last axis."""
    return ops.sum(-0.5 * ops.square((z - loc) / scale) - ops.log(scale) - HALF_LOG_2PI, axis=-1)


def standard_normal_log_prob(z):
    """log N(z; 0, I), summed over the last axis."""
    return ops.sum(-0.5 * ops.square(z) - HALF_LOG_2PI, axis=-1)


def gaussian_kl(loc, scale):
    """KL(N(loc, diag(scale^2)) || N(0, I)) in closed form, summed over the last axis."""
    return ops.sum(0.5 * (ops.square(loc) + ops.square(scale) - 1.0) - ops.log(scale), axis=-1)


# --- (a) Keras 3, any backend ----------------------------------------------------------


def mlp(input_dim, hidden, output_dim, name):
    """A Keras-3 Sequential MLP: Dense(h, tanh) per hidden size, then a linear Dense."""
    layers = [keras.Input((input_dim,))]
    layers += [keras.layers.Dense(h, activation="tanh") for h in hidden]
    layers += [keras.layers.Dense(output_dim)]
    return keras.Sequential(layers, name=name)


class Keras3VAE(keras.Model):
    """A VAE in the style of the keras.io example, with tfpvae's parameterization.

    `call` gives q(z|x)'s (loc, scale): the encoder's last layer gives loc and
    a raw scale, scale = softplus(raw) + 1e-4 (as tfpvae). `compute_loss`
    draws z = loc + scale * eps with eps from `keras.random.normal` and a
    `SeedGenerator` and returns -ELBO; Keras's train step (on TensorFlow or
    JAX) differentiates it. Metrics: loss, reconstruction (E_q log p(x|z)), kl.
    """

    def __init__(self, input_dim, hidden, latent_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.encoder = mlp(input_dim, hidden, 2 * latent_dim, "encoder")
        self.decoder = mlp(latent_dim, hidden, input_dim, "decoder")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def encode(self, x):
        """(loc, scale) of q(z|x)."""
        loc, raw_scale = ops.split(self.encoder(x), 2, axis=-1)
        return loc, ops.softplus(raw_scale) + MIN_SCALE

    def decode(self, z):
        """Bernoulli logits of p(x|z)."""
        return self.decoder(z)

    def call(self, x):
        """(loc, scale) of q(z|x)."""
        return self.encode(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-ELBO = KL(q(z|x) || p(z)) - log p(x|z), one z ~ q(z|x), averaged over the batch."""
        loc, scale = y_pred
        z = loc + scale * keras.random.normal(ops.shape(loc), seed=self.seed_generator)
        reconstruction = bernoulli_log_prob(x, self.decode(z))
        kl = gaussian_kl(loc, scale)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return ops.mean(kl - reconstruction)


def keras3_reference(input_dim, hidden, latent_dim, learning_rate=1e-3, seed=None, jit_compile=None):
    """(a) The Keras-3 reference, compiled with Adam(learning_rate).

    `jit_compile=None` leaves Keras's default ("auto": XLA on TensorFlow when
    every layer supports it); True/False force it.
    """
    model = Keras3VAE(input_dim, list(hidden), latent_dim, seed=seed, name="keras3_vae")
    compile_kwargs = {} if jit_compile is None else {"jit_compile": jit_compile}
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), **compile_kwargs)
    return Reference("keras3", model, model.encode, model.decode, latent_dim)


# --- (b) tfp.layers on tf_keras ---------------------------------------------------------


def tfp_layers_reference(input_dim, hidden, latent_dim, learning_rate=1e-3, jit_compile=None,
                         kl_weight=0.5):
    """(b) TFP's "Probabilistic Layers VAE" on tf_keras, compiled with tf_keras Adam.

    The encoder ends in `tfpl.IndependentNormal` (scale = softplus(raw)) whose
    activity regularizer `KLDivergenceRegularizer(prior, weight=kl_weight,
    use_exact_kl=True)` adds the batch-summed analytic KL, which tf_keras
    divides by the batch size; the loss -log p(x|z) is averaged over the batch
    by Keras.

    With TFP 0.25 / tf_keras 2.21 the regularizer's loss is added twice (the
    `DistributionLambda` layer has two outputs and tf_keras regularizes each;
    tensorflow/probability#1215), so `weight=1.0`, as in TFP's example, trains
    -log p(x|z) + 2 KL. The default `kl_weight=0.5` makes the loss -ELBO per
    example, summed over pixels, as tfpvae's; `kl_factor` checks it.
    """
    import tensorflow as tf
    import tensorflow_probability as tfp
    import tf_keras as tfk

    tfd, tfpl = tfp.distributions, tfp.layers
    prior = tfd.Independent(tfd.Normal(loc=tf.zeros(latent_dim), scale=1.0), reinterpreted_batch_ndims=1)
    encoder = tfk.Sequential(
        [tfk.layers.InputLayer(input_shape=(input_dim,))]
        + [tfk.layers.Dense(h, activation="tanh") for h in hidden]
        + [tfk.layers.Dense(tfpl.IndependentNormal.params_size(latent_dim)),
           tfpl.IndependentNormal(latent_dim, activity_regularizer=tfpl.KLDivergenceRegularizer(
               prior, weight=kl_weight, use_exact_kl=True))],
        name="encoder")
    decoder = tfk.Sequential(
        [tfk.layers.InputLayer(input_shape=(latent_dim,))]
        + [tfk.layers.Dense(h, activation="tanh") for h in hidden]
        + [tfk.layers.Dense(tfpl.IndependentBernoulli.params_size(input_dim)),
           tfpl.IndependentBernoulli(input_dim, tfd.Bernoulli.logits)],
        name="decoder")
    model = tfk.Model(inputs=encoder.inputs, outputs=decoder(encoder.outputs[0]), name="tfp_layers_vae")
    compile_kwargs = {} if jit_compile is None else {"jit_compile": jit_compile}
    model.compile(optimizer=tfk.optimizers.Adam(learning_rate),
                  loss=lambda x, rv_x: -rv_x.log_prob(x), **compile_kwargs)

    def encode(x):
        q = encoder(x).distribution  # Independent(Normal) -> Normal(loc, scale)
        return q.loc, q.scale

    def decode(z):
        return decoder(z).distribution.logits  # Independent(Bernoulli) -> Bernoulli(logits)

    return Reference("tfp.layers", model, encode, decode, latent_dim, needs_target=True)


def kl_factor(reference, x):
    """How many KLs the tfp.layers model's regularization losses add: 1.0 when its loss is -ELBO.

    Runs x through the model (eagerly, no sampling needed for the KL) and
    divides the sum of `model.losses` by the batch-mean analytic KL.
    """
    import tensorflow as tf

    x = tf.constant(np.asarray(x, np.float32))
    reference.model(x)
    loc, scale = reference.encode(x)
    total = sum(float(loss) for loss in reference.model.losses)
    return total / float(tf.reduce_mean(gaussian_kl(loc, scale)))


# --- scoring (on TensorFlow) ----------------------------------------------------------------


def batches(x, batch_size):
    """Consecutive slices of x of at most batch_size examples."""
    return (x[i:i + batch_size] for i in range(0, len(x), batch_size))


def elbo(reference, x, batch_size=500, seed=0):
    """Per-example ELBO = log p(x|z) - KL(q(z|x) || p(z)), one z ~ q(z|x), numpy [N].

    The KL is analytic, as in training; z uses a stateless draw seeded by
    (seed, batch index), so the same call gives the same numbers.
    """
    import tensorflow as tf


    @tf.function
    def step(xb, draw_seed):
        loc, scale = reference.encode(xb)
        z = loc + scale * tf.random.stateless_normal(tf.shape(loc), seed=draw_seed)
        return bernoulli_log_prob(xb, reference.decode(z)) - gaussian_kl(loc, scale)

    x = np.asarray(x, np.float32)
    return np.concatenate([step(tf.constant(xb), tf.constant([seed, i], tf.int32)).numpy()
                           for i, xb in enumerate(batches(x, batch_size))])


def log_likelihood(reference, x, num_samples=1000, batch_size=100, chunk_size=None, seed=0):
    """Importance-sampled log p(x) = log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x), numpy [N].

    The k = num_samples draws z_i ~ q(z|x) are taken in chunks (default: what
    keeps a chunk's logits near 32M floats, as tfpvae does) and combined with
    logsumexp, so large k fits in memory.
    """
    import tensorflow as tf

    x = np.asarray(x, np.float32)
    k = int(num_samples)
    chunk = chunk_size or max(1, min(k, 2**25 // (batch_size * x.shape[-1])))
    step = tf.function(lambda xb, count, draw_seed: log_weights(reference, xb, count, draw_seed))
    estimates = []
    for i, xb in enumerate(batches(x, batch_size)):
        lse = np.full(len(xb), -np.inf)
        for j, start in enumerate(range(0, k, chunk)):
            count = min(chunk, k - start)
            log_w = step(tf.constant(xb), count, tf.constant([seed, i * 1_000_003 + j], tf.int32))
            lse = np.logaddexp(lse, tf.reduce_logsumexp(log_w, axis=0).numpy())
        estimates.append(lse - math.log(k))
    return np.concatenate(estimates)


def log_weights(reference, x, count, draw_seed):
    """log p(x|z_l) + log p(z_l) - log q(z_l|x) for `count` draws z_l ~ q(z|x), [count, B]."""
    import tensorflow as tf

    loc, scale = reference.encode(x)
    shape = tf.concat([[count], tf.shape(loc)], axis=0)
    z = loc + scale * tf.random.stateless_normal(shape, seed=draw_seed)  # [count, B, d]
    logits = reference.decode(tf.reshape(z, [-1, reference.latent_dim]))
    logits = tf.reshape(logits, [count, -1, x.shape[-1]])
    return (bernoulli_log_prob(x, logits) + standard_normal_log_prob(z)
            - normal_log_prob(z, loc, scale))


__all__ = ["Reference", "keras3_reference", "tfp_layers_reference", "kl_factor", "elbo", "log_likelihood"]
