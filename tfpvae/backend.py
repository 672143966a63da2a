"""The Keras backend tfpvae runs on, and the TensorFlow Probability substrate that matches it.

tfpvae's math is written once against TensorFlow's array API and TFP's
distributions. Which implementation runs is Keras's backend
(`KERAS_BACKEND`, or `~/.keras/keras.json`):

- "tensorflow": `tf` is TensorFlow, `tfp` is `tensorflow_probability`;
- "jax": `tfp` is TFP's JAX substrate (`tensorflow_probability.substrates.jax`:
  the same distributions, bijectors and KL registry on JAX arrays) and `tf` is
  the TensorFlow-shaped array API that substrate itself runs on
  (`tensorflow_probability.python.internal.backend.jax`), so no TensorFlow is
  imported.

`ps` is TFP's `prefer_static` of the same substrate: shape arithmetic that
gives numpy values where shapes are known when traced (always under JAX,
whose `jit` needs static shapes) and tensors only where they are not.

`tensorflow` is TensorFlow itself, imported on first use, for the parts that
exist only there (tf.data input pipelines, SavedModel export, `tf.distribute`).
Under JAX they work where TensorFlow is installed and otherwise raise one
`ImportError` that names what needed it.
"""

import importlib
import importlib.util
import sys

from tfpvae import startup

startup.import_keras()

import keras  # noqa: E402
import numpy as np  # noqa: E402

NAME = keras.backend.backend()
BACKENDS = ("tensorflow", "jax")
if NAME == "jax":
    with startup.without_tensorflow():
        from tensorflow_probability.python.internal.backend.jax import v2 as tf  # noqa: F401
        from tensorflow_probability.substrates import jax as tfp
        from tensorflow_probability.substrates.jax.internal import prefer_static as ps  # noqa: F401
elif NAME == "tensorflow":
    startup.import_tensorflow()
    import tensorflow as tf  # noqa: F401
    import tensorflow_probability as tfp
    from tensorflow_probability.python.internal import prefer_static as ps  # noqa: F401
else:
    raise ImportError(f"tfpvae runs on the Keras backends {', '.join(BACKENDS)}; KERAS_BACKEND is {NAME!r}. "
                      f"Set KERAS_BACKEND=jax or KERAS_BACKEND=tensorflow before importing Keras")

tfd, tfb = tfp.distributions, tfp.bijectors
is_jax = NAME == "jax"


class LazyTensorFlow:
    """The `tensorflow` module, imported when an attribute is first read."""

    def __getattr__(self, name):
        return getattr(require_tensorflow(f"tf.{name}", "numpy arrays work on every backend"), name)


tensorflow = LazyTensorFlow()


def require_tensorflow(what, instead=None):
    """The `tensorflow` module; an ImportError naming `what` needs it (and `instead`,
    what to do without it) when it is not installed."""
    if "tensorflow" not in sys.modules:
        try:
            startup.import_tensorflow()
        except ImportError as error:
            alternative = f"; {instead}" if instead else ""
            raise ImportError(f"{what} needs TensorFlow, which is not installed (Keras backend {NAME!r}); "
                              f"install it with `pip install tensorflow`{alternative}") from error
    return importlib.import_module("tensorflow")


def tensorflow_loaded():
    """Whether TensorFlow is already imported (so its types can be checked without importing it)."""
    return "tensorflow" in sys.modules


def is_dataset(value):
    """Whether `value` is a `tf.data.Dataset`, without importing TensorFlow to find out."""
    return tensorflow_loaded() and isinstance(value, sys.modules["tensorflow"].data.Dataset)


# --- stateless seeds -----------------------------------------------------------------
# A seed is a pair of integers: int32 on TensorFlow (its stateless ops' seeds),
# uint32 on JAX (a raw PRNG key); TFP's samplers take either on its backend.


def seed_pair(first, second=None):
    """A seed pair of the backend's type from integers: [0, first], or [first, second]."""
    pair = [0, first] if second is None else [first, second]
    if is_jax:
        import jax.numpy as jnp

        return jnp.array(pair, jnp.uint32)
    return tf.constant(pair, tf.int32)


def next_seed(seed_generator):
    """The next seed pair of a `keras.random.SeedGenerator`, as the backend's samplers take it."""
    seed = seed_generator.next()
    return seed if is_jax else tf.cast(seed, tf.int32)


def fold_in(seed, data):
    """A new seed from `seed` and an integer `data` (TensorFlow's `stateless_fold_in` on TensorFlow)."""
    if is_jax:
        import jax

        return jax.random.key_data(jax.random.fold_in(_key(seed), data))
    return tf.random.experimental.stateless_fold_in(seed, data)


def split(seed, num=2):
    """`num` new seeds from `seed`, stacked [num, 2]."""
    if is_jax:
        import jax

        return jax.random.key_data(jax.random.split(_key(seed), num))
    return tf.random.experimental.stateless_split(seed, num)


def _key(seed):
    import jax
    import jax.numpy as jnp

    seed = jnp.asarray(seed)
    if jax.dtypes.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    if seed.ndim == 0:
        return jax.random.key(seed)
    return jax.random.wrap_key_data(seed.astype(jnp.uint32))


def is_symbolic(value):
    """Whether `value` is a tensor being traced (in a `tf.function` or under `jax.jit`),
    whose values are not known yet."""
    if is_jax:
        import jax

        return isinstance(value, jax.core.Tracer)
    return isinstance(value, tf.Tensor) and not tf.executing_eagerly()


def in_strategy():
    """Whether a `tf.distribute` strategy's scope is entered (never under JAX)."""
    return not is_jax and tf.distribute.has_strategy()


def normal(shape, seed, dtype):
    """Standard normal draws of `shape` from a seed pair: Philox on TensorFlow
    (TensorFlow's own choice outside XLA; XLA's CPU default, ThreeFry, is
    several times slower there), JAX's default PRNG on JAX."""
    if is_jax:
        import jax

        return jax.random.normal(_key(seed), tuple(int(d) for d in shape), dtype)
    return tf.random.stateless_normal(shape, seed=tfp.random.sanitize_seed(seed), dtype=dtype, alg="philox")


def static_shape(shape):
    """A shape from `ps.shape`, as a tuple of ints where it is known (so that a
    Keras layer, which turns numpy arguments into tensors, keeps it static)."""
    return tuple(int(d) for d in shape) if isinstance(shape, np.ndarray) else shape


def abstractly(fn):
    """fn() run for its Python result alone: under JAX inside `jax.eval_shape`, so
    the array ops it makes are traced, not compiled and run one by one."""
    if not is_jax:
        return fn()
    import jax

    results = []
    jax.eval_shape(lambda: results.append(fn()) or 0)
    return results[0]


def tensorflow_available():
    """Whether TensorFlow is imported or can be."""
    if tensorflow_loaded():
        return True
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except ImportError:
        return False
