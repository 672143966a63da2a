"""Student's t: heavy tails; df, loc and scale per element."""

import numpy as np

from tfpvae import checks
from tfpvae.backend import tfp
from tfpvae.families.base import constraint, inverse_softplus, unflatten
from tfpvae.families.independent import DEFAULT, Independent

tfd = tfp.distributions


class StudentT(Independent):
    """Independent Student's t elements: df, loc and scale per element.

    df = softplus(raw) + min_df (default 2, so the mean and variance exist),
    scale = softplus(raw) + min_scale. As a likelihood it scores data with
    outliers; as a prior (weights trained, starting at loc 0, scale 1 and
    df = min_df + log 2) and as a posterior it gives heavy-tailed latents.
    Its draws are reparameterized (TFP differentiates the Gamma draw behind
    them implicitly). TFP registers no KL for Student's t: `kl="auto"` uses
    Monte Carlo.

    Args:
      min_scale: lower bound of the scale.
      min_df: lower bound of the degrees of freedom.

    Example:
      >>> vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=8, prior="student_t", posterior="student_t")
    """

    roles = ("prior", "posterior", "likelihood")
    distribution_class = tfd.StudentT
    parameters = ("df", "loc", "scale")
    trainable = True
    fits = "real-valued data with outliers"

    def __init__(self, name, min_scale=DEFAULT, min_df=2.0):
        super().__init__(name, min_scale=min_scale)
        self.min_df = checks.real(min_df, f"{name!r}: min_df", strict=True)
        self.options["min_df"] = self.min_df

    def constrained(self, params, event_shape):
        raw_df, loc, raw_scale = unflatten(params, event_shape, 3)
        return {
            "df": constraint(tfd.StudentT, "df", self.min_df)(raw_df),
            "loc": loc,
            "scale": constraint(tfd.StudentT, "scale", self.min_scale)(raw_scale),
        }

    def initial_params(self, event_size):
        raw = [np.zeros(event_size), np.zeros(event_size),
               np.full(event_size, inverse_softplus(1.0, self.min_scale))]
        return np.stack(raw, axis=-1).reshape(-1).astype(np.float32)
