"""Trains a small VAE under a tf.distribute strategy and writes what it saw as JSON.

    python distribute_worker.py mirrored OUT.json [stack]
    TF_CONFIG=... python distribute_worker.py multiworker OUT.json

Run in its own process: logical devices must be set before TensorFlow starts.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfpvae  # noqa: E402

X = (np.random.RandomState(0).uniform(size=(800, 16)) < 0.3).astype("float32")
SMALL = {"name": "mlp", "units": [16]}
# A two-level stack of latent layers with "stack" as the third argument.
LEVELS = {"latent_dim": [2, 2], "encoder": [SMALL, SMALL], "decoder": [SMALL, SMALL]} if sys.argv[3:] == [
    "stack"] else {"latent_dim": 2, "encoder": SMALL, "decoder": SMALL}


def build(strategy):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        vae = tfpvae.VAE(event_shape=(16,), num_samples=16, **LEVELS)
        vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    return vae


def train(strategy):
    vae = build(strategy)
    history = vae.fit(X, batch_size=100, epochs=3, verbose=0, shuffle=False).history
    return vae, history


def mirrored():
    """One device and two replicas: losses, and an evaluation of the same weights."""
    results = {}
    for name, strategy in (("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                           ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
        vae, history = train(strategy)
        results[name] = {"loss": history["loss"], "weights": [w.tolist() for w in vae.get_weights()[:2]]}
    reference = build(tf.distribute.OneDeviceStrategy("/cpu:0"))
    for name, strategy in (("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                           ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
        vae = build(strategy)
        vae.set_weights(reference.get_weights())
        results[name]["evaluate"] = vae.evaluate(X, batch_size=200, return_dict=True, verbose=0)
    return results


def multiworker():
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    vae, history = train(strategy)
    return {"loss": history["loss"], "replicas": strategy.num_replicas_in_sync,
            "weights": [w.tolist() for w in vae.get_weights()]}


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    result = {"mirrored": mirrored, "multiworker": multiworker}[kind]()
    with open(out, "w") as handle:
        json.dump(result, handle)
