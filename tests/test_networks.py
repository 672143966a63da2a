import keras
import pytest

from tfpvae import networks
from tfpvae.backend import tf


def test_mlp_defaults_follow_the_papers():
    encoder = networks.build("mlp", "encoder", (8, 8, 1), 2)
    dense = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [200, 200]
    assert all(layer.activation.__name__ == "tanh" for layer in dense)


def test_mlp_options():
    decoder = networks.build({"name": "mlp", "units": [32], "activation": "relu"}, "decoder", (3,), 2)
    assert decoder(tf.zeros([1, 2])).shape == (1, 32)


def test_conv_decoder_ends_on_an_image_sized_map():
    decoder = networks.build("conv", "decoder", (8, 8, 1), 2)
    assert decoder(tf.zeros([1, 2])).shape == (1, 8, 8, 32)


def test_conv_needs_divisible_images():
    with pytest.raises(ValueError, match=r"divisible by 4; received \(6, 6, 1\)"):
        networks.build("conv", "encoder", (6, 6, 1), 2)
    with pytest.raises(ValueError, match="^encoder: conv networks need images of shape .height, width, channels"):
        networks.build("conv", "encoder", (64,), 2)
    with pytest.raises(ValueError, match=r"^decoder_2: conv networks with 2 stride-2 layers .* divisible by 4"):
        networks.build("conv", "decoder", (6, 6, 1), 2, name="decoder_2")


def test_a_keras_layer_is_used_as_is():
    layer = keras.layers.Dense(5)
    assert networks.build(layer, "encoder", (3,), 2) is layer


@pytest.mark.parametrize("spec,match", [
    ("resnet", "unknown encoder 'resnet'; valid names"),
    ({"name": "mlp", "width": 3}, r"unknown options \['width'\]"),
    (42, "must be a Keras layer, a name or a dict"),
])
def test_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        networks.build(spec, "encoder", (3,), 2)
