"""Input checks that run before any work, with errors that say what was expected."""

import numpy as np
import tensorflow as tf


def positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int; received {value!r}")
    return int(value)


OBJECTIVES = ("elbo", "iwae")


def objective(name, beta, free_bits):
    """The training objective's settings, checked: (name, beta, free_bits)."""
    if name not in OBJECTIVES:
        raise ValueError(f"objective must be one of {list(OBJECTIVES)}; received {name!r}")
    for key, value in (("beta", beta), ("free_bits", free_bits)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"{key} must be a number >= 0; received {value!r}")
    if name == "iwae" and free_bits:
        raise ValueError("free_bits applies to the ELBO's KL term; objective='iwae' has none")
    return name, float(beta), float(free_bits)


def shape_tuple(value, name):
    try:
        shape = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of positive ints; received {value!r}") from None
    if not shape:
        raise ValueError(f"{name} must be a tuple of positive ints; received {value!r}")
    return tuple(positive_int(d, f"each entry of {name}") for d in shape)


def first_of(data):
    """x out of x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(data, (tuple, list)) and not isinstance(data, np.ndarray):
        if not data:
            raise ValueError("received an empty tuple where data x was expected")
        return data[0]
    return data


def dataset_shape(dataset):
    spec = first_of(dataset.element_spec)
    if not isinstance(spec, tf.TensorSpec):
        raise ValueError(f"a dataset of x must yield tensors or (x, ...) tuples; yields {spec}")
    return spec.shape[1:] if spec.shape.rank else spec.shape, spec.dtype


def check_shape(shape, event_shape, what):
    if tuple(shape) != tuple(event_shape):
        raise ValueError(
            f"{what} must have shape [batch, {', '.join(map(str, event_shape))}] "
            f"(event_shape={tuple(event_shape)}); received one x of shape {tuple(shape)}"
        )


def check_x(data, event_shape, family, what="x"):
    """Checks data x against the model before it is used.

    Arrays are checked fully (shape, dtype, finiteness, the likelihood's
    support); a `tf.data.Dataset` by its element spec.

    Returns:
      The data, arrays converted to float32 numpy arrays.
    """
    x = first_of(data)
    if isinstance(x, tf.data.Dataset):
        shape, dtype = dataset_shape(x)
        if not (dtype.is_floating or dtype.is_integer or dtype.is_bool):
            raise ValueError(f"{what} must be numeric; the dataset yields {dtype.name}")
        if shape.rank is not None and None not in shape.as_list():
            check_shape(shape.as_list(), event_shape, what)
        return data
    if isinstance(x, tf.Tensor) and not tf.executing_eagerly():
        return data
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{what} must be numeric; received an array of dtype {array.dtype}")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"{what} is empty: received shape {array.shape}")
    check_shape(array.shape[1:], event_shape, what)
    error = family.support_error(array)
    if error:
        raise ValueError(f"{what}: {error}")
    array = array.astype(np.float32)
    if isinstance(data, (tuple, list)):
        return (array, *data[1:])
    return array
