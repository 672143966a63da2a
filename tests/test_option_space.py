"""A property test over everything `VAE` accepts: each configuration is refused
with a clear error, or it trains, saves, loads and rebuilds from its config.

A configuration is drawn from the constructor's arguments and the registries:
`latent_dim` an int or a list of levels; `encoder`, `decoder` and `posterior`
one spec or a list of one per level, as names, dicts with options or (for the
networks) Keras layers; every prior, posterior and likelihood family with its
options, the prior mostly a partner over the posterior's latent space; every
objective with its options; `kl`, `num_samples`, `inference`, `context_dim`,
`beta`, `free_bits` and `seed`. For each one:

- the constructor raises a ValueError or TypeError of one line, with no
  TensorFlow internals, whose message names one of its arguments; or
- the model trains one step on data in the likelihood's support, with a
  finite loss; saved to .keras and loaded with `keras.models.load_model`, it
  has the same weights and the same q(z|x) center, reconstruction and ELBO
  (for one seed), and the same config; `get_config -> from_config ->
  get_config` is a fixed point, and the rebuilt model has the same weights'
  shapes and the same family at every level.

`test_a_sample_trains_from_its_config_file_and_exports` then runs a few valid
configurations through `tfpvae train --config` (in process, `cli.main`) on a
data file of the right shape and support, and `tfpvae export`.

Models are tiny (event shape (6,) or (4, 4, 1), latent levels of 1-4, Dense
layers of 8 units) and the draws are derandomized, so every run tries the
same configurations: the first test draws 30 and adds the two of the bug
report (32 in all; 19 build and train, 13 are refused), the second draws
until 3 valid ones have trained. Measured on a 2-core machine shared with
other jobs (load 5-10): the first test took 56-210 s, the second 22-47 s, the
whole file 2-4 minutes. With other seeds (derandomize off), 150 more
configurations through the first test (74 trained) and 15 through the second
found nothing beyond what is fixed.
"""

import collections
import inspect
import json
import math
import tempfile
from pathlib import Path

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

import tfpvae
from tfpvae import backend, cli, conditioning, evaluation, families, objectives
from tfpvae.backend import tf
from tfpvae.families.levels import LevelsFamily

ARGUMENTS = [name for name in inspect.signature(tfpvae.VAE.__init__).parameters if name not in ("self", "kwargs")]
MLP = {"name": "mlp", "units": [8]}
KERAS_LAYER = "a Keras layer"  # drawn as this marker, made a layer by `with_layers` when the model is built
SEED = backend.seed_pair(3, 4)
OUTCOMES = collections.Counter()
REFUSALS = []

# Values tried for each option of a family or an objective, by option name. A new
# option fails `test_every_option_has_values_to_draw` until it has an entry here.
FAMILY_OPTIONS = {
    "min_scale": [1e-3, 0.05], "components": [2, 3], "seed": [0, 5], "steps": [1, 2], "hidden": [4, 8],
    "rank": [1, 2], "min_concentration": [0.5, 1.0], "categories": [2, 3], "temperature": [0.5, 1.0],
    "learned": [False, True], "min_df": [2.0, 3.0], "scale": ["network", "shared", 0.5],
}
OBJECTIVE_OPTIONS = {
    "beta": [0.5, 2.0], "free_bits": [0.0, 0.1], "gamma": [1.0, 10.0], "capacity": [1.0, 5.0],
    "steps": [10, 1000], "alpha": [0.0, 0.5, 1.0], "sampling": ["mws", "mss"], "dataset_size": [None, 100],
    "lambda_": [1.0, 10.0], "kernel": ["imq", "rbf"], "bandwidth": [0.5, 1.0], "num_estimates": [1, 2],
    "variant": ["i", "ii"], "lambda_od": [1.0, 10.0], "lambda_d": [None, 5.0],
    "discriminator_units": [[8], [8, 8]], "discriminator_learning_rate": [1e-4, 1e-3],
}


