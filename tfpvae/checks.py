"""Input checks that run before any work, with errors that say what was expected."""

import math
import numbers

import keras
import numpy as np

from tfpvae import backend

FLOAT32_MAX = float(np.finfo(np.float32).max)


def integer(value, name, least, expected):
    """`value` as an int >= least (bools refused); else a ValueError saying
    `name` must be `expected`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be {expected}; received {value!r}")
    return int(value)


def positive_int(value, name):
    """`value` as an int >= 1 (bools refused)."""
    return integer(value, name, 1, "a positive int")


def non_negative_int(value, name):
    """`value` as an int >= 0 (bools refused)."""
    return integer(value, name, 0, "an int >= 0")


def real(value, name, low=0.0, strict=False):
    """`value` as a finite float, >= low (> low if strict), small enough for float32."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if strict else value >= low) and abs(value) <= FLOAT32_MAX
    if not ok:
        bound = f"> {low:g}" if strict else f">= {low:g}"
        raise ValueError(f"{name} must be a finite number {bound}; received {value!r}")
    return float(value)


def seed(value, name="seed", allow_none=True):
    """A seed: an int in [0, 2**31), or None where allowed."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 2**31:
        expected = "None or an int" if allow_none else "an int"
        raise ValueError(f"{name} must be {expected} in [0, 2**31); received {value!r}")
    return int(value)


def spec(value, what):
    """(name, options) of a spec: a name, or a dict {"name": ..., **options}.

    `what` begins the error message, e.g. "a prior spec must be".
    """
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        options = dict(value)
        return options.pop("name"), options
    raise ValueError(f"{what} a name or a dict with a 'name' key; received {value!r}")


def shape_tuple(value, name):
    try:
        shape = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of positive ints; received {value!r}") from None
    if not shape:
        raise ValueError(f"{name} must be a tuple of positive ints; received {value!r}")
    return tuple(positive_int(d, f"each entry of {name}") for d in shape)


def symbolic(value):
    """True for a tensor inside a graph being traced, whose values are not known yet."""
    return backend.is_symbolic(value)


def finite_float32(array):
    """A numeric array in float32, or None when it holds NaN or inf there
    (values beyond float32's range included)."""
    with np.errstate(over="ignore"):
        array = np.asarray(array).astype(np.float32)
    return array if np.all(np.isfinite(array)) else None


def first_of(data):
    """x out of x, (x,), (x, y) or (x, y, sample_weight); a list is one array."""
    if isinstance(data, tuple):
        if not data:
            raise ValueError("received an empty tuple where data x was expected")
        return data[0]
    return data


def dataset_shape(dataset):
    spec = first_of(dataset.element_spec)
    if not isinstance(spec, backend.tensorflow.TensorSpec):
        raise ValueError(f"a dataset of x must yield tensors or (x, ...) tuples; yields {spec}")
    return spec.shape[1:] if spec.shape.rank else spec.shape, spec.dtype


def check_shape(shape, event_shape, what):
    if tuple(shape) != tuple(event_shape):
        raise ValueError(
            f"{what} must have shape [batch, {', '.join(map(str, event_shape))}] "
            f"(event_shape={tuple(event_shape)}); received one x of shape {tuple(shape)}"
        )


def numeric_dtype(dtype):
    """Signed or unsigned integers, floats or bools (not complex, dates or times)."""
    return dtype.kind in "iufb"


def check_array(x, event_shape, family, what):
    """x as a float32 array of shape [N, *event_shape] in the family's support."""
    try:
        array = np.asarray(x)
    except ValueError:
        raise ValueError(f"{what} must be an array of shape [batch, {', '.join(map(str, event_shape))}]; "
                         f"received nested sequences of different lengths") from None
    if not numeric_dtype(array.dtype):
        raise ValueError(f"{what} must be numeric (integer, float or bool); received an array of "
                         f"dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{what} must have shape [batch, {', '.join(map(str, event_shape))}]; "
                         f"received a scalar")
    if array.shape[0] == 0:
        raise ValueError(f"{what} is empty: received shape {array.shape}")
    check_shape(array.shape[1:], event_shape, what)
    array = finite_float32(array)
    if array is None:
        raise ValueError(f"{what} must be finite in float32 (|x| <= {FLOAT32_MAX:.3g}); "
                         f"received NaN or inf (or values too large for float32)")
    error = family.support_error(array)
    if error:
        raise ValueError(f"{what}: {error}")
    return array


def check_x(data, event_shape, family, what="x"):
    """Checks data x against the model before it is used.

    Arrays are checked fully (shape, dtype, finiteness in float32, the
    likelihood's support); a `tf.data.Dataset` by its element spec; a
    `keras.utils.PyDataset` by its first batch.

    Returns:
      The data, arrays converted to float32 numpy arrays.
    """
    x = first_of(data)
    if backend.is_dataset(x):
        shape, dtype = dataset_shape(x)
        if not (dtype.is_floating or dtype.is_integer or dtype.is_bool):
            raise ValueError(f"{what} must be numeric; the dataset yields {dtype.name}")
        if shape.rank is not None and None not in shape.as_list():
            check_shape(shape.as_list(), event_shape, what)
        return data
    if isinstance(x, keras.utils.PyDataset):
        check_x(x[0], event_shape, family, f"the batches of {what}")
        return data
    if symbolic(x):
        return data
    array = check_array(x, event_shape, family, what)
    return (array, *data[1:]) if isinstance(data, tuple) else array
