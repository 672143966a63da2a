"""`tfpvae.export.export(vae, path)`: a VAE as a TF SavedModel with named signatures.

The same as `vae.export(path)`; the signatures and the way the directory is
written are in `tfpvae.saved_model`.
"""

from tfpvae import saved_model
from tfpvae.model import VAE


def export(vae, path, version=None, overwrite=False):
    """Writes `vae` as a TF SavedModel (see `tfpvae.saved_model.export`).

    Raises:
      TypeError: `vae` is not a `tfpvae.VAE`.
    """
    if not isinstance(vae, VAE):
        raise TypeError(f"export needs a tfpvae.VAE; received {type(vae).__name__}: {vae!r:.80}")
    return saved_model.export(vae, path, version=version, overwrite=overwrite)
