"""The ELBO's two forms and the importance-weighted bounds, on a model whose
log p(x) is known in closed form: p(z) = N(0, I), p(x|z) = N(z, s^2 I), so
p(x) = N(0, (1 + s^2) I)."""

import numpy as np
import pytest
from scipy import special

from tfpvae import backend
from tfpvae.backend import tf, tfp
from tfpvae.objectives import bounds

tfd = tfp.distributions
S = 0.5
X = np.array([[0.3, -1.2], [2.0, 0.5]], np.float32)


def prior():
    return tfd.MultivariateNormalDiag(loc=tf.zeros(2))


def decode(z):
    return tfd.MultivariateNormalDiag(loc=z, scale_diag=tf.fill([2], S))


def posterior(shift=0.2):
    """Near the exact posterior N(x / (1 + s^2), s^2 / (1 + s^2)), shifted by `shift`."""
    exact_scale = np.sqrt(S**2 / (1 + S**2))
    return tfd.MultivariateNormalDiag(loc=X / (1 + S**2) + shift, scale_diag=np.full(2, exact_scale * 1.3, np.float32))


def exact_log_px():
    return np.asarray(tfd.MultivariateNormalDiag(scale_diag=np.full(2, np.sqrt(1 + S**2), np.float32)).log_prob(X))


def test_kl_form_choice():
    mixture = tfd.MixtureSameFamily(tfd.Categorical(logits=[0.0, 0.0]),
                                    tfd.MultivariateNormalDiag(loc=[[0.0, 0.0], [1.0, 1.0]]))
    tril = tfd.MultivariateNormalTriL(loc=X, scale_tril=tf.eye(2, batch_shape=[2]))
    assert bounds.kl_form(posterior(), prior()) == "analytic"
    assert bounds.kl_form(tril, prior()) == "analytic"
    assert bounds.kl_form(posterior(), mixture) == "mc"
    assert bounds.kl_form(posterior(), prior(), "mc") == "mc"
    with pytest.raises(ValueError, match="MultivariateNormalDiag, p=MixtureSameFamily"):
        bounds.kl_form(posterior(), mixture, "analytic")
    with pytest.raises(ValueError, match=r"kl must be one of \['auto', 'analytic', 'mc'\]; received 'exact'"):
        bounds.kl_form(posterior(), prior(), "exact")


def test_analytic_and_monte_carlo_elbo_agree_in_expectation():
    """With L = 100,000 draws the MC KL's standard error is about 0.004 nats;
    the test allows 5 standard errors."""
    seed = backend.seed_pair(1, 2)
    rec_a, kl_a = bounds.elbo_terms(posterior(), prior(), decode, X, 100_000, "analytic", seed)
    rec_m, kl_m = bounds.elbo_terms(posterior(), prior(), decode, X, 100_000, "mc", seed)
    np.testing.assert_allclose(rec_a, rec_m)  # same seed, same draws
    z = posterior().sample(100_000, seed=seed)
    stderr = np.std(posterior().log_prob(z) - prior().log_prob(z), axis=0) / np.sqrt(100_000)
    assert np.all(np.abs(np.asarray(kl_a) - np.asarray(kl_m)) < 5 * stderr)


def test_bounds_are_ordered_and_tighten_with_k():
    """ELBO <= IWAE_k <= log p(x) in expectation, and IWAE_k grows with k.
    Averaged over 2,000 repeats, so the ordering holds well beyond noise."""
    seed = backend.seed_pair(3, 4)
    log_w = bounds.log_weights(posterior(), prior(), decode, X, 2000 * 100, seed)
    log_w = tf.reshape(log_w, [2000, 100, 2])
    elbo = np.asarray(tf.reduce_mean(log_w[:, 0], 0))
    iwae = {k: np.asarray(tf.reduce_mean(bounds.iwae_bound(tf.transpose(log_w[:, :k], [1, 0, 2])), 0))
            for k in (1, 10, 100)}
    np.testing.assert_allclose(iwae[1], elbo, rtol=1e-5)
    assert np.all(elbo < iwae[10]) and np.all(iwae[10] < iwae[100])
    assert np.all(iwae[100] < exact_log_px() + 0.01)
    np.testing.assert_allclose(iwae[100], exact_log_px(), atol=0.05)


