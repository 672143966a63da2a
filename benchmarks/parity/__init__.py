"""Test log p(x) of one MNIST VAE trained on the JAX and on the TensorFlow backend: `python -m benchmarks.parity`."""
