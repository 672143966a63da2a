"""tfpvae on Keras's JAX backend, on the device JAX sees: MNIST speed and test log p(x): `python -m benchmarks.device`."""
