"""Every example runs end to end, in a fast mode, as a user would run it."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = r"(-?\d+\.\d+)"


def run(script, *args, cwd=None):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)],
                            capture_output=True, text=True, timeout=600, cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_every_example_is_tested():
    tested = {"train_digits.py", "mlp_mnist.py", "conv_vae.py", "latent_2d.py",
              "real_valued.py", "swap_family.py", "conditional.py", "probabilistic_regression.py",
              "count_regression.py", "mixture_density_network.py", "functional_vae.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_train_digits_prints_its_test_elbo():
    out = run("train_digits.py", "--epochs", 2)
    match = re.search(rf"test ELBO: {NUMBER} nats\s+test log p\(x\) \(k=1000\): {NUMBER}", out)
    assert match, out
    elbo, log_px = map(float, match.groups())
    assert -64 * 0.7 < elbo < 0 and log_px > elbo  # better than coin flips (64 log 2 = 44.4 nats)


def test_mlp_mnist_falls_back_to_digits():
    out = run("mlp_mnist.py", "--epochs", 1)
    assert re.search(rf"digits[^:]*: test ELBO {NUMBER} nats, log p\(x\) \(k=1000\) {NUMBER}", out), out


def test_conv_vae_writes_reconstructions(tmp_path):
    out = run("conv_vae.py", "--epochs", 1, "--output", tmp_path / "r.png")
    assert "test ELBO" in out and (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_latent_2d_writes_both_pictures(tmp_path):
    run("latent_2d.py", "--epochs", 2, "--output-dir", tmp_path)
    for name in ("manifold.png", "latent.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_real_valued_compares_two_likelihoods():
    out = run("real_valued.py", "--epochs", 5)
    assert re.search(rf"likelihood=normal\s+test ELBO\s+{NUMBER}", out), out
    assert re.search(rf"likelihood=mvn_tril\s+test ELBO\s+{NUMBER}", out), out


def test_swap_family_prints_three_rows():
    out = run("swap_family.py", "--epochs", 1)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:] if line.strip()}
    assert set(rows) == {"normal", "learned_normal", "mixture"}
    assert rows["normal"][0] == "analytic" and rows["mixture"][0] == "mc"


def test_conditional_prints_both_elbos_and_draws_a_grid(tmp_path):
    out = run("conditional.py", "--epochs", 2, "--output", tmp_path / "c.png")
    with_labels = re.search(rf"test ELBO with labels\s+{NUMBER} nats", out)
    without = re.search(rf"test ELBO without labels\s+{NUMBER} nats", out)
    assert with_labels and without, out
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def scores(out, pattern):
    found = dict((name, tuple(map(float, rest))) for name, *rest in re.findall(pattern, out))
    assert found, out
    return found


def test_probabilistic_regression_prints_both_families():
    out = run("probabilistic_regression.py", "--epochs", 3)
    found = scores(out, rf"family=(\w+)\s+test log-likelihood\s+{NUMBER} nats\s+90% interval coverage {NUMBER}")
    assert set(found) == {"normal", "student_t"}
    assert all(0.0 <= coverage <= 1.0 for _, coverage in found.values())


def test_count_regression_prefers_the_negative_binomial():
    out = run("count_regression.py", "--epochs", 10)
    found = scores(out, rf"family=(\w+)\s+test log-likelihood\s+{NUMBER} nats\s+90% interval coverage {NUMBER}")
    assert set(found) == {"poisson", "negative_binomial"}
    assert found["negative_binomial"][0] > found["poisson"][0]


def test_mixture_density_network_prints_both_scores_and_the_modes():
    out = run("mixture_density_network.py", "--epochs", 3)
    found = scores(out, rf"family=(\w+)\s+test log-likelihood\s+{NUMBER} nats")
    assert set(found) == {"normal", "normal_mixture"}
    assert len(re.findall(rf"weight {NUMBER} mean {NUMBER}", out)) == 3, out


def test_functional_vae_prints_its_test_elbo():
    out = run("functional_vae.py", "--epochs", 2)
    match = re.search(rf"test ELBO: {NUMBER} nats", out)
    assert match and -64 * np.log(2.0) < float(match.group(1)) < 0, out  # better than coin flips
