"""What XLA costs before the first step and saves per step, mode by mode: `python -m benchmarks.xla_policy`."""
