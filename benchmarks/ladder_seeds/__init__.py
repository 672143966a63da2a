"""The ladder of tests/test_hierarchy.py on digits, seed by seed.

Run as `python -m benchmarks.ladder_seeds`.
"""
