"""What a `tfpvae.VAE` needs from the Keras backend it trains on.

`Trainer` is the backend's half of the model: its train, test and predict
steps, its random seeds, and how it compiles a function of the model's
weights for evaluation. `tensorflow.Trainer` differentiates with a
`tf.GradientTape` (and runs the XLA loop and `tf.distribute`);
`jax.Trainer` runs Keras's stateless steps under `jax.jit`. The loss, the
metrics and every distribution are the backend-neutral parts of `VAE`.
"""

from tfpvae import backend

if backend.is_jax:
    from tfpvae.trainers.jax import Trainer
else:
    from tfpvae.trainers.tensorflow import Trainer

__all__ = ["Trainer"]
