import json

import keras
import pytest

from tfpvae import config


def test_merge_layers_in_order():
    merged = config.merge({"training": {"epochs": 5}}, {"training": {"epochs": 2}, "model": {"latent_dim": 3}})
    assert merged["training"]["epochs"] == 2 and merged["model"]["latent_dim"] == 3
    assert merged["data"]["dataset"] == "digits"


@pytest.mark.parametrize("layer,match", [
    ({"optimizer": {}}, "unknown config section 'optimizer'"),
    ({"training": {"epoch": 3}}, r"unknown keys \['epoch'\] in config section 'training'"),
    ({"training": 3}, "must be a table/dict"),
    ({"data": {"validation_split": 1.5}}, r"validation_split must be in \[0, 1\)"),
    ({"training": {"learning_rate": 0}}, "learning_rate must be a finite number > 0"),
    ({"training": {"schedule": "cosine"}}, r"schedule must be one of \['constant', 'iwae'\]; received 'cosine'"),
    ({"training": {"adam_epsilon": -1e-4}}, "adam_epsilon must be a finite number > 0; received -0.0001"),
])
def test_bad_configs_are_named(layer, match):
    with pytest.raises(ValueError, match=match):
        config.merge(layer)


def test_binarization_follows_the_likelihood():
    assert config.binarization(config.merge()) == "dynamic"
    assert config.binarization(config.merge({"model": {"likelihood": "normal"}})) is None
    assert config.binarization(config.merge({"data": {"binarize": "static"}})) == "static"


def test_parse_spec():
    assert config.parse_spec("mixture") == "mixture"
    assert config.parse_spec('{"name": "mixture", "components": 3}') == {"name": "mixture", "components": 3}
    with pytest.raises(ValueError, match="'name' key"):
        config.parse_spec('{"components": 3}')


def test_read_json_and_toml(tmp_path):
    (tmp_path / "a.json").write_text('{"training": {"epochs": 4}}')
    (tmp_path / "a.toml").write_text("[training]\nepochs = 4\n")
    assert config.read(tmp_path / "a.json") == config.read(tmp_path / "a.toml")
    (tmp_path / "a.yaml").write_text("training: {}")
    with pytest.raises(ValueError, match="must end in .json or .toml"):
        config.read(tmp_path / "a.yaml")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        config.read(tmp_path / "missing.json")


def test_every_option_has_help_a_default_and_valid_choices():
    for section, options in config.OPTIONS.items():
        for key, option in options.items():
            text = config.describe(option)
            assert option.help and text.startswith(option.help) and text.endswith(f"(default: {option.default})")
            assert config.DEFAULTS[section][key] == option.default
            assert option.default in (option.choices or [option.default]) or option.kind == "spec"
    assert config.merge() == config.DEFAULTS


# --- a model's get_config back through --config ----------------------------------------------

MLP = {"name": "mlp", "units": [8]}
MODELS = {
    "stack": dict(latent_dim=[3, 2], posterior=["mvn_tril", {"name": "normal", "min_scale": 0.01}],
                  encoder=[MLP, "mlp"], decoder=MLP, prior={"name": "mixture", "components": 3},
                  likelihood={"name": "normal", "min_scale": 0.01}, kl="mc", num_samples=2,
                  objective="iwae", seed=3),
    "ladder": dict(latent_dim=[3, 2], inference="ladder", posterior=["normal", "normal"],
                   encoder=[MLP, MLP], decoder=[MLP, {"name": "mlp", "units": [4], "activation": "relu"}],
                   objective={"name": "elbo", "beta": 2.0, "free_bits": 0.1}, context_dim=3),
    "one_level": dict(latent_dim=2, posterior="laplace", prior="laplace",
                      likelihood={"name": "logistic_mixture", "components": 3},
                      encoder={"name": "conv", "filters": [4], "units": 8}, decoder="conv",
                      objective={"name": "beta_tc", "beta": 4.0, "sampling": "mss"}),
}


def posteriors(vae):
    """The posterior family of every level."""
    return [layer.family.get_config() for layer in [vae.stack.posterior_layer, *vae.stack.upper_posteriors]]


def toml_value(value):
    """`value` as a TOML value; a dict becomes an inline table without its None entries
    (TOML has no null, and a key left out takes its default)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items() if v is not None) + "}"


def without_none(value):
    """`value` with the None entries of its dicts left out, as TOML holds it."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    return [without_none(v) for v in value] if isinstance(value, list) else value


def write_config(path, run_config):
    """A run config as a .json or .toml file."""
    if path.suffix == ".json":
        path.write_text(json.dumps(run_config))
        return path
    lines = []
    for section, values in run_config.items():
        lines += [f"[{section}]", *(f"{key} = {toml_value(v)}" for key, v in values.items() if v is not None)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("suffix", [".json", ".toml"])
@pytest.mark.parametrize("kwargs", MODELS.values(), ids=MODELS.keys())
def test_every_key_get_config_writes_is_read_back_by_config(tmp_path, kwargs, suffix):
    """The model section of a --config file holding a model's get_config (per-level lists,
    objective and family options, the Keras keys) rebuilds that model, as `tfpvae train` does."""
    from tfpvae import cli, runs
    from tfpvae.model import VAE

    vae = VAE(event_shape=(8, 8, 1), **kwargs)
    written = vae.get_config()
    path = write_config(tmp_path / f"run{suffix}", {"model": written, "training": {"epochs": 1}})
    merged = cli.train_config(cli.parser().parse_args(["train", "--config", str(path)]))
    expected = written if suffix == ".json" else without_none(written)
    assert {k: merged["model"][k] for k in expected} == expected
    again = runs.build_model(merged, (8, 8, 1))
    assert again.get_config() == written
    assert [w.shape for w in again.weights] == [w.shape for w in vae.weights]
    assert posteriors(again) == posteriors(vae) and again.objective.get_config() == vae.objective.get_config()


def test_a_toml_stack_config_trains_into_the_same_model(tmp_path, capsys):
    """`tfpvae train --config run.toml` with per-level lists saves the model the file declares."""
    from tfpvae import cli
    from tfpvae.model import VAE

    written = VAE(event_shape=(8, 8, 1), name="vae", **MODELS["stack"]).get_config()
    path = write_config(tmp_path / "run.toml", {"model": written, "training": {"epochs": 1, "batch_size": 500}})
    assert cli.main(["train", "--config", str(path), "--output", str(tmp_path / "run")]) == 0, capsys.readouterr()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"] == written
    assert posteriors(keras.models.load_model(tmp_path / "run" / "model.keras")) == written["posterior"]
