"""Model quality: Kingma & Welling's Fig. 2 at small scale, and an equal-budget comparison.

    python -m benchmarks.quality                                   # the bundled 8x8 digits
    python -m benchmarks.quality --data mnist.npz --json quality.json
    python -m benchmarks.quality --report     # docs/results/quality.md's tables from their results

(i) Kingma & Welling (arXiv:1312.6114), Fig. 2: the lower bound (ELBO per
    example, train and test) against the number of training examples seen, for
    several latent sizes. tfpvae with an MLP encoder and decoder (one tanh
    layer of --kw-hidden units, as K&W's MNIST model; Adam 1e-3 instead of
    their Adagrad), batch 100, dynamic binarization. The bound is evaluated at
    log-spaced epochs on the whole (statically binarized) test set and on a
    fixed, statically binarized subset of the training set.

(ii) Equal budget: the IWAE paper's one-stochastic-layer model (D-200-200-50,
    tanh, Bernoulli likelihood, batch 100, Adam 1e-3, a fresh Bernoulli draw
    of the training images every epoch) trained for the same number of epochs
    by tfpvae (ELBO), tfpvae (IWAE bound, k=--iwae-k), the Keras-3 reference
    and the tfp.layers reference (benchmarks/common/references.py). Each is scored on
    the same statically binarized test set: ELBO (one z per example, analytic
    KL) and importance-sampled log p(x) with k = --k samples.

All numbers are nats per example (higher is better). Markdown tables go to
stdout, progress to stderr, everything to --json.
"""

import argparse
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfpvae  # noqa: E402
from benchmarks.common import page_path, pages, references  # noqa: E402
from benchmarks.quality import tables  # noqa: E402
from tfpvae import data  # noqa: E402

BATCH_SIZE = 100
LEARNING_RATE = 1e-3
DEFAULT_EPOCHS = {"digits": (100, 300), "other": (10, 20)}  # (--epochs, --kw-epochs)


