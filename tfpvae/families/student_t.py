"""Student's t likelihood: heavy tails; df, loc and scale per element."""

import tensorflow_probability as tfp

from tfpvae import checks
from tfpvae.families.base import constraint, unflatten
from tfpvae.families.independent import DEFAULT, Independent

tfd = tfp.distributions


class StudentT(Independent):
    """Independent Student's t pixels: df, loc and scale per element.

    df = softplus(raw) + min_df (default 2, so the mean and variance exist),
    scale = softplus(raw) + min_scale.
    """

    roles = ("likelihood",)
    distribution_class = tfd.StudentT
    parameters = ("df", "loc", "scale")
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
