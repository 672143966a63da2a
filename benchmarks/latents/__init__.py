"""Hyperspherical and discrete VAEs against a Gaussian one.

Run as `python -m benchmarks.latents`.
"""
