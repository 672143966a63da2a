"""Memory of tfpvae's chunked evaluation, log p(x) with k = 5000 and sampling many x: `python -m benchmarks.memory`."""
