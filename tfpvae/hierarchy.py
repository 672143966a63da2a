"""A stack of stochastic layers: z = (z_1, ..., z_L), z_1 next to x.

Inference runs bottom-up and generation top-down (Burda et al.,
arXiv:1509.00519, section 5):

    q(z|x) = q(z_1|x) q(z_2|z_1) ... q(z_L|z_{L-1})
    p(z)   = p(z_L) p(z_{L-1}|z_L) ... p(z_1|z_2)
    p(x, z) = p(x|z_1) p(z)

Both are a `Chain`: a distribution over the levels concatenated into one
vector, z = [z_1, ..., z_L] of size d_1 + ... + d_L, drawn one level at a
time by reparameterized draws. Everything that works with q(z|x) and p(z)
through `sample` and `log_prob` (the Monte Carlo ELBO, the importance-weighted
bounds, log p(x)) works with a stack unchanged. The KL term is taken level
by level at the drawn z (`objectives.bounds.kl_groups`):

    KL(q || p) = E_q[ sum_l KL(q(z_l|z_{l-1}) || p(z_l|z_{l+1})) ]

with the top level's KL in closed form where TFP has one for the pair; below
it p(z_l|z_{l+1}) conditions on a level drawn after z_l, so those levels are
Monte Carlo.

Ladder inference (Sonderby et al., arXiv:1602.02282) runs top-down instead:
a deterministic bottom-up pass gives each level a Gaussian N(mu_l, s_l^2) from
x, and

    q(z_L|x) = N(mu_L, s_L^2),
    q(z_l|z_{l+1}, x) = N(mu_l, s_l^2) * p(z_l|z_{l+1}), renormalized

(`stack.precision_weighted`). Each q(z_l|z_{l+1}, x) and p(z_l|z_{l+1}) then
share the z_{l+1} drawn before z_l, and every level's KL has a closed form.

`tfpvae.stack.Stack` holds the levels' networks and builds these chains.
"""

import functools

from tfpvae.backend import tf, tfp

tfd = tfp.distributions


class Chain(tfd.Distribution):
    """A distribution over z = [z_1, ..., z_L] drawn one level at a time.

    The level `order[0]` is drawn from `first`; then level `order[i + 1]`
    from `steps[i](z_{order[i]})`, a distribution whose batch shape is the
    leading shape of its input. Levels are laid out bottom first whatever the
    order of drawing.

    Args:
      first: the distribution of the level drawn first, batch shape [B].
      steps: one function per later level, from the level drawn before it
        ([..., d]) to a distribution with batch shape [...].
      sizes: d_l of each level, bottom first.
      order: the levels in the order they are drawn (0 is the bottom).

    Example:
      >>> q = Chain(q1, [lambda z1: q2_given(z1)], sizes=[100, 50], order=[0, 1])
      >>> z = q.sample(5, seed=(1, 2))     # [5, B, 150]
      >>> q.log_prob(z)                    # log q(z_1|x) + log q(z_2|z_1), [5, B]
    """

    def __init__(self, first, steps, sizes, order, name="Chain"):
        parameters = dict(locals())
        self.first, self.steps = first, tuple(steps)
        self.sizes, self.order = tuple(int(s) for s in sizes), tuple(int(i) for i in order)
        if len(self.steps) != len(self.sizes) - 1 or sorted(self.order) != list(range(len(self.sizes))):
            raise ValueError(f"a Chain of {len(self.sizes)} levels needs {len(self.sizes) - 1} steps and an "
                             f"order of the levels 0..{len(self.sizes) - 1}; received {len(self.steps)} "
                             f"steps and order {list(self.order)}")
        super().__init__(dtype=first.dtype, reparameterization_type=first.reparameterization_type,
                         validate_args=False, allow_nan_stats=True, parameters=parameters, name=name)

    def split(self, z):
        """The levels of z [..., sum(sizes)], bottom first."""
        return tf.split(z, self.sizes, axis=-1)

    def levels(self, z):
        """Each level's conditional distribution at z, bottom first: the
        first level's as it is, every other given its parent level in z."""
        parts = self.split(z)
        found = {self.order[0]: self.first}
        for i, step in enumerate(self.steps):
            found[self.order[i + 1]] = step(parts[self.order[i]])
        return [found[level] for level in range(len(self.sizes))]

    def center(self, center_of):
        """The levels' centers passed along the chain: z_l = center_of(level l
        given its parent's center). For the bottom-up q(z|x), E_q[z_1] and
        E[z_l | z_{l-1} = the center below]."""
        found = {self.order[0]: center_of(self.first)}
        for i, step in enumerate(self.steps):
            found[self.order[i + 1]] = center_of(step(found[self.order[i]]))
        return tf.concat([found[level] for level in range(len(self.sizes))], axis=-1)

    def with_levels(self, first, step):
        """The same chain with `first` in place of the first level and each
        step s replaced by `step(s, z)`."""
        return Chain(first, [functools.partial(step, s) for s in self.steps], self.sizes, self.order)

    def _batch_shape(self):
        return self.first.batch_shape

    def _batch_shape_tensor(self):
        return self.first.batch_shape_tensor()

    def _event_shape(self):
        return tf.TensorShape([sum(self.sizes)])

    def _event_shape_tensor(self):
        return tf.constant([sum(self.sizes)], tf.int32)

    def _sample_n(self, n, seed=None):
        seeds = tfp.random.split_seed(tfp.random.sanitize_seed(seed), n=len(self.sizes))
        found = {self.order[0]: self.first.sample(n, seed=seeds[0])}
        for i, step in enumerate(self.steps):
            found[self.order[i + 1]] = step(found[self.order[i]]).sample(seed=seeds[i + 1])
        return tf.concat([found[level] for level in range(len(self.sizes))], axis=-1)

    def _log_prob(self, z):
        # The levels' batch shapes broadcast: the first's is [B], the others' that of z.
        return functools.reduce(tf.add, [level.log_prob(part) for level, part in zip(self.levels(z), self.split(z))])
