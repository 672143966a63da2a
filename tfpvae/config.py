"""Run configuration: the model's config plus data and training settings.

A configuration is plain data with three sections:

    {"model": VAE.get_config() (event_shape comes from the data),
     "data": {"dataset": ..., "binarize": ..., "validation_split": ...},
     "training": {"epochs": ..., "batch_size": ..., "learning_rate": ..., "seed": ...}}

It is read from JSON or TOML files; values given on the command line override
the file's, which override DEFAULTS.
"""

import copy
import json
import tomllib
from pathlib import Path

from tfpvae import checks

DEFAULTS = {
    "model": {
        "latent_dim": 8, "prior": "normal", "posterior": "normal", "likelihood": "bernoulli",
        "encoder": "mlp", "decoder": "mlp", "kl": "auto", "num_samples": 1,
        "objective": "elbo", "beta": 1.0, "free_bits": 0.0, "context_dim": 0,
    },
    "data": {"dataset": "digits", "binarize": "auto", "validation_split": 0.1},
    "training": {"epochs": 50, "batch_size": 100, "learning_rate": 1e-3, "seed": 0, "warmup_epochs": 0,
                 "strategy": "default"},
}
BINARIZE = ("auto", "dynamic", "static", "none")
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


def read(path):
    """The configuration in a .json or .toml file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    if path.suffix not in (".json", ".toml"):
        raise ValueError(f"config file {str(path)!r} must end in .json or .toml")
    kind = path.suffix[1:].upper()
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except UnicodeDecodeError:
        raise ValueError(f"config file {str(path)!r} is not UTF-8 text") from None
    except RecursionError:
        raise ValueError(f"config file {str(path)!r} is nested too deeply to be a config") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"config file {str(path)!r} is not valid {kind}: {error}") from None


def merge(*layers):
    """DEFAULTS updated by each layer in turn (dicts of sections), checked."""
    config = copy.deepcopy(DEFAULTS)
    for layer in layers:
        if not isinstance(layer, dict):
            raise ValueError(f"a config must be a dict of sections; received {type(layer).__name__}")
        for section, values in layer.items():
            if section not in config:
                raise ValueError(f"unknown config section {section!r}; valid: {list(config)}")
            if not isinstance(values, dict):
                raise ValueError(f"config section {section!r} must be a table/dict; received {values!r}")
            unknown = set(values) - set(DEFAULTS[section]) if section != "model" else set()
            if unknown:
                raise ValueError(
                    f"unknown keys {sorted(unknown)} in config section {section!r}; "
                    f"valid: {list(DEFAULTS[section])}"
                )
            config[section].update({k: v for k, v in values.items() if v is not None or k == "seed"})
    check(config)
    return config


def check(config):
    """Errors for data and training values the model's own checks do not see."""
    data, training = config["data"], config["training"]
    if not isinstance(data["dataset"], str):
        raise ValueError(f"dataset must be a name or a path; received {data['dataset']!r}")
    if not (isinstance(data["binarize"], str) and data["binarize"].lower() in BINARIZE):
        raise ValueError(f"binarize must be one of {list(BINARIZE)}; received {data['binarize']!r}")
    split = checks.real(data["validation_split"], "validation_split")
    if not split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1); received {split!r}")
    checks.real(training["learning_rate"], "learning_rate", strict=True)
    checks.seed(training["seed"], "seed")
    for key, least in (("epochs", 1), ("batch_size", 1), ("warmup_epochs", 0)):
        value = training[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            kind = "a positive int" if least else "an int >= 0"
            raise ValueError(f"{key} must be {kind}; received {value!r}")
    if training["strategy"] not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}; received {training['strategy']!r}")


def binarization(config):
    """"dynamic", "static" or None: what `binarize` means for this model."""
    value = config["data"]["binarize"].lower()
    if value == "auto":
        likelihood = config["model"]["likelihood"]
        name = likelihood["name"] if isinstance(likelihood, dict) else likelihood
        return "dynamic" if name == "bernoulli" else None
    return None if value == "none" else value


def parse_spec(text):
    """A family or network spec from the command line: a name or a JSON object."""
    text = text.strip()
    if not text.startswith("{"):
        return text
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"spec {text!r} is not a name or valid JSON: {error}") from None
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"a JSON spec must be an object with a 'name' key; received {text!r}")
    return spec
