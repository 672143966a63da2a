"""The ladder of tests/test_hierarchy.py on digits, seed by seed, on the backend
Keras runs on: active units per level and the mean ELBO after 20 epochs.

    KERAS_BACKEND=jax python -m benchmarks.ladder_seeds --seeds 0 1 2 3 --json out.json
    python -m benchmarks.ladder_seeds --report     # docs/results/ladder_seeds.md's table from its results
"""

import argparse
import json

import keras
import numpy as np
from sklearn.datasets import load_digits

import tfpvae
from benchmarks.common import page_path, pages
from benchmarks.ladder_seeds import tables


def digits():
    grey = load_digits().images[..., None] / 16.0
    return (np.random.RandomState(0).uniform(size=grey.shape) < grey).astype("float32").reshape(-1, 64)


def mlp(units):
    return {"name": "mlp", "units": units}


def run(x, seed, inference):
    keras.utils.set_random_seed(seed)
    vae = tfpvae.VAE(event_shape=(64,), seed=seed, latent_dim=[8, 4], encoder=[mlp([32, 32]), mlp([16, 16])],
                     decoder=[mlp([32, 32]), mlp([16, 16])], inference=inference)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    vae.fit(x, epochs=20, batch_size=100, verbose=0)
    _, variances = vae.active_units(x)
    return {"backend": keras.backend.backend(), "inference": inference, "seed": seed,
            "active_units": [int(np.sum(variances[:8] > 0.01)), int(np.sum(variances[8:] > 0.01))],
            "elbo": float(np.mean(vae.elbo(x)))}


def main():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ladder_seeds", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--inference", default="ladder", choices=["ladder", "bottom_up"])
    parser.add_argument("--json", help="append the rows to this JSON list")
    parser.add_argument("--report", nargs="?", const=str(page_path("ladder_seeds")), metavar="PAGE",
                        help="rewrite the table of PAGE (default docs/results/ladder_seeds.md) from the results "
                             "file its block names, and run nothing")
    args = parser.parse_args()
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    x = digits()
    rows = []
    for seed in args.seeds:
        rows.append(run(x, seed, args.inference))
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        try:
            with open(args.json) as handle:
                rows = json.load(handle) + rows
        except FileNotFoundError:
            pass
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
