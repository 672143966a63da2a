"""A layer that draws one y from the distribution its parameters describe."""

import keras

from tfpvae import backend, checks
from tfpvae.backend import tf
from tfpvae.layers.head import check_width, distribution_from, event_shape_tuple, family_for, float32, role_of


@keras.saving.register_keras_serializable(package="tfpvae")
class Sample(keras.layers.Layer):
    """Parameters [N, width] -> one draw [N, *event_shape], a float32 tensor.

    For a reparameterized family (`normal`, `mvn_tril`, `student_t`, ...)
    the draw is a differentiable function of the parameters,
    z = loc + scale * eps with eps ~ N(0, I) for a Gaussian, so gradients
    reach the layers before it (the reparameterization trick of a VAE).
    Draws use TFP's stateless seeds from a Keras `SeedGenerator`: a new draw
    at every call, reproducible from `seed`.

    Args:
      family: the family spec of the input parameters.
      event_shape: shape of one draw.
      role: "likelihood" or "posterior", as for `DistributionHead`.
      seed: seed of the draws (None: from Keras's global seed).

    Example:
      >>> z = tfpvae.layers.Sample("normal", event_shape=(2,), role="posterior")(params)

    References:
      Kingma & Welling, Auto-Encoding Variational Bayes, arXiv:1312.6114.
    """

    def __init__(self, family, event_shape, role=None, seed=None, **kwargs):
        super().__init__(**float32(kwargs))
        self.family = family_for(family, role)
        self.role = role_of(self.family, role)
        self.event_shape = event_shape_tuple(event_shape)
        self.seed = checks.seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.supports_jit = self.family.xla

    def build(self, params_shape):
        check_width("Sample", self.family, self.event_shape, params_shape)

    def call(self, params):
        seed = backend.next_seed(self.seed_generator)
        draw = distribution_from(self.family, params, self.event_shape).sample(seed=seed)
        return tf.cast(draw, tf.float32)

    def compute_output_shape(self, params_shape):
        return (params_shape[0], *self.event_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"family": self.family.get_config(), "event_shape": list(self.event_shape),
                       "role": self.role, "seed": self.seed})
        return config
