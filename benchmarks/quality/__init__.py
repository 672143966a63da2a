"""Model quality: Kingma & Welling's Fig. 2 at small scale and an equal-budget comparison: `python -m benchmarks.quality`."""
