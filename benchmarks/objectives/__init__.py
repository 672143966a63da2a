"""Every objective on the same model and budget: test ELBO, log p(x) and the latent diagnostics.

Run as `python -m benchmarks.objectives`.
"""
