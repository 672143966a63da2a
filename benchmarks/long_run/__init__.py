"""The resident memory of a long `tfpvae train`, epoch by epoch.

Run as `python -m benchmarks.long_run`.
"""
