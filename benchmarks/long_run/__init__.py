"""The resident memory of a long `tfpvae train`, epoch by epoch: `python -m benchmarks.long_run`."""
