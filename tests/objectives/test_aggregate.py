"""The aggregate posterior's estimates and the KL decomposition, against TFP mixtures."""

import numpy as np
import pytest

from tfpvae import backend
from tfpvae.backend import tf, tfp
from tfpvae.objectives import aggregate

tfd = tfp.distributions
RNG = np.random.RandomState(0)
LOC = RNG.normal(size=(5, 3)).astype(np.float32)
SCALE = RNG.uniform(0.3, 1.2, size=(5, 3)).astype(np.float32)


def posterior():
    return tfd.MultivariateNormalDiag(loc=LOC, scale_diag=SCALE)


def draws(num_samples=2, seed=1):
    return posterior().sample(num_samples, seed=backend.seed_pair(seed))


def test_weights():
    """MWS weighs every pair 1/(N B); MSS weighs z_i's own example 1/N and each
    row sums to 1; with N = B it is the batch's uniform mixture."""
    np.testing.assert_allclose(aggregate.weights(4, 100, "mws"), np.full((4, 4), -np.log(400.0)), rtol=1e-6)
    stratified = np.exp(np.asarray(aggregate.weights(4, 100, "mss")))
    np.testing.assert_allclose(np.diag(stratified), 0.01, rtol=1e-6)
    np.testing.assert_allclose(stratified[0, 1:], 99 / 300, rtol=1e-6)
    np.testing.assert_allclose(stratified.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(aggregate.weights(4, 4, "mss")), np.full((4, 4), 0.25), rtol=1e-6)


@pytest.mark.parametrize("q", [posterior(), tfd.MultivariateNormalTriL(
    loc=LOC, scale_tril=tf.linalg.set_diag(tf.fill([5, 3, 3], 0.2), SCALE) * np.tril(np.ones((3, 3))))],
    ids=["diagonal", "full"])
def test_terms_sum_to_the_monte_carlo_kl_of_each_draw(q):
    """The three terms telescope: per draw they sum to log q(z|x) - log p(z)
    (rtol 1e-5), for either weighting and a factorized or a correlated q."""
    prior = tfd.MultivariateNormalDiag(loc=tf.zeros(3))
    z = q.sample(4, seed=backend.seed_pair(0, 2))
    for sampling in aggregate.SAMPLING:
        terms = aggregate.decomposition(q, prior, z, aggregate.weights(5, 1000, sampling))
        np.testing.assert_allclose(sum(terms.values()), q.log_prob(z) - prior.log_prob(z), rtol=1e-5, atol=1e-5)


def test_uniform_weights_give_the_batch_mixture_and_its_marginals():
    """With N = B stratified weights are uniform, and log q(z) and log q(z_j)
    are those of TFP's mixtures of the batch's posteriors (rtol 1e-5)."""
    z = draws()
    terms = aggregate.decomposition(posterior(), tfd.MultivariateNormalDiag(loc=tf.zeros(3)), z,
                                    aggregate.weights(5, 5, "mss"))
    uniform = tfd.Categorical(logits=tf.zeros(5))
    mixture = tfd.MixtureSameFamily(uniform, posterior())
    marginal_mixtures = tfd.MixtureSameFamily(tfd.Categorical(logits=tf.zeros([3, 5])),
                                              tfd.Normal(LOC.T, SCALE.T))
    log_qz = mixture.log_prob(z)
    log_product = tf.reduce_sum(marginal_mixtures.log_prob(z), axis=-1)
    np.testing.assert_allclose(terms["mutual_information"], posterior().log_prob(z) - log_qz, rtol=1e-5)
    np.testing.assert_allclose(terms["total_correlation"], log_qz - log_product, rtol=1e-5, atol=1e-5)


def test_marginals_of_each_posterior_kind():
    tril = tfd.MultivariateNormalTriL(loc=LOC, scale_tril=tf.eye(3, batch_shape=[5]) * 2.0)
    np.testing.assert_allclose(aggregate.marginals(tril).stddev(), np.full((5, 3), 2.0))
    independent = tfd.Independent(tfd.Laplace(LOC, SCALE), 1)
    assert isinstance(aggregate.marginals(independent), tfd.Laplace)
    flow = tfd.TransformedDistribution(posterior(), tfp.bijectors.Tanh())
    assert aggregate.marginals(flow) is None
    with pytest.raises(ValueError, match="objective 'beta_tc' needs the marginals"):
        aggregate.check_marginals(flow, "beta_tc")


@pytest.mark.tensorflow
@pytest.mark.parametrize("element", [tfd.Laplace, tfd.StudentT], ids=["laplace", "student_t"])
def test_marginals_of_an_independent_posterior_inside_a_graph(element):
    """An Independent q (the laplace and student_t posteriors) has its elementwise
    marginals inside a tf.function too, where TFP holds reinterpreted_batch_ndims
    as a tensor; the terms then sum to log q(z|x) - log p(z) (rtol 1e-5)."""
    params = (3.0, LOC, SCALE) if element is tfd.StudentT else (LOC, SCALE)
    prior = tfd.Independent(tfd.Laplace(tf.zeros(3), tf.ones(3)), 1)

    @tf.function
    def terms_and_kl(z):
        q = tfd.Independent(element(*params), 1)
        assert type(aggregate.marginals(q)) is element
        terms = aggregate.decomposition(q, prior, z, aggregate.weights(5, 100, "mss"))
        return sum(terms.values()), q.log_prob(z) - prior.log_prob(z)

    total, kl = terms_and_kl(draws())
    np.testing.assert_allclose(total, kl, rtol=1e-5, atol=1e-5)
