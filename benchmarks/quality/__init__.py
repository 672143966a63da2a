"""Model quality: Kingma & Welling's Fig. 2 at small scale, and an equal-budget comparison.

Run as `python -m benchmarks.quality`.
"""
