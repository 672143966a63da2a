"""Latents beyond the Gaussian: hyperspherical and discrete VAEs against a Gaussian one.

    python -m benchmarks.latents                                    # the bundled 8x8 digits
    python -m benchmarks.latents --data ../shared/data/mnist.npz --train-examples 10000 \\
        --test-examples 2000 --epochs 10 --json latents.json --pictures pictures/

Davidson et al. (arXiv:1804.00891, Table 1) report that a VAE with a von
Mises-Fisher posterior and a uniform prior on the sphere S^(d-1) (S-VAE)
beats the Gaussian VAE (N-VAE) of the same latent size d at low d (d = 5,
10) and loses at high d. Here, at each --dims d, three VAEs with the same
MLP encoder and decoder (--hidden tanh units), Bernoulli likelihood, Adam
1e-3, batch 100, dynamically binarized training images:

  normal            q = N(mu, diag(sigma^2)),      p = N(0, I)
  power_spherical   q = PowerSpherical(mu, kappa),  p = uniform on S^(d-1)
  von_mises_fisher  q = vMF(mu, kappa),             p = uniform on S^(d-1)

and a discrete VAE of --groups groups of --categories categories
(`relaxed_categorical` posterior, uniform `categorical` prior at temperature
0.5, the posterior's temperature annealed from 1 to 0.5 over the first half
of the epochs by `TemperatureAnnealing`), trained with each --discrete-kl:
`analytic`, the KL of the categoricals (Jang et al.), or `mc`, the relaxed
Monte Carlo form (Maddison et al.). Its log p(x) is that of the relaxed model
(a density of continuous z on the simplex), and its ELBO with the analytic
KL a surrogate, so neither is comparable with the other models' as a bound
of the same quantity.

Each model is scored on one statically binarized test set: the ELBO (one z
per example) and the importance-sampled log p(x) with --k samples, in nats
per example (higher is better). A PNG of 64 samples (decoded means) per model
goes to --pictures (those on docs/results/latents.md are in
docs/results/img/latents/, named DATA-MODEL.png). Markdown to stdout, progress
to stderr, all to --json.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tfpvae  # noqa: E402
from tfpvae import data, plots  # noqa: E402

BATCH_SIZE = 100
LEARNING_RATE = 1e-3
HYPERSPHERICAL = ("normal", "power_spherical", "von_mises_fisher")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.latents", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a file tfpvae.data.load_arrays reads (default: the 8x8 digits)")
    parser.add_argument("--train-examples", type=int, default=0, help="first N training images (default all)")
    parser.add_argument("--test-examples", type=int, default=0, help="first N test images (default all)")
    parser.add_argument("--epochs", type=int, default=50, help="epochs per model (default 50)")
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 10], help="latent sizes d (default 5 10)")
    parser.add_argument("--groups", type=int, default=20, help="groups of the discrete latent (default 20)")
    parser.add_argument("--categories", type=int, default=10, help="categories per group (default 10)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200],
                        help="MLP units (default 200 200)")
    parser.add_argument("--k", type=int, default=1000, help="importance samples for log p(x) (default 1000)")
    parser.add_argument("--discrete-kl", nargs="+", default=["analytic", "mc"], choices=("analytic", "mc"),
                        help="KL forms of the discrete VAE (default both): analytic is the KL of the "
                             "categoricals, mc the relaxed Monte Carlo form")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=list(HYPERSPHERICAL) + ["relaxed_categorical"],
                        help="which models to run (default all)")
    parser.add_argument("--pictures", default="latents-pictures", help="folder for the sample PNGs")
    parser.add_argument("--json", help="write all results to this JSON file")
    return parser.parse_args(argv)


def log(message):
    print(message, file=sys.stderr, flush=True)


def load(args):
    source = args.data or "digits"
    train, test = data.load_arrays(source, split="train"), data.load_arrays(source, split="test")
    x_train = train.x[:args.train_examples] if args.train_examples else train.x
    x_test = data.binarize_static(test.x, seed=0)
    if args.test_examples:
        x_test = x_test[:args.test_examples]
    return x_train, x_test, tuple(train.event_shape), train.source


def configurations(args):
    """(label, latent size, VAE options, callbacks) of every model to run."""
    spheres = {"power_spherical": "power_spherical", "von_mises_fisher": "von_mises_fisher"}
    for d in args.dims:
        for name in HYPERSPHERICAL:
            if name not in args.models:
                continue
            options = ({"posterior": spheres[name], "prior": "spherical_uniform"} if name in spheres
                       else {"posterior": "normal", "prior": "normal"})
            yield f"{name} d={d}", d, options, []
    if "relaxed_categorical" in args.models:
        k = args.categories
        for kl in args.discrete_kl:
            options = {"posterior": {"name": "relaxed_categorical", "categories": k, "temperature": 1.0},
                       "prior": {"name": "categorical", "categories": k, "temperature": 0.5}, "kl": kl}
            annealing = tfpvae.callbacks.TemperatureAnnealing(0.5, epochs=max(1, args.epochs // 2))
            yield f"relaxed_categorical {args.groups}x{k} kl={kl}", args.groups * k, options, [annealing]


def run(label, latent_dim, options, callbacks, x_train, x_test, event_shape, args):
    keras.utils.set_random_seed(args.seed)
    mlp = {"name": "mlp", "units": list(args.hidden), "activation": "tanh"}
    vae = tfpvae.VAE(event_shape=event_shape, latent_dim=latent_dim, encoder=mlp, decoder=mlp, **options)
    vae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    dataset = data.to_dataset(x_train, batch_size=BATCH_SIZE, binarize="dynamic", seed=args.seed)
    start = time.perf_counter()
    history = vae.fit(dataset, epochs=args.epochs, verbose=0, callbacks=callbacks).history
    seconds = time.perf_counter() - start
    elbo = float(vae.elbo(x_test).mean())
    log_px = float(vae.log_likelihood(x_test, num_samples=args.k).mean())
    picture = os.path.join(args.pictures, label.replace(" ", "_").replace("=", "") + ".png")
    plots.image_grid(vae.sample(64, seed=args.seed, mean=True), picture, f"{label}: samples (means)")
    result = {"model": label, "latent_dim": latent_dim, "elbo": elbo, "log_px": log_px,
              "train_loss": history["loss"][-1], "kl_form": vae.kl_form, "seconds": seconds,
              "picture": picture}
    log(f"{label}: test ELBO {elbo:.2f}, log p(x) {log_px:.2f}, {seconds:.0f} s")
    return result


def table(results, source, args):
    lines = [f"{source}: {args.epochs} epochs, k = {args.k}", "",
             "| model | latent size | test ELBO | test log p(x) | KL form | training (s) |",
             "| --- | ---: | ---: | ---: | --- | ---: |"]
    for r in results:
        lines.append(f"| {r['model']} | {r['latent_dim']} | {r['elbo']:.2f} | {r['log_px']:.2f} | "
                     f"{r['kl_form']} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.pictures, exist_ok=True)
    x_train, x_test, event_shape, source = load(args)
    log(f"{source}: {len(x_train)} training and {len(x_test)} test images")
    results = [run(*config, x_train, x_test, event_shape, args) for config in configurations(args)]
    print(table(results, source, args))
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"args": vars(args), "source": source, "results": results}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
