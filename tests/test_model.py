import json
import re

import keras
import numpy as np
import pytest

import tfpvae
from tfpvae.backend import tf
from tfpvae.data.feeding import fed_in_memory

SMALL = {"name": "mlp", "units": [32]}


def small_vae(**kwargs):
    options = {"event_shape": (8, 8, 1), "latent_dim": 2, "encoder": SMALL, "decoder": SMALL}
    return tfpvae.VAE(**{**options, **kwargs})


def test_training_on_digits_improves_the_elbo(digits):
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=4)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = vae.elbo(digits[1500:]).mean()
    history = vae.fit(digits[:1500], epochs=5, batch_size=100, validation_data=digits[1500:], verbose=0)
    after = vae.elbo(digits[1500:]).mean()
    assert after > before + 5.0, (before, after)
    for key in ("loss", "reconstruction", "kl", "elbo", "val_loss", "val_reconstruction", "val_kl"):
        assert np.all(np.isfinite(history.history[key])), key
    loss = history.history["loss"]
    assert loss[-1] < loss[0]
    np.testing.assert_allclose(history.history["loss"], -np.array(history.history["elbo"]), rtol=1e-4)
    np.testing.assert_allclose(history.history["elbo"],
                               np.subtract(history.history["reconstruction"], history.history["kl"]),
                               rtol=1e-4)


def test_same_seed_same_losses(digits):
    def run():
        keras.utils.set_random_seed(7)
        vae = small_vae()
        vae.compile(optimizer="adam")
        return vae.fit(digits[:300], epochs=2, batch_size=50, verbose=0).history["loss"]
    assert run() == run()


@pytest.mark.tensorflow
def test_fit_compiles_the_train_step_once(digits):
    """The fast path: one trace of the multi-step train function, reused for
    every execution of 32 steps (and a second trace at most for an epoch's
    shorter last execution)."""
    traces = []

    class Counting(tfpvae.VAE):
        def train_step(self, data):
            traces.append(1)  # Python runs only while TensorFlow traces
            return super().train_step(data)

    vae = Counting(event_shape=(8, 8, 1), latent_dim=2, encoder=SMALL, decoder=SMALL)
    vae.compile()
    vae.fit(digits[:1500], epochs=3, batch_size=10, verbose=0)
    assert int(vae.optimizer.iterations) == 450
    assert len(traces) <= 2, len(traces)


def test_api_shapes(digits):
    vae = small_vae(likelihood="bernoulli")
    x = digits[:5]
    assert vae.predict(x, verbose=0).shape == (5, 8, 8, 1)
    q = vae.encode(x)
    assert q.batch_shape == [5] and q.event_shape == [2]
    assert vae.decode(q.sample(seed=12)).event_shape == [8, 8, 1]
    assert vae.prior().event_shape == [2]
    samples = vae.sample(6, seed=3)
    assert samples.shape == (6, 8, 8, 1) and set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_array_equal(samples, vae.sample(6, seed=3))
    assert vae.sample(6, mean=True).min() > 0
    assert vae.elbo(x).shape == (5,)


def test_predict_is_the_decoded_posterior_mean(digits):
    vae = small_vae()
    x = digits[:4]
    expected = vae.decode(vae.encode(x).mean()).mean()
    np.testing.assert_allclose(vae.predict(x, verbose=0), expected, rtol=1e-5)


