"""The family interface: how unconstrained numbers become a `tfd.Distribution`.

A family is declared once. It says how many unconstrained parameters it needs
for one event of a given shape, how those parameters become a TFP
distribution, which values of x it can score (its support), and, for priors,
where its free parameters start.
"""


import numpy as np

from tfpvae.backend import ps, tf, tfp

tfb = tfp.bijectors
tfd = tfp.distributions

ROLES = ("prior", "posterior", "likelihood")
# Lower bound of a scale (softplus-constrained) parameter unless a family is given another.
MIN_SCALE = 1e-4


def constraint(distribution_class, parameter, floor=None):
    """The bijector from R onto the support of one TFP parameter.

    Taken from TFP's `parameter_properties()`, so a scale gets a softplus and a
    logit stays unconstrained. `floor` raises the lower bound of a softplus
    (TFP's default is machine epsilon), which keeps log-densities finite when a
    network drives a scale towards zero.
    """
    properties = distribution_class.parameter_properties()[parameter]
    bijector = properties.default_constraining_bijector_fn()
    if floor is not None and isinstance(bijector, tfb.Softplus):
        bijector = tfb.Softplus(low=floor)
    return bijector


def inverse_softplus(y, floor=0.0):
    """The x with softplus(x) + floor = y, for initializing scales; elementwise
    on arrays, and stable for large y: log(expm1(s)) = s + log(-expm1(-s))."""
    shifted = np.asarray(y, np.float64) - floor
    return shifted + np.log(-np.expm1(-shifted))


class Family:
    """A named, configurable way to build a distribution from raw parameters.

    Subclasses set `roles` (the roles it can play), `support` (a short text for
    error messages and docs) and implement `num_params` and `distribution`.
    Every other hook below has a default that fits a family of that kind:
    `support_error`, `initial_params`, `initial_shared`, `example`, and for
    priors `trainable`, `needs_encoder`, `pseudo_inputs` and `mixture`.
    Options given to `__init__` are stored in `self.options` and come back from
    `get_config`, so `families.get(family.get_config())` rebuilds it.
    """

    roles = ()
    support = "(-inf, inf)"
    low = None
    high = None
    integer = False
    open_interval = False
    hint = ""
    fits = "real-valued data"
    elementwise = False  # True when each element of x has its own parameters
    xla = True  # False when XLA cannot compile the family's ops
    trainable = False  # as a prior: True when its parameters are trained with the model
    needs_encoder = False  # as a prior: True when it is built from q(z|x) at learned pseudo-inputs

    def __init__(self, name, **options):
        self.name = name
        self.options = options

    def get_config(self):
        return {"name": self.name, **self.options}

    def num_params(self, event_size):
        """Raw parameters needed for one event with `event_size` elements."""
        raise NotImplementedError

    def distribution(self, params, event_shape):
        """The distribution whose batch shape is `params.shape[:-1]`.

        Args:
          params: float tensor `[..., num_params(prod(event_shape))]`.
          event_shape: tuple of ints, the shape of one event.

        Returns:
          A `tfd.Distribution` with that event shape.
        """
        raise NotImplementedError

    def initial_params(self, event_size):
        """Starting values of the raw parameters when they are free weights."""
        return np.zeros([self.num_params(event_size)], np.float32)

    def marginal_params(self, x):
        """Raw parameters under which each element of x follows its marginal
        over the examples (e.g. each pixel's mean for a Bernoulli), laid out
        as `distribution` reads them: a likelihood head starts there
        (`Head.initialize_from`), so p(x|z) is the data's marginal before z
        carries anything. None (the default) where a family has no such fit.

        Args:
          x: numpy array [N, *event_shape] inside the family's support.

        Returns:
          numpy float32 [num_params(prod(event_shape))], or None.
        """
        return None

    def initial_shared(self, event_size):
        """Starting values of weights shared by all examples (none by default).

        A family with shared weights (a learned per-dimension scale, a flow's
        networks) returns them here; its layer owns them as one trainable
        variable and passes them to `distribution(..., shared=...)`.
        """
        return np.zeros([0], np.float32)

    def example(self, event_size, posterior=None):
        """The distribution over vectors of `event_size` at starting parameters,
        with no network run: what the model checks its KL's form and its
        objective against, and what the docs describe.

        Args:
          event_size: size of one draw.
          posterior: the posterior `Family`, for a prior built from q(z|x)
            (`needs_encoder`).
        """
        params = tf.constant(self.initial_params(event_size))
        shared = self.initial_shared(event_size)
        if shared.size:
            return self.distribution(params, (event_size,), shared=tf.constant(shared))
        return self.distribution(params, (event_size,))

    def latent_space(self):
        """The space a prior's or posterior's z lives in, in words; the model
        refuses a posterior and a prior over different spaces."""
        return "R^d"

    def pseudo_inputs(self, params, data_shape):
        """For a prior with `needs_encoder`: its weights as the inputs [K, *data_shape] to encode."""
        raise NotImplementedError(f"{self.name!r} is not built from pseudo-inputs")

    def mixture(self, q):
        """For a prior with `needs_encoder`: p(z) from q(z|u) at its pseudo-inputs (batch shape [K])."""
        raise NotImplementedError(f"{self.name!r} is not built from pseudo-inputs")

    # --- hooks for latent families beyond the Gaussian ---------------------

    # False when the shared weights are set from outside (a temperature), not trained.
    shared_trainable = True

    def draw(self, distribution, sample_shape, seed):
        """z for generating new x from this prior: a draw from `distribution`.

        A relaxed discrete prior overrides it to return the discrete codes
        its relaxation stands for.

        Args:
          distribution: this family's distribution, from `self.distribution`.
          sample_shape: how many draws (an int or shape).
          seed: a stateless seed pair.

        Returns:
          A tensor `[*sample_shape, *event_shape]`.
        """
        return distribution.sample(sample_shape, seed=seed)

    def support_error(self, x):
        """A message when numpy array `x` lies outside the support, else None."""
        if not np.all(np.isfinite(x)):
            return f"{self.name!r} needs finite x; received NaN or inf"
        lo, hi = float(np.min(x)), float(np.max(x))
        below = self.low is not None and (lo <= self.low if self.open_interval else lo < self.low)
        above = self.high is not None and (hi >= self.high if self.open_interval else hi > self.high)
        fractional = self.integer and not np.array_equal(np.floor(x), x)
        if not (below or above or fractional):
            return None
        return (
            f"{self.name!r} needs x in {self.support}; received "
            f"{'non-integer values in ' if fractional else 'values in '}"
            f"[{lo:g}, {hi:g}]. {self.hint}".rstrip()
        )

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def unflatten(params, event_shape, count):
    """Reshapes `[..., count * n]` into `count` tensors of shape `[..., *event_shape]`."""
    shape = ps.concat([ps.shape(params)[:-1], list(event_shape), [count]], axis=0)
    stacked = tf.reshape(params, shape)
    return tf.unstack(stacked, num=count, axis=-1)


def over_event(vector_distribution, event_shape):
    """A distribution over vectors of prod(event_shape) seen over `event_shape`."""
    if len(event_shape) == 1:
        return vector_distribution
    n = int(tf.TensorShape(event_shape).num_elements())
    return tfd.TransformedDistribution(vector_distribution, tfb.Reshape(event_shape, event_shape_in=[n]))
