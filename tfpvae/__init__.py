"""tfpvae: variational autoencoders on TensorFlow Probability and Keras 3.

    import tfpvae
    vae = tfpvae.VAE(event_shape=(28, 28, 1), latent_dim=16)

Submodules load on first use, so `tfpvae --help` starts without TensorFlow.
"""

import importlib

__version__ = "0.1.0"

SUBMODULES = ("callbacks", "data", "families", "layers", "networks", "objectives", "plots")
__all__ = ["VAE", *SUBMODULES, "__version__"]


def __getattr__(name):
    if name == "VAE":
        from tfpvae.model import VAE

        return VAE
    if name in SUBMODULES:
        return importlib.import_module(f"tfpvae.{name}")
    raise AttributeError(f"module 'tfpvae' has no attribute {name!r}")
