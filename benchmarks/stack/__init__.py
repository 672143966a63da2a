"""Per-level KL and active units of a stack of latent layers on MNIST: `python -m benchmarks.stack`."""
