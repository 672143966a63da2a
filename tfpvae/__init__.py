"""tfpvae: variational autoencoders on TensorFlow Probability and Keras 3.

    import tfpvae
    vae = tfpvae.VAE(event_shape=(28, 28, 1), latent_dim=16)

Importing tfpvae registers its Keras classes, so `keras.models.load_model`
reads saved tfpvae models. It runs on Keras's TensorFlow or JAX backend, the
one Keras is configured with (`tfpvae.backend`). TensorFlow's C++ start-up lines are silenced unless
TF_CPP_MIN_LOG_LEVEL is 0 (see `tfpvae.startup`).
"""

__version__ = "0.1.0"

from tfpvae import backend  # noqa: E402,F401  (first: it picks the substrate and imports Keras quietly)
from tfpvae import (callbacks, data, disentanglement, evaluation, families, layers, losses,  # noqa: E402
                    metrics, networks, objectives, plots, samplers, schedules, scores)
from tfpvae.model import VAE  # noqa: E402

__all__ = ["VAE", "callbacks", "data", "disentanglement", "evaluation", "families", "layers", "losses", "metrics",
           "networks", "objectives", "plots", "samplers", "schedules", "scores", "__version__"]
