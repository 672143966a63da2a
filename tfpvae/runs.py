"""What the `tfpvae` subcommands do, on run directories.

A run directory holds model.keras, config.json, history.json/.csv,
metrics.json, tensorboard/ logs and PNG pictures. `tfpvae train` writes them
in an order that makes any kill recoverable by running the same command again:

    config.json, then per epoch history.json, tensorboard/ and checkpoints/
    history.json, history.csv, model.keras     (training is done)
    pictures, then metrics.json                (the run is finished)

A run is finished when metrics.json exists; a run with model.keras but no
metrics.json is completed from model.keras without training again; any other
run is resumed from its newest checkpoint. While a process writes into a run
directory (`train`, `evaluate`, and `sample` into the run directory) it holds
the directory's lock (`tfpvae.locks`); another process that wants to write
there is refused.
"""

import contextlib
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np

from tfpvae import backend, checks, data, disentanglement, files, locks, plots, run_sampling, schedules, startup
from tfpvae import config as configs
from tfpvae.backend import tensorflow as tf
from tfpvae.callbacks import KLWarmup, StopOnNaN
from tfpvae.checkpoints import RunCheckpoint
from tfpvae.data.arrays import subset
from tfpvae.model import VAE


def run_path(output):
    """The run directory `output` names, or runs/<timestamp>."""
    return Path(output) if output else Path("runs") / time.strftime("%Y%m%d-%H%M%S")


def check_writable(path):
    """Fails at once when the run directory `path` cannot be made or written.

    The check looks at the nearest directory that exists (`path` itself or a
    parent) and creates nothing.
    """
    if path.exists() and not path.is_dir():
        raise ValueError(f"--output {str(path)!r} is a file; a run directory is expected")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if os.statvfs(existing).f_flag & os.ST_RDONLY:
        raise OSError(f"cannot write the run directory {str(path)!r}: {str(existing)!r} is on "
                      f"a read-only file system; choose another --output")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OSError(f"cannot write the run directory {str(path)!r}: {str(existing)!r} is "
                      f"not writable; choose another --output")


def stage(path, config, requested):
    """What is left to do in the run directory `path` (locked): "train" or "complete".

    `config` is the run's config with the model's full config, `requested` the
    config as given (which older versions saved until training ended). A
    finished run (metrics.json), a run that stopped early and a run of another
    config are refused; config.json is written for a run to train.
    """
    if (path / "metrics.json").exists():
        raise ValueError(f"{str(path)!r} already holds a finished run (metrics.json); choose another --output")
    files.remove_temporaries(path)
    saved = path / "config.json"
    if saved.exists() and configs.completed(configs.read(saved)) not in (config, configs.completed(requested)):
        raise ValueError(f"{str(path)!r} holds an unfinished run with another config; rerun it with "
                         f"--config {saved} to resume, or choose another --output")
    if not (path / "model.keras").exists():
        files.write_json(saved, config)
        return "train"
    done, epochs = len(read_history(path).get("loss", [])), config["training"]["epochs"]
    if done < epochs:
        raise ValueError(f"{str(path)!r} holds a run that stopped after {done} of {epochs} epochs (see its "
                         f"history.json); its model.keras is kept; choose another --output")
    return "complete"


def read_history(run_dir):
    path = Path(run_dir) / "history.json"
    try:
        return configs.read(path) if path.exists() else {}
    except ValueError:
        raise ValueError(f"{str(path)!r} is not valid JSON; remove it and model.keras to train again") from None


class OneDevice:
    """A run's strategy under JAX: the device JAX puts arrays on, with nothing to enter."""

    def scope(self):
        return contextlib.nullcontext()


def distribution_strategy(name):
    """The `tf.distribute` strategy a run asks for.

    "mirrored": every GPU of this machine (or its CPU); "multiworker": the
    cluster in the TF_CONFIG environment variable, one process per worker;
    "tpu": the TPU this machine is attached to. Under JAX only "default"
    exists, which trains on the device JAX puts arrays on.
    """
    if backend.is_jax:
        if name != "default":
            raise ValueError(f"strategy {name!r} is a tf.distribute strategy, which needs the TensorFlow backend "
                             f"(KERAS_BACKEND=tensorflow); on JAX, Keras's keras.distribution.DataParallel "
                             f"spreads training over several devices")
        return OneDevice()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("strategy 'multiworker' needs the TF_CONFIG environment variable "
                             "describing the cluster and this worker's task")
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise ValueError(f"strategy 'tpu': no TPU found ({str(error).splitlines()[0]})") from None
    return tf.distribute.TPUStrategy(resolver)


