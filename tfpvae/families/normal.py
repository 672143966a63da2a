"""Diagonal Gaussian: N(loc, diag(scale^2)), scale = softplus(raw) + min_scale."""

import math

import numpy as np

from tfpvae import backend, checks
from tfpvae.backend import ps, tf, tfp
from tfpvae.families.base import constraint, inverse_softplus, unflatten
from tfpvae.families.independent import DEFAULT, Independent

tfd = tfp.distributions
SCALES = ("network", "shared")
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class DiagonalNormal(tfd.MultivariateNormalDiag):
    """N(loc, diag(scale^2)) over vectors, drawn and scored coordinate by coordinate.

    TFP's `MultivariateNormalDiag` draws z = loc + scale * eps and scores
    log N(x; loc, diag(scale^2)) through a `LinearOperatorDiag` and an affine
    bijector, about 280 graph ops for a draw and 120 for a log-density, which
    is most of a small model's training step. Here both are the elementwise
    formulas, about 45 ops each (eps ~ N(0, I) from TFP's stateless seed, laid
    out as [n, *batch, d]). Being a `MultivariateNormalDiag`, it keeps TFP's
    analytic KLs to and from the other Gaussian families.

    eps is drawn by `backend.normal`: on TensorFlow by Philox, whose XLA form
    may order its stream differently from TensorFlow's kernel, so one seed can
    give other (equally distributed) draws with and without XLA
    (docs/results/throughput.md).

    Sampling overrides TFP's `_call_sample_n`, the hook `sample` reaches
    through a `TransformedDistribution` (see `tfpvae.compat`).
    """

    def _call_sample_n(self, sample_shape, seed, **kwargs):
        loc, scale = self._mean(), self._stddev()
        sample_shape = ps.reshape(ps.cast(sample_shape, np.int32), [-1])
        shape = ps.shape(loc)
        eps = backend.normal(ps.concat([[ps.reduce_prod(sample_shape)], shape], 0), seed, loc.dtype)
        return tf.reshape(loc + scale * eps, ps.concat([sample_shape, shape], 0))

    def _log_prob(self, x):
        scale = self.scale.diag
        u = (x - self.loc) / scale
        size = tf.cast(ps.shape(u)[-1], u.dtype)
        return -tf.reduce_sum(0.5 * tf.square(u) + tf.math.log(scale), axis=-1) - HALF_LOG_2PI * size

    def _mean(self):
        return self.loc + tf.zeros_like(self.scale.diag)

    def _stddev(self):
        return self.scale.diag + tf.zeros_like(self.loc)


class Normal(Independent):
    """A diagonal Gaussian over the event.

    Over a vector (a latent z) it is a `tfd.MultivariateNormalDiag` (a
    `DiagonalNormal`), so its KL to and from the other Gaussian families is
    analytic; over an image it is `tfd.Independent(tfd.Normal)`. As a prior its loc and scale are free
    weights, starting at N(0, I).

    Args:
      min_scale: lower bound of the scale.
      scale: where the scale comes from: "network" (per example, from the
        decoder or encoder), "shared" (one learned scale per dimension, the
        same for every example), or a positive number (fixed).
    """

    roles = ("prior", "posterior", "likelihood")
    distribution_class = tfd.Normal
    parameters = ("loc", "scale")
    trainable = True
    fits = "real-valued data"

    def __init__(self, name, min_scale=DEFAULT, scale="network"):
        super().__init__(name, min_scale=min_scale)
        if not (isinstance(scale, str) and scale in SCALES):
            try:
                scale = checks.real(scale, "scale", strict=True)
            except ValueError:
                raise ValueError(f"{name!r}: scale must be one of {list(SCALES)} or a finite "
                                 f"number > 0; received {scale!r}") from None
        if scale != "network":
            self.options["scale"] = scale
        self.scale = scale

    def num_params(self, event_size):
        return (2 if self.scale == "network" else 1) * event_size

    def initial_shared(self, event_size):
        if self.scale != "shared":
            return super().initial_shared(event_size)
        return np.full([event_size], inverse_softplus(1.0, self.min_scale), np.float32)

    def distribution(self, params, event_shape, shared=None):
        loc, scale = self.loc_and_scale(params, event_shape, shared)
        if len(event_shape) == 1:
            return DiagonalNormal(loc=loc, scale_diag=scale)
        return tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=len(event_shape))

    def loc_and_scale(self, params, event_shape, shared):
        softplus = constraint(tfd.Normal, "scale", self.min_scale)
        if self.scale == "network":
            loc, raw_scale = unflatten(params, event_shape, 2)
            return loc, softplus(raw_scale)
        (loc,) = unflatten(params, event_shape, 1)
        if self.scale == "shared":
            return loc, tf.broadcast_to(softplus(tf.reshape(shared, event_shape)), ps.shape(loc))
        return loc, tf.fill(ps.shape(loc), tf.constant(float(self.scale), loc.dtype))

    def marginal_params(self, x):
        loc = np.mean(x, axis=0, dtype=np.float64).reshape(-1)
        if self.scale != "network":
            return loc.astype(np.float32)
        scale = np.maximum(np.std(x, axis=0, dtype=np.float64).reshape(-1), 2.0 * self.min_scale)
        return np.stack([loc, inverse_softplus(scale, self.min_scale)], axis=-1).reshape(-1).astype(np.float32)

    def initial_params(self, event_size):
        raw_scale = inverse_softplus(1.0, self.min_scale)
        if self.scale != "network":
            return np.zeros([event_size], np.float32)
        loc_scale = [np.zeros(event_size), np.full(event_size, raw_scale)]
        return np.stack(loc_scale, axis=-1).reshape(-1).astype(np.float32)


class StandardNormal(Normal):
    """The fixed prior N(0, I): a `normal` whose parameters are not trained."""

    roles = ("prior",)
    trainable = False
