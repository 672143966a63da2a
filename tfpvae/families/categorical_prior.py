"""The prior of discrete latents: G groups of K categories, uniform or learned."""

from tfpvae import checks
from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import Family
from tfpvae.families.relaxed_categorical import check_groups, grouped

tfd = tfp.distributions


class CategoricalPrior(Family):
    """G independent categoricals over K categories, as one-hot codes relaxed at a temperature.

    Its weights are the logits a of each group: zeros (the uniform prior,
    fixed) or, with `learned=True`, trained. As a density it is the relaxed
    (Concrete) distribution with logits a at temperature `temperature`
    (Maddison et al. give the prior its own temperature), the p(z) of the
    relaxed model that the `relaxed_categorical` posterior's ELBO bounds;
    `vae.sample` draws the discrete codes it relaxes, one-hot per group with
    P(category k) = softmax(a)_k.

    The posterior must use the same `categories` (the model checks it).

    Args:
      categories: K, categories per group; latent_dim must be a multiple of K.
      temperature: the relaxed prior's lambda > 0.
      learned: False for the uniform prior; True to train the logits.

    Example:
      >>> vae = tfpvae.VAE(event_shape=(28, 28, 1), latent_dim=200,
      ...                  posterior="relaxed_categorical", prior={"name": "categorical", "learned": True})

    References:
      Maddison et al., The Concrete Distribution, arXiv:1611.00712.
    """

    roles = ("prior",)

    def latent_space(self):
        return f"groups of {self.categories} one-hot categories"

    def __init__(self, name, categories=10, temperature=0.5, learned=False):
        self.categories = checks.positive_int(categories, f"{name!r}: categories")
        self.temperature = checks.real(temperature, f"{name!r}: temperature", strict=True)
        if not isinstance(learned, bool):
            raise ValueError(f"{name!r}: learned must be True or False; received {learned!r}")
        self.trainable = learned
        super().__init__(name, categories=self.categories, temperature=self.temperature, learned=learned)

    def num_params(self, event_size):
        check_groups(self.name, event_size, self.categories)
        return event_size

    def distribution(self, params, event_shape):
        return grouped(params, tf.constant(self.temperature, params.dtype), event_shape, self.categories)

    def draw(self, distribution, sample_shape, seed):
        """One-hot codes: per group, the argmax of a relaxed draw, a draw from
        Categorical(softmax(a)) at any temperature (the Gumbel-max trick)."""
        z = distribution.sample(sample_shape, seed=seed)
        k = self.categories
        groups = tf.reshape(z, ps.concat([ps.shape(z)[:-1], [-1, k]], axis=0))
        codes = tf.one_hot(tf.argmax(groups, axis=-1), k, dtype=z.dtype)
        return tf.reshape(codes, ps.shape(z))
