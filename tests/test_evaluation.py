"""The evaluation functions shared by the VAE's methods and its SavedModel signatures."""

import numpy as np
import pytest

from tests.test_export import small_vae
from tfpvae import backend, evaluation
from tfpvae.backend import tf, tfp
from tfpvae.objectives import bounds

tfd = tfp.distributions


@pytest.mark.tensorflow
def test_log_likelihood_signature_chunks_large_k():
    """Within one chunk the estimate is log_weights with the same seed, exactly;
    in chunks of 7 draws (k = 700) it agrees with the in-process estimate
    within 4 of their combined standard errors."""
    model = small_vae()
    x = np.random.RandomState(1).binomial(1, 0.3, size=(10, 8, 8, 1)).astype("float32")
    seed = backend.seed_pair(0, 5)
    one = evaluation.log_likelihood(model, x, None, tf.constant(6), seed)
    log_w = bounds.log_weights(model.encode(x), model.prior(), model.decode, x, 6, seed)
    np.testing.assert_allclose(one, bounds.log_mean_exp(log_w, 0), rtol=1e-6)
    small_chunks = evaluation.log_likelihood(model, x, None, tf.constant(700), seed,
                                                floats_per_chunk=7 * 10 * 64)
    reference, stderr = model.log_likelihood(x, num_samples=700, return_stderr=True)
    combined = np.sqrt(2 * np.sum(stderr**2)) / len(x)
    assert abs(float(tf.reduce_mean(small_chunks)) - reference.mean()) < 4 * combined


def mixture_reference(model, x, seed, batch_size):
    """I(x; z) and TC at the draws `evaluation.diagnostics` makes, from TFP
    mixtures of all N posteriors (the aggregate posterior and its marginals)."""
    q = model.encode(x)
    z = tf.concat([model.encode(x[start:start + count]).sample(seed=part)
                   for start, count, part in evaluation.chunk_seeds(seed, len(x), batch_size)], 0)
    n, d = q.mean().shape
    mixture = tfd.MixtureSameFamily(tfd.Categorical(logits=tf.zeros(n)), q)
    marginals = tfd.MixtureSameFamily(tfd.Categorical(logits=tf.zeros([d, n])),
                                      tfd.Normal(tf.transpose(q.mean()), tf.transpose(q.stddev())))
    log_qz = mixture.log_prob(z)
    information = tf.reduce_mean(q.log_prob(z) - log_qz)
    correlation = tf.reduce_mean(log_qz - tf.reduce_sum(marginals.log_prob(z), -1))
    return float(information), float(correlation)


def test_diagnostics_match_mixtures_of_all_posteriors():
    """Encoded 7 at a time, the mutual information and total correlation are
    those of TFP's mixture of all 20 posteriors at the same draws (rtol 1e-4);
    0 <= I <= log N; the per-dimension KLs sum to the analytic KL."""
    model = small_vae()
    x = np.random.RandomState(1).binomial(1, 0.3, size=(20, 8, 8, 1)).astype("float32")
    found = model.diagnostics(x, batch_size=7, seed=3)
    information, correlation = mixture_reference(model, x, backend.seed_pair(0, 3), 7)
    assert found["mutual_information"] == pytest.approx(information, rel=1e-4)
    assert found["total_correlation"] == pytest.approx(correlation, rel=1e-4, abs=1e-5)
    assert 0 <= found["mutual_information"] <= np.log(20)
    kl = tf.reduce_mean(bounds.kl_groups(model.encode(x), model.prior(), None, "analytic"), 0)
    np.testing.assert_allclose(found["kl_per_dimension"], kl, rtol=1e-5)


def test_diagnostics_of_a_flow_posterior_and_a_mixture_prior():
    """A flow q has no closed-form marginals: no TC, no per-dimension KL; a
    mixture prior none either; the mutual information is there for both."""
    x = np.random.RandomState(2).binomial(1, 0.3, size=(12, 8, 8, 1)).astype("float32")
    flow = small_vae(posterior="iaf").diagnostics(x, seed=1)
    assert flow["total_correlation"] is None and flow["kl_per_dimension"] is None
    assert 0 <= flow["mutual_information"] <= np.log(12)
    mixture = small_vae(prior="mixture").diagnostics(x, seed=1)
    assert mixture["kl_per_dimension"] is None and np.isfinite(mixture["total_correlation"])
