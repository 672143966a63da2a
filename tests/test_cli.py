"""The real `tfpvae` console script, run in a subprocess."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SMALL = ["--encoder", '{"name": "mlp", "units": [16]}', "--decoder", '{"name": "mlp", "units": [16]}']
TFPVAE = str(Path(sys.executable).parent / "tfpvae")


def tfpvae(*args, cwd=None, check=True):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([TFPVAE, *map(str, args)], capture_output=True, text=True,
                            timeout=600, cwd=cwd, env=env)
    if check:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = tfpvae("train", "--epochs", "2", "--latent-dim", "2", "--output", out, *SMALL)
    assert "test ELBO:" in result.stdout
    return out


def test_train_writes_a_complete_run(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"model.keras", "config.json", "history.json", "history.csv", "metrics.json",
            "tensorboard", "reconstructions.png", "samples.png", "manifold.png", "latent.png"} <= names
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"]["event_shape"] == [8, 8, 1] and config["model"]["latent_dim"] == 2
    assert config["data"]["dataset"] == "digits" and config["training"]["epochs"] == 2
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["loss"]) == 2 and "val_elbo" in history
    assert (run_dir / "history.csv").read_text().splitlines()[0].startswith("epoch,")
    assert any((run_dir / "tensorboard").rglob("events.out.tfevents*"))
    for png in ("reconstructions.png", "samples.png", "manifold.png", "latent.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_saved_config_reproduces_the_run(run_dir, tmp_path):
    again = tmp_path / "again"
    tfpvae("train", "--config", run_dir / "config.json", "--output", again)
    first = json.loads((run_dir / "history.json").read_text())
    second = json.loads((again / "history.json").read_text())
    np.testing.assert_allclose(second["loss"], first["loss"], rtol=1e-5)


def test_flags_override_a_toml_config(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('[model]\nlatent_dim = 3\nencoder = {name = "mlp", units = [8]}\n'
                      'decoder = {name = "mlp", units = [8]}\n[training]\nepochs = 3\n')
    tfpvae("train", "--config", config, "--epochs", "1", "--output", tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["training"]["epochs"] == 1 and saved["model"]["latent_dim"] == 3
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())["loss"]) == 1


def test_evaluate_prints_a_table_and_json(run_dir):
    table = tfpvae("evaluate", run_dir, "--num-samples", "50").stdout
    assert "log_likelihood" in table and "bits_per_dim" in table and "active_units" in table
    result = json.loads(tfpvae("evaluate", run_dir, "--num-samples", "50", "--json").stdout)
    assert result["examples"] == 297 and result["num_samples"] == 50
    assert result["log_likelihood"] > result["elbo"]
    assert abs(result["elbo"] - (result["reconstruction"] - result["kl"])) < 1e-3
    assert result["bits_per_dim"] == pytest.approx(-result["log_likelihood"] / (64 * np.log(2)))
    assert json.loads((run_dir / "evaluation.json").read_text())["num_samples"] == 50
    assert len(result["kl_per_dimension"]) == 2 and 0 <= result["mutual_information"] <= np.log(297) + 1e-4
    assert np.isfinite(result["total_correlation"])


def test_sample_writes_png_and_npy(run_dir, tmp_path):
    out = tmp_path / "grid.png"
    tfpvae("sample", run_dir, "-n", "16", "--output", out, "--seed", "3")
    assert out.read_bytes()[:4] == b"\x89PNG"
    samples = np.load(out.with_suffix(".npy"))
    assert samples.shape == (16, 8, 8, 1) and 0 <= samples.min() and samples.max() <= 1


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "tfpvae", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "train" in result.stdout


@pytest.mark.parametrize("args,message", [
    (["train", "--likelihood", "gaussian"], "unknown likelihood family 'gaussian'"),
    (["train", "--dataset", "no/such/file.npz"], "no/such/file.npz"),
    (["train", "--epochs", "0"], "epochs must be a positive int; received 0"),
    (["train", "--binarize", "sometimes"], "binarize must be one of"),
    (["train", "--prior", "{not json"], "is not a name or valid JSON"),
    (["evaluate", "no-such-run"], "'no-such-run' is not a run directory: model.keras is missing"),
    (["sample", "no-such-run"], "is not a run directory"),
])
def test_errors_are_one_clear_line(args, message, tmp_path):
    result = tfpvae(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("model.keras"))


def test_debug_shows_the_traceback(tmp_path):
    result = tfpvae("--debug", "evaluate", "no-such-run", cwd=tmp_path, check=False)
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_bad_config_file_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    result = tfpvae("train", "--config", bad, check=False)
    assert result.returncode == 2 and "bad.json" in result.stderr and "not valid JSON" in result.stderr


def test_train_refuses_to_overwrite_a_run(run_dir):
    result = tfpvae("train", "--output", run_dir, check=False)
    assert result.returncode == 2 and "already holds a finished run" in result.stderr


def test_export_writes_a_servable_version_folder(run_dir, tmp_path):
    out = tmp_path / "exported"
    result = tfpvae("export", run_dir, out, "--version", "1")
    assert (out / "1" / "saved_model.pb").is_file() and "SavedModel:" in result.stdout
    again = tfpvae("export", run_dir, out, "--version", "1", check=False)
    assert again.returncode == 2 and "Traceback" not in again.stderr


def test_strategy_errors_leave_no_run_directory(tmp_path):
    env_free = tfpvae("train", "--strategy", "multiworker", "--output", tmp_path / "run", check=False)
    assert env_free.returncode == 2 and "TF_CONFIG" in env_free.stderr
    assert not (tmp_path / "run").exists()


def test_an_objective_by_flag_and_by_spec_trains_and_exports(tmp_path):
    """`--objective dreg` trains and exports; an objective spec with options
    is read as a spec; a config written by tfpvae 0.1.0 still runs."""
    run = tmp_path / "dreg"
    tfpvae("train", "--epochs", "1", "--latent-dim", "2", "--objective", "dreg", "--num-samples", "3",
           "--output", run, *SMALL)
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.isfinite(metrics["test_elbo"])
    tfpvae("export", run, tmp_path / "dreg-export")
    assert (tmp_path / "dreg-export" / "saved_model.pb").exists()
    from tfpvae import cli, config

    spec = cli.flag_config(cli.parser().parse_args(["train", "--objective", '{"name": "stl", "beta": 2.0}']))
    assert config.merge(spec)["model"]["objective"] == {"name": "stl", "beta": 2.0}
    old = Path(__file__).parent / "data" / "train-config-0.1.0.json"
    tfpvae("train", "--config", old, "--output", tmp_path / "old")
    assert (tmp_path / "old" / "metrics.json").exists()


def test_the_iwae_schedule_and_adam_epsilon_by_flag_reach_the_saved_optimizer(tmp_path):
    out = tmp_path / "run"
    tfpvae("train", "--epochs", "2", "--schedule", "iwae", "--adam-epsilon", "1e-4", "--learning-rate", "0.002",
           "--batch-size", "500", "--latent-dim", "2", "--output", out, *SMALL)
    assert json.loads((out / "config.json").read_text())["training"]["schedule"] == "iwae"
    import keras

    import tfpvae as package

    optimizer = keras.models.load_model(out / "model.keras").optimizer
    schedule = keras.saving.deserialize_keras_object(optimizer.get_config()["learning_rate"])
    # the digits: 1,500 training images, 10% held out -> 1,350, 3 batches of at most 500 per epoch
    assert isinstance(schedule, package.schedules.IWAESchedule) and optimizer.epsilon == 1e-4
    assert schedule.get_config() == {"steps_per_epoch": 3, "epochs": 2, "initial_learning_rate": 0.002}
    assert int(optimizer.iterations) == 6 and float(optimizer.learning_rate) == pytest.approx(2e-4)
    result = tfpvae("train", "--schedule", "cosine", "--output", tmp_path / "bad", check=False)
    assert result.returncode == 2 and "schedule must be one of ['constant', 'iwae']; received 'cosine'" in result.stderr


def test_a_discrete_latent_trains_evaluates_and_samples_from_flags(tmp_path):
    """2 groups of 10 relaxed categories with the uniform categorical prior."""
    out = tmp_path / "discrete"
    result = tfpvae("train", "--epochs", "1", "--latent-dim", "20", "--posterior", "relaxed_categorical",
                    "--prior", "categorical", "--output", out, *SMALL)
    assert "test ELBO:" in result.stdout
    model = json.loads((out / "config.json").read_text())["model"]
    assert model["posterior"]["name"] == "relaxed_categorical" and model["prior"]["name"] == "categorical"
    metrics = json.loads(tfpvae("evaluate", out, "--num-samples", "20", "--json").stdout)
    assert np.isfinite(metrics["log_likelihood"])
    tfpvae("sample", out, "-n", "4", "--output", tmp_path / "s.png")
    assert np.load(tmp_path / "s.npy").shape == (4, 8, 8, 1)


def test_train_help_says_what_each_flag_does_its_choices_and_its_default():
    """`tfpvae train --help` lists every config key as a flag with its help, its choices
    and its default, all from tfpvae.config.OPTIONS, whose defaults are config.DEFAULTS."""
    from tfpvae import config, families, networks

    result = subprocess.run([TFPVAE, "train", "--help"], capture_output=True, text=True, timeout=300)
    text = " ".join(result.stdout.split())
    flags = set(re.findall(r"\[(--[a-z-]+)", result.stdout.split("\n\n")[0]))
    keys = {key for options in config.DEFAULTS.values() for key in options}
    assert flags == {"--" + key.replace("_", "-") for key in keys} | {"--config", "--output"}
    for section, options in config.OPTIONS.items():
        for key, option in options.items():
            entry = text.split(f"--{key.replace('_', '-')} {key.upper()} ", 1)[1].split(" --", 1)[0]
            entry = entry.split(" [", 1)[0]  # the next group's heading, [section] options:
            assert entry.startswith(option.help) and option.help, (key, entry)
            assert entry.endswith(f"(default: {config.DEFAULTS[section][key]})"), (key, entry)
            for choice in option.choices or ():
                assert choice in entry, (key, choice, entry)
    assert config.OPTIONS["model"]["prior"].choices == families.names()["prior"]
    assert config.OPTIONS["model"]["encoder"].choices == list(networks.NETWORKS)
    for key in ("binarize", "strategy"):
        section = "data" if key == "binarize" else "training"
        for choice in config.OPTIONS[section][key].choices:
            config.merge({section: {key: choice}})  # every choice shown is accepted


def test_flags_left_out_take_the_config_defaults():
    from tfpvae import cli, config

    args = cli.parser().parse_args(["train"])
    assert config.merge(cli.flag_config(args)) == config.DEFAULTS


def silence_two_units(run):
    """Rewrites the run's model with E_q[z_u|x] constant for the bottom level's units 0 and 1
    (their loc weights, the even columns of the head's kernel, set to 0): two inactive units."""
    from tfpvae import runs

    vae, _ = runs.load_run(run)
    kernel = vae.stack.posterior_layer.params.kernel
    kernel.assign(kernel.numpy() * ~np.isin(np.arange(kernel.shape[1]), [0, 2]))
    vae.save(run / "model.keras")


def stack_active_units(run):
    """The active units of a two-level run on its test split, from the saved model's
    levels: Var_x of E_q[z_1|x] and of E_q[z_2|z_1 = E_q[z_1|x]] above 0.01."""
    import tensorflow as tf

    from tfpvae import runs

    vae, config = runs.load_run(run)
    x = runs.test_arrays(config).x
    q = vae.encode(x)
    bottom = q.levels(tf.zeros([len(x), sum(vae.stack.latent_sizes)]))[0].mean()
    top = q.levels(tf.concat([bottom, tf.zeros([len(x), vae.stack.latent_sizes[1]])], -1))[1].mean()
    return int(np.sum(np.concatenate([bottom, top], axis=-1).var(axis=0) > 0.01))


def test_a_stack_of_latent_layers_trains_evaluates_and_exports_from_flags(tmp_path):
    """`--latent-dim 4,2` with a JSON list of one encoder and decoder per level."""
    run = tmp_path / "stack"
    levels = '[{"name": "mlp", "units": [16]}, {"name": "mlp", "units": [8]}]'
    tfpvae("train", "--epochs", "1", "--latent-dim", "4,2", "--encoder", levels, "--decoder", levels,
           "--objective", "iwae", "--num-samples", "2", "--output", run)
    saved = json.loads((run / "config.json").read_text())["model"]
    assert saved["latent_dim"] == [4, 2] and saved["encoder"][1] == {"name": "mlp", "units": [8]}
    silence_two_units(run)
    result = json.loads(tfpvae("evaluate", run, "--num-samples", "20", "--json").stdout)
    assert result["log_likelihood"] > result["elbo"]
    assert result["active_units"] == stack_active_units(run) == 4, result["active_units"]
    tfpvae("export", run, tmp_path / "export")
    assert (tmp_path / "export" / "saved_model.pb").exists()
    bad = tfpvae("train", "--latent-dim", "4,x", "--output", tmp_path / "bad", check=False)
    assert bad.returncode != 0 and "latent_dim must be an int or comma-separated ints" in bad.stderr
