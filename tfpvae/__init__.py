"""tfpvae: variational autoencoders on TensorFlow Probability and Keras 3."""

from tfpvae import families, layers, networks, objectives
from tfpvae.model import VAE

__version__ = "0.1.0"

__all__ = ["VAE", "families", "layers", "networks", "objectives", "__version__"]
