"""The ELBO (Kingma & Welling, arXiv:1312.6114), with a KL weight and free bits.

    loss = beta * KL_term - 1/L sum_l log p(x|z_l),   z_l ~ q(z|x)

where KL_term is the batch's mean KL(q(z|x) || p(z)) (analytic or Monte Carlo,
see `bounds.kl_form`) or, with free bits lambda, sum_g max(lambda_g, E_batch[KL_g]).
"""

from tfpvae.backend import tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight


class Elbo(Objective):
    """The evidence lower bound, averaged over L reparameterized draws.

    Args:
      beta: weight of the KL term (beta-VAE, Higgins et al. 2017).
      free_bits: nats per latent dimension below which the KL is not
        penalized (Kingma et al., arXiv:1606.04934); 0 turns it off.
    """

    name = "elbo"

    def __init__(self, beta=1.0, free_bits=0.0):
        self.beta, self.free_bits = weight(beta, "beta"), weight(free_bits, "free_bits")
        super().__init__(beta=self.beta, free_bits=self.free_bits)

    def __call__(self, batch):
        reconstruction, kl_groups = bounds.elbo_parts(batch.q, batch.prior, batch.decode, batch.x,
                                                      batch.num_samples, batch.kl_form, batch.seed)
        kl = tf.reduce_sum(kl_groups, axis=-1)
        kl_term = tf.reduce_mean(kl)
        if self.free_bits:
            kl_term = bounds.free_bits_kl(kl_groups, self.free_bits, batch.latent_dim)
        loss = batch.kl_weight * kl_term - tf.reduce_mean(reconstruction)
        return Loss(loss, bounds.elbo_metrics(reconstruction, kl))
