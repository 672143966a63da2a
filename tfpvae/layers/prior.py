"""The prior p(z) as a Keras layer that owns its parameters."""

import keras
import tensorflow as tf

from tfpvae import families


@keras.saving.register_keras_serializable(package="tfpvae")
class Prior(keras.layers.Layer):
    """p(z): a family applied to a vector of free (possibly trainable) weights.

    Called with no input, it returns the prior as a `tfd.Distribution` over
    R^latent_dim. `normal` is the fixed N(0, I); `learned_normal` and `mixture`
    train their weights with the rest of the model.

    Args:
      family: a prior family spec.
      latent_dim: size of z.

    Example:
      >>> p = Prior("mixture", latent_dim=2)()
      >>> p.sample(5)   # [5, 2]
    """

    def __init__(self, family="normal", latent_dim=2, **kwargs):
        super().__init__(**kwargs)
        self.family = families.get(family, role="prior")
        self.latent_dim = latent_dim
        initial = self.family.initial_params(latent_dim)
        self.params = self.add_weight(
            shape=initial.shape,
            initializer=keras.initializers.Constant(initial),
            trainable=self.family.trainable,
            name="params",
        )
        self.built = True

    def __call__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"Prior takes no input; received {len(args)} positional arguments")
        return self.call()

    def call(self):
        return self.family.distribution(tf.convert_to_tensor(self.params), (self.latent_dim,))

    def get_config(self):
        config = super().get_config()
        config.update({"family": self.family.get_config(), "latent_dim": self.latent_dim})
        return config
