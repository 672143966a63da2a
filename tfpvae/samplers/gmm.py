"""A Gaussian mixture fitted to the posterior means by EM (Ghosh et al.,
"From Variational to Deterministic Autoencoders", arXiv:1903.12436).

    q(z) ~ sum_k pi_k N(z; mu_k, Sigma_k)

EM is scikit-learn's `GaussianMixture`; the fitted mixture is a TFP
`MixtureSameFamily` for drawing and scoring.
"""

import numpy as np
from sklearn import mixture

from tfpvae import checks
from tfpvae.backend import tfp
from tfpvae.samplers.base import Sampler

tfd = tfp.distributions
COVARIANCES = ("full", "diag")


class GaussianMixture(Sampler):
    """A mixture of `components` Gaussians with full or diagonal covariances.

    Args:
      latent_dim: size of z.
      components: number of Gaussians K.
      covariance: "full" (Sigma_k any covariance) or "diag" (diagonal).
      max_iter: EM iterations at most.
      reg_covar: added to the covariances' diagonals, keeping them invertible.
      seed: seed of EM's k-means start.

    Example:
      >>> sampler = tfpvae.samplers.fit(vae, x_train, "gmm", components=10)
      >>> x = vae.sample(64, sampler=sampler)
    """

    kind = "gmm"

    def __init__(self, latent_dim, components=10, covariance="full", max_iter=200, reg_covar=1e-6, seed=0):
        components = checks.positive_int(components, "components")
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {list(COVARIANCES)}; received {covariance!r}")
        max_iter = checks.positive_int(max_iter, "max_iter")
        reg_covar = checks.real(reg_covar, "reg_covar", strict=True)
        seed = checks.seed(seed, allow_none=False)
        super().__init__(latent_dim, components=components, covariance=covariance, max_iter=max_iter,
                         reg_covar=reg_covar, seed=seed)
        self.mixture_weights = self.means = self.covariances = None

    def fit(self, codes, vae=None):
        k = self.options["components"]
        if len(codes) < k:
            raise ValueError(f"components={k} needs at least {k} codes; received {len(codes)}")
        em = mixture.GaussianMixture(k, covariance_type=self.options["covariance"],
                                     max_iter=self.options["max_iter"], reg_covar=self.options["reg_covar"],
                                     random_state=self.options["seed"])
        em.fit(np.asarray(codes, np.float64))
        return self.restore({"weights": em.weights_, "means": em.means_, "covariances": em.covariances_})

    def distribution(self):
        if self.options["covariance"] == "full":
            components = tfd.MultivariateNormalTriL(loc=self.means, scale_tril=np.linalg.cholesky(self.covariances))
        else:
            components = tfd.MultivariateNormalDiag(loc=self.means, scale_diag=np.sqrt(self.covariances))
        return tfd.MixtureSameFamily(tfd.Categorical(probs=self.mixture_weights), components)

    def weights(self):
        return {"weights": self.mixture_weights, "means": self.means, "covariances": self.covariances}

    def restore(self, weights, vae=None):
        k, d = self.options["components"], self.latent_dim
        shapes = {"weights": (k,), "means": (k, d),
                  "covariances": (k, d, d) if self.options["covariance"] == "full" else (k, d)}
        for name, shape in shapes.items():
            if name not in weights or np.shape(weights[name]) != shape:
                raise ValueError(f"a gmm sampler's {name!r} must have shape {shape}; received "
                                 f"{np.shape(weights[name]) if name in weights else 'none'}")
        self.mixture_weights = np.asarray(weights["weights"], np.float32)
        self.means = np.asarray(weights["means"], np.float32)
        self.covariances = np.asarray(weights["covariances"], np.float32)
        self.fitted = True
        return self
