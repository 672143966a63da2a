"""The partially importance-weighted estimator (Rainforth et al., arXiv:1802.04537).

With M x K draws z_mk ~ q(z|x), the generative network follows the gradient
of IWAE_{MK}, the bound over all M K draws, and the inference network that of
MIWAE_{M,K} = 1/M sum_m IWAE_K(block m), whose encoder gradient has a higher
signal-to-noise ratio as K grows.
"""

from tfpvae.backend import tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss
from tfpvae.objectives.miwae import Miwae, group_bounds


class Piwae(Miwae):
    """IWAE gradients for the decoder and prior, MIWAE gradients for the encoder, over the same M x K draws.

    K = `num_samples`. The value is the IWAE bound over all M K draws,
    reported as `iwae`; the MIWAE bound is reported as `miwae`.

    Args:
      num_estimates: M, the number of IWAE_K bounds the encoder's MIWAE averages.
    """

    name = "piwae"
    metric_names = ("iwae", "miwae")

    def __call__(self, batch):
        log_w, metrics = self.log_weights(batch)
        iwae = bounds.iwae_bound(log_w)
        miwae = tf.reduce_mean(group_bounds(log_w, self.num_estimates), axis=0)
        metrics.update(iwae=iwae, miwae=miwae)
        return Loss(-tf.reduce_mean(iwae), metrics, encoder_value=-tf.reduce_mean(miwae))
