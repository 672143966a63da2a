"""Hyperspherical and discrete VAEs against a Gaussian one: `python -m benchmarks.latents`."""
