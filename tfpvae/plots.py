"""Pictures of a trained VAE, as PNG files, drawn with matplotlib."""

import math

import numpy as np

from tfpvae.backend import tfp
from tfpvae.files import atomic_path


def pyplot():
    """matplotlib.pyplot on a file-only backend, or an ImportError saying how to get it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "pictures need matplotlib: pip install matplotlib"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def as_images(x):
    """[N, H, W, C] or [N, d] data as images for display ([N, H, W] or [N, H, W, 3])."""
    x = np.asarray(x, np.float32)
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"cannot show vectors of size {x.shape[1]} as square images")
        x = x.reshape(-1, side, side, 1)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be [N, H, W, 1 or 3]; received shape {x.shape}")
    x = np.clip(x, 0.0, 1.0)
    return x[..., 0] if x.shape[-1] == 1 else x


def tile(images, columns):
    """Images [N, H, W(, 3)] as one mosaic with a one-pixel white border."""
    n, h, w = images.shape[:3]
    rows = math.ceil(n / columns)
    pad = [(0, rows * columns - n), (1, 1), (1, 1)] + [(0, 0)] * (images.ndim - 3)
    padded = np.pad(images, pad, constant_values=1.0)
    padded = padded.reshape(rows, columns, h + 2, w + 2, *images.shape[3:])
    return padded.swapaxes(1, 2).reshape(rows * (h + 2), columns * (w + 2), *images.shape[3:])


def save_figure(figure, path):
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, bbox_inches="tight")
    pyplot().close(figure)


def image_grid(x, path, title, columns=8):
    """A grid of images with a title."""
    plt = pyplot()
    mosaic = tile(as_images(x), columns)
    width = max(4.0, 0.6 * columns)
    figure, axes = plt.subplots(figsize=(width, width * mosaic.shape[0] / mosaic.shape[1] + 0.5))
    axes.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_title(title)
    axes.axis("off")
    save_figure(figure, path)


def reconstructions(x, reconstruction, path, count=8):
    """Inputs (top row) above their reconstructions (bottom row)."""
    pairs = np.concatenate([x[:count], reconstruction[:count]])
    image_grid(pairs, path, "inputs (top) and reconstructions (bottom)", columns=min(count, len(x)))


def manifold(vae, path, size=15):
    """Decoded means over a grid of z in a 2-D latent space (Kingma & Welling, Fig. 4).

    The grid is evenly spaced in probability: z = Phi^-1(u) for u on a grid in
    (0, 1), so it covers N(0, I) prior mass evenly.
    """
    if vae.latent_dim != 2:
        raise ValueError(f"the latent manifold needs latent_dim 2; the model has {vae.latent_dim}")
    grid = tfp.distributions.Normal(0.0, 1.0).quantile(np.linspace(0.05, 0.95, size)).numpy()
    z = np.array([[a, b] for b in grid[::-1] for a in grid], np.float32)
    means = vae.decode(z).mean().numpy()
    image_grid(means, path, "decoded latent manifold (z on a grid of prior quantiles)", columns=size)


def latent_scatter(z, labels, path):
    """Encoded test points in a 2-D latent space, coloured by label."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 5))
    colour = labels if labels is not None else "tab:blue"
    points = axes.scatter(z[:, 0], z[:, 1], c=colour, cmap="tab10", s=6)
    if labels is not None:
        figure.colorbar(points, ax=axes, label="label")
    axes.set_title("posterior means of test points")
    axes.set_xlabel("z[0]")
    axes.set_ylabel("z[1]")
    save_figure(figure, path)
