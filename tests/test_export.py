"""The SavedModel export: each signature, loaded by plain TensorFlow in a fresh
process, returns what the live model computes with the same stateless seed."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfpvae
from tfpvae.evaluation import center, stddev_of
from tfpvae.export import export
from tfpvae.objectives import bounds

SMALL = {"name": "mlp", "units": [16]}
DEFAULTS = {"prior": "normal", "posterior": "normal", "likelihood": "bernoulli"}
SEED = 7
BATCH = 5
NUM_SAMPLES = {"sample": 4, "log_likelihood": 6}
SIGNATURES = ("serving_default", "reconstruct", "encode", "decode", "sample", "elbo",
              "log_likelihood")

CHILD = r"""
import json, sys
import numpy as np
import tensorflow as tf

keras_modules = lambda: {m for m in sys.modules if m.split(".")[0] == "keras"}
keras_before = keras_modules()
report = {"signatures": {}}
for line in sys.stdin:
    job = json.loads(line)
    model = tf.saved_model.load(job["dir"])
    report["signatures"][job["dir"]] = sorted(model.signatures)
    inputs = dict(np.load(job["inputs"]))
    for name, keys in job["calls"].items():
        outputs = model.signatures[name](**{k: tf.constant(inputs[v]) for k, v in keys.items()})
        np.savez(job["outputs"] + "." + name + ".npz", **{k: v.numpy() for k, v in outputs.items()})
