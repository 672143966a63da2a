"""A context c per example, for conditional VAEs (Sohn et al., NeurIPS 2015).

A conditional VAE has the posterior q(z|x, c) and the likelihood p(x|z, c);
its prior p(z) is the unconditional one. c is a label or a feature vector:

- integer class labels [N], with values in [0, context_dim), enter as one-hot
  vectors of size context_dim;
- float (or integer) features [N, context_dim] enter as they are.

The encoder sees x with c appended: after flattening x for an `mlp` encoder,
as extra channels at every position of x for any other encoder. The decoder
sees z with c appended, [..., latent_dim + context_dim].
"""

import keras
import numpy as np

from tfpvae import backend, checks
from tfpvae.backend import ps, tf
from tfpvae.checks import finite_float32, numeric_dtype


def features(c, context_dim):
    """c as float32 features [N, context_dim]: labels [N] one-hot, features as they are."""
    c = tf.convert_to_tensor(c)
    if len(c.shape) == 1:
        return tf.one_hot(tf.cast(c, tf.int32), context_dim)
    return tf.cast(c, tf.float32)


def joined_x(x, c, flat):
    """The encoder's input: x [B, ...] with c [B, C] appended.

    Args:
      x: float32 [B, *event_shape].
      c: float32 features [B, C].
      flat: append c to the flattened x, [B, size + C]; otherwise tile c over
        every position of x and append it to the last axis, [B, ..., channels + C].
    """
    if flat:
        return tf.concat([tf.reshape(x, [ps.shape(x)[0], -1]), c], axis=-1)
    positions = ps.shape(x)[1:-1]
    ones = ps.ones_like(positions)
    tiled = tf.reshape(c, ps.concat([ps.shape(c)[:1], ones, ps.shape(c)[-1:]], axis=0))
    tiled = tf.tile(tiled, ps.concat([[1], positions, [1]], axis=0))
    return tf.concat([x, tiled], axis=-1)


def joined_z(z, c):
    """The decoder's input: z [N, d] with c broadcast to [N, C] appended."""
    return tf.concat([z, c], axis=-1)


def broadcast(c, batch_shape):
    """Features c [B, C] broadcast to [*batch_shape, C], batch_shape ending in B
    (the L samples of z per example share their example's context)."""
    return tf.broadcast_to(c, ps.concat([batch_shape, ps.shape(c)[-1:]], axis=0))


# --- checks before any work ----------------------------------------------------------


def check(c, context_dim, n, what="c"):
    """c for n examples of a model with `context_dim`, as a numpy array.

    Returns:
      int32 labels [n] or float32 features [n, context_dim].

    Raises:
      ValueError: what was expected and what was received.
    """
    expected = (f"{what} must be integer labels [{n}] in [0, {context_dim}) "
                f"or features [{n}, {context_dim}]")
    try:
        array = np.asarray(c)
    except ValueError:
        raise ValueError(f"{expected}; received nested sequences of different lengths") from None
    if not numeric_dtype(array.dtype):
        raise ValueError(f"{expected}; received an array of dtype {array.dtype}")
    if array.ndim == 1:
        return check_labels(array, context_dim, n, expected)
    if array.ndim != 2 or array.shape != (n, context_dim):
        raise ValueError(f"{expected}; received shape {array.shape}")
    array = finite_float32(array)
    if array is None:
        raise ValueError(f"{what} must be finite in float32; received NaN or inf "
                         f"(or values too large for float32)")
    return array


def check_labels(array, context_dim, n, expected):
    if array.dtype.kind not in "iu":
        raise ValueError(f"{expected}; received a 1-D array of dtype {array.dtype} (labels must be "
                         f"integers; reshape one feature per example to [{n}, 1])")
    if len(array) != n:
        raise ValueError(f"{expected}; received {len(array)} labels for {n} examples")
    if array.min() < 0 or array.max() >= context_dim:
        raise ValueError(f"{expected}; received labels from {array.min()} to {array.max()}")
    return array.astype(np.int32)


def check_spec(spec, context_dim, what="the dataset's c"):
    """Checks the element spec of a dataset's batches of c."""
    expected = f"{what} must be integer labels [batch] or features [batch, {context_dim}]"
    if not isinstance(spec, backend.tensorflow.TensorSpec):
        raise ValueError(f"{expected}; the dataset yields {spec}")
    rank, dtype = spec.shape.rank, spec.dtype
    if not (dtype.is_floating or dtype.is_integer or dtype.is_bool):
        raise ValueError(f"{expected}; the dataset yields {dtype.name}")
    if rank == 1 and not dtype.is_integer:
        raise ValueError(f"{expected}; the dataset yields 1-D {dtype.name} (labels must be integers)")
    if rank == 2 and spec.shape[-1] not in (None, context_dim):
        raise ValueError(f"{expected}; the dataset yields shape {spec.shape}")
    if rank not in (None, 1, 2):
        raise ValueError(f"{expected}; the dataset yields shape {spec.shape}")


def check_data(data, event_shape, family, context_dim, what="x"):
    """Data x or (x, c, ...) checked against a model: arrays fully, a dataset
    by its element spec, a conditional model's c included.

    Returns:
      The data, arrays converted to float32 (x) and labels or features (c).
    """
    data = checks.check_x(data, event_shape, family, what)
    if not context_dim:
        return data
    x = checks.first_of(data)
    if isinstance(x, keras.utils.PyDataset):
        check_data(x[0], event_shape, family, context_dim, f"the batches of {what}")
        return data
    if backend.is_dataset(x):
        spec = x.element_spec
        if not isinstance(spec, tuple) or len(spec) < 2:
            raise ValueError(f"{needs_context(context_dim, what)}; the dataset yields {spec}")
        check_spec(spec[1], context_dim, f"the c of {what}")
        return data
    if not isinstance(data, tuple) or len(data) < 2:
        raise ValueError(needs_context(context_dim, what))
    if checks.symbolic(x):
        return data
    return (x, check(data[1], context_dim, len(x), f"the c of {what}"), *data[2:])


def needs_context(context_dim, what):
    return (f"this VAE is conditional (context_dim={context_dim}): {what} must be (x, c), "
            f"c integer labels [N] or features [N, {context_dim}]")


def context_features(c, context_dim, n, what="c"):
    """Context features [n, context_dim] from labels or features, checked
    (unless c is symbolic or n unknown); None for a model without a context."""
    if not context_dim:
        if c is not None:
            raise ValueError(f"this VAE has no context (context_dim=0); received {what}")
        return None
    if c is None:
        raise ValueError(f"this VAE is conditional (context_dim={context_dim}): pass {what}, "
                         f"integer labels [N] or features [N, {context_dim}]")
    if not checks.symbolic(c) and n is not None:
        c = check(c, context_dim, n, what)
    return features(c, context_dim)
