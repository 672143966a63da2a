"""von Mises-Fisher posterior on the sphere (Davidson et al., arXiv:1804.00891)."""

from tfpvae.backend import tfp
from tfpvae.families.hyperspherical import Hyperspherical

tfd = tfp.distributions


class VonMisesFisher(Hyperspherical):
    """q(z|x) = vMF(mu, kappa) on S^(d-1): density C_d(kappa) exp(kappa mu^T z).

    Gradients through z: TFP's sampler draws w = mu^T z and rotates a point
    with that w onto mu, so the gradient to mu is exact. For d = 3 w comes
    from an inversion sampler and TFP declares the draw fully
    reparameterized. For every other d, w comes from Wood's rejection sampler
    in a `tf.while_loop` and TFP declares it not reparameterized: the
    gradient to kappa still flows through the accepted proposal (Davidson et
    al.'s g_rep) but lacks their correction term g_cor, so it is biased. The
    analytic KL to `spherical_uniform` (registered in TFP) gives the KL term
    an exact gradient in kappa; `power_spherical` is the fully
    reparameterized alternative (De Cao & Aziz, arXiv:2001.04856).

    XLA cannot compile the rejection loop's gradient (its loop length is not
    fixed), so a model with this posterior runs without XLA.

    Args:
      min_concentration: lower bound of kappa (default 1).

    Example:
      >>> vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=5,
      ...                  posterior="von_mises_fisher", prior="spherical_uniform")

    References:
      Davidson et al., Hyperspherical Variational Auto-Encoders, arXiv:1804.00891.
    """

    distribution_class = tfd.VonMisesFisher
    xla = False