def family_option_names(role, name):
    """The options a family takes: its constructor's keywords (min_scale only where it has a scale)."""
    family = families.get(name, role=role)
    parameters = inspect.signature(type(family).__init__).parameters
    return [p for p in parameters if p not in ("self", "name") and (p != "min_scale" or p in family.options)]


def settings_for(max_examples):
    return settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- drawing a configuration ---------------------------------------------------------------


def one_of_values(table, names):
    """A dict of some of the options `names`, each with a value from `table`."""
    return st.fixed_dictionaries({}, optional={name: st.sampled_from(table[name]) for name in names})


@st.composite
def spec(draw, name, options):
    """A name, or {"name": name, **some options}."""
    chosen = draw(options)
    if not chosen and draw(st.booleans()):
        return name
    return {"name": name, **chosen}


def family_spec(role, name):
    return spec(name, one_of_values(FAMILY_OPTIONS, family_option_names(role, name)))


def objective_spec(name):
    return spec(name, one_of_values(OBJECTIVE_OPTIONS, objectives.get(name).option_names()))


def latent_space(role, name):
    return families.get(name, role=role).latent_space().replace(str(10), "K")


@st.composite
def network(draw, image):
    """A network spec: mostly a small MLP; sometimes the default-sized name, a Keras layer
    or, mostly where its input is an image, a conv net."""
    conv = ["conv"] if image or not draw(st.integers(0, 7)) else []
    kind = draw(st.sampled_from(["small", "small", "small", "relu", "name", "layer", *conv]))
    return {"small": MLP, "relu": {**MLP, "activation": "relu"}, "name": "mlp", "layer": KERAS_LAYER,
            "conv": {"name": "conv", "filters": [4], "units": 8}}[kind]


def networks_of(event_shape, levels):
    """Encoders or decoders of every level: level 1 reads x (an image or a vector), the others vectors."""
    image = len(event_shape) == 3
    one = network(image and levels == 1)
    each = st.tuples(network(image), *[network(False)] * (levels - 1)).map(list)
    return st.one_of(one, each)


def posterior_spec(space):
    names = [n for n in families.names()["posterior"] if latent_space("posterior", n) == space]
    return st.sampled_from(names).flatmap(lambda n: family_spec("posterior", n))


@st.composite
def latent_part(draw, levels):
    """(latent_dim, prior, posterior). The top level's posterior draws z in one latent
    space, and the prior is mostly a partner over it (a relaxed categorical's with the
    same categories, K = 2, and a size that K divides; in a stack, not one built from
    q(z|x)); the levels below mostly take an R^d posterior, since their prior
    p(z_l|z_{l+1}) is a Gaussian. The rest are mismatches, which the model must refuse
    clearly."""
    names = families.names()
    space = draw(st.sampled_from(sorted({latent_space("posterior", n) for n in names["posterior"]})))
    sizes = draw(st.lists(st.sampled_from([1, 2, 2, 3, 3, 4]), min_size=levels, max_size=levels))
    below = [draw(posterior_spec("R^d" if draw(st.integers(0, 5)) else space)) for _ in sizes[:-1]]
    levels_posteriors = [*below, draw(posterior_spec(space))]
    partners = [n for n in names["prior"] if latent_space("prior", n) == space
                and not (levels > 1 and families.get(n, role="prior").needs_encoder)]
    prior = draw(st.sampled_from(names["prior"] if draw(st.integers(0, 5)) == 0 else partners)
                 .flatmap(lambda n: family_spec("prior", n)))
    if "categories" in space and draw(st.integers(0, 5)):
        sizes[-1] = draw(st.sampled_from([2, 4]))
        levels_posteriors[-1] = with_options(levels_posteriors[-1], categories=2)
        prior = with_options(prior, categories=2) if spec_name(prior) == "categorical" else prior
    latent_dim = sizes if levels > 1 or draw(st.booleans()) else sizes[0]
    one = draw(st.booleans()) and all(p == levels_posteriors[0] for p in levels_posteriors)
    return latent_dim, prior, levels_posteriors[0] if one and draw(st.booleans()) else levels_posteriors


