"""The capacity-annealed beta-VAE (Burgess et al., arXiv:1804.03599).

    loss = -1/L sum_l log p(x|z_l) + gamma * |KL(q(z|x) || p(z)) - C_t|,
    C_t = C * min(1, t / T)

with t the optimizer's step count (`Batch.step`): the KL is held near a
capacity C_t that grows linearly from 0 to C over T steps.
"""

from tfpvae import checks
from tfpvae.backend import ps, tf
from tfpvae.objectives import bounds
from tfpvae.objectives.base import Loss, Objective, weight


class Capacity(Objective):
    """The ELBO with the KL pulled towards a capacity C that grows linearly over training.

    The schedule follows the optimizer's step count, so a second `fit`
    continues it and a reloaded model resumes it; outside training (a batch
    with no step) C is the target. Reports C_t as `capacity`.

    Args:
      gamma: weight of |KL - C_t|; the model's KL weight multiplies it too.
      capacity: C, the target KL in nats.
      steps: T, the optimizer steps over which C_t grows from 0 to C.
    """

    name = "capacity"
    metric_names = ("capacity",)

    def __init__(self, gamma=1000.0, capacity=25.0, steps=100000):
        self.gamma, self.capacity = weight(gamma, "gamma"), weight(capacity, "capacity")
        self.steps = checks.positive_int(steps, "steps")
        super().__init__(gamma=self.gamma, capacity=self.capacity, steps=self.steps)

    def target(self, step):
        """C_t for the optimizer's step count t (None: the target C)."""
        if step is None:
            return tf.constant(self.capacity)
        return self.capacity * tf.minimum(1.0, tf.cast(step, tf.float32) / self.steps)

    def __call__(self, batch):
        reconstruction, kl = bounds.elbo_terms(batch.q, batch.prior, batch.decode, batch.x, batch.num_samples,
                                               batch.kl_form, batch.seed)
        capacity = self.target(batch.step)
        loss = batch.kl_weight * self.gamma * tf.reduce_mean(tf.abs(kl - capacity)) - tf.reduce_mean(reconstruction)
        metrics = bounds.elbo_metrics(reconstruction, kl)
        metrics["capacity"] = tf.fill(ps.shape(kl), capacity)
        return Loss(loss, metrics)