@pytest.mark.tensorflow
def test_fit_on_a_dataset_of_x_and_labels(digits):
    vae = small_vae()
    vae.compile(optimizer="adam")
    data = tf.data.Dataset.from_tensor_slices((digits[:200], np.zeros(200))).batch(50)
    history = vae.fit(data, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_log_likelihood_is_above_the_elbo_on_average(digits):
    vae = small_vae()
    vae.compile(optimizer="adam")
    vae.fit(digits[:500], epochs=2, batch_size=50, verbose=0)
    x = digits[1500:1600]
    log_px, stderr = vae.log_likelihood(x, num_samples=500, return_stderr=True)
    assert log_px.shape == (100,) and np.all(stderr > 0)
    assert log_px.mean() > vae.elbo(x).mean()


def test_log_likelihood_in_chunks_matches_one_chunk(digits):
    """Chunking changes only which draws are used: the two averages over 100
    examples agree within 4 of their combined standard errors."""
    vae = small_vae()
    vae.compile(optimizer="adam")
    vae.fit(digits[:500], epochs=2, batch_size=50, verbose=0)
    x = digits[1500:1600]
    whole, se_whole = vae.log_likelihood(x, num_samples=600, return_stderr=True)
    chunked, se_chunked = vae.log_likelihood(x, num_samples=600, chunk_size=64, return_stderr=True)
    combined = np.sqrt(np.sum(se_whole**2 + se_chunked**2)) / len(x)
    assert abs(whole.mean() - chunked.mean()) < 4 * combined


def test_analytic_and_monte_carlo_models_agree(digits):
    """Same weights, kl="analytic" vs "mc": ELBOs agree within 0.1 nats when
    averaged over 297 examples and 64 draws each."""
    analytic = small_vae(kl="analytic", num_samples=64)
    mc = small_vae(kl="mc", num_samples=64)
    mc.set_weights(analytic.get_weights())
    x = digits[1500:]
    assert abs(analytic.elbo(x).mean() - mc.elbo(x).mean()) < 0.1


def test_kl_choice_follows_the_pair():
    assert small_vae().kl_form == "analytic"
    assert small_vae(posterior="mvn_tril").kl_form == "analytic"
    assert small_vae(prior="mixture").kl_form == "mc"
    with pytest.raises(ValueError, match="no closed-form|registers none"):
        small_vae(prior="mixture", kl="analytic")


@pytest.mark.parametrize("prior,posterior,likelihood", [
    ("normal", "normal", "bernoulli"),
    ("mixture", "mvn_tril", "normal"),
    ("learned_normal", "normal", "mvn_tril"),
])
def test_keras_file_round_trip_is_exact(tmp_path, digits, prior, posterior, likelihood):
    vae = small_vae(prior=prior, posterior=posterior, likelihood=likelihood,
                    event_shape=(4,), encoder={"name": "mlp", "units": [8]})
    x = digits[:50].reshape(50, -1)[:, 20:24]
    vae.compile(optimizer="adam")
    vae.fit(x, epochs=1, batch_size=25, verbose=0)
    vae.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert type(again) is tfpvae.VAE
    for a, b in zip(vae.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(vae.encode(x).mean(), again.encode(x).mean())
    np.testing.assert_array_equal(vae.prior().log_prob([[0.5, -0.5]]), again.prior().log_prob([[0.5, -0.5]]))
    assert again.get_config() == vae.get_config()


def test_config_is_json_and_rebuilds_the_model():
    vae = small_vae(prior={"name": "mixture", "components": 3}, num_samples=4, kl="mc", seed=5)
    config = json.loads(json.dumps(vae.get_config()))
    again = tfpvae.VAE.from_config(config)
    assert again.get_config() == vae.get_config()
    assert again.stack.prior_layer.family.components == 3
    assert [w.shape for w in again.weights] == [w.shape for w in vae.weights]


def test_a_user_keras_encoder_saves_and_loads(tmp_path, digits):
    encoder = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(16, activation="relu")])
    vae = small_vae(encoder=encoder)
    json.dumps(vae.get_config())
    vae.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(vae.encode(digits[:3]).mean(), again.encode(digits[:3]).mean())


