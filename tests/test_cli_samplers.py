"""`tfpvae sample --sampler` and `tfpvae evaluate --scores`, run as the real console script."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits

from tests.test_cli import SMALL, tfpvae


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_samplers") / "run"
    tfpvae("train", "--epochs", "2", "--latent-dim", "2", "--output", out, *SMALL)
    return out


@pytest.mark.slow  # three runs of the command: 60-80 s on a busy 2-core machine
def test_sample_fits_a_sampler_once_and_reuses_it(run_dir, tmp_path):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    tfpvae("sample", run_dir, "--sampler", "gmm", "-n", "16", "--seed", "1", "--output", first)
    saved = run_dir / "samplers" / "gmm"
    config = json.loads((saved / "sampler.json").read_text())
    assert config["kind"] == "gmm" and config["latent_dim"] == 2 and config["components"] == 10
    written = (saved / "weights.npz").stat().st_mtime_ns
    tfpvae("sample", run_dir, "--sampler", "gmm", "-n", "16", "--seed", "1", "--output", second)
    assert (saved / "weights.npz").stat().st_mtime_ns == written  # loaded, not fitted again
    np.testing.assert_array_equal(np.load(second.with_suffix(".npy")), np.load(first.with_suffix(".npy")))
    tfpvae("sample", run_dir, "--sampler", '{"name": "gmm", "components": 3, "covariance": "diag"}',
           "-n", "4", "--output", tmp_path / "other.png")
    config = json.loads((saved / "sampler.json").read_text())
    assert config["components"] == 3 and config["covariance"] == "diag"  # other options: fitted again


@pytest.mark.slow  # two runs of the command and a classifier's training: about 36 s on a busy 2-core machine
def test_evaluate_scores_samples_with_the_sampler_and_a_saved_classifier(run_dir):
    result = json.loads(tfpvae("evaluate", run_dir, "--num-samples", "10", "--scores", "--sampler", "gmm",
                               "--json").stdout)
    assert result["sampler"] == "gmm" and result["features"] == "classifier" and result["score_examples"] == 297
    assert result["frechet_distance"] > 0 and np.isfinite(result["kernel_distance"])
    assert 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert result["classifier_accuracy"] > 0.5
    assert (run_dir / "classifier.keras").is_file()
    assert json.loads((run_dir / "evaluation.json").read_text())["sampler"] == "gmm"
    table = tfpvae("evaluate", run_dir, "--num-samples", "10", "--scores").stdout
    assert "frechet_distance" in table and "prior" in table


def test_scores_need_labels_for_the_classifier(tmp_path):
    x = (load_digits().images[..., None] / 16.0).astype("float32")
    np.save(tmp_path / "unlabelled.npy", x)
    run = tmp_path / "run"
    tfpvae("train", "--dataset", tmp_path / "unlabelled.npy", "--epochs", "1", "--latent-dim", "2",
           "--binarize", "static", "--output", run, *SMALL)
    result = tfpvae("evaluate", run, "--num-samples", "5", "--scores", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "has none; use labelled data or --features inception" in result.stderr


@pytest.mark.parametrize("args,message", [
    (["sample", "RUN", "--sampler", "gauss"], "unknown sampler kind 'gauss'"),
    (["sample", "RUN", "--sampler", '{"name": "gmm", "components": 0}'], "components must be a positive int"),
    (["evaluate", "RUN", "--scores", "--sampler", '{"name": "flow", "depth": 2}'], "bad options for sampler 'flow'"),
])
def test_bad_sampler_flags_are_one_clear_line(run_dir, args, message):
    result = tfpvae(*[run_dir if a == "RUN" else a for a in args], check=False)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
