"""Training speed, first step and peak memory of tfpvae against two reference VAEs: `python -m benchmarks.throughput`."""
