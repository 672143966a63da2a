"""Objectives at equal epochs: test ELBO, log p(x) and the latent diagnostics of each.

    python -m benchmarks.objectives                                     # the bundled 8x8 digits
    python -m benchmarks.objectives --data ../shared/data/mnist.npz --epochs 10 \\
        --json benchmarks/objectives/results/mnist-10-epochs-DATE.json
    python -m benchmarks.objectives --report     # docs/results/objectives.md's tables from their results

The IWAE paper's one-stochastic-layer model (D-200-200-50 tanh, Bernoulli
likelihood, batch 100, Adam 1e-3, the training images binarized afresh every
epoch), trained from the same seed by each objective with the same number of
draws per example (--num-samples), for the same number of epochs. Each is
scored on one statically binarized test set (seed 0, the first
--test-examples images): the ELBO (one z per example) and the
importance-sampled log p(x) with k = --k, in nats per example (higher is
better), the active units, and `VAE.diagnostics`' mutual information I(x; z)
and total correlation of the test images' aggregate posterior (nats; I is at
most log of the number of test images). Objectives run with their default
options except `capacity`, whose C grows over the whole run, and `beta_tc`,
whose q(z) averages over the training set (`specs`). Finished rows are kept in
--json (default benchmarks/objectives/results/DATA-DATE.json, DATA digits or the
file's name), so a stopped run resumes there.
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from benchmarks.common import page_path, pages, results_path  # noqa: E402
from benchmarks.objectives import tables  # noqa: E402
from tfpvae import data, files  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.objectives", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a file tfpvae.data.load_arrays reads (default: the 8x8 digits)")
    parser.add_argument("--objectives", nargs="+", default=tfpvae.objectives.names(),
                        choices=tfpvae.objectives.names())
    parser.add_argument("--epochs", type=int, default=100, help="training epochs of every objective")
    parser.add_argument("--num-samples", type=int, default=5, help="draws of z per example in training")
    parser.add_argument("--k", type=int, default=1000, help="importance samples for log p(x)")
    parser.add_argument("--test-examples", type=int, default=10000, help="test images scored")
    parser.add_argument("--train-examples", type=int, help="train on the first N images (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="the results file, read first to resume (default "
                                       "benchmarks/objectives/results/DATA-DATE.json)")
    parser.add_argument("--report", nargs="?", const=str(page_path("objectives")), metavar="PAGE",
                        help="rewrite the tables of PAGE (default docs/results/objectives.md) from the results "
                             "files its blocks name, and run nothing")
    args = parser.parse_args(argv)
    if args.json is None:
        args.json = str(results_path("objectives", Path(args.data).stem if args.data else "digits"))
    return args


def splits(args):
    source = args.data or "digits"
    train, test = data.load_arrays(source, split="train"), data.load_arrays(source, split="test")
    return train.x[:args.train_examples], data.binarize_static(test.x[:args.test_examples], seed=0)


def specs(args, train_examples):
    """Each objective's spec: its name, with the options that depend on the run's size."""
    steps = args.epochs * math.ceil(train_examples / 100)
    return {"capacity": {"name": "capacity", "steps": steps},
            "beta_tc": {"name": "beta_tc", "dataset_size": train_examples}}


def row(args, name, train, test):
    keras.utils.set_random_seed(args.seed)
    mlp = {"name": "mlp", "units": [200, 200], "activation": "tanh"}
    vae = tfpvae.VAE(event_shape=train.shape[1:], latent_dim=50, encoder=mlp, decoder=mlp,
                     objective=specs(args, len(train)).get(name, name), num_samples=args.num_samples,
                     seed=args.seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    dataset = data.to_dataset(train, batch_size=100, binarize="dynamic", seed=args.seed)
    start = time.perf_counter()
    vae.fit(dataset, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - start
    diagnostics = vae.diagnostics(test, seed=args.seed)
    return {"objective": name, "spec": vae.objective.get_config(), "epochs": args.epochs,
            "num_samples": args.num_samples, "train_examples": len(train),
            "test_elbo": float(vae.elbo(test, num_samples=1).mean()),
            "test_log_px": float(vae.log_likelihood(test, num_samples=args.k).mean()),
            "active_units": vae.active_units(test)[0],
            "mutual_information": diagnostics["mutual_information"],
            "total_correlation": diagnostics["total_correlation"],
            "train_seconds": round(seconds, 1)}


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    done = json.loads(open(args.json).read()) if os.path.exists(args.json) else {"rows": []}
    done.update(data=args.data or "digits", k=args.k, test_examples=args.test_examples)
    train, test = splits(args)
    for name in args.objectives:
        if any(r["objective"] == name and r["epochs"] == args.epochs for r in done["rows"]):
            continue
        print(f"training {name} ...", file=sys.stderr, flush=True)
        done["rows"].append(row(args, name, train, test))
        files.write_json(args.json, done)
    print("\n".join(tables.table(done["rows"])))


if __name__ == "__main__":
    main()
