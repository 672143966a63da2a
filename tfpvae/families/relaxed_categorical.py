"""Relaxed one-hot categorical posterior: G groups of K categories, z in [0, 1]^(G K).

Each group of K coordinates of z is a draw from the Concrete (Gumbel-softmax)
distribution (Maddison et al., arXiv:1611.00712; Jang et al.,
arXiv:1611.01144) with logits a and temperature lambda:

    z_k = softmax((a + g) / lambda)_k,   g_k ~ Gumbel(0, 1),
    log p(z) = lgamma(K) + (K - 1) log lambda
               + sum_k (a_k - (lambda + 1) log z_k) - K logsumexp_k(a_k - lambda log z_k).

As lambda -> 0 the draws become one-hot: argmax_k z_k ~ Categorical(softmax(a))
for every lambda (the Gumbel-max trick).
"""

import math

import numpy as np

from tfpvae import checks
from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import Family

tfd = tfp.distributions
tfb = tfp.bijectors
TINY = float(np.finfo(np.float32).tiny)


class Concrete(tfd.RelaxedOneHotCategorical):
    """TFP's `RelaxedOneHotCategorical`, scored with log z_k floored at log(tiny).

    At low temperature some z_k underflow to 0 in float32, and TFP's
    log-density, which takes log z, is then NaN. Here log z_k is floored at
    the log of float32's smallest normal number (about -87.3), which changes
    nothing for z_k above it.

    `mean()` is that of the discrete code the relaxation stands for, the
    probabilities softmax(a): the Concrete distribution's own mean has no
    closed form. `vae.predict` and `vae.active_units` use it.
    """

    def _log_prob(self, x, **kwargs):
        log_x = tf.math.log(tf.maximum(x, TINY))
        return self.distribution.log_prob(log_x) - tf.reduce_sum(log_x, axis=-1)

    def _mean(self):
        return tf.nn.softmax(self.logits, axis=-1)


class GroupedConcrete(tfd.TransformedDistribution):
    """Independent Concrete groups of K, seen as one vector of G * K.

    A named class so that the KL between two of them can be registered: see
    `categorical_kl`.
    """


@tfd.RegisterKL(GroupedConcrete, GroupedConcrete)
def categorical_kl(q, p, name=None):
    """KL(Cat(softmax(a_q)) || Cat(softmax(a_p))) summed over the groups.

    The KL between the categoricals that the two relaxations stand for (Jang
    et al., arXiv:1611.01144), not between the relaxed densities, which has
    no closed form: `kl="auto"` and `kl="analytic"` use it; `kl="mc"` gives
    the relaxed Monte Carlo form log q(z) - log p(z).
    """
    logits_q, logits_p = (d.distribution.distribution.logits for d in (q, p))
    per_group = tfd.kl_divergence(tfd.Categorical(logits=logits_q), tfd.Categorical(logits=logits_p))
    return tf.reduce_sum(per_group, axis=-1)


def grouped(logits, temperature, event_shape, categories):
    """Concrete(logits, temperature) per group, seen as one vector of G * K.

    Args:
      logits: `[..., G * K]`.
      temperature: a positive scalar.
      event_shape: `(G * K,)`.
      categories: K.
    """
    (size,) = event_shape
    groups = size // categories
    shape = ps.concat([ps.shape(logits)[:-1], [groups, categories]], axis=0)
    per_group = Concrete(temperature, logits=tf.reshape(logits, shape))
    return GroupedConcrete(tfd.Independent(per_group, reinterpreted_batch_ndims=1),
                           tfb.Reshape([size], event_shape_in=[groups, categories]))


def check_groups(name, event_size, categories):
    """G, the number of groups; an error unless K divides the latent size."""
    if event_size % categories:
        raise ValueError(f"{name!r}: latent_dim (the latent size) must be a multiple of categories={categories} "
                         f"(G groups of K categories); received latent size {event_size}")
    return event_size // categories


class RelaxedCategorical(Family):
    """G groups of K relaxed one-hot categories: the Gumbel-softmax posterior.

    The encoder gives the logits of each group (latent_dim = G * K raw
    parameters). The temperature lambda is a weight of the layer that is not
    trained: it starts at `temperature`, and
    `tfpvae.callbacks.TemperatureAnnealing` lowers it during training.

    KL: the relaxed densities have no closed-form KL. With the `categorical`
    prior, `kl="auto"` (and `"analytic"`) uses the KL between the categoricals
    the two relaxations stand for, summed over groups (Jang et al.; registered
    for these distributions, see `categorical_kl`): the ELBO is then
    E_q[log p(x|z)] - KL(Cat(q) || Cat(p)), a surrogate that becomes the
    discrete model's ELBO as lambda -> 0. `kl="mc"` uses the Monte Carlo form
    log q(z|x) - log p(z) at z ~ q(z|x) with the prior's relaxed density
    (Maddison et al.'s relaxed objective), a true lower bound on the
    log-density of the relaxed model p_lambda(z) p(x|z), in which z is
    continuous on the simplex (with a uniform prior it left the latent unused
    in benchmarks/latents). `vae.log_likelihood` importance-samples with
    this q and the prior's relaxed density, so it estimates that relaxed
    log-density (its expectation is a lower bound on it) under either KL
    choice, not the likelihood of the discrete model.

    Args:
      categories: K, categories per group; latent_dim must be a multiple of K.
      temperature: lambda > 0 at the start of training.

    Example:
      >>> vae = tfpvae.VAE(event_shape=(28, 28, 1), latent_dim=200,   # 20 groups of 10
      ...                  posterior="relaxed_categorical", prior="categorical")

    References:
      Jang et al., Categorical Reparameterization with Gumbel-Softmax, arXiv:1611.01144.
      Maddison et al., The Concrete Distribution, arXiv:1611.00712.
    """

    roles = ("posterior",)
    shared_trainable = False
    support = "G simplices of K categories"

    def latent_space(self):
        return f"groups of {self.categories} one-hot categories"

    def __init__(self, name, categories=10, temperature=0.5):
        self.categories = checks.positive_int(categories, f"{name!r}: categories")
        self.temperature = checks.real(temperature, f"{name!r}: temperature", strict=True)
        super().__init__(name, categories=self.categories, temperature=self.temperature)

    def num_params(self, event_size):
        check_groups(self.name, event_size, self.categories)
        return event_size

    def temperature_weights(self, temperature):
        """The layer's shared weights for a temperature: [log lambda]."""
        return np.array([math.log(temperature)], np.float32)

    def initial_shared(self, event_size):
        return self.temperature_weights(self.temperature)

    def distribution(self, params, event_shape, shared=None):
        log_temperature = self.temperature_weights(self.temperature) if shared is None else shared
        temperature = tf.exp(tf.reshape(tf.cast(log_temperature, params.dtype), []))
        return grouped(params, temperature, event_shape, self.categories)
