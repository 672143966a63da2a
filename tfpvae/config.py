"""Run configuration: the model's config plus data and training settings.

A configuration is plain data with three sections:

    {"model": VAE.get_config() (event_shape comes from the data),
     "data": {"dataset": ..., "binarize": ..., "validation_split": ..., "max_examples": ...},
     "training": {"epochs": ..., "batch_size": ..., "learning_rate": ..., "schedule": ..., "seed": ...}}

It is read from JSON or TOML files; values given on the command line override
the file's, which override DEFAULTS.
"""

import collections
import copy
import json
import tomllib
from pathlib import Path

from tfpvae import checks, families, networks, objectives, schedules, stack
from tfpvae.objectives.bounds import KL_FORMS

BINARIZE = ("auto", "dynamic", "static", "none")
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")

Option = collections.namedtuple("Option", ["default", "kind", "help", "choices"])
"""One config key: its default, its kind (int, float, str, "spec" for a name
or a JSON object, or "sizes" for an int or a list of ints), what it does and,
where the values are names, the names."""

OPTIONS = {
    "model": {
        "latent_dim": Option(8, "sizes", "dimension of the latent z; a list such as 100,50 for a stack of "
                             "latent layers, the one next to x first", None),
        "prior": Option("normal", "spec", "the prior p(z)", families.names()["prior"]),
        "posterior": Option("normal", "spec", "the approximate posterior q(z|x)",
                            families.names()["posterior"]),
        "likelihood": Option("bernoulli", "spec", "the likelihood p(x|z)", families.names()["likelihood"]),
        "encoder": Option("mlp", "spec", "the network from x to the posterior's parameters",
                          list(networks.NETWORKS)),
        "decoder": Option("mlp", "spec", "the network from z to the likelihood's parameters",
                          list(networks.NETWORKS)),
        "kl": Option("auto", str, "the KL term: analytic where TFP has a closed form (auto), "
                     "always analytic, or Monte Carlo (mc)", list(KL_FORMS)),
        "num_samples": Option(1, int, "draws of z per example (L)", None),
        "objective": Option("elbo", "spec", "the training objective", objectives.names()),
        "beta": Option(1.0, float, "weight of the KL term (a beta-VAE)", None),
        "free_bits": Option(0.0, float, "nats of KL per latent dimension not penalized", None),
        "inference": Option("bottom_up", str, "how a stack of latent layers infers z: bottom-up q(z_l|z_{l-1}) "
                            "or top-down ladder q(z_l|z_{l+1}, x)", list(stack.INFERENCE)),
        "context_dim": Option(0, int, "number of label classes of a conditional VAE (0: unconditional)",
                              None),
    },
    "data": {
        "dataset": Option("digits", str, "a tensorflow-datasets name, a file or folder, or digits", None),
        "binarize": Option("auto", str, "binarize x: dynamic for a bernoulli likelihood, else none (auto), "
                           "a fresh draw every epoch (dynamic), one draw (static), or not", list(BINARIZE)),
        "validation_split": Option(0.1, float, "fraction of the training data held out for validation",
                                   None),
        "max_examples": Option(None, int, "keep at most this many examples of each split (shapes: a fixed "
                               "uniform sample); none keeps all", None),
    },
    "training": {
        "epochs": Option(50, int, "passes over the training data", None),
        "batch_size": Option(100, int, "examples per step", None),
        "learning_rate": Option(1e-3, float, "Adam's learning rate (the schedule's first rate)", None),
        "schedule": Option("constant", str, "the learning rate over the run: constant, or the IWAE paper's "
                           "3^i passes at learning_rate * 10^(-i/7), i = 0..7, compressed into the run's "
                           "epochs (iwae)", list(schedules.NAMES)),
        "adam_epsilon": Option(1e-7, float, "Adam's epsilon (the IWAE paper's is 1e-4)", None),
        "seed": Option(0, int, "seed of the weights, the data order and every draw", None),
        "warmup_epochs": Option(0, int, "ramp beta from 0 over this many epochs", None),
        "strategy": Option("default", str, "the tf.distribute strategy", list(STRATEGIES)),
    },
}
DEFAULTS = {section: {key: option.default for key, option in options.items()}
            for section, options in OPTIONS.items()}


def describe(option):
    """What a config key does, its choices and its default, in one sentence."""
    text = option.help
    if option.kind == "spec":
        text += (f"; a name ({', '.join(option.choices)}) or a JSON object {{\"name\": ..., options}}, "
                 f"or for a stack of latent layers a JSON list of one per level")
    elif option.choices:
        text += f"; one of {', '.join(option.choices)}"
    return f"{text} (default: {option.default})"


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


def completed(config):
    """A config read from a run directory with the [data] and [training] keys
    it predates (written by an older tfpvae) set to their defaults."""
    config = copy.deepcopy(config)
    for section in ("data", "training"):
        if isinstance(config.get(section), dict):
            config[section] = {**DEFAULTS[section], **config[section]}
    return config


def check(config):
    """Errors for data and training values the model's own checks do not see."""
    data, training = config["data"], config["training"]
    if not isinstance(data["dataset"], str):
        raise ValueError(f"dataset must be a name or a path; received {data['dataset']!r}")
    if not (isinstance(data["binarize"], str) and data["binarize"].lower() in BINARIZE):
        raise ValueError(f"binarize must be one of {list(BINARIZE)}; received {data['binarize']!r}")
    if data.get("max_examples") is not None:
        checks.positive_int(data["max_examples"], "max_examples")
    split = checks.real(data["validation_split"], "validation_split")
    if not split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1); received {split!r}")
    checks.real(training["learning_rate"], "learning_rate", strict=True)
    checks.real(training["adam_epsilon"], "adam_epsilon", strict=True)
    if training["schedule"] not in schedules.NAMES:
        raise ValueError(f"schedule must be one of {list(schedules.NAMES)}; received {training['schedule']!r}")
    checks.seed(training["seed"], "seed")
    for key, least in (("epochs", 1), ("batch_size", 1), ("warmup_epochs", 0)):
        checks.integer(training[key], key, least, "a positive int" if least else "an int >= 0")
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
    """A family or network spec from the command line: a name, a JSON object,
    or a JSON list of names and objects (one per level of a stack)."""
    text = text.strip()
    if not text.startswith(("{", "[")):
        return text
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"spec {text!r} is not a name or valid JSON: {error}") from None
    for part in spec if isinstance(spec, list) else [spec]:
        if not (isinstance(part, str) or isinstance(part, dict) and "name" in part):
            raise ValueError(f"a JSON spec must be an object with a 'name' key, or a list of names and such "
                             f"objects; received {text!r}")
    return spec


def parse_sizes(text):
    """latent_dim from the command line: "8", or "100,50" for a stack of levels."""
    parts = text.strip().strip("[]").split(",")
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        raise ValueError(f"latent_dim must be an int or comma-separated ints such as 100,50; "
                         f"received {text!r}") from None
    return sizes[0] if len(sizes) == 1 else sizes
