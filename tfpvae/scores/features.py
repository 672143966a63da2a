"""Feature networks for the scores: Keras's InceptionV3 and a small classifier.

FID and KID as papers report them use InceptionV3's 2048-d pool features
(the `pool3` layer of the original TF graph; Keras's `InceptionV3` with
`pooling="avg"`) of images resized to 299 x 299, with ImageNet weights. Keras
downloads those weights (about 84 MiB) once into its cache,
`~/.keras/models/` (or `$KERAS_HOME/models/`); without network they must be
there, or be passed as a file.

For small grey images such as MNIST, `train_classifier` trains a small
convolutional classifier on the data's labels and its penultimate layer
("features") gives the features. Scores on those features rank models
trained on the same data against each other; they are not comparable with
papers' Inception FID.
"""

import os
import socket
import urllib.parse
from pathlib import Path

import keras
import numpy as np

from tfpvae import checks
from tfpvae.backend import tf

INCEPTION_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                 "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
INCEPTION_SIZE = 299
FEATURES = "features"
_networks = {}


def keras_cache():
    """The folder Keras keeps downloaded files in: $KERAS_HOME, else ~/.keras."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def reachable(url, timeout=3.0):
    """True when a TCP connection to the host of `url` opens within `timeout` seconds."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def inception_weights(weights="imagenet", cache_dir=None, url=INCEPTION_URL):
    """The weights file InceptionV3 loads, or None for random weights.

    Args:
      weights: "imagenet" (Keras's file, from its cache or downloaded), a path
        to a Keras InceptionV3 weights file (.h5, without the top), or None.
      cache_dir: where the "imagenet" file is kept (default `keras_cache()`).
      url: where the "imagenet" file is downloaded from.

    Raises:
      OSError: in one line, when the "imagenet" file is not cached and the
        host cannot be reached (checked within seconds, not retried).
      ValueError: for a path that is not a file.
    """
    if weights is None:
        return None
    if weights != "imagenet":
        path = Path(weights)
        if not path.is_file():
            raise ValueError(f"weights must be 'imagenet', None or a weights file; {str(path)!r} is not a file")
        return str(path)
    cache = Path(cache_dir) if cache_dir is not None else keras_cache()
    name = url.rsplit("/", 1)[-1]
    path = cache / "models" / name
    if path.is_file():
        return str(path)
    if not reachable(url):
        raise OSError(f"InceptionV3's ImageNet weights are not in {str(path.parent)!r} and "
                      f"{urllib.parse.urlsplit(url).hostname} cannot be reached: put {name} there "
                      f"(from {url}) or pass weights=PATH")
    return keras.utils.get_file(name, url, cache_subdir="models", cache_dir=str(cache))


def inception_network(weights="imagenet", cache_dir=None):
    """Keras's InceptionV3 to its 2048-d average pool, on [N, 299, 299, 3] in [-1, 1]; one per weights."""
    path = inception_weights(weights, cache_dir)
    if path not in _networks:
        _networks[path] = keras.applications.InceptionV3(
            include_top=False, weights=path, pooling="avg", input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))
    return _networks[path]