def spec_name(spec):
    return spec if isinstance(spec, str) else spec["name"]


def with_options(spec, **options):
    return {**({"name": spec} if isinstance(spec, str) else spec), **options}


@st.composite
def configurations(draw):
    """Keyword arguments of `VAE`, from every option it and the registries accept."""
    levels = draw(st.sampled_from([1, 1, 2]))
    latent_dim, prior, posterior = draw(latent_part(levels))
    objective = draw(st.sampled_from(objectives.names()).flatmap(objective_spec))
    event_shape = draw(st.sampled_from([(6,), (6,), (4, 4, 1)]))
    kwargs = {
        "event_shape": event_shape,
        "latent_dim": latent_dim,
        "prior": prior,
        "posterior": posterior,
        "likelihood": draw(st.sampled_from(families.names()["likelihood"])
                           .flatmap(lambda n: family_spec("likelihood", n))),
        "encoder": draw(networks_of(event_shape, levels)),
        "decoder": draw(networks_of(event_shape, levels)),
        "kl": draw(st.sampled_from(["auto", "auto", "analytic", "mc"])),
        "num_samples": draw(st.integers(1, 3)),
        "objective": objective,
    }
    takes = objectives.get(spec_name(objective)).option_names()
    ladder = ["ladder"] if levels > 1 else ["ladder"] * (not draw(st.integers(0, 5)))
    optional = {"context_dim": st.sampled_from([0, 2]), "seed": st.one_of(st.none(), st.integers(0, 9)),
                "inference": st.sampled_from(["bottom_up", *ladder])}
    # beta and free_bits mostly where the objective takes them, as the same value if it is given there too
    for key, values in (("beta", [0.5, 2.0]), ("free_bits", [0.0, 0.1])):
        if key in takes or not draw(st.integers(0, 5)):
            given = objective.get(key) if isinstance(objective, dict) else None
            optional[key] = st.sampled_from(values if given is None or not draw(st.integers(0, 5)) else [given])
    kwargs.update(draw(st.fixed_dictionaries({}, optional=optional)))
    return kwargs


# --- data of the likelihood's support --------------------------------------------------------


def data_for(family, event_shape, n, seed=0):
    """n examples of x in the family's support, float32 [n, *event_shape]."""
    rng = np.random.default_rng(seed)
    shape = (n, *event_shape)
    if isinstance(family, LevelsFamily):
        x = rng.integers(0, family.levels, shape) / (family.levels - 1)
    elif family.integer:
        x = rng.integers(0, 2 if family.high == 1.0 else 6, shape)
    elif family.low is not None and family.high is not None:
        x = rng.uniform(0.05, 0.95, shape)
    else:
        x = rng.normal(size=shape)
    x = x.astype(np.float32)
    assert family.support_error(x) is None
    return x


def inputs_of(vae, n=8, seed=0):
    """(x, labels or None) for the model: x in its likelihood's support, labels in [0, context_dim)."""
    x = data_for(vae.stack.likelihood_layer.family, vae.event_shape, n, seed)
    c = np.arange(n) % vae.context_dim if vae.context_dim else None
    return x, c


# --- what a clear refusal is -------------------------------------------------------------------

INTERNALS = ("{{node", "Traceback", "Tensor(\"", "tf.Tensor(", "EagerTensor", "Exception encountered when calling",
             "Graph execution error")


def assert_clear(error, kwargs):
    """A builtin ValueError or TypeError on one line, without TF internals, naming an argument."""
    message = str(error)
    assert type(error).__module__ == "builtins" and isinstance(error, (ValueError, TypeError)), (
        f"{type(error).__module__}.{type(error).__name__}: {message[:800]} for {kwargs}")
    assert "\n" not in message.strip(), f"a message of several lines: {message[:800]} for {kwargs}"
    assert not any(word in message for word in INTERNALS), f"TF internals: {message[:800]} for {kwargs}"
    assert any(name in message for name in ARGUMENTS), f"names no argument: {message} for {kwargs}"


