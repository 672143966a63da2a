"""Families whose event is independent draws of one scalar TFP distribution."""

import tensorflow_probability as tfp

from tfpvae.families.base import Family, constraint, unflatten

tfd = tfp.distributions
tfb = tfp.bijectors


class Independent(Family):
    """`tfd.Independent` over the event of an elementwise TFP distribution.

    A subclass names the TFP class and the parameters a network predicts; each
    parameter gets one raw number per element of the event, constrained by the
    bijector TFP declares for it.

    Args:
      min_scale: lower bound of every softplus-constrained parameter.
    """

    distribution_class = None
    parameters = ()
    elementwise = True

    def __init__(self, name, min_scale=1e-4, **options):
        if not min_scale > 0:
            raise ValueError(f"{name!r}: min_scale must be > 0; received {min_scale!r}")
        if self.has_scales():
            options = {"min_scale": min_scale, **options}
        super().__init__(name, **options)
        self.min_scale = min_scale

    @classmethod
    def has_scales(cls):
        """True when a parameter is constrained by a softplus (so min_scale matters)."""
        return any(isinstance(constraint(cls.distribution_class, p), tfb.Softplus) for p in cls.parameters)

    def num_params(self, event_size):
        return len(self.parameters) * event_size

    def constrained(self, params, event_shape):
        """The constrained parameters, each shaped `[..., *event_shape]`."""
        raw = unflatten(params, event_shape, len(self.parameters))
        return {
            name: constraint(self.distribution_class, name, self.min_scale)(value)
            for name, value in zip(self.parameters, raw)
        }

    def element(self, **parameters):
        """The elementwise distribution; override to pass extra arguments."""
        return self.distribution_class(**parameters)

    def distribution(self, params, event_shape):
        base = self.element(**self.constrained(params, event_shape))
        return tfd.Independent(base, reinterpreted_batch_ndims=len(event_shape))
