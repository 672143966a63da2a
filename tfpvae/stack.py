"""The levels of a VAE in one object: their networks and distribution layers,
how z is inferred and drawn, the KL form of each level, and their config.

A `Stack` holds L >= 1 stochastic levels z_1 (next to x), ..., z_L and gives
the model's three distributions (the math of L > 1 is in `tfpvae.hierarchy`):

    q(z|x, c)  `posterior(x, c)`     bottom-up q(z_1|x, c) prod_l q(z_l|z_{l-1}, c),
                                     or the ladder's top-down merge
    p(z)       `prior()`             p(z_L) prod_l p(z_l|z_{l+1})
    p(x|z, c)  `likelihood(z, c)`    from z_1

Level 1 has an encoder network from x to the features of q(z_1|x) and a
decoder network from z_1 to the features of p(x|z_1); level l > 1 has an
encoder from z_{l-1} (bottom-up) or from the features of the level below
(ladder) to those of q(z_l|.), and a decoder from z_l to the features of
p(z_{l-1}|z_l). The top level's p(z_L) is the prior family's.

A conditional VAE's context c (features [B, C], `tfpvae.conditioning`) is
joined to x at the bottom encoder, to z_{l-1} at a bottom-up encoder and to
z_1 at the likelihood's decoder; p(z) does not see it.

The `VAE` holds one stack, built from its arguments; `Stack(**stack.get_config())`
rebuilds it.
"""

import math
import numbers

import keras

from tfpvae import backend, checks, conditioning, networks
from tfpvae.backend import ps, tf
from tfpvae.families.normal import DiagonalNormal
from tfpvae.hierarchy import Chain
from tfpvae.layers import Likelihood, Posterior, Prior
from tfpvae.objectives import bounds

INFERENCE = ("bottom_up", "ladder")


