"""Examples/s of input pipelines alone and of `fit` fed by them: `python -m benchmarks.pipelines`."""
