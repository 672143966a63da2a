"""tfpvae on Keras's JAX and TensorFlow backends against a plain Keras-3 VAE on JAX.

Run as `python -m benchmarks.backends`.
"""
