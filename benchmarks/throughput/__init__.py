"""Training speed, first step and peak memory of tfpvae against two reference VAEs.

Run as `python -m benchmarks.throughput`.
"""
