"""Post-hoc samplers on MNIST: how far one trained model's samples are from
the test images, with z from the prior and from samplers fitted to the
aggregate posterior (Gaussian mixture, flow, two-stage VAE).

    python -m benchmarks.samplers --model RUN/model.keras --out DIR --json benchmarks/samplers/results/mnist-DATE.json
    python -m benchmarks.samplers --report     # docs/results/samplers.md's table from its results file

The features are those of `tfpvae.scores.train_classifier`, a small
convolutional classifier trained on the 60,000 grey-level training images and
their labels (saved as DIR/classifier.keras). They are not Inception features,
so the distances are not comparable with papers' FID on MNIST. Each sampler is
fitted to the posterior means of the 60,000 training images; the model then
decodes `--samples` draws of z to the Bernoulli means p(x|z) (grey levels), and
these are scored against the 10,000 grey-level test images: Fréchet distance,
kernel distance (KID, unbiased, 100 subsets of 1,000) and precision/recall
(k = 3). The training images against the test images give the scores' floor.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfpvae  # noqa: E402
from benchmarks.common import DATA, page_path, pages  # noqa: E402
from benchmarks.samplers import tables  # noqa: E402
from tfpvae import data, files, plots, samplers, scores  # noqa: E402

PICTURE = page_path("samplers").parent / "img" / "samplers-mnist.png"

KINDS = {"prior": {}, "gmm": {"components": 10, "covariance": "full"}, "flow": {}, "two_stage": {}}


def mnist(path):
    train, test = (data.load_arrays(str(path), split=split) for split in ("train", "test"))
    return train.x, train.y, test.x


def features_of(classifier, x):
    return scores.classifier_features(classifier, x.reshape(-1, 28, 28, 1))


def classifier_for(out, x, y, epochs, seed):
    path = Path(out) / "classifier.keras"
    if path.exists():
        return keras.models.load_model(path)
    classifier = scores.train_classifier(x, y, epochs=epochs, seed=seed)
    with files.atomic_path(path) as temporary:
        classifier.save(temporary)
    return classifier


def score_kind(vae, kind, options, x_train, test_features, classifier, args):
    start = time.perf_counter()
    sampler = samplers.fit(vae, x_train.reshape(len(x_train), -1), {"name": kind, **options})
    fitted = time.perf_counter() - start
    x = vae.sample(args.samples, seed=args.seed, mean=True, sampler=sampler)
    result = scores.summary(test_features, features_of(classifier, x), k=3, seed=args.seed)
    return {**result, "options": options, "fit_seconds": round(fitted, 1)}, x[:64]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.samplers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a trained MNIST model file (784 pixels per x)")
    parser.add_argument("--data", default=str(DATA), help="a Keras-format mnist.npz")
    parser.add_argument("--out", help="folder for the feature classifier (trained once, then reused)")
    parser.add_argument("--json", help="the results file to write")
    parser.add_argument("--png", default=str(PICTURE), help="the side-by-side samples to draw")
    parser.add_argument("--report", nargs="?", const=str(page_path("samplers")), metavar="PAGE",
                        help="rewrite the table of PAGE (default docs/results/samplers.md) from the results "
                             "file its block names, and run nothing")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--classifier-epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-examples", type=int, help="the first N training images only (smoke tests)")
    args = parser.parse_args(argv)
    if args.report:
        print(f"{args.report}: {pages.refresh(args.report, tables.block)} tables written")
        return
    if not (args.model and args.out and args.json):
        parser.error("training and scoring need --model, --out and --json")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    x_train, y_train, x_test = mnist(args.data)
    x_train, y_train = x_train[:args.train_examples], y_train[:args.train_examples]
    vae = keras.models.load_model(args.model)
    classifier = classifier_for(args.out, x_train, y_train, args.classifier_epochs, args.seed)
    test_features = features_of(classifier, x_test)
    rows = {"training images": scores.summary(test_features, features_of(classifier, x_train[:args.samples]),
                                              k=3, seed=args.seed)}
    pictures = {"training images": x_train[:64]}
    for kind, options in KINDS.items():
        rows[kind], pictures[kind] = score_kind(vae, kind, options, x_train, test_features, classifier, args)
        print(kind, {k: v for k, v in rows[kind].items() if k != "options"}, flush=True)
    result = {"model": str(args.model), "samples": args.samples, "seed": args.seed, "rows": rows,
              "train_examples": len(x_train),
              "classifier_epochs": args.classifier_epochs, "keras_backend": keras.backend.backend(),
              "tfpvae": tfpvae.__version__}
    files.write_json(args.json, result)
    side_by_side(pictures, Path(args.png))


def side_by_side(pictures, path):
    """One 8x8 grid per sampler, in a row."""
    plt = plots.pyplot()
    figure, axes = plt.subplots(1, len(pictures), figsize=(3.2 * len(pictures), 3.6))
    for axis, (name, x) in zip(axes, pictures.items()):
        axis.imshow(plots.tile(plots.as_images(np.reshape(x, (-1, 28, 28, 1))), 8), cmap="gray", vmin=0, vmax=1)
        axis.set_title(name)
        axis.axis("off")
    plots.save_figure(figure, path)


if __name__ == "__main__":
    main()