def test_arrays(config, dataset=None):
    """The test split, binarized by a fixed draw where training binarizes."""
    arrays = data.load_arrays(dataset or config["data"]["dataset"], split="test",
                              max_examples=config["data"].get("max_examples"))
    labelled(arrays, config)
    if configs.binarization(config):
        arrays.x = data.binarize_static(arrays.x, seed=1)
    return arrays


def labelled(arrays, config):
    """Checks that a conditional model's data has labels, its context."""
    context_dim = config["model"].get("context_dim", 0)
    if not context_dim:
        return
    if arrays.y is None:
        raise ValueError(f"context_dim={context_dim} conditions the model on the data's labels; "
                         f"{arrays.source} has none")
    if arrays.y.min() < 0 or arrays.y.max() >= context_dim:
        raise ValueError(f"context_dim={context_dim} needs labels in [0, {context_dim}); {arrays.source} "
                         f"has labels from {arrays.y.min()} to {arrays.y.max()}")


def inputs(vae, arrays):
    """What the model reads of arrays: x, or (x, labels) for a conditional model."""
    return (arrays.x, arrays.y) if vae.context_dim else arrays.x


def grid_labels(count, context_dim, columns=8):
    """Labels for a grid of samples: row i of `columns` samples has label i mod context_dim."""
    return (np.arange(count) // columns) % context_dim


def train(config, output=None, verbose=2):
    """Trains the configured model; returns the run directory, test metrics and history.

    Everything that can fail on bad input (output location, data, model,
    strategy) is checked before the run directory is touched. An unfinished
    run in `output` is resumed, or completed when it is trained already.
    """
    training, path = config["training"], run_path(output)
    check_writable(path)
    strategy = distribution_strategy(training["strategy"])  # before any TF op, as collectives need
    if training["seed"] is not None:
        set_random_seed(training["seed"])
    train_data, validation, test, event_shape = datasets(config)
    rate = schedules.learning_rate(training["schedule"], training["learning_rate"],
                                   int(train_data.cardinality()), training["epochs"])
    with strategy.scope():
        vae = build_model(config, event_shape)
        vae.compile(optimizer=keras.optimizers.Adam(rate, epsilon=training["adam_epsilon"]))
    requested = json.loads(json.dumps(config))
    config = json.loads(json.dumps({**config, "model": vae.get_config()}))  # as config.json holds it
    path.mkdir(parents=True, exist_ok=True)
    with locks.locked(path):
        if stage(path, config, requested) == "train":
            fit(vae, path, train_data, validation, training, verbose)
        else:
            print(f"completing {path}: model.keras is trained; writing its test metrics and pictures")
            vae = keras.models.load_model(path / "model.keras")
        shutil.rmtree(path / "checkpoints", ignore_errors=True)
        history = read_history(path)
        metrics = finish(path, vae, test, training["batch_size"])
    return path, metrics, history


def set_random_seed(seed):
    """`keras.utils.set_random_seed`, which also seeds TensorFlow wherever it is
    installed, importing it (quietly here, through `startup`) on any backend."""
    if backend.tensorflow_available():
        startup.import_tensorflow()
    keras.utils.set_random_seed(seed)


def build_model(config, event_shape):
    """The VAE of a run's config (its model section, `VAE.get_config()`'s keys) for x of `event_shape`."""
    return VAE(**{"name": "vae", **config["model"], "event_shape": list(event_shape)})


def finish(run_dir, vae, test, batch_size):
    """Pictures, then metrics.json, the file that marks the run as finished."""
    metrics = vae.evaluate(inputs(vae, test), batch_size=batch_size, return_dict=True, verbose=0)
    draw_pictures(run_dir, vae, test)
    files.write_json(run_dir / "metrics.json", {f"test_{k}": float(v) for k, v in metrics.items()})
    return metrics


def datasets(config):
    """The training pipeline (a `tf.data.Dataset` on TensorFlow, numpy
    `ArrayBatches` on JAX), validation data, test arrays and the event shape.

    A conditional model's data is (x, labels): its pipeline yields (x, c)
    batches and its validation data is an (x, c) tuple.
    """
    training, binarize = config["training"], configs.binarization(config)
    arrays = data.load_arrays(config["data"]["dataset"], split="train",
                              max_examples=config["data"].get("max_examples"))
    labelled(arrays, config)
    test = test_arrays(config)
    train_arrays, val_arrays = held_out(arrays, config["data"]["validation_split"], training["seed"] or 0)
    conditional = bool(config["model"].get("context_dim"))
    batches = data.to_batches if backend.is_jax else data.to_dataset
    train_data = batches(train_arrays.x, train_arrays.y if conditional else None,
                                 batch_size=training["batch_size"], binarize=binarize,
                                 seed=training["seed"] or 0)
    val = None
    if val_arrays is not None:
        val = data.binarize_static(val_arrays.x, seed=2) if binarize else val_arrays.x
        val = (val, val_arrays.y) if conditional else val
    return train_data, val, test, train_arrays.event_shape


def held_out(arrays, fraction, seed):
    """(training arrays, validation arrays or None when `fraction` is 0)."""
    if not fraction:
        return arrays, None
    return data.split_validation(arrays, fraction, seed=seed)


def fit(vae, run_dir, train_data, validation, training, verbose):
    """Trains from the run's newest checkpoint and saves the trained model."""
    checkpoint, guard = RunCheckpoint(run_dir, vae), StopOnNaN()
    start = checkpoint.restore()
    if checkpoint.restored_random_state is False:
        print(f"resuming {run_dir} from epoch {start + 1} with a fresh random state: its checkpoint has no "
              f"random state (written by an older tfpvae), so draws of z differ from an uninterrupted run")
    elif start:
        print(f"resuming {run_dir} from epoch {start + 1}")
    if hasattr(train_data, "start_at"):  # numpy batches draw each epoch's order and binarization from its number
        train_data.start_at(start)
    callbacks = [guard, checkpoint]
    if training["warmup_epochs"]:
        callbacks.insert(0, KLWarmup(epochs=training["warmup_epochs"]))
    vae.fit(train_data, epochs=training["epochs"], initial_epoch=start, validation_data=validation,
            verbose=verbose, callbacks=callbacks)
    save_run(run_dir, vae, checkpoint.history)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if guard.failure:
        raise ValueError(f"{guard.failure}; that model is saved in {run_dir}")
    return checkpoint.history


def read_config(run_dir):
    return configs.read(Path(run_dir) / "config.json")


def save_run(run_dir, vae, history):
    """The trained run: model.keras last, since it marks training as done."""
    files.write_json(run_dir / "history.json", history)
    files.write_text(run_dir / "history.csv", history_csv(history))
    with files.atomic_path(run_dir / "model.keras") as temporary:
        vae.save(temporary)


def history_csv(history):
    out = io.StringIO()
    writer = csv.writer(out)
    keys = sorted(history)
    writer.writerow(["epoch", *keys])
    for epoch, row in enumerate(zip(*(history[k] for k in keys))):
        writer.writerow([epoch, *row])
    return out.getvalue()


def draw_pictures(run_dir, vae, test):
    """Reconstructions, samples and, for a 2-D latent space, its manifold and a scatter."""
    if not is_image(vae.event_shape):
        return []
    first = subset(test, slice(0, 8), test.source)
    paths = [run_dir / "reconstructions.png", run_dir / "samples.png"]
    plots.reconstructions(first.x, vae.predict(inputs(vae, first), verbose=0), paths[0])
    if vae.context_dim:
        c = grid_labels(8 * min(vae.context_dim, 10), vae.context_dim)
        plots.image_grid(vae.sample(len(c), seed=0, mean=True, c=c), paths[1],
                         "means of p(x|z, c), z ~ p(z); row i has label c = i")
    else:
        plots.image_grid(vae.sample(64, seed=0, mean=True), paths[1], "means of p(x|z), z ~ p(z)")
    if vae.latent_dim != 2:
        return paths
    paths.append(run_dir / "latent.png")
    labels = test.y if vae.context_dim else None
    colours = test.y if test.y is None or test.y.ndim == 1 else test.y[:, 0]  # factors: by the first
    plots.latent_scatter(vae.encode(test.x, labels).mean().numpy(), colours, paths[-1])
    if not vae.context_dim:
        paths.append(run_dir / "manifold.png")
        plots.manifold(vae, paths[-1])
    return paths


def is_image(event_shape):
    """True for [H, W, 1 or 3] events and for square-sized vectors (flat images)."""
    if len(event_shape) == 3:
        return event_shape[-1] in (1, 3)
    return len(event_shape) == 1 and math.isqrt(event_shape[0]) ** 2 == event_shape[0]


def check_run(run_dir):
    """Raises FileNotFoundError unless `run_dir` holds a trained model and its config."""
    run_dir = Path(run_dir)
    for path in (run_dir / "model.keras", run_dir / "config.json"):
        if not path.is_file():
            raise FileNotFoundError(f"{str(run_dir)!r} is not a run directory: {path.name} is missing")


def load_run(run_dir):
    """The model and config of a run directory."""
    check_run(run_dir)
    run_dir = Path(run_dir)
    model_path = run_dir / "model.keras"
    config = configs.read(run_dir / "config.json")
    try:
        vae = keras.models.load_model(model_path)
    except Exception as error:
        raise ValueError(f"cannot load model {str(model_path)!r}: {error}") from None
    return vae, config


def evaluate(run_dir, dataset=None, num_samples=1000, scores=False, sampler="prior", features="classifier",
             disentanglement_points=None):
    """Test ELBO, its parts, log p(x), bits/dim and the latent diagnostics
    (`VAE.diagnostics`); with `scores`, also FID, KID and precision/recall of
    samples from `sampler` (`run_sampling.sample_scores`); also written to
    evaluation.json, under the run's lock.

    With `disentanglement_points` = N, also every metric of
    `tfpvae.disentanglement.evaluate` at N points, for a run on a data set
    with known factors ("shapes").
    """
    check_run(run_dir)
    with locks.locked(run_dir):
        return write_evaluation(run_dir, dataset, num_samples, scores, sampler, features, disentanglement_points)


def write_evaluation(run_dir, dataset, num_samples, scores=False, sampler="prior", features="classifier",
                     disentanglement_points=None):
    """`evaluate`'s work, the run directory locked by the caller."""
    vae, config = load_run(run_dir)
    source = factor_source(vae, dataset or config["data"]["dataset"], disentanglement_points)
    if scores:
        run_sampling.check(vae, sampler, features)
    test = test_arrays(config, dataset)
    metrics = vae.evaluate(inputs(vae, test), batch_size=256, return_dict=True, verbose=0)
    log_px, stderr = vae.log_likelihood(inputs(vae, test), num_samples=num_samples, return_stderr=True)
    result = {
        "dataset": test.source, "examples": int(len(test.x)), "num_samples": num_samples,
        "elbo": float(metrics["elbo"]), "reconstruction": float(metrics["reconstruction"]),
        "kl": float(metrics["kl"]), "log_likelihood": float(log_px.mean()),
        "log_likelihood_stderr": float(np.sqrt(np.sum(stderr**2)) / len(log_px)),
        "active_units": vae.active_units(inputs(vae, test))[0],
        **vae.diagnostics(inputs(vae, test)),
    }
    if is_image(vae.event_shape):
        result["bits_per_dim"] = -result["log_likelihood"] / (math.prod(vae.event_shape) * math.log(2))
    if scores:
        result.update(run_sampling.sample_scores(run_dir, vae, config, dataset, sampler, features))
    if source is not None:
        result["disentanglement_points"] = disentanglement_points
        result.update(disentanglement.evaluate(vae, source, points=disentanglement_points))
    files.write_json(Path(run_dir) / "evaluation.json", result)
    return result


FACTOR_SOURCES = {"shapes": data.ShapesSource}


def factor_source(vae, dataset, points):
    """The source with known factors that `evaluate` draws from, or None when `points` is None."""
    if points is None:
        return None
    checks.integer(points, "--disentanglement-points", 10, "an int >= 10")
    if dataset not in FACTOR_SOURCES:
        raise ValueError(f"--disentanglement needs a data set with known factors ({', '.join(FACTOR_SOURCES)}); "
                         f"the data set evaluated is {dataset!r}")
    source = FACTOR_SOURCES[dataset]()
    if vae.context_dim or tuple(vae.event_shape) != tuple(source.event_shape):
        raise ValueError(f"--disentanglement needs an unconditional model of {dataset} images "
                         f"{tuple(source.event_shape)}; this run's model has event_shape "
                         f"{tuple(vae.event_shape)} and context_dim {vae.context_dim}")
    return source


def sample(run_dir, count=64, output=None, seed=None, draw=False, label=None, sampler="prior"):
    """A PNG grid of new x (means of p(x|z) unless `draw`) and the same as .npy.

    A conditional run samples every x with `label`, or row i of the grid with
    label i (mod context_dim) when `label` is None; an unconditional run takes
    no label. z comes from `sampler` (a kind or spec, see
    `run_sampling.sampler`), fitted and saved in the run the first time.
    Files written into the run directory (the samples there, a fitted
    sampler) are written under its lock.
    """
    check_run(run_dir)
    output = Path(output) if output else Path(run_dir) / "samples.png"
    if output.suffix != ".png":
        raise ValueError(f"--output must be a .png file; received {str(output)!r}")
    writes_run = Path(run_dir).resolve() in output.resolve().parents or sampler != "prior"
    with locks.locked(run_dir) if writes_run else contextlib.nullcontext():
        return write_samples(run_dir, count, output, seed, draw, label, sampler)


def write_samples(run_dir, count, output, seed, draw, label, sampler="prior"):
    """`sample`'s work, the run directory locked by the caller where it writes into it."""
    vae, config = load_run(run_dir)
    if label is not None and not vae.context_dim:
        raise ValueError(f"--label needs a conditional run; {str(run_dir)!r} has context_dim 0")
    c = label if label is not None else grid_labels(count, vae.context_dim) if vae.context_dim else None
    chosen, _ = run_sampling.sampler(run_dir, vae, config, sampler)
    x = vae.sample(count, seed=seed, mean=not draw, c=c, sampler=chosen)
    with files.atomic_path(output.with_suffix(".npy")) as temporary:
        np.save(temporary, x)
    given = "z, c" if vae.context_dim else "z"
    source = "p(z)" if chosen.kind == "prior" else f"the {chosen.kind} sampler"
    title = f"draws x ~ p(x|{given}), z ~ {source}" if draw else f"means of p(x|{given}), z ~ {source}"
    if vae.context_dim:
        title += f"; label c = {label}" if label is not None else "; row i has label c = i"
    if is_image(vae.event_shape):
        plots.image_grid(x, output, title)
    return output


def export(run_dir, export_dir, version=None, overwrite=False):
    """Writes a run's model as a SavedModel. Under JAX the run is loaded and
    exported by a child process on the TensorFlow backend (the model file reads
    the same on both), whose errors are raised here as a ValueError."""
    if backend.is_jax:
        return export_on_tensorflow(run_dir, export_dir, version, overwrite)
    vae, _ = load_run(run_dir)
    return vae.export(export_dir, version=version, overwrite=overwrite)


def export_on_tensorflow(run_dir, export_dir, version, overwrite):
    backend.require_tensorflow("a SavedModel export")
    command = [sys.executable, "-m", "tfpvae", "export", str(run_dir), str(export_dir)]
    command += [] if version is None else ["--version", str(version)]
    command += ["--overwrite"] if overwrite else []
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    if result.returncode:
        raise ValueError(result.stderr.strip().splitlines()[-1].removeprefix("tfpvae: error: "))
    return result.stdout.strip().splitlines()[-1].removeprefix("SavedModel: ")