class Stack:
    """The levels of a VAE: each level's networks and distribution layers.

    Args:
      event_shape: shape of one x.
      latent_dim: size of z, or a list [d_1, ..., d_L], one per level, z_1 next to x.
      prior: the prior family spec of the top level's p(z_L).
      posterior: the posterior family spec of every level, or a list of one per level.
      likelihood: the likelihood family spec of p(x|z_1).
      encoder: a network spec or Keras layer, or a list of one per level.
      decoder: the same, for the decoders.
      kl: "auto", "analytic" or "mc": the top level's KL form (see `kl_form`).
      context_dim: size C of the context features c; 0 for none.
      inference: "bottom_up", q(z_l|z_{l-1}) as in Burda et al.
        (arXiv:1509.00519); or "ladder" (Sonderby et al., arXiv:1602.02282),
        top-down, q(z_l|z_{l+1}, x) the precision-weighted merge of the
        encoders' Gaussian for z_l and p(z_l|z_{l+1}); the l-th encoder then
        maps the features of the level below (x's for l = 1) to features,
        and the posterior of every level is "normal". Train a ladder with
        KL warm-up (`tfpvae.callbacks.KLWarmup`): without it the merge keeps
        little information in the lower levels.

    Example:
      >>> stack = Stack((64,), [8, 4], encoder=["mlp", "mlp"], decoder=["mlp", "mlp"])
      >>> stack.build()
      >>> q = stack.posterior(x)           # a `hierarchy.Chain` over [z_1, z_2]
      >>> px = stack.likelihood(q.sample(seed=(1, 2)))
    """

    def __init__(self, event_shape, latent_dim, prior="normal", posterior="normal", likelihood="bernoulli",
                 encoder="mlp", decoder="mlp", kl="auto", context_dim=0, inference="bottom_up"):
        self.event_shape = checks.shape_tuple(event_shape, "event_shape")
        self.latent_sizes = sizes(latent_dim)
        self.latent_dim = list(self.latent_sizes) if isinstance(latent_dim, (list, tuple)) else self.latent_sizes[0]
        self.context_dim = checks.non_negative_int(context_dim, "context_dim")
        self.kl = bounds.check_kl(kl)
        self.inference = check_inference(inference)
        self.encoder_spec, self.decoder_spec = serialize(encoder), serialize(decoder)
        self.posterior_per_level = isinstance(posterior, (list, tuple))
        self._make_layers(encoder, decoder, prior, posterior, likelihood)

    def _make_layers(self, encoder, decoder, prior, posterior, likelihood):
        """The networks and distribution layers of every level.

        Level 1 has `encoder_net`, `posterior_layer`, `decoder_net` and
        `likelihood_layer`; `prior_layer` is the top level's p(z_L). Levels
        l = 2..L add `upper_encoders` and `upper_posteriors` (-> q(z_l|.)),
        and `upper_decoders` and `conditional_priors` (z_l -> p(z_{l-1}|z_l)).
        """
        levels, sizes = len(self.latent_sizes), self.latent_sizes
        encoders = per_level(encoder, levels, "encoder", allow_layer=False)
        decoders = per_level(decoder, levels, "decoder", allow_layer=False)
        posteriors = per_level(posterior, levels, "posterior")
        # An mlp encoder sees x flattened, with c appended; any other sees c as channels of x.
        self.flat_context = len(self.event_shape) == 1 or networks.is_mlp(encoders[0])
        self.encoder_net = networks.build(deserialize(encoders[0]), "encoder", self.event_shape, sizes[0])
        self.decoder_net = networks.build(deserialize(decoders[0]), "decoder", self.event_shape, sizes[0])
        self.posterior_layer = Posterior(posteriors[0], sizes[0], name="posterior")
        self.likelihood_layer = Likelihood(likelihood, self.event_shape, name="likelihood")
        self.prior_layer = Prior(prior, sizes[-1], data_shape=self.event_shape, name="prior")
        self.upper_encoders = [networks.build(deserialize(encoders[l]), "encoder", (sizes[l - 1],), sizes[l],
                                              name=f"encoder_{l + 1}") for l in range(1, levels)]
        if self.inference == "ladder":
            check_ladder(levels, posteriors)
        self.upper_posteriors = [Posterior(posteriors[l], sizes[l], name=f"posterior_{l + 1}")
                                 for l in range(1, levels)]
        self.upper_decoders = [networks.build(deserialize(decoders[l]), "decoder", (sizes[l - 1],), sizes[l],
                                              name=f"decoder_{l + 1}") for l in range(1, levels)]
        self.conditional_priors = [Posterior("normal", sizes[l - 1], name=f"conditional_prior_{l}")
                                   for l in range(1, levels)]
        self._check_prior()

    def _check_prior(self):
        family = self.prior_layer.family
        if family.needs_encoder and len(self.latent_sizes) > 1:
            raise ValueError(f"prior {family.name!r} is built from q(z|x) at pseudo-inputs, which a stack of "
                             f"{len(self.latent_sizes)} latent layers does not support; choose another prior "
                             f"for latent_dim={self.latent_dim}")
        if family.needs_encoder and self.context_dim:
            raise ValueError(f"prior {family.name!r} encodes pseudo-inputs without a context, so it cannot be "
                             f"used with context_dim={self.context_dim}")

    def parts(self):
        """The stack's Keras layers (a layer, or a list of one per upper level)
        by name, in the order they were made. The model that holds the stack
        tracks them under these names, which name their weights in its
        `.keras` files and checkpoints."""
        return [("encoder_net", self.encoder_net), ("decoder_net", self.decoder_net),
                ("posterior_layer", self.posterior_layer), ("likelihood_layer", self.likelihood_layer),
                ("prior_layer", self.prior_layer), ("upper_encoders", self.upper_encoders),
                ("upper_posteriors", self.upper_posteriors), ("upper_decoders", self.upper_decoders),
                ("conditional_priors", self.conditional_priors)]

    def inference_layers(self):
        """The layers of the inference network: the encoders and the posteriors."""
        return [self.encoder_net, self.posterior_layer, *self.upper_encoders, *self.upper_posteriors]

    @property
    def latent_size(self):
        """Size of z: the sum of the levels' sizes."""
        return sum(self.latent_sizes)

    def build(self):
        """Builds every weight from the shapes of x, z and c, those of parts a
        forward pass of x never touches (the prior's) included; nothing runs."""
        if self.context_dim and self.flat_context:
            x_shape = (None, math.prod(self.event_shape) + self.context_dim)
        else:
            x_shape = (None, *self.event_shape[:-1], self.event_shape[-1] + self.context_dim)
        z_shape = (None, self.latent_sizes[0] + self.context_dim)
        parts = [(self.encoder_net, x_shape, self.posterior_layer), (self.decoder_net, z_shape, self.likelihood_layer)]
        below = self.encoder_net.compute_output_shape(x_shape)
        for l in range(1, len(self.latent_sizes)):
            shape = below if self.inference == "ladder" else (None, self.latent_sizes[l - 1] + self.context_dim)
            below = self.upper_encoders[l - 1].compute_output_shape(shape)
            parts += [(self.upper_encoders[l - 1], shape, self.upper_posteriors[l - 1]),
                      (self.upper_decoders[l - 1], (None, self.latent_sizes[l]), self.conditional_priors[l - 1])]
        for network, shape, head in parts:
            if not network.built:
                network.build(shape)
            if not head.built:
                head.build(network.compute_output_shape(shape))
        if not self.prior_layer.built:
            self.prior_layer.build()

    # --- the distributions -------------------------------------------------------

    def prior(self, training=False):
        """p(z); for a stack, the `Chain` p(z_L) prod_l p(z_l|z_{l+1}) drawn top-down."""
        top = self.prior_layer(encode=self.posterior)
        if len(self.latent_sizes) == 1:
            return top
        steps = [lambda z, l=l: self._level(self.upper_decoders[l], self.conditional_priors[l], z, None, training)
                 for l in reversed(range(len(self.upper_decoders)))]
        return Chain(top, steps, self.latent_sizes, reversed(range(len(self.latent_sizes))))

    def posterior(self, x, c=None, training=False):
        """q(z|x, c) for float32 x [B, *event_shape] and context features c [B, C]
        (or None), batch shape [B]; for a stack, a `Chain` over the levels."""
        inputs = x if c is None else conditioning.joined_x(x, c, self.flat_context)
        features = self.encoder_net(inputs, training=training)
        q = self.posterior_layer(features)
        if len(self.latent_sizes) == 1:
            return q
        if self.inference == "ladder":
            return self._ladder_posterior(features, q, training)
        steps = [lambda z, l=l: self._level(self.upper_encoders[l], self.upper_posteriors[l], z, c, training)
                 for l in range(len(self.upper_encoders))]
        return Chain(q, steps, self.latent_sizes, range(len(self.latent_sizes)))

    def _ladder_posterior(self, features, bottom, training):
        """Top-down q(z|x): q(z_L|x) from the encoders, then each q(z_l|z_{l+1}, x)
        the precision-weighted merge of the encoders' Gaussian for z_l with
        p(z_l|z_{l+1}) (Sonderby et al., arXiv:1602.02282, eq. 17-19)."""
        upward = [bottom]
        for network, head in zip(self.upper_encoders, self.upper_posteriors):
            features = network(features, training=training)
            upward.append(head(features))
        steps = [lambda z, l=l: precision_weighted(upward[l], self._level(
                     self.upper_decoders[l], self.conditional_priors[l], z, None, training))
                 for l in reversed(range(len(self.upper_decoders)))]
        return Chain(upward[-1], steps, self.latent_sizes, reversed(range(len(self.latent_sizes))))

    def likelihood(self, z, c=None, training=False):
        """p(x|z, c) for z [..., d] and context features c [B, C] (or None), batch
        shape z.shape[:-1]; c is shared by the draws of z of its example. For a
        stack, z is all levels [..., d_1 + ... + d_L] or z_1 alone."""
        z = tf.convert_to_tensor(z, tf.float32)
        return self._level(self.decoder_net, self.likelihood_layer, z[..., :self.latent_sizes[0]], c, training)

    def _level(self, network, head, z, c, training):
        """The distribution `head` gives for the network's features of z
        [..., d] (joined with c, shared by the draws of its example); its
        batch shape is z.shape[:-1]."""
        batch_shape = backend.static_shape(ps.shape(z)[:-1])
        inputs = tf.reshape(z, [-1, z.shape[-1]])
        if c is not None:
            c = tf.reshape(conditioning.broadcast(c, batch_shape), [-1, self.context_dim])
            inputs = conditioning.joined_z(inputs, c)
        return head(network(inputs, training=training), batch_shape=batch_shape)

    def prior_draw(self, n, seed):
        """n draws z ~ p(z), [n, d]; for one level, from the prior family's
        `draw`: for a relaxed categorical prior, the discrete codes its
        relaxation stands for."""
        prior = self.prior()
        if len(self.latent_sizes) > 1:
            return prior.sample(n, seed=seed)
        return self.prior_layer.family.draw(prior, n, seed)

    # --- the KL term ---------------------------------------------------------------

    def kl_form(self, check=None):
        """The form of KL(q || p), "analytic" or "mc" (`bounds.kl_form`); for a
        stack, a tuple of one per level, bottom first. No network runs: the
        families' example distributions stand in for q and p.

        A bottom-up stack's top level takes the form `kl` asks for (closed
        form where TFP has one) and the levels below are Monte Carlo: there
        p(z_l|z_{l+1}) conditions on a level drawn after z_l, so
        E_q[log q(z_l|z_{l-1}) - log p(z_l|z_{l+1})] has no closed form in
        z_{l+1}. In a ladder, q(z_l|z_{l+1}, x) and p(z_l|z_{l+1}) condition
        on the same z_{l+1}, drawn first, so every level takes that form.

        Args:
          check: None, or a function (q, p) that raises ValueError for a pair
            the model cannot train (the objective's `check`); it sees every
            level's pair and, for a stack, the two chains.

        Raises:
          ValueError: a level's posterior and prior are over different spaces,
            `kl` is "analytic" and TFP has no closed form, or `check` raises.
        """
        return backend.abstractly(lambda: self._kl_form(check or (lambda q, p: None)))

    def _kl_form(self, check):
        examples = []
        for size, (posterior, prior) in zip(self.latent_sizes, self._level_families()):
            if not prior.needs_encoder and prior.latent_space() != posterior.latent_space():
                raise ValueError(f"posterior {posterior.name!r} draws z in {posterior.latent_space()}, but prior "
                                 f"{prior.name!r} is a distribution over {prior.latent_space()}; choose a "
                                 f"posterior and a prior over the same space")
            q, p = posterior.example(size), prior.example(size, posterior=posterior)
            check(q, p)
            examples.append((q, p))
        top = bounds.kl_form(*examples[-1], self.kl)
        if len(examples) == 1:
            return top
        levels = len(examples)
        q = Chain(examples[0][0], [lambda z, q=q: q for q, _ in examples[1:]], self.latent_sizes, range(levels))
        p = Chain(examples[-1][1], [lambda z, p=p: p for _, p in reversed(examples[:-1])], self.latent_sizes,
                  reversed(range(levels)))
        check(q, p)
        if self.inference == "ladder":
            return tuple(bounds.kl_form(q, p, self.kl) for q, p in examples)
        return ("mc",) * (levels - 1) + (top,)

    def _level_families(self):
        """(posterior family, prior family) of each level, bottom first; below
        the top, the prior is the conditional Gaussian p(z_l|z_{l+1})."""
        posteriors = [self.posterior_layer.family] + [layer.family for layer in self.upper_posteriors]
        priors = [layer.family for layer in self.conditional_priors] + [self.prior_layer.family]
        return list(zip(posteriors, priors))

    # --- configuration -------------------------------------------------------------

    def get_config(self):
        """The arguments that rebuild the stack, as JSON-able data."""
        config = {
            "event_shape": list(self.event_shape),
            "latent_dim": self.latent_dim,
            "prior": self.prior_layer.family.get_config(),
            "posterior": self._posterior_config(),
            "likelihood": self.likelihood_layer.family.get_config(),
            "encoder": self.encoder_spec,
            "decoder": self.decoder_spec,
            "kl": self.kl,
            "context_dim": self.context_dim,
        }
        if self.inference != "bottom_up":
            config["inference"] = self.inference
        return config

    def _posterior_config(self):
        """The posterior as given: one family's config, or a list of one per level."""
        levels = [layer.family.get_config() for layer in [self.posterior_layer, *self.upper_posteriors]]
        return levels if self.posterior_per_level else levels[0]


