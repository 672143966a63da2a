"""Post-hoc samplers and sample-quality scores of a run directory: what
`tfpvae sample RUN --sampler KIND` and `tfpvae evaluate RUN --scores` do.

    RUN/samplers/<kind>/   a fitted sampler (sampler.json, weights.npz), reused
                           while its options are those asked for
    RUN/classifier.keras   the feature classifier of `--scores`, trained once
                           on the run's training data and labels

Samplers are fitted to the posterior means of the run's training examples
(its data's train split less the validation part, binarized by a fixed draw
where training binarizes). Scores compare the test split, as loaded (grey
levels), with as many generated x, the means of p(x|z) at z from the sampler.
"""

import math
from pathlib import Path

import keras
import numpy as np

from tfpvae import config as configs
from tfpvae import data, files, samplers, scores

FEATURES = ("classifier", "inception")
CLASSIFIER = "classifier.keras"


def training_arrays(config):
    """The examples the run was trained on (validation part removed), as the model reads them."""
    arrays = data.load_arrays(config["data"]["dataset"], split="train")
    fraction = config["data"]["validation_split"]
    if fraction:
        arrays, _ = data.split_validation(arrays, fraction, seed=config["training"]["seed"] or 0)
    if configs.binarization(config):
        arrays.x = data.binarize_static(arrays.x, seed=3)
    return arrays


def model_inputs(vae, arrays):
    return (arrays.x, arrays.y) if vae.context_dim else arrays.x


def sampler(run_dir, vae, config, spec="prior"):
    """The run's sampler of a kind: loaded from RUN/samplers/<kind>/ when its
    options are the ones asked for, else fitted on the training data and saved
    there; the caller holds the run directory's lock (`runs.sample`).

    Args:
      run_dir: the run directory.
      vae, config: its model and config.
      spec: a kind ("prior", "gmm", "flow", "two_stage") or {"name": kind, **options}.

    Returns:
      (the sampler, "fitted", "loaded" or None for the prior, which has no file).
    """
    wanted = samplers.make(vae.latent_size, spec)
    if not wanted.needs_codes:
        return wanted.fit(None, vae), None
    path = Path(run_dir) / "samplers" / wanted.kind
    if path.is_dir():
        saved = samplers.load(path, vae)
        if saved.get_config() == wanted.get_config():
            return saved, "loaded"
    arrays = training_arrays(config)
    fitted = wanted.fit(samplers.posterior_means(vae, model_inputs(vae, arrays)), vae)
    fitted.save(path)
    return fitted, "fitted"


def classifier(run_dir, config):
    """RUN/classifier.keras, trained on the run's training data and labels if
    missing; the caller holds the run directory's lock (`runs.evaluate`)."""
    path = Path(run_dir) / CLASSIFIER
    if path.is_file():
        return keras.models.load_model(path)
    arrays = data.load_arrays(config["data"]["dataset"], split="train")
    if arrays.y is None:
        raise ValueError(f"--scores --features classifier trains a classifier on the data's labels, and "
                         f"{arrays.source} has none; use labelled data or --features inception")
    model = scores.train_classifier(arrays.x, arrays.y, epochs=10, seed=0)
    with files.atomic_path(path) as temporary:
        model.save(temporary)
    return model


def as_images(x, event_shape):
    """Images [N, H, W, C] of x: flat square vectors become [N, s, s, 1]."""
    if len(event_shape) == 3:
        return x
    side = math.isqrt(event_shape[0]) if len(event_shape) == 1 else 0
    if side * side != event_shape[0]:
        raise ValueError(f"--features inception needs images; the run's x has shape {list(event_shape)}")
    return x.reshape(len(x), side, side, 1)


def check(vae, spec, features):
    """Raises for a sampler spec or features name that `sample_scores` would refuse."""
    samplers.make(vae.latent_size, spec)
    if features not in FEATURES:
        raise ValueError(f"--features must be one of {list(FEATURES)}; received {features!r}")


def sample_scores(run_dir, vae, config, dataset=None, spec="prior", features="classifier", seed=0):
    """FID, KID and precision/recall of samples against the test split.

    Args:
      run_dir, vae, config: the run, its model and config.
      dataset: the data to compare with (default: the run's), its test split.
      spec: the sampler (see `sampler`).
      features: "classifier" (`scores.train_classifier` on the run's training
        labels, saved in the run) or "inception" (ImageNet InceptionV3).
      seed: seed of the samples.

    Returns:
      A dict: sampler, features, score_examples, frechet_distance,
      kernel_distance (and _stderr), precision, recall (k = 3) and, with the
      classifier and test labels, classifier_accuracy.
    """
    check(vae, spec, features)
    test = data.load_arrays(dataset or config["data"]["dataset"], split="test")
    if vae.context_dim and test.y is None:
        raise ValueError(f"a conditional run samples with the test labels; {test.source} has none")
    chosen, _ = sampler(run_dir, vae, config, spec)
    generated = vae.sample(len(test.x), seed=seed, mean=True, sampler=chosen,
                           c=test.y if vae.context_dim else None)
    result = {"sampler": chosen.kind, "features": features, "score_examples": int(len(test.x))}
    if features == "classifier":
        network = classifier(run_dir, config)
        real, fake = scores.classifier_features(network, test.x), scores.classifier_features(network, generated)
        if test.y is not None:
            result["classifier_accuracy"] = float(network.evaluate(test.x, test.y, verbose=0, return_dict=True)
                                                  ["accuracy"])
    else:
        real = scores.inception_features(as_images(test.x, vae.event_shape))
        fake = scores.inception_features(as_images(np.clip(generated, 0, 1), vae.event_shape))
    result.update(scores.summary(real, fake, k=3, seed=seed))
    return result
