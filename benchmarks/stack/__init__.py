"""Per-level KL and active units of a stack of latent layers on MNIST.

Run as `python -m benchmarks.stack`.
"""