def precision_weighted(upward, prior):
    """N(mu, s^2) with 1/s^2 = 1/s_u^2 + 1/s_p^2 and mu = s^2 (mu_u/s_u^2 + mu_p/s_p^2):
    the product of two diagonal Gaussians, renormalized."""
    upward_precision, prior_precision = upward.stddev() ** -2, prior.stddev() ** -2
    variance = 1.0 / (upward_precision + prior_precision)
    loc = variance * (upward.mean() * upward_precision + prior.mean() * prior_precision)
    return DiagonalNormal(loc=loc, scale_diag=tf.sqrt(variance))


# --- checks before any work ----------------------------------------------------------


def sizes(latent_dim):
    """The levels' sizes, bottom first, of an int or a list of ints.

    Raises:
      ValueError: anything but a positive int or a non-empty list of them.
    """
    values = [latent_dim] if isinstance(latent_dim, numbers.Integral) else latent_dim
    valid = isinstance(values, (list, tuple)) and values and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in values)
    if not valid or isinstance(latent_dim, bool):
        raise ValueError(f"latent_dim must be a positive int or a non-empty list of positive ints "
                         f"(one per stochastic layer, the one next to x first); received {latent_dim!r}")
    return tuple(int(v) for v in values)


def per_level(spec, levels, what, allow_layer=True):
    """One spec per level: a list of `levels` specs as it is, any other spec repeated.

    Raises:
      ValueError: a list of another length, or one Keras layer (which cannot
        serve levels of different sizes) given for several levels.
    """
    if isinstance(spec, (list, tuple)) and not isinstance(spec, str):
        if len(spec) != levels:
            raise ValueError(f"{what} must be one spec for every level or a list of {levels} (one per "
                             f"level, the one next to x first); received a list of {len(spec)}")
        return list(spec)
    if levels > 1 and not allow_layer and not isinstance(spec, (str, dict)):
        raise ValueError(f"{what}: a Keras layer serves one level; for {levels} levels give a list of "
                         f"{levels} layers or specs; received {spec!r}")
    return [spec] * levels


