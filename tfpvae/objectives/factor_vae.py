"""FactorVAE (Kim & Mnih, arXiv:1802.05983): the ELBO with a total correlation penalty a discriminator estimates.

    loss = -1/L sum_l log p(x|z_l) + beta * KL(q(z|x) || p(z)) + gamma * TC

The total correlation TC = KL(q(z) || prod_j q(z_j)) is estimated by the
density-ratio trick: a discriminator D(z) tells draws of q(z) from draws of
prod_j q(z_j), made by permuting each coordinate of the batch's draws across
the batch, and with its logit l(z) = log D(z) / (1 - D(z)),

    TC ~ E_q(z)[l(z)].

The discriminator is trained alongside, with its own optimizer, to minimize

    -1/2 (E_q(z)[log D(z)] + E_prod_j q(z_j)[log(1 - D(z~))])

on the same batch's draws (as disentanglement_lib does; the paper draws a
second batch for the permutation).
"""

import keras

from tfpvae import backend, checks
from tfpvae.backend import ps, tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight

PAPER_UNITS = (1000, 1000, 1000, 1000, 1000, 1000)


@keras.saving.register_keras_serializable(package="tfpvae")
class Discriminator(keras.layers.Layer):
    """An MLP from z to the logit of "z was drawn from q(z), not from prod_j q(z_j)", with its own optimizer.

    Leaky ReLU layers (slope 0.2) of `units`, then one logit; Adam with
    beta_1 = 0.5 and beta_2 = 0.9 (Kim & Mnih). Its weights are not
    trainable from a model's view: `train_on` trains them.

    Args:
      latent_dim: size of z.
      units: the hidden layers' sizes.
      learning_rate: Adam's learning rate.
    """

    def __init__(self, latent_dim, units=PAPER_UNITS, learning_rate=1e-4, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = checks.positive_int(latent_dim, "latent_dim")
        self.units = tuple(checks.positive_int(u, "each entry of discriminator_units") for u in units)
        self.learning_rate = checks.real(learning_rate, "discriminator_learning_rate", strict=True)
        self.hidden = [keras.layers.Dense(u, name=f"hidden_{i}") for i, u in enumerate(self.units)]
        self.logit = keras.layers.Dense(1, name="logit")
        self.optimizer = keras.optimizers.Adam(self.learning_rate, beta_1=0.5, beta_2=0.9)
        self.build((None, self.latent_dim))
        keras.layers.Layer.trainable.fset(self, False)  # freezes the weights just made (see `trainable`)

    def build(self, input_shape):
        shape = input_shape
        for layer in [*self.hidden, self.logit]:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.optimizer.build(self.weights)
        self.built = True

    @property
    def trainable(self):
        """False, always: a model's optimizer never trains the discriminator, `train_on` does."""
        return False

    @trainable.setter
    def trainable(self, value):
        keras.layers.Layer.trainable.fset(self, False)

    def call(self, z):
        features = z
        for layer in self.hidden:
            features = keras.activations.leaky_relu(layer(features), negative_slope=0.2)
        return self.logit(features)[..., 0]

    def train_on(self, codes, permuted):
        """One optimizer step on the discriminator's loss for draws of q(z) and of prod_j q(z_j)."""
        variables = self.weights
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            tape.watch([variable.value for variable in variables])
            loss = tf.reduce_mean(discriminator_loss(self(codes), self(permuted)))
            scaled = self.optimizer.scale_loss(loss / replicas)
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "units": list(self.units),
                "learning_rate": self.learning_rate}


def discriminator_loss(joint_logits, product_logits):
    """-1/2 (log D(z) + log(1 - D(z~))) per pair, from the logits of D."""
    return 0.5 * (tf.nn.softplus(-joint_logits) + tf.nn.softplus(product_logits))


def permute_dims(z, seed):
    """Each column of z [n, d] permuted across the rows on its own: draws of prod_j q(z_j)."""
    order = tf.argsort(tf.random.stateless_uniform(ps.shape(z), seed=seed), axis=0)
    return tf.transpose(tf.gather(tf.transpose(z), tf.transpose(order), batch_dims=1))


