"""The IWAE paper's MNIST table (Burda et al., Table 1) trained with tfpvae.

Run as `python -m benchmarks.mnist`.
"""
