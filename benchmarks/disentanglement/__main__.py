"""Disentanglement on `shapes`: β-VAE (β = 1, 4), β-TCVAE (β = 6), FactorVAE
(γ = 10) and DIP-VAE-I, the same networks and budget, every metric of
`tfpvae.disentanglement.evaluate`, several seeds.

    python -m benchmarks.disentanglement train --runs DIR --seeds 0 1
    python -m benchmarks.disentanglement gather --runs DIR --json benchmarks/disentanglement/results/shapes-DATE.json
    python -m benchmarks.disentanglement report     # docs/results/disentanglement.md's table from its results

Each model: 10 latent dimensions; conv encoder and decoder with stride-2
3x3 convolutions of 32, 32, 64, 64 filters and a 256-unit dense layer (ReLU),
the closest tfpvae network to Locatello et al.'s (4x4 kernels); Bernoulli
likelihood; Adam 1e-4 (their rate), batch 64 (theirs), trained on a fixed
uniform sample of the grid (`load_arrays("shapes", max_examples=N)`) for
`--epochs` epochs, where Locatello et al. train 300,000 steps on all of it.
The metrics use `--points` points (Locatello et al.: 10,000). Each model's
run directory RUNS/NAME-SEED holds its model file and result.json; a finished
one is not trained again.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from benchmarks.common import page_path, pages  # noqa: E402
from benchmarks.disentanglement import tables  # noqa: E402
from tfpvae import data, disentanglement, files  # noqa: E402

OBJECTIVES = {
    "beta_vae-1": {"name": "elbo"},
    "beta_vae-4": {"name": "elbo", "beta": 4.0},
    "beta_tc-6": {"name": "beta_tc", "beta": 6.0},
    "factor_vae-10": {"name": "factor_vae", "gamma": 10.0},
    "dip_vae_i": {"name": "dip_vae", "variant": "i"},
}
NETWORK = {"name": "conv", "filters": [32, 32, 64, 64], "units": 256, "activation": "relu"}


def model(objective, seed):
    return tfpvae.VAE(event_shape=(64, 64, 1), latent_dim=10, likelihood="bernoulli", encoder=NETWORK,
                      decoder=NETWORK, objective=objective, seed=seed)


def train_one(run_dir, name, seed, x, args):
    if (run_dir / "result.json").exists():
        return json.loads((run_dir / "result.json").read_text())
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    vae = model(OBJECTIVES[name], seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-4))
    start = time.perf_counter()
    history = vae.fit(x, batch_size=64, epochs=args.epochs, verbose=0).history
    seconds = time.perf_counter() - start
    with files.atomic_path(run_dir / "model.keras") as temporary:
        vae.save(temporary)
    start = time.perf_counter()
    metrics = disentanglement.evaluate(vae, data.ShapesSource(), points=args.points, seed=seed)
    result = {"name": name, "objective": OBJECTIVES[name], "seed": seed, "epochs": args.epochs,
              "train_examples": len(x), "batch_size": 64, "steps": args.epochs * -(-len(x) // 64),
              "train_seconds": round(seconds, 1), "metric_seconds": round(time.perf_counter() - start, 1),
              "points": args.points, "final_loss": history["loss"][-1],
              "final_kl": history.get("kl", [None])[-1], "metrics": metrics,
              "keras_backend": keras.backend.backend(), "tfpvae": tfpvae.__version__}
    files.write_json(run_dir / "result.json", result)
    print(name, seed, json.dumps(metrics), flush=True)
    return result


def train(args):
    x = data.load_arrays("shapes", split="train", max_examples=args.train_examples).x
    for seed in args.seeds:
        for name in args.models:
            train_one(Path(args.runs) / f"{name}-{seed}", name, seed, x, args)


def gather(args):
    """Every finished run's result.json -> one results file."""
    rows = [json.loads(p.read_text()) for p in sorted(Path(args.runs).glob("*/result.json"))]
    files.write_json(args.json, {"runs": str(args.runs), "models": list(OBJECTIVES), "rows": rows})
    print(tables.block(json.loads(Path(args.json).read_text())))


def report(args):
    print(f"{args.page}: {pages.refresh(args.page, tables.block)} tables written")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.disentanglement",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run, gat, rep = (commands.add_parser(name) for name in ("train", "gather", "report"))
    for command in (run, gat):
        command.add_argument("--runs", required=True, help="folder of the run directories, one per model and seed")
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    run.add_argument("--models", nargs="+", default=list(OBJECTIVES), choices=list(OBJECTIVES))
    run.add_argument("--epochs", type=int, default=2)
    run.add_argument("--train-examples", type=int, default=50000)
    run.add_argument("--points", type=int, default=1000)
    gat.add_argument("--json", required=True, help="the results file to write")
    rep.add_argument("--page", default=str(page_path("disentanglement")))
    args = parser.parse_args(argv)
    {"train": train, "gather": gather, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
