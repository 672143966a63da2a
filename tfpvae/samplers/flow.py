"""A masked autoregressive flow fitted to the posterior means by maximum
likelihood (Papamakarios et al., arXiv:1705.07057), trained with Keras.

    z = loc + scale * f(u),   u ~ N(0, I)
    log q(z) = log N(f^-1(s); 0, I) + log |det d f^-1 / ds| - sum_j log scale_j,
    s = (z - loc) / scale

f is the chain of MAF steps of tfpvae's `flow` prior (`tfpvae.families.flow`,
its MADE networks in `tfpvae.families.made`); loc and scale standardize the
codes, so the flow starts, as the identity, at a Gaussian of their mean and
per-coordinate spread.
"""

import keras
import numpy as np

from tfpvae import checks, families
from tfpvae.backend import tfp
from tfpvae.samplers.base import Sampler, standardization

tfd = tfp.distributions
tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfpvae")
class FlowDensity(keras.Model):
    """A flow density over z whose `fit(z)` maximizes the mean log q(z).

    Args:
      latent_dim: size of z.
      steps: the `flow` prior family's `steps`.
      hidden: the `flow` prior family's `hidden`.
      seed: the `flow` prior family's `seed`.
      loc: the standardization's shift, a list of latent_dim floats.
      scale: the standardization's scale, a list of latent_dim floats.
    """

    def __init__(self, latent_dim, steps=4, hidden=64, seed=0, loc=None, scale=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = checks.positive_int(latent_dim, "latent_dim")
        self.family = families.get({"name": "flow", "steps": steps, "hidden": hidden, "seed": seed}, "prior")
        self.loc = np.zeros(latent_dim, np.float32) if loc is None else np.asarray(loc, np.float32)
        self.scale = np.ones(latent_dim, np.float32) if scale is None else np.asarray(scale, np.float32)
        initial = self.family.initial_params(latent_dim)
        self.params = self.add_weight(shape=initial.shape, initializer=keras.initializers.Constant(initial),
                                      name="params")
        self.built = True

    def distribution(self):
        flow = self.family.distribution(keras.ops.convert_to_tensor(self.params), (self.latent_dim,))
        return tfd.TransformedDistribution(flow, tfb.Chain([tfb.Shift(self.loc), tfb.Scale(self.scale)]))

    def call(self, z):
        return self.distribution().log_prob(z)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-mean log q(z) of a batch z, from `call`'s log-densities; Keras's step
        differentiates it on every backend."""
        return -keras.ops.mean(y_pred)

    def get_config(self):
        config = super().get_config()
        config.update({"latent_dim": self.latent_dim, **self.family.options,
                       "loc": self.loc.tolist(), "scale": self.scale.tolist()})
        return config


class Flow(Sampler):
    """A masked autoregressive flow over z.

    Args:
      latent_dim: size of z.
      steps: number of MAF steps (the order of z reversed between them).
      hidden: hidden units of each step's MADE network.
      epochs: passes of its training by Adam on the codes.
      batch_size: codes per step of its training.
      learning_rate: Adam's learning rate.
      seed: seed of the networks' starting weights and of the shuffling.

    Example:
      >>> sampler = tfpvae.samplers.fit(vae, x_train, "flow", steps=4, epochs=50)
    """

    kind = "flow"

    def __init__(self, latent_dim, steps=4, hidden=64, epochs=100, batch_size=256, learning_rate=1e-3, seed=0):
        super().__init__(latent_dim, steps=checks.positive_int(steps, "steps"),
                         hidden=checks.positive_int(hidden, "hidden"), epochs=checks.positive_int(epochs, "epochs"),
                         batch_size=checks.positive_int(batch_size, "batch_size"),
                         learning_rate=checks.real(learning_rate, "learning_rate", strict=True),
                         seed=checks.seed(seed, allow_none=False))
        self.density = None

    def _model(self, loc, scale):
        options = self.options
        return FlowDensity(self.latent_dim, steps=options["steps"], hidden=options["hidden"], seed=options["seed"],
                           loc=loc, scale=scale, name="flow_sampler")

    def fit(self, codes, vae=None):
        loc, scale = standardization(codes)
        self.density = self._model(loc, scale)
        self.density.compile(optimizer=keras.optimizers.Adam(self.options["learning_rate"]))
        order = np.random.RandomState(self.options["seed"]).permutation(len(codes))
        self.density.fit(np.asarray(codes, np.float32)[order], epochs=self.options["epochs"],
                         batch_size=self.options["batch_size"], verbose=0)
        self.fitted = True
        return self

    def distribution(self):
        return self.density.distribution()

    def weights(self):
        return {"params": keras.ops.convert_to_numpy(self.density.params),
                "loc": self.density.loc, "scale": self.density.scale}

    def restore(self, weights, vae=None):
        model = self._model(np.zeros(self.latent_dim), np.ones(self.latent_dim))
        expected = {"params": tuple(model.params.shape), "loc": (self.latent_dim,), "scale": (self.latent_dim,)}
        for name, shape in expected.items():
            if name not in weights or np.shape(weights[name]) != shape:
                raise ValueError(f"a flow sampler's {name!r} must have shape {shape}; received "
                                 f"{np.shape(weights[name]) if name in weights else 'none'}")
        self.density = self._model(weights["loc"], weights["scale"])
        self.density.params.assign(np.asarray(weights["params"], np.float32))
        self.fitted = True
        return self
