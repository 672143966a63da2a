"""The two-stage VAE (Dai & Wipf, "Diagnosing and Enhancing VAE Models",
arXiv:1903.05789): a second, small VAE fitted to the first one's codes.

    u ~ N(0, I),   s ~ p(s|u) = N(mu(u), diag(sigma(u)^2)),   z = loc + scale * s

where s are the standardized codes (z - loc) / scale. Draws are z from the
second VAE's generative model (or its decoder's mean at u with `mean=True`,
as in the paper, whose learned variance goes to zero); log q(z) is its
importance-sampled log-likelihood (`evaluation.log_likelihood`, k =
`num_samples`, with draws fixed by `seed` so that it is a deterministic
function of z), a lower bound in expectation.
"""

import keras
import numpy as np

from tfpvae import backend, checks, evaluation
from tfpvae.backend import ps, tf
from tfpvae.samplers.base import Sampler, standardization


class TwoStage(Sampler):
    """A second `tfpvae.VAE` on z with a `normal` likelihood.

    Args:
      latent_dim: size of z.
      inner_dim: size of the second VAE's latent u (None: latent_dim).
      units: hidden units of its MLP encoder and decoder.
      epochs: passes of its training by Adam on the codes.
      batch_size: codes per step of its training.
      learning_rate: Adam's learning rate.
      mean: draw z as the decoder's mean at u ~ N(0, I), as Dai & Wipf do
        (True), or z ~ p(z|u), the draws whose density `log_prob` estimates
        (False). The mean shrinks the draws' spread where the second VAE's
        variance has not gone to zero.
      num_samples: importance samples k of `log_prob`.
      seed: the second VAE's seed.

    Example:
      >>> sampler = tfpvae.samplers.fit(vae, x_train, "two_stage", epochs=100)
    """

    kind = "two_stage"

    def __init__(self, latent_dim, inner_dim=None, units=(64, 64), epochs=100, batch_size=100,
                 learning_rate=1e-3, mean=False, num_samples=100, seed=0):
        inner_dim = latent_dim if inner_dim is None else checks.positive_int(inner_dim, "inner_dim")
        if not isinstance(units, (list, tuple)) or not units:
            raise ValueError(f"units must be a non-empty list of positive ints; received {units!r}")
        units = [checks.positive_int(u, "each entry of units") for u in units]
        if not isinstance(mean, bool):
            raise ValueError(f"mean must be True or False; received {mean!r}")
        super().__init__(latent_dim, inner_dim=inner_dim, units=units, epochs=checks.positive_int(epochs, "epochs"),
                         batch_size=checks.positive_int(batch_size, "batch_size"),
                         learning_rate=checks.real(learning_rate, "learning_rate", strict=True), mean=mean,
                         num_samples=checks.positive_int(num_samples, "num_samples"),
                         seed=checks.seed(seed, allow_none=False))
        self.inner = self.loc = self.scale = None

    def _model(self):
        from tfpvae.model import VAE  # here: tfpvae.model imports this package

        network = {"name": "mlp", "units": self.options["units"]}
        return VAE(event_shape=(self.latent_dim,), latent_dim=self.options["inner_dim"], likelihood="normal",
                   encoder=network, decoder=network, seed=self.options["seed"], name="second_stage")

    def fit(self, codes, vae=None):
        self.loc, self.scale = standardization(codes)
        self.inner = self._model()
        self.inner.compile(optimizer=keras.optimizers.Adam(self.options["learning_rate"]))
        order = np.random.RandomState(self.options["seed"]).permutation(len(codes))
        self.inner.fit((np.asarray(codes, np.float32)[order] - self.loc) / self.scale,
                       epochs=self.options["epochs"], batch_size=self.options["batch_size"], verbose=0)
        self.fitted = True
        return self

    def draw(self, n, seed):
        inner_seed, likelihood_seed = tf.unstack(backend.split(seed, 2))
        ps = self.inner.stack.likelihood(self.inner.stack.prior_draw(n, inner_seed))
        s = ps.mean() if self.options["mean"] else ps.sample(seed=likelihood_seed)
        return self.loc + self.scale * s

    def log_prob_tensor(self, z):
        shape = ps.shape(z)[:-1]
        s = tf.reshape((z - self.loc) / self.scale, [-1, self.latent_dim])
        seed = backend.seed_pair(1, self.options["seed"])
        log_ps = evaluation.log_likelihood(self.inner, s, None, self.options["num_samples"], seed)
        return tf.reshape(log_ps, shape) - tf.reduce_sum(tf.math.log(self.scale))

    def weights(self):
        arrays = {f"inner_{i}": w for i, w in enumerate(self.inner.get_weights())}
        return {"loc": self.loc, "scale": self.scale, **arrays}

    def restore(self, weights, vae=None):
        inner = self._model()
        count = len(inner.get_weights())
        missing = [name for name in ("loc", "scale", *(f"inner_{i}" for i in range(count))) if name not in weights]
        if missing or len(weights) != count + 2:
            raise ValueError(f"a two_stage sampler's weights must be loc, scale and the second VAE's {count} "
                             f"arrays; received {sorted(weights)}")
        inner.set_weights([weights[f"inner_{i}"] for i in range(count)])
        self.inner = inner
        self.loc, self.scale = np.asarray(weights["loc"], np.float32), np.asarray(weights["scale"], np.float32)
        self.fitted = True
        return self
