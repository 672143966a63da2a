"""`tfpvae evaluate --disentanglement` on a tiny run trained on `shapes`, in a subprocess."""

import json

import pytest

from tests.test_cli import SMALL, tfpvae

METRICS = ("beta_vae_score", "factor_vae_score", "mig", "sap", "dci_disentanglement", "dci_completeness",
           "dci_informativeness")


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes") / "run"
    tfpvae("train", "--dataset", "shapes", "--max-examples", "300", "--epochs", "1", "--latent-dim", "3",
           "--objective", '{"name": "factor_vae", "discriminator_units": [16]}', "--output", out, *SMALL)
    return out


def test_evaluate_reports_the_disentanglement_metrics_of_a_shapes_run(shapes_run):
    """Every metric is a number in [0, 1], printed and written to evaluation.json."""
    result = tfpvae("evaluate", shapes_run, "--num-samples", "4", "--disentanglement",
                    "--disentanglement-points", "40", "--json")
    printed = json.loads(result.stdout)
    assert printed["examples"] == 300 and printed["disentanglement_points"] == 40
    for key in METRICS:
        assert 0.0 <= printed[key] <= 1.0, key
    assert json.loads((shapes_run / "evaluation.json").read_text()) == printed
    config = json.loads((shapes_run / "config.json").read_text())
    assert config["data"]["max_examples"] == 300 and config["model"]["event_shape"] == [64, 64, 1]


def test_disentanglement_needs_known_factors(shapes_run):
    """Data without factors has nothing to score: one clear line and status
    2, as has a number of points too small to split."""
    result = tfpvae("evaluate", shapes_run, "--dataset", "digits", "--disentanglement", check=False)
    assert result.returncode == 2
    assert ("--disentanglement needs a data set with known factors (shapes); the data set evaluated is "
            "'digits'") in result.stderr
    result = tfpvae("evaluate", shapes_run, "--disentanglement", "--disentanglement-points", "5", check=False)
    assert result.returncode == 2 and "--disentanglement-points must be an int >= 10" in result.stderr
