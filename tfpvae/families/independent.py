"""Families whose event is independent draws of one scalar TFP distribution."""

from tfpvae import checks
from tfpvae.backend import tfp
from tfpvae.families.base import MIN_SCALE, Family, constraint, unflatten

tfd = tfp.distributions
tfb = tfp.bijectors
DEFAULT = object()  # min_scale not given: MIN_SCALE where the family has a scale


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

    def __init__(self, name, min_scale=DEFAULT):
        if self.has_scales():
            self.min_scale = checks.real(MIN_SCALE if min_scale is DEFAULT else min_scale,
                                         f"{name!r}: min_scale", strict=True)
            super().__init__(name, min_scale=self.min_scale)
            return
        if min_scale is not DEFAULT:
            raise ValueError(f"{name!r} has no scale parameter, so min_scale does not apply; "
                             f"received min_scale={min_scale!r}")
        super().__init__(name)
        self.min_scale = None

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