def test_conv_networks_train(digits):
    vae = small_vae(encoder="conv", decoder={"name": "conv", "filters": [8, 16], "units": 32})
    vae.compile(optimizer="adam")
    history = vae.fit(digits[:200], epochs=2, batch_size=50, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


# --- bad input: a clear error before any work --------------------------------

@pytest.mark.parametrize("x,match", [
    (np.zeros((10, 8, 8)), r"shape \[batch, 8, 8, 1\].*received one x of shape \(8, 8\)"),
    (np.zeros((10, 64)), r"received one x of shape \(64,\)"),
    (np.full((10, 8, 8, 1), np.nan), "NaN or inf"),
    (np.full((10, 8, 8, 1), 2.0), r"'bernoulli' needs x in \[0, 1\]; received values in \[2, 2\]"),
    (np.full((10, 8, 8, 1), -1.0), r"received values in \[-1, -1\]"),
    (np.zeros((0, 8, 8, 1)), "empty"),
    (np.array([["a"]]), "must be numeric"),
])
def test_bad_x_is_rejected_before_training(x, match):
    vae = small_vae()
    vae.compile(optimizer="adam")
    before = [w.copy() for w in vae.get_weights()]
    with pytest.raises(ValueError, match=match):
        vae.fit(x, epochs=1, verbose=0)
    assert int(vae.optimizer.iterations) == 0
    for a, b in zip(before, vae.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_validation_data_is_named(digits):
    vae = small_vae()
    vae.compile(optimizer="adam")
    with pytest.raises(ValueError, match="validation_data"):
        vae.fit(digits[:10], validation_data=np.zeros((5, 3)), verbose=0)


@pytest.mark.tensorflow
def test_dataset_with_wrong_shape_is_rejected():
    vae = small_vae()
    vae.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"received one x of shape \(7, 7, 1\)"):
        vae.fit(tf.data.Dataset.from_tensor_slices(np.zeros((4, 7, 7, 1))).batch(2), verbose=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"likelihood": "gaussian"}, "unknown likelihood family 'gaussian'"),
    ({"prior": "gumbel"}, "unknown prior family 'gumbel'"),
    ({"kl": "exact"}, "kl must be one of"),
    ({"num_samples": 0}, "num_samples must be a positive int; received 0"),
    ({"latent_dim": 2.5}, "latent_dim must be a positive int or a non-empty list of positive ints .*; received 2.5"),
    ({"event_shape": (8, -1)}, "event_shape must be a positive int; received -1"),
    ({"encoder": "transformer"}, "unknown encoder 'transformer'"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_vae(**kwargs)


def test_log_likelihood_rejects_bad_sample_counts(digits):
    with pytest.raises(ValueError, match="num_samples must be a positive int; received -3"):
        small_vae().log_likelihood(digits[:2], num_samples=-3)


# --- objectives and evaluation controls ---------------------------------------

def test_iwae_objective_trains_and_bounds_the_elbo(digits):
    vae = small_vae(objective="iwae", num_samples=8)
    vae.compile(optimizer="adam")
    history = vae.fit(digits[:400], epochs=3, batch_size=50, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(history["loss"], -np.array(history["iwae"]), rtol=1e-4)
    assert all(i > e for i, e in zip(history["iwae"], history["elbo"]))


def test_iwae_estimates_tighten_as_k_grows(digits):
    """Mean over 297 examples of IWAE_k for k = 1, 10, 100, 1000: increasing."""
    vae = small_vae()
    vae.compile(optimizer="adam")
    vae.fit(digits[:1000], epochs=3, batch_size=50, verbose=0)
    bounds = [vae.log_likelihood(digits[1500:], num_samples=k).mean() for k in (1, 10, 100, 1000)]
    assert bounds == sorted(bounds) and bounds[-1] - bounds[0] > 0.1, bounds


def test_beta_weights_the_kl_in_the_loss(digits):
    vae = small_vae(beta=0.0, num_samples=1)
    vae.compile(optimizer="adam")
    logs = vae.evaluate(digits[:200], batch_size=200, return_dict=True, verbose=0)
    assert logs["loss"] == pytest.approx(-logs["reconstruction"], rel=1e-5)


def test_free_bits_raise_the_loss_to_the_floor(digits):
    """An untrained model's KL per dimension is far below 5 nats, so the
    KL term is the floor: 5 nats times 2 dimensions."""
    vae = small_vae(free_bits=5.0)
    vae.compile(optimizer="adam")
    logs = vae.evaluate(digits[:200], batch_size=200, return_dict=True, verbose=0)
    assert logs["kl"] < 5.0  # so each of the 2 dimensions is below its 5-nat floor
    assert logs["loss"] == pytest.approx(-logs["reconstruction"] + 10.0, rel=1e-4)


def test_active_units(digits):
    vae = small_vae(latent_dim=4)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    vae.fit(digits[:1500], epochs=5, batch_size=100, verbose=0)
    count, variance = vae.active_units(digits[1500:])
    assert variance.shape == (4,) and count == int(np.sum(variance > 0.01))
    assert 1 <= count <= 4


@pytest.mark.parametrize("kwargs,match", [
    ({"objective": "vimco"}, re.escape(f"objective must be one of {tfpvae.objectives.names()}")),
    ({"objective": {"name": "elbo", "beta": 2.0}, "beta": 3.0}, "beta is given twice"),
    ({"objective": {"name": "iwae", "free_bit": 1.0}}, r"unknown options \['free_bit'\] for objective 'iwae'"),
    ({"beta": -1}, "beta must be a finite number >= 0; received -1"),
    ({"free_bits": "1"}, "free_bits must be a finite number"),
    ({"objective": "iwae", "free_bits": 1.0}, "free_bits is not an option of objective='iwae'"),
])
def test_bad_objective_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_vae(**kwargs)


def trained_from_seed_5(digits, **compile_options):
    """A small VAE compiled with `compile_options` and trained 2 epochs from
    seed 5 (400 digits, batch 50), and its per-epoch losses."""
    keras.utils.set_random_seed(5)
    vae = small_vae()
    vae.compile(**compile_options)
    return vae, vae.fit(digits[:400], epochs=2, batch_size=50, verbose=0).history["loss"]


@pytest.mark.tensorflow
def test_the_whole_step_compiles_with_xla_where_every_family_can(digits):
    """compile() allows XLA for the whole step on this CPU-only machine too
    (Keras's own "auto" would not), and jit_compile=True turns it on; the
    low_rank posterior's log-determinant is an op XLA lacks, so its model
    keeps XLA off and compiles the optimizer step alone; under a
    tf.distribute strategy neither is used. From the same seed the XLA step
    trains as the graph step does up to the draws of z (XLA's Philox lays
    out its stream differently for these shapes), so the per-epoch losses
    agree within 2% (they differed by 0.3% when measured)."""
    (xla, xla_loss), (graph, graph_loss) = (trained_from_seed_5(digits, jit_compile=True),
                                            trained_from_seed_5(digits, jit_compile=False))
    assert xla.jit_compile is True and not xla.jit_update
    assert graph.jit_compile is False and graph.jit_update
    np.testing.assert_allclose(xla_loss, graph_loss, rtol=0.02)
    auto = small_vae()
    auto.compile()
    assert auto.jit_auto
    low_rank = small_vae(posterior="low_rank")
    low_rank.compile()
    assert not low_rank.jit_auto and low_rank.jit_compile is False and low_rank.jit_update
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        distributed = small_vae()
        distributed.compile()
    assert distributed.jit_compile is False and not distributed.jit_update


@pytest.mark.tensorflow
def test_the_optimizer_step_alone_compiles_with_xla_without_whole_step_xla(digits):
    """With jit_compile=False the optimizer's update is one XLA function; it
    trains to the same weights as Keras's own update (float32 rounding: 1e-5)
    from the same seed."""
    fused, _ = trained_from_seed_5(digits, jit_compile=False)
    plain, _ = trained_from_seed_5(digits, jit_compile=False, jit_update=False)
    assert fused.jit_update and not plain.jit_update
    assert fused._graph_functions["jit_update"].experimental_get_tracing_count() <= 2  # as the train step
    assert "jit_update" not in plain._graph_functions
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.tensorflow
def test_fit_feeds_arrays_through_row_gathers(digits):
    """numpy arrays go through `data.batching`: 450 examples in batches of 100
    are 5 steps per epoch (the last one 50), as with Keras's array handling;
    options that only Keras's array handling knows leave the arrays to it."""
    vae = small_vae()
    vae.compile()
    history = vae.fit(digits[:450], epochs=3, batch_size=100, verbose=0)
    assert len(history.history["loss"]) == 3 and int(vae.optimizer.iterations) == 15
    assert np.all(np.isfinite(history.history["loss"]))
    assert fed_in_memory(digits[:450], {"batch_size": 100, "shuffle": True})
    for keras_only in ({"sample_weight": np.ones(450)}, {"validation_split": 0.1}, {"shuffle": "batch"},
                       {"an_option_of_a_later_keras": 1}):
        assert not fed_in_memory(digits[:450], keras_only)
    assert not fed_in_memory(tf.constant(digits[:450]), {})
    assert not fed_in_memory((digits[:450], np.zeros(450)), {})  # an unused y: Keras checks its length
    assert fed_in_memory((digits[:450], np.zeros(450)), {}, conditional=True)
    weighted = vae.fit(digits[:450], sample_weight=np.ones(450), epochs=1, batch_size=100, verbose=0)
    assert np.isfinite(weighted.history["loss"][-1]) and int(vae.optimizer.iterations) == 20


def test_sample_draws_in_chunks_into_one_array():
    """n = 7 in chunks of 3: the first chunk is `sample(3)` with the same seed,
    the others come from folded seeds, so no two rows repeat."""
    vae = small_vae()
    x = vae.sample(7, seed=4, chunk_size=3)
    assert x.shape == (7, 8, 8, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:3], vae.sample(3, seed=4))
    np.testing.assert_array_equal(x, vae.sample(7, seed=4, chunk_size=3))
    means = vae.sample(7, seed=4, chunk_size=3, mean=True).reshape(7, -1)
    assert len({row.tobytes() for row in means}) == 7
    with pytest.raises(ValueError, match="chunk_size must be a positive int; received 0"):
        vae.sample(3, chunk_size=0)
    with pytest.raises(ValueError, match=r"seed must be None or an int in \[0, 2\*\*31\); received -1"):
        vae.sample(3, seed=-1)


@pytest.mark.tensorflow
def test_encode_and_call_trace_inside_a_tf_function():
    """Inside a user's tf.function the batch size is unknown: nothing that
    needs the values of x runs, and the shapes follow."""
    vae = small_vae()
    spec = tf.TensorSpec([None, 8, 8, 1], tf.float32)
    encoded = tf.function(lambda x: vae.encode(x).mean()).get_concrete_function(spec)
    called = tf.function(lambda x: vae(x)).get_concrete_function(spec)
    assert encoded.output_shapes.as_list() == [None, 2]
    assert called.output_shapes.as_list() == [None, 8, 8, 1]
    conditional = small_vae(context_dim=3)
    labels = tf.TensorSpec([None], tf.int32)
    traced = tf.function(lambda x, c: conditional.encode(x, c).mean()).get_concrete_function(spec, labels)
    assert traced.output_shapes.as_list() == [None, 2]


def frozen_fit(vae, data, **kwargs):
    """A fit whose steps leave every weight as it was (SGD with rate 0)."""
    vae.compile(optimizer=keras.optimizers.SGD(0.0))
    vae.fit(data, epochs=1, verbose=0, **kwargs)


def marginal_logits(x):
    mean = np.clip(x.reshape(len(x), -1).mean(axis=0), 1e-3, 1 - 1e-3)
    return np.log(mean / (1 - mean))


def test_the_first_fit_starts_the_likelihood_at_the_datas_marginal(digits):
    vae = small_vae()
    assert not vae.data_initialized
    frozen_fit(vae, digits, batch_size=100)
    assert vae.data_initialized
    bias = vae.stack.likelihood_layer.params.bias
    np.testing.assert_allclose(np.asarray(bias), marginal_logits(digits), rtol=1e-5)
    vae.stack.likelihood_layer.params.bias.assign(np.zeros(64, np.float32))
    frozen_fit(vae, digits[::-1], batch_size=100)  # a later fit keeps what training made
    np.testing.assert_array_equal(np.asarray(vae.stack.likelihood_layer.params.bias), np.zeros(64))


@pytest.mark.tensorflow
def test_a_dataset_starts_the_likelihood_from_its_first_batches(digits):
    vae = small_vae()
    frozen_fit(vae, tf.data.Dataset.from_tensor_slices(digits[:300]).batch(50))
    np.testing.assert_allclose(np.asarray(vae.stack.likelihood_layer.params.bias), marginal_logits(digits[:300]),
                               rtol=1e-5)


def test_a_loaded_or_opted_out_model_keeps_its_likelihood(digits, tmp_path):
    vae = small_vae()
    vae.save(tmp_path / "fresh.keras")
    loaded = keras.models.load_model(tmp_path / "fresh.keras")
    opted_out = small_vae()
    opted_out.data_initialized = True
    for model in (loaded, opted_out):
        frozen_fit(model, digits, batch_size=100)
        np.testing.assert_array_equal(np.asarray(model.stack.likelihood_layer.params.bias), np.zeros(64))


def test_a_stack_with_a_posterior_per_level_saves_and_loads(tmp_path):
    """The posterior of every level, not the first alone, is in the config and the .keras file."""
    x = (np.random.default_rng(0).random((40, 12)) > 0.5).astype("float32")
    vae = tfpvae.VAE(event_shape=(12,), latent_dim=[4, 2], posterior=["mvn_tril", "normal"],
                     encoder=SMALL, decoder=SMALL)
    vae.compile()
    vae.fit(x, epochs=1, batch_size=20, verbose=0)
    assert [p["name"] for p in vae.get_config()["posterior"]] == ["mvn_tril", "normal"]
    vae.save(tmp_path / "h.keras")
    again = keras.models.load_model(tmp_path / "h.keras")
    assert again.get_config() == vae.get_config()
    levels = [again.stack.posterior_layer, *again.stack.upper_posteriors]
    assert [layer.family.name for layer in levels] == ["mvn_tril", "normal"]
    for a, b in zip(vae.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    center = tfpvae.evaluation.center
    np.testing.assert_array_equal(center(vae.encode(x)), center(again.encode(x)))


def test_beta_tc_trains_with_a_laplace_posterior_and_prior():
    x = (np.random.default_rng(0).random((40, 12)) > 0.5).astype("float32")
    vae = tfpvae.VAE(event_shape=(12,), latent_dim=3, objective={"name": "beta_tc", "beta": 6.0},
                     posterior="laplace", prior="laplace", encoder=SMALL, decoder=SMALL)
    vae.compile()
    history = vae.fit(x, epochs=1, batch_size=20, verbose=0).history
    assert np.isfinite(history["loss"][0]) and np.isfinite(history["total_correlation"][0])