def check_inference(inference):
    """`inference`, checked to be one of INFERENCE."""
    if not isinstance(inference, str) or inference not in INFERENCE:
        raise ValueError(f"inference must be one of {list(INFERENCE)}; received {inference!r}")
    return inference


def check_ladder(levels, posteriors):
    """Raises unless ladder inference can run: two levels or more, each with a diagonal Gaussian q."""
    if levels < 2:
        raise ValueError(f"inference='ladder' needs a stack of latent layers, latent_dim=[d_1, d_2, ...]; "
                         f"received {levels} level")
    names = [p if isinstance(p, str) else p.get("name") if isinstance(p, dict) else p for p in posteriors]
    if any(name != "normal" for name in names):
        raise ValueError(f"inference='ladder' merges diagonal Gaussians, so every level's posterior must be "
                         f"'normal'; received {names}")


def serialize(network):
    """A network spec (or a list of one per level) as JSON-able data: a Keras
    layer becomes its serialized config."""
    if isinstance(network, (list, tuple)):
        return [serialize(n) for n in network]
    if isinstance(network, keras.layers.Layer):
        return keras.saving.serialize_keras_object(network)
    return network


def deserialize(network):
    """The inverse of `serialize`."""
    if isinstance(network, dict) and "class_name" in network:
        return keras.saving.deserialize_keras_object(network)
    return network
