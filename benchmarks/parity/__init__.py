"""Test log p(x) of one MNIST VAE trained on the JAX and on the TensorFlow backend.

Run as `python -m benchmarks.parity`.
"""
