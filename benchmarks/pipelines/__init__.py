"""Examples/s of input pipelines alone and of `fit` fed by them.

Run as `python -m benchmarks.pipelines`.
"""