class FactorVae(Objective):
    """The ELBO with its total correlation penalized, estimated by a discriminator trained alongside.

    Works with any posterior and prior, and with a stack of latent layers
    (the discriminator reads all levels). The discriminator is the
    objective's own layer (`own_layer`): the model holds and saves it, with
    its optimizer's state, and trains it after each of its own steps.
    Reports the estimate of TC and the discriminator's loss (log 2 = 0.693
    where it cannot tell the two apart).

    Args:
      gamma: weight of the total correlation (Kim & Mnih use 10 to 100).
      beta: weight of the KL term; the model's KL weight, so
        `callbacks.KLWarmup` ramps it.
      discriminator_units: the discriminator's hidden layers (Kim & Mnih: 6 of 1000).
      discriminator_learning_rate: its Adam learning rate (Kim & Mnih: 1e-4).
    """

    name = "factor_vae"
    metric_names = ("total_correlation", "discriminator_loss")

    def __init__(self, gamma=10.0, beta=1.0, discriminator_units=PAPER_UNITS, discriminator_learning_rate=1e-4):
        self.gamma, self.beta = weight(gamma, "gamma"), weight(beta, "beta")
        if not isinstance(discriminator_units, (list, tuple)) or not discriminator_units:
            raise ValueError(f"discriminator_units must be a non-empty list of positive ints; "
                             f"received {discriminator_units!r}")
        units = tuple(checks.positive_int(u, "each entry of discriminator_units") for u in discriminator_units)
        rate = checks.real(discriminator_learning_rate, "discriminator_learning_rate", strict=True)
        self.discriminator = None
        super().__init__(gamma=self.gamma, beta=self.beta, discriminator_units=units,
                         discriminator_learning_rate=rate)

    def own_layer(self, latent_size):
        """The discriminator, made on the first call; a later call for another size is an error."""
        if backend.is_jax:
            raise NotImplementedError("the factor_vae objective trains its discriminator with a tf.GradientTape "
                                      "inside the model's step, which needs the TensorFlow backend "
                                      "(KERAS_BACKEND=tensorflow); on JAX, beta_tc penalizes the same total "
                                      "correlation without a discriminator")
        if self.discriminator is None:
            self.discriminator = Discriminator(latent_size, self.options["discriminator_units"],
                                               self.options["discriminator_learning_rate"], name="discriminator")
        elif self.discriminator.latent_dim != latent_size:
            raise ValueError(f"this factor_vae objective's discriminator reads z of size "
                             f"{self.discriminator.latent_dim}, not {latent_size}; give each model its own "
                             f"objective (by name or spec)")
        return self.discriminator

    def __call__(self, batch):
        discriminator = self.own_layer(batch.latent_dim)
        z = batch.q.sample(batch.num_samples, seed=batch.seed)
        reconstruction = tf.reduce_mean(batch.decode(z).log_prob(batch.x), axis=0)
        kl = tf.reduce_sum(bounds.kl_groups(batch.q, batch.prior, z, batch.kl_form), axis=-1)
        codes = tf.reshape(z, [-1, z.shape[-1]])
        permuted = permute_dims(tf.stop_gradient(codes), backend.fold_in(batch.seed, 1))
        logits = discriminator(tf.concat([codes, permuted], axis=0))
        count = ps.shape(codes)[0]
        joint, product = logits[:count], logits[count:]
        per_draw = tf.reshape(tf.stack([joint, discriminator_loss(tf.stop_gradient(joint), product)]),
                              [2, -1, ps.shape(batch.x)[0]])
        total_correlation, critic = tf.unstack(tf.reduce_mean(per_draw, axis=1))
        loss = tf.reduce_mean(batch.kl_weight * kl - reconstruction + self.gamma * total_correlation)
        metrics = {**bounds.elbo_metrics(reconstruction, kl), "total_correlation": total_correlation,
                   "discriminator_loss": critic}
        return Loss(loss, metrics, own_inputs=(tf.stop_gradient(codes), permuted))

    def update(self, loss):
        self.discriminator.train_on(*loss.own_inputs)

    def get_config(self):
        config = super().get_config()
        if isinstance(config, dict) and "discriminator_units" in config:
            config["discriminator_units"] = list(config["discriminator_units"])
        return config
