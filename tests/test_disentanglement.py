"""The disentanglement metrics on codes with known answers.

Four factors of four values each; the codes are the centred factors plus
noise of standard deviation 0.05 ("aligned"), the same mixed by the rotation
H / 2 (H the 4x4 Hadamard matrix), which puts every factor into every
dimension with equal weight ("rotated"), with the first factor duplicated or
the last one replaced by noise, or noise alone. Tolerances are stated per
test; the seeds are fixed.
"""

import numpy as np
import pytest

import tfpvae
from tfpvae import disentanglement
from tfpvae.data import FactorSource

ROTATION = 0.5 * np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])


class Grid(FactorSource):
    """A source whose "image" of a factor vector is the vector itself, as floats."""

    factor_names = ("a", "b", "c", "d")
    factor_sizes = (4, 4, 4, 4)

    def images(self, factors):
        return self.check_factors(factors).astype(np.float32)


def encoders(seed=2):
    noise = np.random.default_rng(seed)
    centred = lambda x: np.asarray(x, float) - 1.5  # noqa: E731
    jitter = lambda shape: 0.05 * noise.standard_normal(shape)  # noqa: E731
    return {
        "aligned": lambda x: centred(x) + jitter(x.shape),
        "rotated": lambda x: centred(x) @ ROTATION + jitter(x.shape),
        "duplicated": lambda x: np.concatenate([centred(x), centred(x[:, :1])], 1) + jitter((len(x), 5)),
        "missing": lambda x: np.concatenate([centred(x[:, :3]) + jitter((len(x), 3)),
                                             noise.standard_normal((len(x), 1))], 1),
        "noise": lambda x: noise.standard_normal(x.shape),
    }


@pytest.fixture(scope="module")
def scores():
    """mig, sap and dci of each kind of code on 1,200 points (800 to train, 400 to test)."""
    factors = np.random.default_rng(0).integers(4, size=(1200, 4))
    result = {}
    for name, encode in encoders().items():
        codes = encode(factors)
        result[name] = {"mig": disentanglement.mig(codes, factors), "sap": disentanglement.sap(codes, factors),
                        **disentanglement.dci(codes, factors)}
    return result


def test_aligned_codes_score_high(scores):
    """MIG, D, C and I above 0.95; SAP above 0.5 (a linear SVM on one
    dimension separates the middle values of a factor only in part: measured 0.66)."""
    aligned = scores["aligned"]
    for key in ("mig", "disentanglement", "completeness", "informativeness"):
        assert aligned[key] > 0.95, key
    assert aligned["sap"] > 0.5


def test_rotated_codes_score_low_but_stay_informative(scores):
    """Every factor in every dimension: MIG, SAP, D and C below 0.1; the code
    still predicts the factors (informativeness above 0.85, measured 0.93)."""
    rotated = scores["rotated"]
    for key in ("mig", "sap", "disentanglement", "completeness"):
        assert rotated[key] < 0.1, key
    assert rotated["informativeness"] > 0.85


def test_a_duplicated_factor_halves_its_gap_and_lowers_completeness(scores):
    """Two dimensions carry the first factor: its MIG gap vanishes, so MIG
    falls to about 3/4 of the aligned one (within 0.05); completeness falls
    below 0.9 while disentanglement (each dimension still one factor's) stays above 0.95."""
    duplicated, aligned = scores["duplicated"], scores["aligned"]
    assert abs(duplicated["mig"] - 0.75 * aligned["mig"]) < 0.05
    assert duplicated["completeness"] < 0.9 < 0.95 < duplicated["disentanglement"]


def test_a_missing_factor_lowers_mig_completeness_and_informativeness(scores):
    """The last factor is not in the code: MIG about 3/4 (within 0.05),
    completeness below 0.95, informativeness near (3 + 1/4) / 4 = 0.81 (within 0.05)."""
    missing = scores["missing"]
    assert abs(missing["mig"] - 0.75) < 0.05
    assert missing["completeness"] < 0.95
    assert abs(missing["informativeness"] - 0.8125) < 0.05


def test_noise_scores_at_chance(scores):
    """A code independent of the factors: MIG, SAP, D, C below 0.05, informativeness near 1/4 (within 0.07)."""
    noise = scores["noise"]
    for key in ("mig", "sap", "disentanglement", "completeness"):
        assert noise[key] < 0.05, key
    assert abs(noise["informativeness"] - 0.25) < 0.07


def intervention_scores(name):
    encode = encoders()[name]
    return (disentanglement.beta_vae_score(encode, Grid(), num_train=300, num_eval=150),
            disentanglement.factor_vae_score(encode, Grid(), num_train=300, num_eval=150, num_variance=1000))


def test_intervention_scores_of_aligned_rotated_and_noise_codes():
    """Aligned codes: both scores 1. Rotated codes (every dimension varies
    alike whichever factor is fixed) and noise: both near chance, 1/4
    (below 0.4)."""
    assert intervention_scores("aligned") == (1.0, 1.0)
    for name in ("rotated", "noise"):
        beta, factor = intervention_scores(name)
        assert beta < 0.4 and factor < 0.4, name


def test_a_missing_factor_lowers_the_factor_vae_score_but_not_the_beta_vae_score():
    """Kim & Mnih's point: with one factor of four missing the BetaVAE
    classifier still names it (from the others' absence), score 1, while
    the FactorVAE score drops to about 3/4 plus the share of chance hits
    (below 0.9)."""
    beta, factor = intervention_scores("missing")
    assert beta == 1.0
    assert factor < 0.9


def test_evaluate_reports_every_metric():
    result = disentanglement.evaluate(encoders()["aligned"], Grid(), points=300)
    assert set(result) == {"beta_vae_score", "factor_vae_score", "mig", "sap", "dci_disentanglement",
                           "dci_completeness", "dci_informativeness"}
    assert result["mig"] > 0.95 and result["factor_vae_score"] == 1.0


def test_bad_input_is_refused_by_name():
    codes, factors = np.zeros((10, 3)), np.zeros((10, 2), int)
    with pytest.raises(ValueError, match="same points"):
        disentanglement.mig(codes, factors[:9])
    with pytest.raises(ValueError, match="integers"):
        disentanglement.mig(codes, factors.astype(float))
    with pytest.raises(ValueError, match="factor 0 takes a single value"):
        disentanglement.mig(codes, factors)
    with pytest.raises(ValueError, match=r"\[N, d\] and \[N, F\]"):
        disentanglement.dci(codes[:, 0], factors)
    with pytest.raises(ValueError, match="num_train"):
        disentanglement.beta_vae_score(encoders()["aligned"], Grid(), num_train=0)
    with pytest.raises(TypeError, match="vae must be"):
        disentanglement.factor_vae_score(3, Grid())
    conditional = tfpvae.VAE(event_shape=(4,), latent_dim=2, context_dim=3)
    with pytest.raises(ValueError, match="conditional"):
        disentanglement.representation(conditional)


def test_the_representation_of_a_vae_is_its_posterior_mean(digits):
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=3, seed=0)
    codes = disentanglement.representation(vae, batch_size=7)(digits[:20])
    np.testing.assert_allclose(codes, vae.encode(digits[:20]).mean().numpy(), rtol=1e-5, atol=1e-6)
