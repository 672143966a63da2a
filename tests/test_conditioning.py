"""Conditional VAEs: the context c in the encoder and decoder, its checks, and
what training with it buys."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import tfpvae
from tfpvae import conditioning, data
from tfpvae.backend import tf

SMALL = {"name": "mlp", "units": [32]}


@pytest.fixture(scope="module")
def labels():
    return load_digits().target.astype("int64")


def small_cvae(**kwargs):
    options = {"event_shape": (8, 8, 1), "latent_dim": 2, "encoder": SMALL, "decoder": SMALL,
               "context_dim": 10}
    return tfpvae.VAE(**{**options, **kwargs})


# --- the functions of tfpvae.conditioning ---------------------------------------------------

def test_labels_become_one_hot_and_features_stay():
    np.testing.assert_array_equal(conditioning.features(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    features = np.array([[0.5, -1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(conditioning.features(features, 3), features)


def test_the_encoder_input_appends_c_flat_or_as_channels():
    x = tf.reshape(tf.range(2 * 2 * 2 * 1, dtype=tf.float32), [2, 2, 2, 1])
    c = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    flat = conditioning.joined_x(x, c, flat=True)
    np.testing.assert_array_equal(flat, [[0, 1, 2, 3, 1, 0], [4, 5, 6, 7, 0, 1]])
    channels = np.asarray(conditioning.joined_x(x, c, flat=False))
    assert channels.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(channels[..., 0], x[..., 0])
    np.testing.assert_array_equal(channels[0, ..., 1:], np.broadcast_to([1.0, 0.0], (2, 2, 2)))
    np.testing.assert_array_equal(channels[1, ..., 1:], np.broadcast_to([0.0, 1.0], (2, 2, 2)))


def test_draws_of_z_share_their_examples_context():
    c = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    wide = conditioning.broadcast(c, tf.constant([3, 2]))
    assert wide.shape == (3, 2, 2)
    np.testing.assert_array_equal(wide[2], c)


@pytest.mark.parametrize("c,message", [
    (np.array([0, 1, 3]), r"labels \[3\] in \[0, 3\).*received labels from 0 to 3"),
    (np.array([0, -1, 2]), "received labels from -1 to 2"),
    (np.array([0, 1]), "received 2 labels for 3 examples"),
    (np.array([0.0, 1.0, 2.0]), "1-D array of dtype float64 .*reshape one feature per example"),
    (np.zeros((3, 2)), r"features \[3, 3\]; received shape \(3, 2\)"),
    (np.zeros((3, 3, 1)), r"received shape \(3, 3, 1\)"),
    (np.array([["a", "b", "c"]] * 3), "received an array of dtype <U1"),
    (np.full((3, 3), np.nan), "must be finite"),
    (np.full((3, 3), 1e39), "must be finite in float32"),
    ([[0, 1], [2]], "nested sequences of different lengths"),
])
def test_bad_contexts_are_named(c, message):
    with pytest.raises(ValueError, match=message):
        conditioning.check(c, 3, 3)


# --- the conditional model ------------------------------------------------------------------

def test_c_reaches_the_encoder_and_the_decoder(digits, labels):
    vae = small_cvae()
    x, z = digits[:4], np.zeros((4, 2), np.float32)
    mean_of = lambda c: np.asarray(vae.encode(x, c).mean())  # noqa: E731
    assert np.abs(mean_of(np.zeros(4, int)) - mean_of(np.ones(4, int))).max() > 1e-4
    decoded = lambda c: np.asarray(vae.decode(z, c).mean())  # noqa: E731
    assert np.abs(decoded(np.zeros(4, int)) - decoded(np.ones(4, int))).max() > 1e-4
    np.testing.assert_allclose(decoded(np.eye(10, dtype=np.float32)[[3, 3, 3, 3]]),
                               decoded(np.array([3, 3, 3, 3])), rtol=1e-6)


def test_data_as_a_tuple_arguments_or_a_dataset_train_alike(digits, labels):
    def losses(fit):
        keras.utils.set_random_seed(3)
        vae = small_cvae()
        vae.compile()
        return fit(vae).history["loss"]
    x, y = digits[:300], labels[:300]
    as_tuple = losses(lambda vae: vae.fit((x, y), epochs=2, batch_size=50, shuffle=False, verbose=0))
    as_args = losses(lambda vae: vae.fit(x, y, epochs=2, batch_size=50, shuffle=False, verbose=0))
    dataset = data.to_dataset(x, y, batch_size=50, shuffle=False)
    as_dataset = losses(lambda vae: vae.fit(dataset, epochs=2, verbose=0))
    assert as_tuple == as_args
    np.testing.assert_allclose(as_dataset, as_tuple, rtol=1e-5)


@pytest.fixture(scope="module")
def trained(digits, labels):
    """A conditional and an unconditional VAE, trained alike for 40 epochs."""
    models = {}
    for context_dim in (10, 0):
        keras.utils.set_random_seed(0)
        vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, context_dim=context_dim)
        vae.compile()
        train = (digits[:1500], labels[:1500]) if context_dim else digits[:1500]
        vae.fit(train, epochs=40, batch_size=100, verbose=0)
        models[context_dim] = vae
    return models


def test_knowing_the_label_raises_the_elbo(trained, digits, labels):
    """log p(x|c) = log p(x) + log p(c|x) - log p(c), about log p(x) + log 10
    (2.3 nats) where the label is plain from the digit; the conditional test
    ELBO must gain at least 1 nat over the unconditional one (seed 0)."""
    x, y = digits[1500:], labels[1500:]
    conditional = trained[10].elbo((x, y), num_samples=10).mean()
    unconditional = trained[0].elbo(x, num_samples=10).mean()
    assert conditional > unconditional + 1.0, (conditional, unconditional)


def test_samples_show_the_asked_label(trained, digits, labels):
    """Each sample's mean is nearest (in squared distance) to the mean training
    digit of its own label, for at least 80% of 20 samples per label."""
    class_means = np.stack([digits[:1500][labels[:1500] == k].mean(0) for k in range(10)])
    asked = np.repeat(np.arange(10), 20)
    means = trained[10].sample(len(asked), seed=0, mean=True, c=asked)
    distances = ((means[:, None] - class_means[None]) ** 2).sum(axis=(2, 3, 4))
    accuracy = np.mean(distances.argmin(1) == asked)
    assert accuracy >= 0.8, accuracy


def test_sample_takes_one_label_for_all(trained):
    one = trained[10].sample(5, seed=1, mean=True, c=4)
    np.testing.assert_array_equal(one, trained[10].sample(5, seed=1, mean=True, c=np.full(5, 4)))


def test_every_array_method_reads_x_and_c(trained, digits, labels):
    vae, x, y = trained[10], digits[1500:1510], labels[1500:1510]
    assert vae.predict((x, y), verbose=0).shape == (10, 8, 8, 1)
    np.testing.assert_allclose(vae.predict((x, y), verbose=0), vae((x, y)), rtol=1e-5, atol=1e-6)
    assert vae.elbo((x, y)).shape == (10,)
    assert vae.log_likelihood((x, y), num_samples=20).shape == (10,)
    assert vae.active_units((x, y))[1].shape == (2,)
    metrics = vae.evaluate(x, y, verbose=0, return_dict=True)
    assert set(metrics) == {"loss", "elbo", "reconstruction", "kl"}


def test_it_saves_and_loads(trained, digits, labels, tmp_path):
    vae = trained[10]
    vae.save(tmp_path / "c.keras")
    again = keras.models.load_model(tmp_path / "c.keras")
    assert again.context_dim == 10 and again.get_config() == vae.get_config()
    x, y = digits[:5], labels[:5]
    np.testing.assert_array_equal(again.predict((x, y), verbose=0), vae.predict((x, y), verbose=0))


@pytest.mark.parametrize("call,message", [
    (lambda vae, x, y: vae.fit(x, epochs=1, verbose=0), r"conditional \(context_dim=10\): x must be \(x, c\)"),
    (lambda vae, x, y: vae.elbo(x), r"x must be \(x, c\)"),
    (lambda vae, x, y: vae.fit((x, y[:3]), verbose=0), "received 3 labels for 20 examples"),
    (lambda vae, x, y: vae.fit(x, y, validation_data=x, verbose=0), r"validation_data must be \(x, c\)"),
    (lambda vae, x, y: vae.sample(4), r"pass c, integer labels \[N\] or features \[N, 10\]"),
    (lambda vae, x, y: vae.sample(4, c=10), "received labels from 10 to 10"),
    (lambda vae, x, y: vae.encode(x), "pass c"),
    pytest.param(lambda vae, x, y: vae.fit(data.to_dataset(x, batch_size=5), verbose=0),
                 r"x must be \(x, c\).*the dataset yields TensorSpec", marks=pytest.mark.tensorflow),
    pytest.param(lambda vae, x, y: vae.fit(tf.data.Dataset.from_tensor_slices((x, y.astype("float32"))).batch(5),
                                           verbose=0), "yields 1-D float32 .labels must be integers",
                 marks=pytest.mark.tensorflow),
    pytest.param(lambda vae, x, y: vae.fit(tf.data.Dataset.from_tensor_slices((x, np.zeros((20, 3)))).batch(5),
                                           verbose=0), r"features \[batch, 10\]; the dataset yields shape \(None, 3\)",
                 marks=pytest.mark.tensorflow),
])
def test_a_conditional_model_names_what_it_lacks(digits, labels, call, message):
    vae = small_cvae()
    vae.compile()
    with pytest.raises(ValueError, match=message):
        call(vae, digits[:20], labels[:20])


def test_an_unconditional_model_refuses_c(digits, labels):
    vae = tfpvae.VAE(event_shape=(8, 8, 1), latent_dim=2, encoder=SMALL, decoder=SMALL)
    with pytest.raises(ValueError, match=r"this VAE has no context \(context_dim=0\)"):
        vae.encode(digits[:3], labels[:3])
    with pytest.raises(ValueError, match="no context"):
        vae.sample(3, c=1)


@pytest.mark.parametrize("options,message", [
    ({"prior": "vamp"}, "prior 'vamp' encodes pseudo-inputs without a context"),
    ({"context_dim": -1}, "context_dim must be an int >= 0; received -1"),
    ({"context_dim": 2.5}, "context_dim must be an int >= 0; received 2.5"),
])
def test_bad_conditional_models_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        small_cvae(**options)