def checked_images(x, what="x"):
    """Images [N, H, W, 1 or 3] with values in [0, 1], as float32."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or not len(x):
        raise ValueError(f"{what} must be images [N, H, W, 1 or 3]; received shape {x.shape}")
    x = checks.finite_float32(x)
    if x is None or x.min() < 0 or x.max() > 1:
        raise ValueError(f"{what} must hold values in [0, 1]")
    return x


def inception_features(x, weights="imagenet", batch_size=32, cache_dir=None):
    """InceptionV3 pool features of images: resized to 299 x 299 (bilinear),
    grey repeated into RGB, scaled to [-1, 1].

    Args:
      x: images [N, H, W, 1 or 3] in [0, 1].
      weights: see `inception_weights`; None gives random weights (for checks only).
      batch_size: images per network call.
      cache_dir: see `inception_weights`.

    Returns:
      numpy float32 [N, 2048].
    """
    x = checked_images(x)
    batch_size = checks.positive_int(batch_size, "batch_size")
    network = inception_network(weights, cache_dir)
    out = []
    for i in range(0, len(x), batch_size):
        batch = tf.image.resize(x[i:i + batch_size], (INCEPTION_SIZE, INCEPTION_SIZE))
        if batch.shape[-1] == 1:
            batch = tf.repeat(batch, 3, axis=-1)
        out.append(keras.ops.convert_to_numpy(network(batch * 2.0 - 1.0, training=False)))
    return np.concatenate(out)


def train_classifier(x, y, epochs=10, batch_size=128, feature_dim=128, learning_rate=1e-3, seed=0,
                     validation_data=None, verbose=0):
    """A small classifier of labels y from x, whose "features" layer gives features.

    Images [N, H, W, C] go through two 3x3 convolutions (32 and 64 filters,
    ReLU, each followed by 2x2 max pooling while the image is at least 4
    pixels high and wide), vectors [N, D] straight to the features: a dense
    layer of `feature_dim` ReLU units, then the logits.

    Args:
      x: images [N, H, W, C] or vectors [N, D].
      y: integer labels [N] in [0, classes).
      epochs: passes of its training by Adam.
      batch_size: examples per step of its training.
      learning_rate: Adam's learning rate.
      feature_dim: size of the features.
      seed: seed of its starting weights.
      validation_data: (x, y) reported on by `fit`.

    Returns:
      A compiled `keras.Sequential` (loss: cross-entropy; metric: accuracy).
    """
    x = np.asarray(x, np.float32)
    y = checked_labels(y, len(x))
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be images [N, H, W, C] or vectors [N, D]; received shape {x.shape}")
    seed = checks.seed(seed, allow_none=False)
    feature_dim = checks.positive_int(feature_dim, "feature_dim")
    init = lambda i: keras.initializers.GlorotUniform(seed=seed + i)  # noqa: E731
    layers = [keras.Input(x.shape[1:])]
    if x.ndim == 4:
        size = min(x.shape[1:3])
        for i, filters in enumerate((32, 64)):
            layers.append(keras.layers.Conv2D(filters, 3, padding="same", activation="relu",
                                              kernel_initializer=init(i)))
            if size >= 4:
                layers.append(keras.layers.MaxPooling2D(2))
                size //= 2
        layers.append(keras.layers.Flatten())
    layers += [keras.layers.Dense(feature_dim, activation="relu", kernel_initializer=init(2), name=FEATURES),
               keras.layers.Dense(int(y.max()) + 1, kernel_initializer=init(3), name="logits")]
    model = keras.Sequential(layers, name="feature_classifier")
    model.compile(optimizer=keras.optimizers.Adam(checks.real(learning_rate, "learning_rate", strict=True)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=checks.positive_int(epochs, "epochs"),
              batch_size=checks.positive_int(batch_size, "batch_size"), validation_data=validation_data,
              verbose=verbose)
    return model


def checked_labels(y, n):
    """y as int64 labels [n], each >= 0."""
    if y is None:
        raise ValueError("the classifier trains on labels y; received y=None")
    y = np.asarray(y)
    if y.shape != (n,) or y.dtype.kind not in "iu" or y.min() < 0:
        raise ValueError(f"y must be integer labels >= 0 of shape [{n}]; received shape {y.shape}, dtype {y.dtype}")
    return y.astype(np.int64)


def classifier_features(classifier, x, batch_size=256):
    """The "features" layer's output of a `train_classifier` model, numpy [N, feature_dim]."""
    try:
        layer = classifier.get_layer(FEATURES)
    except ValueError:
        raise ValueError(f"classifier must have a layer named {FEATURES!r} (see train_classifier)") from None
    extractor = keras.Model(classifier.inputs, layer.output)
    return extractor.predict(np.asarray(x, np.float32), batch_size=checks.positive_int(batch_size, "batch_size"),
                             verbose=0)
