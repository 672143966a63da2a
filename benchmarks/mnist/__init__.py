"""The IWAE paper's MNIST table (Burda et al., Table 1) trained with tfpvae: `python -m benchmarks.mnist`."""
