"""Encoder and decoder networks, built from a spec or given as Keras layers.

A spec is a name or `{"name": ..., **options}`:

- `mlp`: Dense layers, `units` (default [200, 200]) and `activation`
  (default "tanh"), as in Kingma & Welling (2013) and Burda et al. (2015).
- `conv`: stride-2 convolutions with `filters` (default [32, 64]), then a
  Dense layer of `units` (default 256); the decoder mirrors it with transposed
  convolutions and ends on a feature map the size of the image.

Anything else that is a Keras layer or model is used as it is: an encoder maps
x to features, a decoder maps z to features.
"""


import keras

from tfpvae import checks

NETWORKS = {
    "mlp": {"units": [200, 200], "activation": "tanh"},
    "conv": {"filters": [32, 64], "units": 256, "activation": "relu"},
}


def spec_options(spec, what):
    """(name, options with defaults filled in) of a network spec."""
    name, options = checks.spec(spec, f"{what} must be a Keras layer,")
    if name not in NETWORKS:
        raise ValueError(f"unknown {what} {name!r}; valid names: {list(NETWORKS)}")
    unknown = set(options) - set(NETWORKS[name])
    if unknown:
        raise ValueError(
            f"unknown options {sorted(unknown)} for {what} {name!r}; valid: {list(NETWORKS[name])}"
        )
    options = {**NETWORKS[name], **options}
    check_options(options, f"{what} {name!r}")
    return name, options


def check_options(options, where):
    """Layer sizes are non-empty lists of positive ints; activations are names."""
    for key in ("units", "filters"):
        sizes = options.get(key)
        if key == "units" and isinstance(sizes, int) and "filters" in options:
            checks.positive_int(sizes, f"{where}: units")
        elif sizes is not None:
            if not isinstance(sizes, (list, tuple)) or not sizes:
                raise ValueError(f"{where}: {key} must be a non-empty list of positive ints; "
                                 f"received {sizes!r}")
            for size in sizes:
                checks.positive_int(size, f"{where}: each entry of {key}")
    if not isinstance(options["activation"], str):
        raise ValueError(f"{where}: activation must be a Keras activation name; "
                         f"received {options['activation']!r}")


def build(spec, what, event_shape, latent_dim, name=None):
    """A Keras layer for `what` ("encoder" or "decoder") from a spec, named
    `name` (default: `what`)."""
    if isinstance(spec, keras.layers.Layer):
        return spec
    kind, options = spec_options(spec, what)
    builder = {("mlp", "encoder"): mlp_encoder, ("mlp", "decoder"): mlp_decoder,
               ("conv", "encoder"): conv_encoder, ("conv", "decoder"): conv_decoder}
    return builder[kind, what](event_shape, latent_dim, name=name or what, **options)


def is_mlp(spec):
    """True for an `mlp` spec (a name or a dict), False for others and for layers."""
    if isinstance(spec, str):
        return spec == "mlp"
    return isinstance(spec, dict) and spec.get("name") == "mlp"


def mlp_encoder(event_shape, latent_dim, name, units, activation):
    layers = [keras.layers.Flatten()]
    layers += [keras.layers.Dense(u, activation=activation) for u in units]
    return keras.Sequential(layers, name=name)


def mlp_decoder(event_shape, latent_dim, name, units, activation):
    layers = [keras.layers.Dense(u, activation=activation) for u in units]
    return keras.Sequential(layers, name=name)


def conv_shape(event_shape, filters, name):
    """The smallest feature map of the conv stack, checking the image fits; `name`
    (the network's, e.g. "encoder" or "decoder_2") leads the errors."""
    if len(event_shape) != 3:
        raise ValueError(
            f"{name}: conv networks need images of shape (height, width, channels); received {event_shape}"
        )
    step = 2 ** len(filters)
    height, width, _ = event_shape
    if height % step or width % step:
        raise ValueError(
            f"{name}: conv networks with {len(filters)} stride-2 layers need height and width "
            f"divisible by {step}; received {event_shape}"
        )
    return height // step, width // step


def conv_encoder(event_shape, latent_dim, name, filters, units, activation):
    conv_shape(event_shape, filters, name)
    conv = keras.layers.Conv2D
    layers = [conv(f, 3, strides=2, padding="same", activation=activation) for f in filters]
    layers += [keras.layers.Flatten(), keras.layers.Dense(units, activation=activation)]
    return keras.Sequential(layers, name=name)


def conv_decoder(event_shape, latent_dim, name, filters, units, activation):
    height, width = conv_shape(event_shape, filters, name)
    size = height * width * filters[-1]
    deconv = keras.layers.Conv2DTranspose
    layers = [
        keras.layers.Dense(units, activation=activation),
        keras.layers.Dense(size, activation=activation),
        keras.layers.Reshape((height, width, filters[-1])),
    ]
    layers += [deconv(f, 3, strides=2, padding="same", activation=activation)
               for f in reversed(filters)]
    return keras.Sequential(layers, name=name)


__all__ = ["build", "NETWORKS"]
