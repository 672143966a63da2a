"""A layer that adds KL(q || p) to the model's losses and passes q's parameters on."""

import keras

from tfpvae import backend, checks, families
from tfpvae.backend import tf
from tfpvae.layers.head import check_width, distribution_from, event_shape_tuple, family_for, float32
from tfpvae.layers.prior import Prior
from tfpvae.objectives import bounds


def divergence(q, p, kl, num_samples, seed):
    """KL(q || p) per example in the form `kl` asks for (`bounds.kl_form`):
    analytic, or Monte Carlo mean_l [log q(z_l) - log p(z_l)] over `num_samples` draws z_l ~ q."""
    form = bounds.kl_form(q, p, kl)
    z = q.sample(num_samples, seed=seed) if form == "mc" else None
    return tf.reduce_sum(bounds.kl_groups(q, p, z, form), axis=-1)


@keras.saving.register_keras_serializable(package="tfpvae")
class KLDivergence(keras.layers.Layer):
    """Identity on the posterior's parameters; adds weight * mean_n KL(q_n || p) to the losses.

    The input is the parameter tensor of q(z|x) (a `DistributionHead` with a
    posterior family); the output is the same tensor, so a `Sample` layer
    can follow. During `fit` and `evaluate` Keras adds the layer's loss to
    the compiled loss: with `NegativeLogLikelihood` on the decoder's output
    the total is the negative ELBO,

        -ELBO = mean_n [-log p(x_n | z_n) + weight * KL(q(z|x_n) || p(z))].

    The prior p(z) is a `Prior` layer this layer owns, so a trainable prior
    (`learned_normal`, `mixture`, `flow`) trains with the model. The KL is
    `tfd.kl_divergence(q, p)` where TFP has a closed form for the pair and a
    Monte Carlo estimate (reparameterized draws seeded by a Keras
    `SeedGenerator`) otherwise.

    Args:
      posterior: the posterior family spec of the input parameters.
      prior: a prior family spec (not `vamp`, which needs an encoder).
      event_shape: shape of z, one dimension, e.g. (2,).
      weight: the KL's weight (beta), a number >= 0.
      kl: "auto" (analytic where registered, else Monte Carlo), "analytic"
        or "mc".
      num_samples: draws of z per example for the Monte Carlo KL.
      seed: seed of those draws (None: from Keras's global seed).

    Example:
      >>> params = tfpvae.layers.DistributionHead("normal", event_shape=(2,), role="posterior")(h)
      >>> params = tfpvae.layers.KLDivergence(posterior="normal", prior="normal", event_shape=(2,))(params)
      >>> z = tfpvae.layers.Sample("normal", event_shape=(2,), role="posterior")(params)

    References:
      Kingma & Welling, Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """

    def __init__(self, posterior="normal", prior="normal", event_shape=(2,), weight=1.0, kl="auto",
                 num_samples=1, seed=None, **kwargs):
        super().__init__(**float32(kwargs))
        self.posterior_family = family_for(posterior, "posterior")
        self.prior_family = families.get(prior, role="prior")
        self.event_shape = event_shape_tuple(event_shape)
        if len(self.event_shape) != 1:
            raise ValueError(f"event_shape must have one dimension, the size of z; received {event_shape!r}")
        if self.prior_family.needs_encoder:
            raise ValueError(f"prior {self.prior_family.name!r} is built from an encoder, which this "
                             f"layer does not have; use tfpvae.VAE for it")
        self.weight = checks.real(weight, "weight")
        self.kl = bounds.check_kl(kl)
        self.num_samples = checks.positive_int(num_samples, "num_samples")
        self.seed = checks.seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.supports_jit = self.posterior_family.xla and self.prior_family.xla

    def build(self, params_shape):
        check_width("KLDivergence", self.posterior_family, self.event_shape, params_shape)
        self.prior_layer = Prior(self.prior_family.get_config(), self.event_shape[0], name="prior")
        self.prior_layer.build()

    def call(self, params):
        q = distribution_from(self.posterior_family, params, self.event_shape)
        seed = backend.next_seed(self.seed_generator)
        kl = divergence(q, self.prior_layer(), self.kl, self.num_samples, seed)
        self.add_loss(self.weight * tf.reduce_mean(kl))
        return params

    def compute_output_shape(self, params_shape):
        return params_shape

    def get_config(self):
        config = super().get_config()
        config.update({"posterior": self.posterior_family.get_config(),
                       "prior": self.prior_family.get_config(), "event_shape": list(self.event_shape),
                       "weight": self.weight, "kl": self.kl, "num_samples": self.num_samples,
                       "seed": self.seed})
        return config
