"""What every post-hoc sampler shares: the hooks a kind declares, drawing and
scoring z, the codes it is fitted to, and its files.

A VAE's prior p(z) and its aggregate posterior q(z) = 1/N sum_n q(z|x_n)
differ: draws z ~ p(z) fall in regions that no x encodes to ("holes"), and
decode to poor x. A post-hoc sampler is a second density over z, fitted after
training to the posterior means E_q[z|x_n] of the training examples, and
drawn from instead of p(z) (Ghosh et al., arXiv:1903.12436; Dai & Wipf,
arXiv:1903.05789).

A sampler is saved as a folder holding `sampler.json` (its kind, latent_dim
and options) and `weights.npz` (its fitted arrays); nothing is pickled.
"""

import json
from pathlib import Path

import numpy as np

from tfpvae import backend, checks, files
from tfpvae.backend import tf

CONFIG, WEIGHTS = "sampler.json", "weights.npz"


class Sampler:
    """A density over z, with draws, log-densities and files.

    Subclasses declare `kind` (the registry name) and these hooks:
    `fit(codes, vae)`, `distribution()` (or `draw` and `log_prob_tensor`
    where the density is no single `tfd.Distribution`), `weights()` and
    `restore(weights, vae)`. `__init__` checks the options and stores them,
    before any work.

    Args:
      latent_dim: size of z.
    """

    kind = None
    needs_codes = True  # False: fitted without encoding any x (the prior)

    def __init__(self, latent_dim, **options):
        self.latent_dim = checks.positive_int(latent_dim, "latent_dim")
        self.options = options
        self.fitted = False

    # --- hooks ------------------------------------------------------------------

    def fit(self, codes, vae=None):
        """Fits the sampler to codes [N, latent_dim] (float32); returns self."""
        raise NotImplementedError

    def distribution(self):
        """The fitted density over z as a `tfd.Distribution` with event [latent_dim]."""
        raise NotImplementedError(f"sampler {self.kind!r} has no single tfd.Distribution")

    def draw(self, n, seed):
        """n draws z [n, latent_dim] for a stateless int32 seed pair, as a tensor."""
        return self.distribution().sample(n, seed=seed)

    def log_prob_tensor(self, z):
        """log density of float32 z [..., latent_dim], as a tensor."""
        return self.distribution().log_prob(z)

    def weights(self):
        """The fitted arrays, a dict of name -> numpy array."""
        raise NotImplementedError

    def restore(self, weights, vae=None):
        """Sets the fitted state from `weights()` of a saved sampler; returns self."""
        raise NotImplementedError

    # --- what callers use ---------------------------------------------------------

    def sample(self, n, seed=None):
        """n draws z ~ the sampler, numpy float32 [n, latent_dim].

        Args:
          n: how many draws.
          seed: an int for repeatable draws; None draws from TensorFlow's
            global random state (set by `keras.utils.set_random_seed`).
        """
        n = checks.positive_int(n, "n")
        seed = checks.seed(seed)
        self.check_fitted()
        pair = backend.seed_pair(int(np.random.randint(2**31 - 1)) if seed is None else seed)
        return np.asarray(self.draw(n, pair), np.float32)

    def log_prob(self, z):
        """log density of z, numpy [...] for z of shape [..., latent_dim]."""
        z = checked_codes(z, self.latent_dim, "z", least=0)
        self.check_fitted()
        return np.asarray(self.log_prob_tensor(tf.constant(z)), np.float32)

    def get_config(self):
        """JSON-able data that, with `weights()`, rebuilds the sampler."""
        return {"kind": self.kind, "latent_dim": self.latent_dim, **self.options}

    def save(self, path):
        """Writes the folder `path` (sampler.json, weights.npz) atomically, replacing one there."""
        self.check_fitted()
        with files.atomic_path(path) as temporary:
            temporary.mkdir()
            (temporary / CONFIG).write_text(json.dumps(self.get_config(), indent=2) + "\n")
            np.savez(temporary / WEIGHTS, **self.weights())
        return Path(path)

    def check_model(self, vae):
        """Raises a ValueError when z of this sampler is not the latent space of `vae`."""
        if self.latent_dim != vae.latent_size:
            raise ValueError(f"the sampler draws z of size {self.latent_dim}, but the model's z has size "
                             f"{vae.latent_size}; fit a sampler to this model")

    def check_fitted(self):
        if not self.fitted:
            raise ValueError(f"the {self.kind!r} sampler is not fitted; use tfpvae.samplers.fit(vae, x, "
                             f"{self.kind!r}) or tfpvae.samplers.load(path)")

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"<{type(self).__name__} {self.kind!r} latent_dim={self.latent_dim}{', ' if options else ''}{options}>"


def checked_codes(z, latent_dim, what="codes", least=1):
    """z as a finite float32 array [..., latent_dim] (at least `least` rows for 2-D z)."""
    try:
        array = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an array of numbers of shape [N, {latent_dim}]; "
                         f"received {type(z).__name__}") from None
    if array.ndim == 0 or array.shape[-1] != latent_dim:
        raise ValueError(f"{what} must have shape [N, {latent_dim}] (latent_dim={latent_dim}); "
                         f"received shape {array.shape}")
    if array.ndim == 2 and len(array) < least:
        raise ValueError(f"{what} must hold at least {least} rows; received {len(array)}")
    array = checks.finite_float32(array)
    if array is None:
        raise ValueError(f"{what} must be finite in float32; received NaN or inf")
    return array


def posterior_means(vae, x, batch_size=256):
    """E_q[z|x_n] of each example (`VAE.posterior_means`), numpy float32 [N, latent_size].

    Args:
      vae: a `tfpvae.VAE`.
      x: examples [N, *event_shape]; (x, c) for a conditional VAE.
      batch_size: examples encoded at a time.
    """
    if vae.context_dim:
        if not isinstance(x, (tuple, list)) or len(x) < 2:
            raise ValueError(f"a conditional VAE (context_dim={vae.context_dim}) encodes (x, c); "
                             f"received {type(x).__name__}")
        x = (np.asarray(x[0]), np.asarray(x[1]))
    else:
        x = np.asarray(checks.first_of(x))
    return checked_codes(vae.posterior_means(x, batch_size), vae.latent_size, "the posterior means")


def standardization(codes):
    """(mean, stddev) of codes per coordinate; stddev at least 1e-6."""
    codes = np.asarray(codes, np.float64)
    return codes.mean(axis=0).astype(np.float32), np.maximum(codes.std(axis=0), 1e-6).astype(np.float32)