report["new_keras_modules"] = sorted(keras_modules() - keras_before)
report["loaded"] = [m for m in ("tfpvae", "tensorflow_probability", "tf_keras") if m in sys.modules]
json.dump(report, open(sys.argv[1], "w"))
"""


def small_vae(**kwargs):
    """A small model with seeded weights, moved off their initial values."""
    keras.utils.set_random_seed(0)
    options = {"event_shape": (8, 8, 1), "latent_dim": 2, "encoder": SMALL, "decoder": SMALL,
               "num_samples": 2}
    vae = tfpvae.VAE(**{**options, **kwargs})
    rng = np.random.RandomState(0)
    vae.set_weights([w + rng.normal(0.0, 0.1, w.shape).astype(w.dtype) for w in vae.get_weights()])
    return vae


def family_cases():
    """(role, name) for every registered family."""
    return [(role, name) for role, names in tfpvae.families.names().items() for name in names]


def family_models():
    """Options of small models that together use every registered family, and
    which model uses each (role, name).

    Model i takes the i-th family of each role, or the default where a role
    has fewer; model 0 has the default families. Where the i-th prior and
    posterior live in different spaces (R^d, the sphere, ...), the posterior
    keeps model i with a `vamp` prior (the posterior's own mixture) and the
    prior gets a model of its own with the first posterior of its space.
    """
    names = tfpvae.families.names()
    space = lambda role, name: tfpvae.families.get(name, role=role).latent_space()  # noqa: E731
    models, index = [], {}
    for i in range(max(map(len, names.values()))):
        options = {role: names[role][i] if i < len(names[role]) else default
                   for role, default in DEFAULTS.items()}
        prior_space = space("prior", options["prior"])
        if options["prior"] != "vamp" and prior_space != space("posterior", options["posterior"]):
            partner = next(n for n in names["posterior"] if space("posterior", n) == prior_space)
            index["prior", options["prior"]] = len(models)
            models.append(with_shape({**options, "posterior": partner, "likelihood": DEFAULTS["likelihood"]}))
            options["prior"] = "vamp"
        index.update({(role, name): len(models) for role, name in options.items()
                      if (role, name) not in index})
        models.append(with_shape(options))
    return models, index


def with_shape(options):
    """The options with an event shape that suits the likelihood and a latent size that suits the posterior."""
    likelihood = tfpvae.families.get(options["likelihood"], role="likelihood")
    options["event_shape"] = (8, 8, 1) if likelihood.elementwise else (4,)
    if options["posterior"] == "relaxed_categorical":
        options["latent_dim"] = 10  # one group of its 10 categories
    return options


def model_of(served, role, name):
    """(vae, export dir, inputs, outputs prefix) of the model using a family."""
    model = served["models"][served["index"][role, name]]
    if isinstance(model, Exception):
        pytest.fail(f"the model with {role} {name!r} could not be built: {model!r}")
    return model


def expected_of(served, role, name):
    """`expected_outputs` of the model using a family, computed once per model."""
    vae, _, inputs, _ = model_of(served, role, name)
    if id(vae) not in served["expected"]:
        served["expected"][id(vae)] = expected_outputs(vae, inputs)
    return served["expected"][id(vae)]


def data_for(vae, rng):
    """A batch of x inside the likelihood's support: real numbers, else 8-bit
    levels inside (0, 1), else counts."""
    shape = (BATCH, *vae.event_shape)
    candidates = [rng.normal(size=shape), np.round(rng.uniform(0.02, 0.98, shape) * 255) / 255,
                  rng.poisson(3.0, shape)]
    family = vae.stack.likelihood_layer.family
    return next(x for x in candidates if family.support_error(x) is None).astype(np.float32)


def signature_inputs(vae, rng):
    """The arrays the signatures are called with, by name."""
    z = rng.normal(size=(BATCH, vae.latent_size)).astype(np.float32)
    return {"x": data_for(vae, rng), "z": z, "seed": np.int32(SEED),
            "n": np.int32(NUM_SAMPLES["sample"]), "k": np.int32(NUM_SAMPLES["log_likelihood"])}


def call_inputs():
    """Each signature's inputs, by signature name: {input name: array name}."""
    x, z, seed = {"x": "x"}, {"z": "z"}, {"seed": "seed"}
    return {"serving_default": x, "reconstruct": x, "encode": {**x, **seed},
            "decode": {**z, **seed}, "sample": {"num_samples": "n", **seed}, "elbo": {**x, **seed},
            "log_likelihood": {**x, "num_samples": "k", **seed}}


def expected_outputs(vae, inputs):
    """What each signature should return, computed by the live model; a
    conditional model's inputs hold its context `c`, one row per example."""
    x, z, seed, c = inputs["x"], inputs["z"], int(inputs["seed"]), inputs.get("c")
    pair = tf.constant([0, seed], tf.int32)
    q, px, prior = vae.encode(x, c), vae.decode(z, c), vae.prior()
    decode = lambda z: vae.decode(z, c)  # noqa: E731
    reconstruction, kl = bounds.elbo_terms(q, prior, decode, x, vae.num_samples, vae.kl_form, pair)
    n, k = (len(c), int(inputs["k"])) if c is not None else (int(inputs["n"]), int(inputs["k"]))
    log_w = bounds.log_weights(q, prior, decode, x, k, pair)
    recon = {"reconstruction": vae((x, c) if c is not None else x)}
    return {
        "serving_default": recon,
        "reconstruct": recon,
        "encode": {"mean": center(q), **stddev_of(q), "z": q.sample(seed=pair)},
        "decode": {"mean": px.mean(), "sample": px.sample(seed=pair)},
        "sample": {"x": vae.sample(n, seed=seed, c=c), "mean": vae.sample(n, seed=seed, mean=True, c=c)},
        "elbo": {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl},
        "log_likelihood": {"log_likelihood": tf.reduce_logsumexp(log_w, 0) - np.log(k)},
    }


class Child:
    """A fresh Python process that loads and calls each export it is sent.

    It starts at once, so its imports and loads overlap the exporting here.
    """

    def __init__(self, tmp):
        self.report_file, self.log_file = tmp / "report.json", tmp / "child.log"
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        with open(self.log_file, "w") as log:
            self.process = subprocess.Popen([sys.executable, "-c", CHILD, str(self.report_file)],
                                            stdin=subprocess.PIPE, stdout=log, stderr=log,
                                            text=True, env=env)

    def send(self, job):
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()

    def report(self):
        """Waits for the process to finish; returns its report."""
        self.process.stdin.close()
        assert self.process.wait(timeout=300) == 0, self.log_file.read_text()[-3000:]
        return json.loads(self.report_file.read_text())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The family models, exported, then called by one fresh process.

    Returns:
      {"models": [(vae, export dir, inputs, outputs prefix), or the error that
       stopped the model being built], "report": the fresh process's report}
    """
    tmp = tmp_path_factory.mktemp("served")
    child = Child(tmp)
    rng = np.random.RandomState(1)
    models, index = [], family_models()[1]
    for i, options in enumerate(family_models()[0]):
        try:
            vae = small_vae(**options)
        except Exception as error:  # reported by the tests of the model's families
            models.append(error)
            continue
        base = tmp / f"model{i}"
        directory = export(vae, base, version=1)
        inputs = signature_inputs(vae, rng)
        np.savez(base / "inputs.npz", **inputs)
        child.send({"dir": directory, "inputs": str(base / "inputs.npz"),
                    "outputs": str(base / "out"), "calls": call_inputs()})
        models.append((vae, directory, inputs, base / "out"))
    return {"models": models, "index": index, "report": child.report(), "expected": {}}


def assert_outputs_match(out, expected):
    """Every signature's outputs under `out` are those `expected` names, equal to 1e-5."""
    for signature in SIGNATURES:
        received = outputs_of(out, signature)
        assert sorted(received) == sorted(expected[signature]), signature
        for output, value in expected[signature].items():
            np.testing.assert_allclose(received[output], value, rtol=1e-5, atol=1e-5,
                                       err_msg=f"{signature}/{output}")


def outputs_of(out, name):
    with np.load(f"{out}.{name}.npz") as outputs:
        return dict(outputs)


# --- the signatures, in a fresh process ------------------------------------------------

def test_the_fresh_process_needs_only_tensorflow(served):
    report = served["report"]
    assert report["loaded"] == []
    assert report["new_keras_modules"] == []
    for names in report["signatures"].values():
        assert names == sorted(SIGNATURES)


# TFP draws the power spherical's mu^T z through a Beta (Gamma) sampler that
# Grappler swaps for a CPU-specific algorithm inside graphs; a loaded SavedModel
# may run the other one, so the same seed gives other draws of the same
# distribution, and the ELBO and log p(x) estimates made with them differ too.
# Those are checked to be finite, and z to lie on the sphere.
OTHER_DRAWS = {("posterior", "power_spherical"): {"encode/z", "elbo/elbo", "elbo/reconstruction",
                                                  "log_likelihood/log_likelihood"}}


@pytest.mark.parametrize("role,name", family_cases())
def test_every_family_exports_and_matches_the_live_model(served, role, name):
    vae, _, _, out = model_of(served, role, name)
    assert getattr(vae, f"{role}_layer").family.name == name
    expected = expected_of(served, role, name)
    families = {("prior", vae.stack.prior_layer.family.name), ("posterior", vae.stack.posterior_layer.family.name)}
    other = set().union(*(OTHER_DRAWS.get(family, set()) for family in families))
    for signature in SIGNATURES:
        received = outputs_of(out, signature)
        assert sorted(received) == sorted(expected[signature]), signature
        for output, value in expected[signature].items():
            if f"{signature}/{output}" in other:
                assert np.all(np.isfinite(received[output])), f"{signature}/{output}"
                if output == "z":
                    np.testing.assert_allclose(np.linalg.norm(received[output], axis=-1), 1.0, atol=1e-5)
                continue
            np.testing.assert_allclose(received[output], value, rtol=1e-5, atol=1e-5,
                                       err_msg=f"{signature}/{output}")


def test_shapes_follow_the_inputs(served):
    vae, _, _, out = model_of(served, "prior", "normal")
    event = vae.event_shape
    shapes = {(signature, output): value.shape for signature in SIGNATURES
              for output, value in outputs_of(out, signature).items()}
    assert shapes == {
        ("serving_default", "reconstruction"): (BATCH, *event),
        ("reconstruct", "reconstruction"): (BATCH, *event),
        ("encode", "mean"): (BATCH, 2), ("encode", "stddev"): (BATCH, 2),
        ("encode", "z"): (BATCH, 2),
        ("decode", "mean"): (BATCH, *event), ("decode", "sample"): (BATCH, *event),
        ("sample", "x"): (NUM_SAMPLES["sample"], *event),
        ("sample", "mean"): (NUM_SAMPLES["sample"], *event),
        ("elbo", "elbo"): (BATCH,), ("elbo", "reconstruction"): (BATCH,), ("elbo", "kl"): (BATCH,),
        ("log_likelihood", "log_likelihood"): (BATCH,),
    }


def test_the_mixture_prior_exports_its_monte_carlo_kl(served):
    """KL(q || p) = E_q[log q(z) - log p(z)], averaged over the model's L
    draws z_l ~ q(z|x) taken with the seed [0, seed]."""
    vae, _, inputs, out = model_of(served, "prior", "mixture")
    assert vae.kl_form == "mc" and vae.num_samples == 2
    q = vae.encode(inputs["x"])
    z = q.sample(vae.num_samples, seed=tf.constant([0, SEED]))
    kl = np.mean(q.log_prob(z) - vae.prior().log_prob(z), axis=0)
    np.testing.assert_allclose(outputs_of(out, "elbo")["kl"], kl, rtol=1e-5, atol=1e-5)


def test_sample_count_is_checked_in_the_graph(served):
    _, directory, inputs, _ = model_of(served, "prior", "normal")
    loaded = tf.saved_model.load(directory)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples must be a positive int"):
        loaded.signatures["log_likelihood"](x=tf.constant(inputs["x"]), num_samples=tf.constant(0),
                                            seed=tf.constant(SEED))


@pytest.mark.parametrize("encoder", [SMALL, {"name": "conv", "filters": [4], "units": 16}])
def test_a_conditional_vae_exports_with_its_context(tmp_path, encoder):
    """Every signature takes the context c [B, C] (one-hot labels here) and
    matches the live model given the same c; `sample` draws one x per row of c."""
    vae = small_vae(context_dim=3, encoder=encoder)
    rng = np.random.RandomState(2)
    inputs = {**signature_inputs(vae, rng), "c": np.eye(3, dtype=np.float32)[rng.randint(0, 3, BATCH)]}
    np.savez(tmp_path / "inputs.npz", **inputs)
    calls = {name: {**keys, "c": "c"} for name, keys in call_inputs().items()}
    calls["sample"] = {"seed": "seed", "c": "c"}
    child = Child(tmp_path)
    child.send({"dir": export(vae, tmp_path / "m"), "inputs": str(tmp_path / "inputs.npz"),
                "outputs": str(tmp_path / "out"), "calls": calls})
    assert child.report()["loaded"] == []
    expected = expected_outputs(vae, inputs)
    assert_outputs_match(tmp_path / "out", expected)
    assert outputs_of(tmp_path / "out", "sample")["x"].shape == (BATCH, *vae.event_shape)


def test_a_stack_of_latent_layers_exports_and_matches_the_live_model(tmp_path):
    """A two-level model: every signature in a fresh process returns what the
    live model computes (1e-5), and `encode` gives each level's parameters."""
    vae = small_vae(latent_dim=[3, 2], encoder=[SMALL, {"name": "mlp", "units": [8]}],
                    decoder=[SMALL, {"name": "mlp", "units": [8]}])
    child = Child(tmp_path)
    directory = export(vae, tmp_path / "stack")
    inputs = signature_inputs(vae, np.random.RandomState(2))
    np.savez(tmp_path / "inputs.npz", **inputs)
    child.send({"dir": directory, "inputs": str(tmp_path / "inputs.npz"), "outputs": str(tmp_path / "out"),
                "calls": call_inputs()})
    assert child.report()["loaded"] == []
    expected = expected_outputs(vae, inputs)
    z = expected["encode"]["z"]
    for number, level in enumerate(vae.encode(inputs["x"]).levels(z), start=1):
        expected["encode"].update({f"mean_{number}": level.mean(), f"stddev_{number}": level.stddev()})
    assert [expected["encode"][f"mean_{n}"].shape[-1] for n in (1, 2)] == [3, 2]
    assert_outputs_match(tmp_path / "out", expected)


def test_saved_model_cli_shows_and_runs_the_signatures(served, tmp_path):
    vae, directory, _, _ = model_of(served, "prior", "normal")
    x = np.zeros((2, *vae.event_shape), np.float32)
    np.save(tmp_path / "x.npy", x)
    show = cli(tmp_path / "show.txt", "show", "--all", "--dir", directory)
    run = cli(tmp_path / "run.txt", "run", "--dir", directory, "--tag_set", "serve",
              "--signature_def", "reconstruct", "--inputs", f"x={tmp_path / 'x.npy'}",
              "--outdir", str(tmp_path / "out"))
    for process, log in ((show, "show.txt"), (run, "run.txt")):
        assert process.wait(timeout=120) == 0, (tmp_path / log).read_text()[-3000:]
    shown = (tmp_path / "show.txt").read_text()
    for signature in SIGNATURES:
        assert f"signature_def['{signature}']" in shown
    np.testing.assert_allclose(np.load(tmp_path / "out" / "reconstruction.npy"),
                               vae.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def cli(log, *args):
    """Starts `saved_model_cli *args`, its output going to the file `log`."""
    command = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with open(log, "w") as file:
        return subprocess.Popen([command, *args], stdout=file, stderr=subprocess.STDOUT, env=env)


# --- where and how it writes -----------------------------------------------------------

@pytest.fixture(scope="module")
def vae():
    return small_vae()


def test_version_writes_into_a_numbered_folder(vae, tmp_path):
    (tmp_path / "m" / "3").mkdir(parents=True)
    (tmp_path / "m" / "2").mkdir()
    (tmp_path / "m" / "2" / "keep.txt").write_text("old version")
    written = vae.export(tmp_path / "m", version=3)
    assert written == str(tmp_path / "m" / "3")
    assert (tmp_path / "m" / "3" / "saved_model.pb").is_file()
    assert (tmp_path / "m" / "2" / "keep.txt").read_text() == "old version"
    assert sorted(os.listdir(tmp_path / "m")) == ["2", "3"]


def test_overwrite_replaces_a_non_empty_target(vae, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "old.txt").write_text("old")
    vae.export(target, overwrite=True)
    assert sorted(os.listdir(target)) == ["assets", "fingerprint.pb", "saved_model.pb", "variables"]
    assert os.listdir(tmp_path) == ["m"]


def test_a_non_empty_target_is_kept_without_overwrite(vae, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(FileExistsError, match="exists and is not empty; pass overwrite=True"):
        vae.export(target)
    assert os.listdir(target) == ["old.txt"] and os.listdir(tmp_path) == ["m"]


def test_a_file_is_not_replaced(vae, tmp_path):
    (tmp_path / "m").write_text("not a model")
    with pytest.raises(FileExistsError, match="is a file or a link, not a directory"):
        vae.export(tmp_path / "m", overwrite=True)
    assert (tmp_path / "m").read_text() == "not a model"


def test_only_a_vae_exports(tmp_path):
    with pytest.raises(TypeError, match="export needs a tfpvae.VAE; received Sequential"):
        export(keras.Sequential(), tmp_path / "m")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("version", [-1, 1.5, "2", True])
def test_bad_versions_are_named(vae, tmp_path, version):
    match = f"version must be None or a non-negative int.*received {version!r}"
    with pytest.raises(ValueError, match=match):
        vae.export(tmp_path / "m", version=version)
    assert os.listdir(tmp_path) == []


@pytest.fixture
def unwritable(tmp_path):
    """A directory this process cannot write in."""
    if os.geteuid() != 0:
        directory = tmp_path / "read-only"
        directory.mkdir()
        directory.chmod(0o555)
        yield str(directory)
        directory.chmod(0o755)
        return
    try:
        os.mkdir("/sys/tfpvae-export-test")
    except OSError:
        yield "/sys"
        return
    os.rmdir("/sys/tfpvae-export-test")
    pytest.skip("no directory here is unwritable by root")


def test_an_unwritable_parent_is_named(vae, unwritable):
    target = os.path.join(unwritable, "m")
    with pytest.raises(PermissionError, match=f"cannot export to '{target}'"):
        vae.export(target)
    assert not os.path.exists(target)


def failing_save(module, directory, **kwargs):
    with open(os.path.join(directory, "partial.pb"), "w") as file:
        file.write("half")
    raise RuntimeError("disk full")


def test_a_failed_export_leaves_nothing_behind(vae, tmp_path, monkeypatch):
    monkeypatch.setattr(tf.saved_model, "save", failing_save)
    with pytest.raises(RuntimeError, match="disk full"):
        vae.export(tmp_path / "new" / "base", version=1)
    assert os.listdir(tmp_path) == []
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "old.txt").write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        vae.export(tmp_path / "m", overwrite=True)
    assert os.listdir(tmp_path) == ["m"] and os.listdir(tmp_path / "m") == ["old.txt"]
