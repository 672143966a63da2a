"""tfpvae on Keras's JAX backend, on the device JAX sees: MNIST speed and test log p(x).

Run as `python -m benchmarks.device`.
"""
