"""MADE, the masked autoencoder for distribution estimation (Germain et al.,
arXiv:1502.03509), as a function of a flat weight vector.

Output i depends only on inputs j < i, which makes a shift and log-scale
network for TFP's `MaskedAutoregressiveFlow`. The weights are a slice of a
Keras variable owned by a tfpvae layer; TFP's `AutoregressiveNetwork` is a
tf_keras layer and cannot live in a Keras 3 model.
"""

import numpy as np

from tfpvae.backend import tf, tfp

tfb = tfp.bijectors


def masks(dim, hidden):
    """Masks [dim, hidden] and [hidden, 2 * dim] of a one-hidden-layer MADE."""
    degree_in = np.arange(1, dim + 1)
    degree_hidden = np.arange(hidden) % max(dim - 1, 1) + 1
    first = degree_hidden[None, :] >= degree_in[:, None]
    second = np.tile(degree_in, 2)[None, :] > degree_hidden[:, None]
    return first.astype(np.float32), second.astype(np.float32)


def size(dim, hidden):
    """Number of weights: W1 [dim, hidden], b1 [hidden], W2 [hidden, 2 dim], b2 [2 dim]."""
    return dim * hidden + hidden + hidden * 2 * dim + 2 * dim


def initial(dim, hidden, seed):
    """Glorot-scaled first layer, zero output layer: the flow starts as the identity."""
    w1 = np.random.RandomState(seed).normal(scale=np.sqrt(2.0 / (dim + hidden)), size=(dim, hidden))
    return np.concatenate([w1.reshape(-1), np.zeros(size(dim, hidden) - dim * hidden)]).astype(np.float32)


def shift_and_log_scale_fn(weights, dim, hidden, max_log_scale=3.0):
    """z -> (shift, log_scale), each [..., dim], autoregressive in z.

    log_scale = m tanh(raw / m) stays in (-m, m), so one flow step scales by
    at most e^m and never overflows.
    """
    w1, b1, w2, b2 = tf.split(weights, [dim * hidden, hidden, hidden * 2 * dim, 2 * dim])
    mask1, mask2 = masks(dim, hidden)
    w1 = tf.reshape(w1, [dim, hidden]) * mask1
    w2 = tf.reshape(w2, [hidden, 2 * dim]) * mask2

    def fn(z):
        h = tf.tanh(tf.linalg.matmul(z, w1) + b1)
        shift, raw = tf.split(tf.linalg.matmul(h, w2) + b2, 2, axis=-1)
        return shift, max_log_scale * tf.tanh(raw / max_log_scale)

    return fn


def flow(weights, dim, hidden, steps):
    """`steps` masked autoregressive flows, with the order reversed between them."""
    parts = tf.split(weights, steps)
    bijectors = []
    for i, part in enumerate(parts):
        if i:
            bijectors.append(tfb.Permute(permutation=list(range(dim))[::-1]))
        bijectors.append(tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn(part, dim, hidden)))
    return tfb.Chain(bijectors[::-1])
