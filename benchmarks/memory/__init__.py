"""Memory of tfpvae's chunked evaluation: log p(x) with k = 5000 and sampling many x.

Run as `python -m benchmarks.memory`.
"""
