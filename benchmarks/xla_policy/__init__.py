"""What XLA costs before the first step and saves per step, mode by mode.

Run as `python -m benchmarks.xla_policy`.
"""
