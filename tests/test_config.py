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