def parse_args(argv=None):
    """The command-line options; epoch defaults depend on the data."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a file tfpvae.data.load_arrays reads, e.g. a Keras-format "
                                       "mnist.npz (default: scikit-learn's bundled 8x8 digits)")
    parser.add_argument("--parts", nargs="+", choices=("kw", "budget"), default=["kw", "budget"],
                        help="kw: Kingma & Welling Fig. 2 curves; budget: equal-budget comparison")
    parser.add_argument("--epochs", type=int, help="epochs of the equal-budget comparison "
                                                   "(default 100 on digits, 10 otherwise)")
    parser.add_argument("--k", type=int, default=1000, help="importance samples for log p(x) (default 1000)")
    parser.add_argument("--iwae-k", type=int, default=5, help="samples of the IWAE-trained tfpvae (default 5)")
    parser.add_argument("--latents", type=int, nargs="+", default=[2, 5, 10, 20],
                        help="latent sizes of the K&W curves (default 2 5 10 20)")
    parser.add_argument("--kw-epochs", type=int, help="epochs of each K&W curve (default 300 on digits, 20 otherwise)")
    parser.add_argument("--kw-hidden", type=int, nargs="+", default=[500],
                        help="hidden layers of the K&W model (default one of 500 units)")
    parser.add_argument("--kw-points", type=int, default=10, help="log-spaced evaluation points per curve")
    parser.add_argument("--train-eval", type=int, default=2000,
                        help="training examples on which the train bound is evaluated (default 2000)")
    parser.add_argument("--test-examples", type=int, default=0,
                        help="score only the first N test examples (default 0: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="training seeds of the equal-budget comparison; results are mean and "
                             "standard deviation over them (default 0)")
    parser.add_argument("--json", help="write all results to this JSON file")
    parser.add_argument("--report", nargs="?", const=str(page_path("quality")), metavar="PAGE",
                        help="rewrite the tables of PAGE (default docs/results/quality.md) from the results "
                             "files its blocks name, and run nothing")
    args = parser.parse_args(argv)
    epochs, kw_epochs = DEFAULT_EPOCHS["other" if args.data else "digits"]
    args.epochs = args.epochs or epochs
    args.kw_epochs = args.kw_epochs or kw_epochs
    return args


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- data ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Splits:
    """Training grey levels, and the fixed binarized sets every model is scored on.

    Attributes:
      train: float32 [N, *event_shape] in [0, 1], binarized afresh every epoch.
      train_eval: a statically binarized subset of train (seed 1), for the train bound.
      test: the statically binarized test set (seed 0), the same for every model.
      event_shape: shape of one x.
      source: what was loaded.
    """

    train: np.ndarray
    train_eval: np.ndarray
    test: np.ndarray
    event_shape: tuple
    source: str

    @property
    def dim(self):
        return int(np.prod(self.event_shape))


def load_splits(args):
    """Loads --data (or the digits) and binarizes the evaluation sets once, with fixed seeds."""
    source = args.data or "digits"
    if not args.data:
        log("no --data given: running on scikit-learn's bundled 8x8 digits (1,500 train, 297 test)")
    train, test = data.load_arrays(source, split="train"), data.load_arrays(source, split="test")
    x_test = data.binarize_static(test.x, seed=0)
    if args.test_examples:
        x_test = x_test[:args.test_examples]
    train_eval = data.binarize_static(train.x[:args.train_eval], seed=1)
    return Splits(train.x, train_eval, x_test, tuple(train.event_shape), train.source)


def flat(x):
    return x.reshape(len(x), -1)


# --- models ------------------------------------------------------------------------------------


def tfpvae_model(event_shape, hidden, latent_dim, seed, **options):
    """A compiled tfpvae VAE with MLP encoder and decoder of `hidden` tanh units."""
    keras.utils.set_random_seed(seed)
    mlp = {"name": "mlp", "units": list(hidden), "activation": "tanh"}
    vae = tfpvae.VAE(event_shape=event_shape, latent_dim=latent_dim, encoder=mlp, decoder=mlp, **options)
    vae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    return vae


def train_tfpvae(vae, splits, epochs, seed, callbacks=()):
    """Trains on dynamically binarized batches (tfpvae.data.to_dataset); returns seconds."""
    dataset = data.to_dataset(splits.train, batch_size=BATCH_SIZE, binarize="dynamic", seed=seed)
    start = time.perf_counter()
    vae.fit(dataset, epochs=epochs, verbose=0, callbacks=list(callbacks))
    return time.perf_counter() - start


def train_reference(reference, splits, epochs, seed):
    """Trains a reference one epoch per fit, on a fresh Bernoulli draw of the images each epoch; returns seconds."""
    rng = np.random.default_rng(seed)
    x = flat(splits.train)
    start = time.perf_counter()
    for _ in range(epochs):
        binary = (rng.uniform(size=x.shape) < x).astype(np.float32)
        reference.fit(binary, epochs=1, batch_size=BATCH_SIZE, shuffle=True, verbose=0)
    return time.perf_counter() - start


# --- (i) Kingma & Welling, Fig. 2 --------------------------------------------------------------


def eval_epochs(epochs, points):
    """About `points` log-spaced epoch numbers in 1..epochs, always ending at epochs."""
    marks = np.unique(np.round(np.geomspace(1, epochs, num=max(points, 1))).astype(int))
    return sorted(set(marks.tolist()) | {epochs})


class BoundCurve(keras.callbacks.Callback):
    """Records (examples seen, train ELBO, test ELBO) at chosen epochs."""

    def __init__(self, splits, epochs):
        super().__init__()
        self.splits, self.marks, self.points = splits, set(epochs), []

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.marks:
            seen = (epoch + 1) * len(self.splits.train)
            train, test = (float(self.model.elbo(x, num_samples=1).mean())
                           for x in (self.splits.train_eval, self.splits.test))
            self.points.append({"epoch": epoch + 1, "examples_seen": seen, "train_elbo": train,
                                "test_elbo": test})
            log(f"  latent {self.model.latent_dim}: epoch {epoch + 1}, {seen:,} examples, "
                f"train ELBO {train:.2f}, test ELBO {test:.2f}")


def kingma_welling(args, splits):
    """The Fig. 2 curves: {latent size: [points]}."""
    marks = eval_epochs(args.kw_epochs, args.kw_points)
    curves = {}
    for latent in args.latents:
        vae = tfpvae_model(splits.event_shape, args.kw_hidden, latent, seed=args.seeds[0])
        curve = BoundCurve(splits, marks)
        train_tfpvae(vae, splits, args.kw_epochs, args.seeds[0], callbacks=[curve])
        curves[latent] = curve.points
    return curves


def kingma_welling_table(curves, splits, args):
    """Markdown: one row per evaluation point, train / test ELBO per latent size."""
    lines = [
        "## Kingma & Welling Fig. 2 (small scale): lower bound vs training examples seen",
        "",
        f"{splits.source}; tfpvae, {splits.dim}-{'-'.join(map(str, args.kw_hidden))}-latent (tanh), "
        f"Bernoulli, batch {BATCH_SIZE}, Adam {LEARNING_RATE}, dynamic binarization; "
        f"ELBO in nats per example on {len(splits.train_eval)} training and {len(splits.test)} test "
        "examples (statically binarized), train / test.",
        "",
    ]
    return "\n".join(lines + tables.kingma_welling_table(curves))


# --- (ii) equal budget ----------------------------------------------------------------------------

IWAE_HIDDEN, IWAE_LATENT = (200, 200), 50


def run_tfpvae(splits, args, seed, **options):
    """tfpvae on the IWAE-paper MLP: (train seconds, train ELBO, test ELBO, test log p(x))."""
    vae = tfpvae_model(splits.event_shape, IWAE_HIDDEN, IWAE_LATENT, seed, **options)
    seconds = train_tfpvae(vae, splits, args.epochs, seed)
    return (seconds, float(vae.elbo(splits.train_eval, num_samples=1).mean()),
            float(vae.elbo(splits.test, num_samples=1).mean()),
            float(vae.log_likelihood(splits.test, num_samples=args.k).mean()))


def run_reference(make, splits, args, seed):
    """A reference on the IWAE-paper MLP: (train seconds, train ELBO, test ELBO, test log p(x))."""
    import tf_keras

    keras.utils.set_random_seed(seed)
    tf_keras.utils.set_random_seed(seed)
    reference = make(splits.dim, IWAE_HIDDEN, IWAE_LATENT)
    seconds = train_reference(reference, splits, args.epochs, seed)
    if reference.needs_target:
        factor = references.kl_factor(reference, flat(splits.test[:BATCH_SIZE]))
        log(f"  {reference.name}: regularization losses / analytic KL = {factor:.3f} (1: loss is -ELBO)")
    return (seconds, float(references.elbo(reference, flat(splits.train_eval)).mean()),
            float(references.elbo(reference, flat(splits.test)).mean()),
            float(references.log_likelihood(reference, flat(splits.test), num_samples=args.k).mean()))


def contenders(args):
    """(label, objective, function(splits, args, seed) -> scores) of the equal-budget comparison."""
    return [
        ("tfpvae", "ELBO", lambda s, a, seed: run_tfpvae(s, a, seed)),
        ("tfpvae", f"IWAE, k={args.iwae_k}",
         lambda s, a, seed: run_tfpvae(s, a, seed, objective="iwae", num_samples=args.iwae_k)),
        ("keras3 reference", "ELBO", lambda s, a, seed: run_reference(references.keras3_reference, s, a, seed)),
        ("tfp.layers reference", "ELBO",
         lambda s, a, seed: run_reference(references.tfp_layers_reference, s, a, seed)),
    ]


def equal_budget(args, splits):
    """Trains every contender for args.epochs per seed; returns one result dict per contender."""
    results = []
    for label, objective, run in contenders(args):
        scores = []
        for seed in args.seeds:
            log(f"{label} ({objective}), seed {seed}: training {args.epochs} epochs")
            scores.append(dict(zip(("train_s", "train_elbo", "test_elbo", "test_log_px"),
                                   run(splits, args, seed))))
            log(f"  {scores[-1]}")
        results.append({"model": label, "objective": objective, "seeds": args.seeds, "per_seed": scores})
    return results


def equal_budget_table(results, splits, args):
    """Markdown: one row per contender."""
    lines = [
        "## Equal budget: the IWAE paper's 1-stochastic-layer MLP",
        "",
        f"{splits.source}; {splits.dim}-200-200-50 (tanh), Bernoulli, batch {BATCH_SIZE}, "
        f"Adam {LEARNING_RATE}, {args.epochs} epochs, a fresh binarization every epoch; seeds {args.seeds}. "
        f"Test set: {len(splits.test)} examples binarized once (seed 0), the same for all; "
        f"log p(x) by importance sampling with k = {args.k}; train ELBO on {len(splits.train_eval)} "
        "training examples. Nats per example; train time is wall-clock and indicative only "
        "(see benchmarks/throughput).",
        "",
    ]
    return "\n".join(lines + tables.equal_budget_table(results))


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    splits = load_splits(args)
    setup = {k: v for k, v in vars(args).items() if k != "report"}
    output = {"setup": {**setup, "source": splits.source, "event_shape": list(splits.event_shape),
                        "train_examples": len(splits.train), "test_examples": len(splits.test),
                        "versions": versions()}}
    markdown = []
    if "kw" in args.parts:
        curves = kingma_welling(args, splits)
        output["kingma_welling"] = {str(latent): points for latent, points in curves.items()}
        markdown.append(kingma_welling_table(curves, splits, args))
    if "budget" in args.parts:
        output["equal_budget"] = equal_budget(args, splits)
        markdown.append(equal_budget_table(output["equal_budget"], splits, args))
    print("\n\n".join(markdown))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(output, f, indent=2)


def versions():
    """Versions of the libraries compared."""
    import tensorflow as tf
    import tensorflow_probability as tfp
    import tf_keras

    return {"tensorflow": tf.__version__, "tfp": tfp.__version__, "keras": keras.__version__,
            "tf_keras": tf_keras.__version__, "tfpvae": tfpvae.__version__}


if __name__ == "__main__":
    main()