def test_log_mean_exp_matches_scipy():
    log_w = np.random.RandomState(0).normal(size=(50, 3)).astype(np.float32) * 30
    expected = special.logsumexp(log_w, axis=0) - np.log(50)
    np.testing.assert_allclose(bounds.log_mean_exp(log_w), expected, rtol=1e-5)


def test_standard_error_matches_the_delta_method_on_the_weights():
    w = np.random.RandomState(0).lognormal(size=(1000,))
    expected = np.std(w) / np.sqrt(1000) / np.mean(w)
    lse, lse2 = special.logsumexp(np.log(w)), special.logsumexp(2 * np.log(w))
    np.testing.assert_allclose(bounds.standard_error(lse, lse2, 1000), expected, rtol=1e-4)


def test_kl_groups_split_a_diagonal_kl_by_dimension():
    groups = bounds.kl_groups(posterior(), prior(), None, "analytic")
    assert groups.shape == (2, 2)
    np.testing.assert_allclose(tf.reduce_sum(groups, -1), tfd.kl_divergence(posterior(), prior()), rtol=1e-5)
    tril = tfd.MultivariateNormalTriL(loc=X, scale_tril=0.5 * tf.eye(2, batch_shape=[2]))
    assert bounds.kl_groups(tril, prior(), None, "analytic").shape == (2, 1)


def test_free_bits_floor_each_group_at_the_batch_mean():
    kl = tf.constant([[0.1, 2.0], [0.3, 4.0]])  # batch means 0.2 and 3.0 nats
    assert float(bounds.free_bits_kl(kl, 0.5, latent_dim=2)) == pytest.approx(0.5 + 3.0)
    assert float(bounds.free_bits_kl(kl, 0.1, latent_dim=2)) == pytest.approx(0.2 + 3.0)
    whole = tf.reduce_sum(kl, -1, keepdims=True)  # one group of 2 dimensions: floor 2 * 2.0
    assert float(bounds.free_bits_kl(whole, 2.0, latent_dim=2)) == pytest.approx(4.0)


@pytest.mark.tensorflow
def test_free_bits_gradient_vanishes_below_the_floor():
    kl = tf.Variable([[0.1, 2.0], [0.3, 4.0]])
    with tf.GradientTape() as tape:
        term = bounds.free_bits_kl(kl, 0.5, latent_dim=2)
    np.testing.assert_allclose(tape.gradient(term, kl), [[0.0, 0.5], [0.0, 0.5]])


def test_log_weight_sums_draw_chunk_by_chunk():
    """k = 7 draws in chunks of 3 are the draws of three `log_weights` calls
    (3, 3 and 1 draws) with the seed, then the seed folded with 3 and with 6;
    with one chunk they are the draws of one call with the seed."""
    seed = backend.seed_pair(4, 2)
    fold = backend.fold_in
    parts = [bounds.log_weights(posterior(), prior(), decode, X, count, chunk_seed)
             for count, chunk_seed in ((3, seed), (3, fold(seed, 3)), (1, fold(seed, 6)))]
    log_w = tf.concat(parts, axis=0)
    total, total2 = bounds.log_weight_sums(posterior(), prior(), decode, X, 7, 3, seed)
    np.testing.assert_allclose(total, special.logsumexp(log_w, axis=0), rtol=1e-6)
    np.testing.assert_allclose(total2, special.logsumexp(2 * log_w, axis=0), rtol=1e-6)
    whole, _ = bounds.log_weight_sums(posterior(), prior(), decode, X, 7, 100, seed)
    one_call = bounds.log_weights(posterior(), prior(), decode, X, 7, seed)
    np.testing.assert_allclose(whole, special.logsumexp(one_call, axis=0), rtol=1e-6)