# --- what a model that builds must do --------------------------------------------------------


def posteriors(vae):
    return [layer.family.get_config() for layer in [vae.stack.posterior_layer, *vae.stack.upper_posteriors]]


def outputs(vae, x, c):
    """q(z|x)'s center, the reconstruction and the ELBO at SEED, as numpy arrays."""
    features = None if c is None else conditioning.context_features(c, vae.context_dim, len(x))
    q = vae.encode(x, c)
    reconstruction = vae((x, c) if vae.context_dim else x)
    elbo = tf.subtract(*evaluation.elbo_terms(vae, tf.constant(x), features, vae.num_samples, SEED))
    return [np.asarray(v) for v in (evaluation.center(q), reconstruction, elbo)]


def trains_one_step(vae, x, c):
    vae.compile(optimizer="adam")
    history = vae.fit((x, c) if vae.context_dim else x, batch_size=len(x), epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0]), f"loss {history['loss'][0]} after one step"
    assert int(vae.optimizer.iterations) == 1


def assert_same_model(again, vae, x, c):
    assert type(again) is tfpvae.VAE
    assert again.get_config() == vae.get_config()
    assert [tuple(w.shape) for w in again.weights] == [tuple(w.shape) for w in vae.weights]
    for a, b in zip(again.get_weights(), vae.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(outputs(again, x, c), outputs(vae, x, c)):
        np.testing.assert_array_equal(a, b)


def assert_config_is_a_fixed_point(vae):
    """get_config -> JSON -> from_config -> get_config gives the config back, and a model
    with the weights' shapes and the per-level families of `vae`."""
    config = vae.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = tfpvae.VAE.from_config(json.loads(json.dumps(config)))
    assert rebuilt.get_config() == config
    assert [tuple(w.shape) for w in rebuilt.weights] == [tuple(w.shape) for w in vae.weights]
    assert posteriors(rebuilt) == posteriors(vae)
    assert rebuilt.stack.prior_layer.family.get_config() == vae.stack.prior_layer.family.get_config()
    assert rebuilt.objective.get_config() == vae.objective.get_config()
    assert rebuilt.kl_form == vae.kl_form and rebuilt.stack.latent_sizes == vae.stack.latent_sizes


def with_layers(kwargs):
    """kwargs with each KERAS_LAYER marker a new small Keras network."""
    def made(spec):
        if isinstance(spec, list):
            return [made(s) for s in spec]
        return keras.Sequential([keras.layers.Dense(8, activation="tanh")]) if spec == KERAS_LAYER else spec

    return {key: made(value) if key in ("encoder", "decoder") else value for key, value in kwargs.items()}


def uses_layers(kwargs):
    return any(KERAS_LAYER in (v if isinstance(v, list) else [v]) for v in (kwargs["encoder"], kwargs["decoder"]))


def attempt_build(kwargs):
    try:
        return tfpvae.VAE(**with_layers(kwargs)), None
    except Exception as error:  # noqa: BLE001 - judged by assert_clear
        return None, error


# The two configurations of the bug report, kept as explicit examples.
REPORTED = [
    dict(event_shape=(12,), latent_dim=[4, 2], posterior=["mvn_tril", "normal"], encoder=MLP, decoder=MLP),
    dict(event_shape=(12,), latent_dim=3, objective={"name": "beta_tc", "beta": 6.0}, posterior="laplace",
         prior="laplace", encoder=MLP, decoder=MLP),
]


def with_reported(test):
    for kwargs in REPORTED:
        test = example(kwargs)(test)
    return test


@settings_for(30)
@with_reported
@given(configurations())
def check_configuration(kwargs):
    """The property, for one configuration."""
    vae, error = attempt_build(kwargs)
    if error is not None:
        OUTCOMES["refused"] += 1
        REFUSALS.append(str(error))
        assert_clear(error, kwargs)
        return
    keras.utils.set_random_seed(0)
    x, c = inputs_of(vae)
    trains_one_step(vae, x, c)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        vae.save(path)
        again = keras.models.load_model(path)
    assert_same_model(again, vae, x, c)
    assert_config_is_a_fixed_point(vae)
    OUTCOMES["trained"] += 1


@pytest.mark.slow
def test_every_configuration_is_refused_clearly_or_trains_saves_and_loads():
    """The property over the drawn configurations; enough of them build and train, and
    enough are refused, for both halves of it to be tried."""
    OUTCOMES.clear()
    check_configuration()
    assert OUTCOMES["trained"] >= 10 and OUTCOMES["refused"] >= 5, dict(OUTCOMES)


def test_every_option_has_values_to_draw():
    """Every option of every family and objective is drawn from FAMILY_OPTIONS or OBJECTIVE_OPTIONS."""
    for role, names in families.names().items():
        for name in names:
            assert set(family_option_names(role, name)) <= set(FAMILY_OPTIONS), (role, name)
    for name in objectives.names():
        assert set(objectives.get(name).option_names()) <= set(OBJECTIVE_OPTIONS), name


def test_the_draws_reach_every_family_objective_and_argument():
    """Over 300 draws (nothing built), every family of every role, every objective and
    every argument of `VAE` appears."""
    seen, arguments = collections.defaultdict(set), set()

    @settings_for(300)
    @given(configurations())
    def record(kwargs):
        arguments.update(kwargs)
        for role in ("prior", "likelihood", "posterior", "objective"):
            for spec in kwargs[role] if isinstance(kwargs[role], list) else [kwargs[role]]:
                seen[role].add(spec if isinstance(spec, str) else spec["name"])

    record()
    for role, names in families.names().items():
        assert seen[role] == set(names), role
    assert seen["objective"] == set(objectives.names())
    assert arguments == set(ARGUMENTS)


# --- a sample through the command line ----------------------------------------------------------


def write_data(path, vae, n=40):
    """An .npz in Keras's format with x of the model's event shape and support (and labels)."""
    x_train, c_train = inputs_of(vae, n, seed=1)
    x_test, c_test = inputs_of(vae, n // 2, seed=2)
    arrays = {"x_train": x_train, "x_test": x_test}
    if vae.context_dim:
        arrays.update(y_train=c_train, y_test=c_test)
    np.savez(path, **arrays)
    return path


@pytest.mark.slow
@settings_for(3)
@given(configurations())
def test_a_sample_trains_from_its_config_file_and_exports(kwargs):
    """`tfpvae train --config config.json` (the model section a model's get_config) trains
    that model: the run's config.json and model.keras hold it; `tfpvae export` then works."""
    assume(not uses_layers(kwargs))  # a config file holds specs, not layers
    vae, error = attempt_build(kwargs)
    assume(error is None)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        config = {"model": {**vae.get_config(), "name": "vae"},
                  "data": {"dataset": str(write_data(folder / "data.npz", vae)), "validation_split": 0.0},
                  "training": {"epochs": 1, "batch_size": 40}}
        (folder / "config.json").write_text(json.dumps(config))
        run = folder / "run"
        assert cli.main(["train", "--config", str(folder / "config.json"), "--output", str(run)]) == 0
        assert json.loads((run / "config.json").read_text())["model"] == config["model"]
        trained = keras.models.load_model(run / "model.keras")
        assert trained.get_config() == config["model"]
        assert [tuple(w.shape) for w in trained.weights] == [tuple(w.shape) for w in vae.weights]
        assert posteriors(trained) == posteriors(vae)
        assert cli.main(["export", str(run), str(folder / "export")]) == 0
        assert (folder / "export" / "saved_model.pb").is_file()
        assert math.isfinite(json.loads((run / "metrics.json").read_text())["test_loss"])
