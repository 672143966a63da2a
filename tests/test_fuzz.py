"""Fuzzing with hypothesis: bad input gets a clear error, never a crash inside TF.

"Clear" means: a ValueError (or FileNotFoundError/TypeError where that is the
right type) raised by tfpvae itself, on one line, whose message names what was
wrong (the argument, option or config key) and says what was expected. A
`tf.errors.*`, a Keras "Exception encountered when calling ..." wrapper, a
traced graph node or a numpy/Python error about something the user never
wrote is not clear, and neither is a bad input that is accepted and gives a
NaN or inf result.

Every model is small (event_shape=(4,), latent_dim=2, one Dense layer of 8
units) and built once per likelihood and purpose; a model is rebuilt only after
a test that used it failed (a failed first trace of `fit` leaves Keras's train
function unusable). Examples are derandomized, so every run tries the same
inputs; shrinking is off to keep a failing run short, so a failure reports the
input as generated. Since a hypothesis test stops at its first failure, each
defect found is also kept as one input in `test_defects_found_by_fuzzing`.
`test_zz_inputs_tried` (run with `-s`) prints how many inputs the file tried.
"""

import collections
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import tfpvae
from tfpvae import config as configs
from tfpvae import data as tfdata
from tfpvae import families, networks, runs, schedules
from tfpvae.callbacks import KLWarmup
from tfpvae.checks import FLOAT32_MAX

# --- settings, counting, what a clear error is -----------------------------------


def fuzz(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,  # nothing written under the repository
        derandomize=True,  # the same inputs on every run
        phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure stops the test at once
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


TRIED = collections.Counter()


def count():
    """One more input tried by the hypothesis test now running."""
    TRIED[os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]] += 1


# Signs that an error came from deep inside TensorFlow or Keras rather than from a check.
JUNK = ("{{node", "in user code", "Traceback", "Tensor(\"", "tf.Tensor(", "EagerTensor",
        "Exception encountered when calling", "Unable to revive model from config",
        "Graph execution error")


def attempt(fn):
    """(result, None) or (None, the exception)."""
    try:
        return fn(), None
    except Exception as error:  # noqa: BLE001 - judged by assert_clear
        return None, error


def describe(error):
    return f"{type(error).__module__}.{type(error).__name__}: {str(error)[:600]}"


def assert_clear(error, *, any_of=(), starts=None, types=(ValueError,), result=None, one_line=True):
    """`error` is a clear error: an allowed builtin type, one line, no TF internals, and
    its message names the problem (one of `any_of`, and starts with `starts`)."""
    assert error is not None, f"bad input accepted; it returned {summary(result)}"
    message = str(error)
    assert not isinstance(error, tf.errors.OpError), f"TF crash: {describe(error)}"
    assert type(error).__module__ == "builtins" and isinstance(error, types), (
        f"expected one of {[t.__name__ for t in types]}; got {describe(error)}")
    assert not isinstance(error, UnicodeError), f"undecoded bytes, no context: {describe(error)}"
    if one_line:  # `tfpvae: error: {message}` must stay one line
        assert "\n" not in message.strip(), f"a multi-line message: {describe(error)}"
    for junk in JUNK:
        assert junk not in message, f"TF/Keras internals in the message: {describe(error)}"
    if starts is not None:
        assert message.startswith((starts + " ", starts + ":")), (
            f"the message does not name {starts!r}: {describe(error)}")
    tokens = [str(token) for token in any_of if str(token)]
    if tokens:
        assert any(token in message for token in tokens), (
            f"the message names none of {tokens}: {describe(error)}")


def summary(result):
    try:
        if isinstance(result, dict) and all(np.ndim(v) <= 1 for v in result.values()):
            return {k: np.asarray(v, dtype=float).round(3).tolist() for k, v in result.items()}
        if isinstance(result, np.ndarray):
            return result.round(3).tolist()
    except Exception:  # noqa: BLE001 - only a description
        pass
    return repr(result)[:300]


def all_finite(result):
    if isinstance(result, dict):
        return all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in result.values())
    return bool(np.all(np.isfinite(np.asarray(result, dtype=float))))


# --- small models, built once --------------------------------------------------------

EVENT = (4,)
MLP = {"name": "mlp", "units": [8]}
MODELS = {}


def small_vae(**kwargs):
    options = dict(event_shape=EVENT, latent_dim=2, encoder=MLP, decoder=MLP, seed=0)
    options.update(kwargs)
    return tfpvae.VAE(**options)


def model(likelihood="bernoulli", purpose="fuzz"):
    """One compiled model per (likelihood, purpose); "valid" models never see bad input."""
    key = (likelihood, purpose)
    if key not in MODELS:
        context = {"context_dim": CONTEXT_DIM} if purpose == "conditional" else {}
        vae = small_vae(likelihood=likelihood, **context)
        vae.compile(optimizer="adam")
        MODELS[key] = vae
    return MODELS[key]


@contextmanager
def evicting(likelihood, purpose="fuzz"):
    """Drops the model if the block fails: bad input may have poisoned its traced functions."""
    try:
        yield
    except BaseException:
        MODELS.pop((likelihood, purpose), None)
        raise


# --- data: what each likelihood accepts ---------------------------------------------

LEVELS = ("categorical", "logistic")
SUPPORT = {  # likelihood -> (valid elements, elements outside its support)
    "bernoulli": (st.sampled_from([0.0, 1.0]) | st.floats(0, 1),
                  st.floats(-1e6, -1e-3) | st.floats(1.001, 1e6)),
    "continuous_bernoulli": (st.floats(0, 1), st.floats(-1e6, -1e-3) | st.floats(1.001, 1e6)),
    "beta": (st.floats(0.01, 0.99),
             st.sampled_from([0.0, 1.0]) | st.floats(-1e6, 0) | st.floats(1, 1e6)),
    "poisson": (st.integers(0, 50).map(float),
                st.integers(-1000, -1).map(float)
                | st.tuples(st.integers(0, 1000), st.floats(0.01, 0.99)).map(sum)),
    "negative_binomial": (st.integers(0, 50).map(float),
                          st.integers(-1000, -1).map(float)
                          | st.tuples(st.integers(0, 1000), st.floats(0.01, 0.99)).map(sum)),
    "categorical": (st.integers(0, 255).map(lambda k: k / 255),
                    st.tuples(st.integers(0, 254), st.floats(0.05, 0.95)).map(lambda t: sum(t) / 255)
                    | st.floats(1.001, 10) | st.floats(-10, -1e-3)),
    "logistic": (st.integers(0, 255).map(lambda k: k / 255),
                 st.tuples(st.integers(0, 254), st.floats(0.05, 0.95)).map(lambda t: sum(t) / 255)
                 | st.floats(1.001, 10) | st.floats(-10, -1e-3)),
    "normal": (st.floats(-10, 10), st.nothing()),
    "student_t": (st.floats(-10, 10), st.nothing()),
}
# Elements finite and inside the support as float64, outside it once cast to float32.
FLOAT32_ONLY = {
    "normal": st.floats(3.5e38, 1e300) | st.floats(-1e300, -3.5e38),
    "student_t": st.floats(3.5e38, 1e300),
    "poisson": st.floats(3.5e38, 1e300).map(math.floor),
    "beta": st.floats(1e-16, 2.9e-8).map(lambda d: 1.0 - d) | st.floats(1e-300, 7e-46),
}


def outside_support(likelihood, x32):
    """The reference answer: is float32 `x32` outside the likelihood's support?"""
    if not np.all(np.isfinite(x32)):
        return True
    low, high = float(np.min(x32)), float(np.max(x32))
    if likelihood in ("bernoulli", "continuous_bernoulli"):
        return low < 0 or high > 1
    if likelihood == "beta":
        return low <= 0 or high >= 1
    if likelihood in ("poisson", "negative_binomial"):
        return low < 0 or not np.array_equal(np.floor(x32), x32)
    if likelihood in LEVELS:
        k = x32.astype(np.float64) * 255
        return low < 0 or high > 1 or not np.allclose(k, np.round(k), atol=1e-3)
    return False


def valid_x(likelihood, n=3):
    return np.full((n, *EVENT), {"beta": 0.5, "poisson": 2.0, "negative_binomial": 2.0,
                                 "categorical": 3 / 255, "logistic": 3 / 255}.get(likelihood, 0.0),
                   np.float32)


@st.composite
def valid_arrays(draw, likelihood, max_batch=3):
    n = draw(st.integers(1, max_batch))
    values = draw(st.lists(SUPPORT[likelihood][0], min_size=n * 4, max_size=n * 4))
    return np.array(values, np.float64).reshape(n, *EVENT)


@st.composite
def with_one(draw, likelihood, bad_element):
    """A valid array with one element replaced by a draw of `bad_element`."""
    x = draw(valid_arrays(likelihood))
    index = draw(st.integers(0, x.size - 1))
    x.flat[index] = draw(bad_element)
    return x


def container(draw, x):
    """The same data as a numpy array of some dtype, or a tf.Tensor."""
    kind = draw(st.sampled_from(["numpy", "numpy", "tensor"]))
    return tf.constant(x) if kind == "tensor" else x


# --- bad arrays: each kind with what its message must say ---------------------------

METHODS = {
    "elbo": lambda vae, x, lik: vae.elbo(x),
    "encode": lambda vae, x, lik: vae.encode(x).mean().numpy(),
    "predict": lambda vae, x, lik: vae.predict(x, batch_size=4, verbose=0),
    "log_likelihood": lambda vae, x, lik: vae.log_likelihood(x, num_samples=2),
    "evaluate": lambda vae, x, lik: vae.evaluate(x, batch_size=4, verbose=0, return_dict=True),
    "fit": lambda vae, x, lik: vae.fit(x, epochs=1, batch_size=4, verbose=0).history,
    "fit(validation_data=)": lambda vae, x, lik: vae.fit(valid_x(lik), epochs=1, batch_size=4, verbose=0,
                                                        validation_data=x).history,
}
ALL = list(SUPPORT)


@st.composite
def wrong_shape(draw, likelihood):
    shape = draw(st.one_of(
        st.just(()),
        st.tuples(st.integers(1, 6)),
        st.tuples(st.integers(1, 3), st.integers(1, 6).filter(lambda d: d != 4)),
        st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
        st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.integers(1, 2)),
    ))
    value = draw(SUPPORT[likelihood][0])
    return container(draw, np.full(shape, value)), {"any_of": ["[batch, 4]"]}


@st.composite
def empty(draw, likelihood):
    shape = draw(st.tuples(st.just(0)) | st.tuples(st.just(0), st.integers(0, 5))
                 | st.tuples(st.just(0), st.integers(1, 4), st.integers(1, 4)))
    dtype = draw(st.sampled_from(["float32", "float64", "int32", "bool"]))
    return container(draw, np.zeros(shape, dtype)), {"any_of": ["empty"]}


@st.composite
def non_numeric(draw, likelihood):
    n = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["str", "bytes", "object", "datetime64", "timedelta64"]))
    if kind == "str":
        x = np.array(draw(st.lists(st.text(max_size=3), min_size=4 * n, max_size=4 * n))).reshape(n, 4)
    elif kind == "bytes":
        x = np.array(draw(st.lists(st.binary(max_size=3), min_size=4 * n, max_size=4 * n))).reshape(n, 4)
    elif kind == "object":
        x = np.empty((n, 4), object)
        for i in range(x.size):
            x.flat[i] = draw(st.none() | st.floats() | st.text(max_size=2) | st.just({}))
    else:
        x = np.array(draw(st.lists(st.integers(0, 10**6), min_size=4 * n, max_size=4 * n))).reshape(n, 4)
        x = x.astype(f"{kind}[s]")
    return x, {"any_of": ["numeric"]}


@st.composite
def complex_numbers(draw, likelihood):
    x = draw(valid_arrays(likelihood))
    imaginary = draw(st.floats(0.5, 10) | st.floats(-10, -0.5))
    dtype = draw(st.sampled_from([np.complex64, np.complex128]))
    x = x.astype(dtype)
    x.flat[draw(st.integers(0, x.size - 1))] += 1j * imaginary
    return container(draw, x), {"any_of": ["numeric", "complex", "real"]}


@st.composite
def non_finite(draw, likelihood):
    x = draw(with_one(likelihood, st.sampled_from([np.nan, np.inf, -np.inf])))
    dtype = draw(st.sampled_from(["float16", "float32", "float64"]))
    return container(draw, x.astype(dtype)), {"any_of": ["finite", "NaN"]}


@st.composite
def outside(draw, likelihood):
    x = draw(with_one(likelihood, SUPPORT[likelihood][1]))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    if likelihood in ("poisson", "negative_binomial") and draw(st.booleans()) and np.all(x == np.floor(x)):
        dtype = "int64"
    return container(draw, x.astype(dtype)), {"any_of": [likelihood]}


@st.composite
def float32_only(draw, likelihood):
    x = draw(with_one(likelihood, FLOAT32_ONLY[likelihood]))  # float64: inside the support
    return container(draw, x), {"any_of": [likelihood, "finite", "float32"]}


@st.composite
def nested_lists(draw, likelihood):
    """Python lists of examples with rows of different lengths."""
    lengths = draw(st.lists(st.integers(0, 6), min_size=2, max_size=3).filter(lambda ls: len(set(ls)) > 1))
    value = draw(SUPPORT[likelihood][0])
    return [[value] * n for n in lengths], {"any_of": ["[batch, 4]", "shape"]}


BAD = {  # kind -> (strategy of (x, what the message must say), the likelihoods to try)
    "wrong_shape": (wrong_shape, ALL),
    "empty": (empty, ALL),
    "non_numeric": (non_numeric, ALL),
    "complex": (complex_numbers, ALL),
    "non_finite": (non_finite, ALL),
    "outside_support": (outside, [lik for lik in ALL if lik not in ("normal", "student_t")]),
    "float32_overflow_or_rounding": (float32_only, list(FLOAT32_ONLY)),
    "ragged_lists": (nested_lists, ["bernoulli"]),
}


@pytest.mark.parametrize("kind", list(BAD))
@fuzz(25)
@given(data=st.data())
def test_bad_arrays_get_a_clear_error(kind, data):
    """Every method that takes data rejects each kind of bad x before any work."""
    count()
    strategy, likelihoods = BAD[kind]
    likelihood = data.draw(st.sampled_from(likelihoods), label="likelihood")
    method = data.draw(st.sampled_from(list(METHODS)), label="method")
    x, says = data.draw(strategy(likelihood), label="x")
    if kind == "float32_overflow_or_rounding":  # the generator's own check, on x as float32
        with np.errstate(over="ignore"):
            assert outside_support(likelihood, np.asarray(x, np.float64).astype(np.float32))
    what = "validation_data" if "validation_data" in method else "x"
    with evicting(likelihood):
        result, error = attempt(lambda: METHODS[method](model(likelihood), x, likelihood))
        assert_clear(error, starts=what, result=result, **says)


# --- labels ---------------------------------------------------------------------------


@fuzz(15)
@given(n=st.integers(1, 5), m=st.integers(1, 5),
       form=st.sampled_from(["fit((x, y))", "fit(x, y)", "evaluate((x, y))", "evaluate(x, y)"]),
       integer_labels=st.booleans())
def test_labels_of_another_length_are_a_clear_error(n, m, form, integer_labels):
    """fit((x, y)) with len(y) != len(x): a ValueError that gives both lengths."""
    if n == m:
        m = n + 1
    count()
    x = (np.arange(n * 4).reshape(n, 4) % 2).astype(np.float32)
    y = np.arange(m) if integer_labels else np.linspace(0, 1, m)
    vae = model("bernoulli", "labels")
    call = {
        "fit((x, y))": lambda: vae.fit((x, y), epochs=1, verbose=0),
        "fit(x, y)": lambda: vae.fit(x, y, epochs=1, verbose=0),
        "evaluate((x, y))": lambda: vae.evaluate((x, y), verbose=0),
        "evaluate(x, y)": lambda: vae.evaluate(x, y, verbose=0),
    }[form]
    with evicting("bernoulli", "labels"):
        result, error = attempt(call)
        assert_clear(error, result=result, one_line=False)  # Keras's own message, over 2 lines
        assert str(n) in str(error) and str(m) in str(error), describe(error)


LABELLED = {  # x given as (x, y), which checks.first_of says tfpvae accepts
    "fit": lambda vae, data: vae.fit(data, epochs=1, batch_size=4, verbose=0).history["loss"],
    "evaluate": lambda vae, data: vae.evaluate(data, verbose=0, return_dict=True)["loss"],
    "predict": lambda vae, data: vae.predict(data, verbose=0),
    "elbo": lambda vae, data: vae.elbo(data),
    "encode": lambda vae, data: vae.encode(data).mean().numpy(),
    "log_likelihood": lambda vae, data: vae.log_likelihood(data, num_samples=2),
}


@pytest.mark.parametrize("method", list(LABELLED))
def test_labels_of_the_same_length_are_accepted(method):
    """(x, y) with len(y) == len(x) works as x alone does (x is the data, y is ignored)."""
    x = (np.arange(20).reshape(5, 4) % 3 == 0).astype(np.float32)
    with evicting("bernoulli", "labels"):
        result, error = attempt(lambda: LABELLED[method](model("bernoulli", "labels"), (x, np.arange(5.0))))
        assert error is None, f"{method}((x, y)) failed: {describe(error)}"
        assert all_finite(result), summary(result)


# --- the context of a conditional model -------------------------------------------------

CONTEXT_DIM = 3
CONDITIONAL = {  # method -> call with data (x, c)
    "fit": lambda vae, x, c: vae.fit((x, c), epochs=1, batch_size=4, verbose=0).history["loss"],
    "fit(x, c)": lambda vae, x, c: vae.fit(x, c, epochs=1, batch_size=4, verbose=0).history["loss"],
    "evaluate": lambda vae, x, c: vae.evaluate((x, c), verbose=0, return_dict=True)["loss"],
    "predict": lambda vae, x, c: vae.predict((x, c), verbose=0),
    "elbo": lambda vae, x, c: vae.elbo((x, c)),
    "log_likelihood": lambda vae, x, c: vae.log_likelihood((x, c), num_samples=2),
    "encode": lambda vae, x, c: vae.encode(x, c).mean().numpy(),
    "decode": lambda vae, x, c: vae.decode(np.zeros((len(x), 2), np.float32), c).mean().numpy(),
    "sample": lambda vae, x, c: vae.sample(len(x), c=c),
}


def context_is_valid(c, n):
    """The oracle: integer labels [n] in [0, CONTEXT_DIM), or finite float32 features [n, CONTEXT_DIM]."""
    try:
        array = np.asarray(c)
    except ValueError:
        return False
    if array.dtype.kind == "b" and array.ndim == 2:
        return array.shape == (n, CONTEXT_DIM)
    if array.ndim == 1:
        return array.dtype.kind in "iu" and len(array) == n and bool(np.all((0 <= array) & (array < 3)))
    with np.errstate(over="ignore"):
        ok = array.ndim == 2 and array.shape == (n, CONTEXT_DIM) and array.dtype.kind in "iuf"
        return ok and bool(np.all(np.isfinite(array.astype(np.float32))))


@st.composite
def contexts(draw, n):
    """Labels and features, right and wrong: lengths, ranks, dtypes, ranges, NaN, strings, ragged lists."""
    length = draw(st.sampled_from([n, n, n, n + 1, max(n - 1, 0)]))
    kind = draw(st.sampled_from(["labels", "float labels", "features", "features of another width",
                                 "rank 3", "strings", "ragged", "scalar"]))
    if kind == "labels":
        return np.array(draw(st.lists(st.integers(-2, 4), min_size=length, max_size=length)), np.int64)
    if kind == "float labels":
        return np.arange(length, dtype=np.float32) % CONTEXT_DIM
    if kind in ("features", "features of another width"):
        width = CONTEXT_DIM if kind == "features" else draw(st.sampled_from([1, 2, 4]))
        value = st.floats(allow_nan=True, allow_infinity=True, width=64)
        flat = draw(st.lists(value, min_size=length * width, max_size=length * width))
        return np.array(flat, np.float64).reshape(length, width)
    if kind == "rank 3":
        return np.zeros((length, CONTEXT_DIM, 1), np.float32)
    if kind == "strings":
        return np.array(["a"] * length)
    if kind == "ragged":
        return [[0.0] * CONTEXT_DIM] * max(length - 1, 0) + [[0.0]]
    return draw(st.sampled_from([1, 7, -1, 1.5]))


@pytest.mark.parametrize("method", list(CONDITIONAL))
@fuzz(12)
@given(data=st.data())
def test_contexts_are_checked(method, data):
    """A conditional model's c: valid labels or features give finite results;
    anything else is a clear error that names c."""
    count()
    n = data.draw(st.integers(1, 4))
    c = data.draw(contexts(n))
    x = (np.arange(n * 4).reshape(n, 4) % 2).astype(np.float32)
    valid = context_is_valid(c, n) or (method == "sample" and isinstance(c, int) and 0 <= c < 3)
    with evicting("bernoulli", "conditional"):
        result, error = attempt(lambda: CONDITIONAL[method](model("bernoulli", "conditional"), x, c))
        if valid:
            assert error is None, f"valid c {summary(c)} refused: {describe(error)}"
            assert all_finite(result), summary(result)
        else:
            assert_clear(error, result=result, any_of=["c "])


# --- arguments of the evaluation methods ---------------------------------------------

ARGUMENTS = {  # (method, argument) -> (call, None allowed, expected result shape)
    ("elbo", "num_samples"): (lambda vae, x, v: vae.elbo(x, num_samples=v), True, (3,)),
    ("elbo", "batch_size"): (lambda vae, x, v: vae.elbo(x, batch_size=v), False, (3,)),
    ("log_likelihood", "num_samples"): (lambda vae, x, v: vae.log_likelihood(x, num_samples=v), False, (3,)),
    ("log_likelihood", "batch_size"): (
        lambda vae, x, v: vae.log_likelihood(x, num_samples=2, batch_size=v), False, (3,)),
    ("log_likelihood", "chunk_size"): (
        lambda vae, x, v: vae.log_likelihood(x, num_samples=2, chunk_size=v), True, (3,)),
    ("sample", "num_samples"): (lambda vae, x, v: vae.sample(v), False, None),
}
ARGUMENT_VALUES = st.one_of(
    st.integers(-3, 4),
    st.sampled_from([0, -1, True, False, 1.0, 2.5, math.nan, math.inf, "2", None, [2], np.int64(2)]),
)


def positive_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


@pytest.mark.parametrize("method,argument", list(ARGUMENTS))
@fuzz(15)
@given(value=ARGUMENT_VALUES)
@example(value=-1)
@example(value=0)
def test_evaluation_arguments(method, argument, value):
    """Sizes and sample counts: a positive int works; anything else is a clear error."""
    count()
    call, none_ok, shape = ARGUMENTS[method, argument]
    x = valid_x("bernoulli")
    result, error = attempt(lambda: call(model("bernoulli", "arguments"), x, value))
    if positive_int(value) or (value is None and none_ok):
        assert error is None, f"valid {argument}={value!r} rejected: {describe(error)}"
        assert all_finite(result), f"{argument}={value!r} gave {summary(result)}"
        assert np.shape(result) == (shape or (value, *EVENT))
    else:
        assert_clear(error, any_of=[argument], result=result)


# --- family specs ---------------------------------------------------------------------

ROLE_NAMES = [(role, name) for role, names in families.names().items() for name in names]


def allowed_options(role, name):
    """The options a family takes: its __init__'s keywords, or, where __init__ takes
    **options, the ones its default config lists (the README's "options" column)."""
    family = families.get(name, role=role)
    parameters = inspect.signature(type(family).__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return set(family.get_config()) - {"name"}
    allowed = set(parameters) - {"self", "name"}
    if getattr(type(family), "has_scales", lambda: True)() is False:
        allowed.discard("min_scale")  # an elementwise family with no scale parameter
    return allowed


def real(value):
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)


OPTION_RULES = {  # option -> is this value valid?
    "components": lambda v: type(v) is int and v >= 1,
    "rank": lambda v: type(v) is int and v >= 1,
    "steps": lambda v: type(v) is int and v >= 1,
    "hidden": lambda v: type(v) is int and v >= 1,
    "min_scale": lambda v: real(v) and math.isfinite(v) and 0 < v <= FLOAT32_MAX,
    "min_df": lambda v: real(v) and math.isfinite(v) and 0 < v <= FLOAT32_MAX,
    "seed": lambda v: type(v) is int and 0 <= v < 2**31,
    "scale": lambda v: (v in ("network", "shared") if isinstance(v, str)
                        else real(v) and math.isfinite(v) and 0 < v <= FLOAT32_MAX),
    "min_concentration": lambda v: real(v) and math.isfinite(v) and 0 <= v <= FLOAT32_MAX,
    "temperature": lambda v: real(v) and math.isfinite(v) and 0 < v <= FLOAT32_MAX,
    "categories": lambda v: type(v) is int and v >= 1,
    "learned": lambda v: isinstance(v, bool),
}
OPTION_VALUES = st.one_of(
    st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
    st.text(max_size=4), st.sampled_from(["3", "1e-3", "network", "shared", 1, 2, 0.5]),
    st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
UNKNOWN_OPTIONS = st.from_regex(r"[a-z][a-z_]{2,9}", fullmatch=True) | st.sampled_from(
    ["min_scale", "components", "seed", "scale", "rank", "units", "colour"])


@fuzz(100)
@given(spec=st.one_of(
    st.text(max_size=12), st.sampled_from([n for _, n in ROLE_NAMES]), st.none(), st.integers(),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers() | st.none(), max_size=2),
    st.fixed_dictionaries({"name": st.none() | st.integers() | st.lists(st.text(max_size=3), max_size=1)}),
    st.fixed_dictionaries({"name": st.text(max_size=12)}),
), role=st.sampled_from(["prior", "posterior", "likelihood"]) | st.text(max_size=8) | st.none())
def test_family_spec_structure(spec, role):
    """A spec is a name or {"name": ..., **options}; anything else names what a spec is."""
    count()
    family, error = attempt(lambda: families.get(spec, role=role))
    names = families.names().get(role) if isinstance(role, str) else None
    if names is None:
        assert_clear(error, any_of=["role"], result=family)
        return
    name = spec if isinstance(spec, str) else spec.get("name") if isinstance(spec, dict) else None
    if isinstance(spec, dict) and len(spec) > 1 and isinstance(name, str) and name in names:
        return  # options: test_family_options
    valid = isinstance(name, str) and name in names
    if valid:
        assert error is None and family.name == name, describe(error)
    else:
        assert_clear(error, any_of=["'name'", "valid"], result=family)


@pytest.mark.parametrize("option", [*OPTION_RULES, "unknown"])
@fuzz(40)
@given(data=st.data())
def test_family_options(option, data):
    """Each option accepts what it documents and rejects the rest by name."""
    count()
    targets = [(r, n) for r, n in ROLE_NAMES
               if option == "unknown" or option in allowed_options(r, n)]
    role, name = data.draw(st.sampled_from(targets), label="role, name")
    if option == "unknown":
        key = data.draw(UNKNOWN_OPTIONS.filter(lambda k: k not in allowed_options(role, name)), label="key")
        value, valid = data.draw(OPTION_VALUES, label="value"), False
    else:
        key, value = option, data.draw(OPTION_VALUES, label="value")
        valid = OPTION_RULES[option](value)
    family, error = attempt(lambda: families.get({"name": name, key: value}, role=role))
    if valid:
        assert error is None, f"valid {key}={value!r} rejected: {describe(error)}"
    else:
        assert_clear(error, any_of=[key], result=family)


SMALL_OPTION_VALUES = st.one_of(
    st.integers(-2, 3), st.sampled_from([True, False, None, "3", "x", 1.5, math.nan, math.inf, -1.0, 0.01, [2]]))


@fuzz(30)
@given(data=st.data())
def test_family_specs_in_a_model(data):
    """The same through tfpvae.VAE(prior=..., posterior=..., likelihood=...): a model or a clear error."""
    count()
    role, name = data.draw(st.sampled_from(ROLE_NAMES), label="role, name")
    options = sorted(allowed_options(role, name)) + ["unknown"]
    option = data.draw(st.sampled_from(options), label="option")
    key = "colour" if option == "unknown" else option
    value = data.draw(SMALL_OPTION_VALUES, label="value")
    valid = option != "unknown" and OPTION_RULES[option](value)
    vae, error = attempt(lambda: small_vae(**partnered(role, name, key, value, valid)))
    if valid:
        assert error is None, f"valid {role}={{'name': {name!r}, {key!r}: {value!r}}} rejected: {describe(error)}"
    else:
        assert_clear(error, any_of=[key], result=vae)


def partnered(role, name, key, value, valid):
    """The model options of one family spec: a sphere or discrete family gets a
    partner over the same space and a latent size it fits."""
    categories = value if key == "categories" and valid else 10
    partners = {"von_mises_fisher": ("prior", "spherical_uniform"),
                "power_spherical": ("prior", "spherical_uniform"),
                "spherical_uniform": ("posterior", "power_spherical"),
                "relaxed_categorical": ("prior", {"name": "categorical", "categories": categories}),
                "categorical": ("posterior", {"name": "relaxed_categorical", "categories": categories})}
    options = {role: {"name": name, key: value}}
    if role != "likelihood" and name in partners:
        other, partner = partners[name]
        options[other] = partner
        options["latent_dim"] = categories if "categorical" in name else 3
    return options


# --- the model's own arguments --------------------------------------------------------

F32_MAX = float(np.finfo(np.float32).max)


def weight(v):
    return real(v) and math.isfinite(v) and 0 <= v <= F32_MAX


MODEL_ARGUMENTS = {  # argument -> (values to try, is a value valid?)
    "latent_dim": (st.integers(-2, 3) | st.sampled_from([0, True, 2.0, "2", None, [2], np.int64(2)])
                   | st.lists(st.integers(-1, 3) | st.sampled_from([True, 2.0, "2"]), max_size=3),
                   lambda v: positive_int(v) or isinstance(v, list) and len(v) >= 1
                   and all(positive_int(d) for d in v)),
    "num_samples": (st.integers(-2, 3) | st.sampled_from([0, True, 2.0, "2", None, [2], np.int64(2)]),
                    positive_int),
    "kl": (st.sampled_from(["auto", "analytic", "mc", "AUTO", "", None, 1, ["auto"], "exact"])
           | st.text(max_size=4), lambda v: isinstance(v, str) and v in ("auto", "analytic", "mc")),
    "objective": (st.sampled_from(["elbo", "iwae", "ELBO", "", None, 0, ["elbo"], "vae"]) | st.text(max_size=4),
                  lambda v: isinstance(v, str) and v in tfpvae.objectives.names()),
    "beta": (st.floats(allow_nan=True, allow_infinity=True) | st.integers(-3, 3)
             | st.sampled_from([True, "1", None, np.float32(0.5), np.float64(2.0), 1e300]), weight),
    "free_bits": (st.floats(allow_nan=True, allow_infinity=True) | st.integers(-3, 3)
                  | st.sampled_from([True, "1", None, np.float32(0.5), np.float64(2.0), 1e300]), weight),
    "event_shape": (st.lists(st.integers(-1, 3), max_size=3) | st.tuples(st.integers(-1, 3))
                    | st.sampled_from([4, "4", None, (4.0,), ((4,),), "", (True,), np.array([2, 2]), 2.5]),
                    lambda v: not isinstance(v, (str, bytes, dict)) and np.ndim(v) == 1 and len(v) >= 1
                    and all(positive_int(d) for d in v)),
}


@pytest.mark.parametrize("argument", list(MODEL_ARGUMENTS))
@fuzz(15)
@given(data=st.data())
@example(data=None)  # stands for the explicit example value=inf (st.data() takes no value)
def test_model_arguments(argument, data):
    """latent_dim, num_samples, kl, objective, beta, free_bits, event_shape: valid values
    build a model; anything else is a ValueError that names the argument."""
    count()
    values, is_valid = MODEL_ARGUMENTS[argument]
    value = math.inf if data is None else data.draw(values, label=argument)
    vae, error = attempt(lambda: small_vae(**{argument: value}))
    if is_valid(value):
        assert error is None, f"valid {argument}={value!r} rejected: {describe(error)}"
    else:
        assert_clear(error, any_of=[argument], result=vae)


# --- network specs --------------------------------------------------------------------

IMAGE = (2, 2, 1)
UNITS = st.lists(st.integers(-1, 4), max_size=2) | st.integers(-1, 4) | st.sampled_from(
    ["8", None, 2.5, [2.5], ["4"], [[4]]])
ACTIVATIONS = st.sampled_from(["tanh", "relu", None, "nope", 3, "Tanh"])


def network_problems(role, spec):
    """The option names (or the spec) that make a network spec invalid for a (2, 2, 1) image."""
    if isinstance(spec, str) and spec in networks.NETWORKS:
        spec = {"name": spec}
    if not isinstance(spec, dict) or spec.get("name") not in networks.NETWORKS:
        return [role]
    problems = [k for k in spec if k != "name" and k not in networks.NETWORKS[spec["name"]]]
    spec = {**networks.NETWORKS[spec["name"]], **spec}

    def int_list(v, least):
        return isinstance(v, list) and len(v) >= least and all(positive_int(u) for u in v)

    units, activation = spec.get("units", [1]), spec.get("activation", "tanh")
    if spec["name"] == "mlp" and not int_list(units, 1 if role == "decoder" else 0):
        problems.append("units")
    if spec["name"] == "conv":
        if not positive_int(units):
            problems.append("units")
        if not int_list(spec.get("filters", [1]), 1):
            problems.append("filters")
        elif len(spec.get("filters", [1])) > 1:
            problems += ["filters", "divisible"]  # a 2x2 image halves once
    if not (activation is None or activation in ("tanh", "relu")):
        problems.append("activation")
    return problems


@fuzz(40)
@given(role=st.sampled_from(["encoder", "decoder"]), spec=st.one_of(
    st.fixed_dictionaries({"name": st.just("mlp")}, optional={"units": UNITS, "activation": ACTIVATIONS}),
    st.fixed_dictionaries({"name": st.just("conv")}, optional={
        "units": UNITS, "filters": UNITS, "activation": ACTIVATIONS}),
    st.fixed_dictionaries({"name": st.sampled_from(["mlp", "conv"])},
                          optional={"dropout": st.floats(0, 1), "layers": st.integers(1, 3)}),
    st.sampled_from(["mlp", "conv", "MLP", "resnet", "", None, 3, ["mlp"], {"units": [4]}]),
))
def test_network_specs(role, spec):
    """An encoder/decoder spec builds or is rejected by a message naming the bad option."""
    count()
    other = "decoder" if role == "encoder" else "encoder"
    vae, error = attempt(lambda: small_vae(event_shape=IMAGE, **{role: spec, other: MLP}))
    problems = network_problems(role, spec)
    if not problems:
        assert error is None, f"valid {role}={spec!r} rejected: {describe(error)}"
    else:
        assert_clear(error, any_of=problems, types=(ValueError, TypeError), result=vae)


# --- configuration files --------------------------------------------------------------

DATA_KEYS, TRAINING_KEYS = list(configs.DEFAULTS["data"]), list(configs.DEFAULTS["training"])
CONFIG_RULES = {  # (section, key) -> is a value valid (None keeps the default)?
    ("data", "dataset"): lambda v: isinstance(v, str),  # what it names is load_arrays's business
    ("data", "binarize"): lambda v: isinstance(v, str) and v.lower() in configs.BINARIZE,
    ("data", "validation_split"): lambda v: real(v) and 0 <= v < 1,  # 0: no validation data
    ("training", "epochs"): lambda v: type(v) is int and v >= 1,
    ("training", "batch_size"): lambda v: type(v) is int and v >= 1,
    ("training", "warmup_epochs"): lambda v: type(v) is int and v >= 0,
    ("training", "learning_rate"): lambda v: real(v) and math.isfinite(v) and 0 < v <= FLOAT32_MAX,
    ("training", "adam_epsilon"): lambda v: real(v) and math.isfinite(v) and 0 < v <= FLOAT32_MAX,
    ("training", "schedule"): lambda v: isinstance(v, str) and v in schedules.NAMES,
    ("training", "seed"): lambda v: type(v) is int and 0 <= v < 2**31,
    ("training", "strategy"): lambda v: isinstance(v, str) and v in configs.STRATEGIES,
}
SCALARS = (st.none() | st.booleans() | st.integers(-3, 200) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=6) | st.sampled_from(["digits", "dynamic", "NONE", "0.5", "1e-3", "abc"]))
JSON_VALUES = SCALARS | st.lists(SCALARS, max_size=2) | st.dictionaries(st.text(max_size=3), SCALARS, max_size=1)
SECTION_NAMES = st.sampled_from(["model", "data", "training", "Data", "optimizer", ""])
KEY_NAMES = st.sampled_from([*DATA_KEYS, *TRAINING_KEYS, "latent_dim", "epoch", "lr", "foo"])


def config_problems(layers):
    """The sections/keys of config layers that merge must reject, by the reference rules:
    unknown sections and keys in any layer, wrong values in the merged result."""
    problems, final = [], {}
    for layer in layers:
        if not isinstance(layer, dict):
            return ["dict"]
        for section, values in layer.items():
            if section not in configs.DEFAULTS or not isinstance(values, dict):
                problems.append(repr(section))
                continue
            if section == "model":
                continue  # checked by the model itself (test_config_model_section)
            unknown = [k for k in values if (section, k) not in CONFIG_RULES]
            problems += [repr(k) for k in unknown]
            final.update({(section, k): v for k, v in values.items()
                          if not unknown and (v is not None or k == "seed")})
    if problems:
        return problems
    return [key for (section, key), value in final.items()
            if not (value is None and key == "seed") and not CONFIG_RULES[section, key](value)]


def downstream_problems(merged):
    """What `runs.train` does with the data and training values, on a tiny array: a value
    that merge() accepted must not fail there."""
    data, training = merged["data"], merged["training"]
    arrays = tfdata.Arrays(x=np.zeros((20, 4), np.float32), y=None, event_shape=(4,), source="fuzz")
    uses = {
        "dataset": lambda: isinstance(data["dataset"], str) or tfdata.load_arrays(data["dataset"]),
        "validation_split": lambda: runs.held_out(arrays, data["validation_split"], seed=0),
        "learning_rate": lambda: keras.optimizers.Adam(training["learning_rate"], epsilon=training["adam_epsilon"]),
        "schedule": lambda: schedules.learning_rate(training["schedule"], training["learning_rate"], 1, 1),
        "seed": lambda: training["seed"] is None or keras.utils.set_random_seed(training["seed"]),
        "warmup_epochs": lambda: training["warmup_epochs"] and KLWarmup(epochs=training["warmup_epochs"]),
        "binarize": lambda: configs.binarization(merged),
    }
    problems = []
    for key, use in uses.items():
        _, error = attempt(use)
        if key == "dataset" and isinstance(error, ValueError) and "source" in str(error):
            continue  # "source must be a name, a path or a numpy array; received bool": clear enough
        if error is not None:
            problems.append(f"{key}: {describe(error)}")
    keras.utils.set_random_seed(1234)
    return problems


def check_merge(layers):
    merged, error = attempt(lambda: configs.merge(*layers))
    problems = config_problems(layers)
    if problems:
        assert_clear(error, any_of=problems, result=merged)
    else:
        assert error is None, f"valid config {layers!r} rejected: {describe(error)}"
        later = downstream_problems(merged)
        assert not later, f"merge() accepted {layers!r}, which `tfpvae train` then rejects: {later}"


@st.composite
def config_layers(draw):
    """Mostly known sections and keys, with values of any JSON type; sometimes unknown ones."""
    layer = {}
    for section in draw(st.lists(st.sampled_from(["data", "training", "data", "training", "model"])
                                 | SECTION_NAMES, max_size=2, unique=True)):
        known = [k for s, k in CONFIG_RULES if s == section] or ["latent_dim"]
        keys = st.sampled_from(known) | KEY_NAMES if draw(st.booleans()) else st.sampled_from(known)
        layer[section] = draw(st.dictionaries(keys, JSON_VALUES, max_size=2) | JSON_VALUES.filter(
            lambda v: not isinstance(v, dict)) if draw(st.integers(0, 9)) == 0 else st.dictionaries(
            keys, JSON_VALUES, max_size=2))
    return layer


@fuzz(150)
@given(layers=st.lists(config_layers(), min_size=1, max_size=2))
def test_config_merge(layers):
    """merge() rejects unknown sections and keys and wrong value types, naming the key."""
    count()
    check_merge(layers)


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


TOML_SCALARS = st.booleans() | st.integers(-3, 200) | st.floats(allow_nan=True, allow_infinity=True) | st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=6) | st.sampled_from(
    ["digits", "dynamic", "0.5", "abc"])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@fuzz(60)
@given(file=st.one_of(
    st.tuples(st.just(".json"), st.recursive(
        JSON_VALUES, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(
            SECTION_NAMES | KEY_NAMES | st.text(max_size=3), inner, max_size=2), max_leaves=6).map(json.dumps)),
    st.tuples(st.just(".toml"), st.dictionaries(
        st.sampled_from(["data", "training", "model", "optimizer"]),
        st.dictionaries(KEY_NAMES, TOML_SCALARS | st.lists(st.integers(0, 3), max_size=2), max_size=3),
        max_size=2).map(lambda doc: "\n".join(
            f"[{section}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in keys.items())
            for section, keys in doc.items()))),
))
def test_config_files(file, scratch):
    """read() + merge() on random JSON documents and TOML files with wrong keys and types."""
    count()
    suffix, text = file
    path = scratch / f"config{suffix}"
    path.write_text(text)
    layer, error = attempt(lambda: configs.read(path))
    assert error is None, f"{path.name} holding {text!r}: {describe(error)}"
    check_merge([layer])


@fuzz(60)
@given(suffix=st.sampled_from([".json", ".toml"]), content=st.text(max_size=30) | st.binary(max_size=30))
def test_config_files_that_do_not_parse(suffix, content, scratch):
    """read() on random text or bytes: a dict, or a ValueError that names the file."""
    count()
    path = scratch / f"random{suffix}"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    layer, error = attempt(lambda: configs.read(path))
    if error is None:
        assert isinstance(layer, (dict, list, str, int, float, bool, type(None)))
        check_merge([layer])
    else:
        assert_clear(error, any_of=[str(path)], result=layer)


def spec_values(key):
    """Specs for one model key: a family of its role or an MLP, with fuzzed options."""
    if key in ("encoder", "decoder"):
        return st.sampled_from(["mlp", "nope", 3]) | st.fixed_dictionaries(
            {"name": st.just("mlp")}, optional={"units": UNITS, "activation": ACTIVATIONS})
    return st.sampled_from(families.names()[key] + ["nope"]) | st.fixed_dictionaries(
        {"name": st.sampled_from(families.names()[key])},
        optional={option: SMALL_OPTION_VALUES for option in ("components", "seed", "min_scale", "colour")})


@st.composite
def model_sections(draw):
    # scalar keys are test_model_arguments's; here mostly specs, as --prior etc. give them
    keys = draw(st.lists(st.sampled_from(["prior", "posterior", "likelihood", "encoder", "decoder",
                                          "foo", "latent_dim", "event_shape"]),
                         min_size=1, max_size=2, unique=True))
    scalars = (st.integers(-1, 3) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=4)
               | st.booleans())
    return {k: draw(spec_values(k) if k in ("prior", "posterior", "likelihood", "encoder", "decoder")
                    else scalars | st.sampled_from(["auto", "iwae", [4]])) for k in keys}


@fuzz(25)
@given(model_section=model_sections())
def test_config_model_section(model_section):
    """The model section goes to VAE.from_config as `tfpvae train` does: a model or a clear error."""
    count()
    merged, error = attempt(lambda: configs.merge({"model": model_section}))
    assert error is None, describe(error)
    model_config = {**merged["model"], "encoder": merged["model"]["encoder"], "event_shape": list(EVENT)}
    vae, error = attempt(lambda: tfpvae.VAE.from_config(model_config))
    if error is not None:
        bad = [k for k, v in model_section.items() if v is not None]
        assert_clear(error, any_of=bad, types=(ValueError, TypeError), result=vae)


# --- the command line -----------------------------------------------------------------

TFPVAE = shutil.which("tfpvae", path=str(Path(sys.executable).parent)) or "tfpvae"
CLI_CASES = {  # id -> (arguments, what the one-line message must name)
    "unknown-likelihood": (["train", "--likelihood", "nope"], "nope"),
    "unknown-binarize": (["train", "--binarize", "nope"], "nope"),
    "encoder-units-int": (["train", "--encoder", '{"name": "mlp", "units": 8}'], "units"),
    "config-learning-rate-string": (["train", "--config", "{scratch}/bad.toml"], "learning_rate"),
    "evaluate-missing-run": (["evaluate", "{scratch}/no_such_run"], "no_such_run"),
}
ARGPARSE_CASES = {  # rejected by argparse before tfpvae runs: usage, then "tfpvae ...: error: ..."
    "epochs-not-an-int": ["train", "--epochs", "abc"],
    "unknown-command": ["frobnicate"],
}


@pytest.fixture(scope="module", autouse=True)
def cli_processes(request, scratch):
    """Starts the selected CLI cases when the module starts, so that their TensorFlow
    start-ups (~5 s of CPU each) overlap the in-process tests; the CLI tests collect them."""
    selected = {item.callspec.params["case"] for item in request.session.items
                if item.fspath == request.fspath and item.name.startswith("test_cli_")}
    (scratch / "bad.toml").write_text('[training]\nlearning_rate = "abc"\n')
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1"}
    processes = {}
    for case in selected:
        if case in CLI_CASES:
            arguments = [a.replace("{scratch}", str(scratch)) for a in CLI_CASES[case][0]]
            if arguments[0] == "train":
                arguments += ["--epochs", "1", "--output", str(scratch / f"run-{case}")]
        else:
            arguments = ARGPARSE_CASES[case]
        processes[case] = subprocess.Popen([TFPVAE, *arguments], cwd=scratch, env=env, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    yield processes
    for case, process in processes.items():
        if case not in CLI_DONE:
            process.kill()
            process.communicate()


CLI_DONE = {}


def cli_result(processes, case):
    """(exit status, stderr) of one case."""
    if case not in CLI_DONE:
        _, stderr = processes[case].communicate(timeout=300)
        CLI_DONE[case] = processes[case].returncode, stderr
    return CLI_DONE[case]


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_rejects_unknown_values(case, cli_processes):
    status, stderr = cli_result(cli_processes, case)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert status == 2, f"exit status {status}; stderr: {stderr[-2000:]}"
    assert len(lines) == 1 and lines[0].startswith("tfpvae: error: "), f"stderr is not one line:\n{stderr[-3000:]}"
    assert CLI_CASES[case][1] in lines[0], f"the message does not name {CLI_CASES[case][1]!r}: {lines[0]}"


@pytest.mark.parametrize("case", list(ARGPARSE_CASES))
def test_cli_rejects_malformed_arguments(case, cli_processes):
    status, stderr = cli_result(cli_processes, case)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert status == 2, f"exit status {status}; stderr: {stderr[-2000:]}"
    assert stderr.strip().splitlines()[-1].startswith("tfpvae"), stderr
    assert ": error: " in stderr.strip().splitlines()[-1], stderr


# --- valid input still works ----------------------------------------------------------


@fuzz(25)
@given(data=st.data())
def test_valid_binary_arrays_give_finite_elbos(data):
    """Random binary arrays of the right shape: finite ELBOs <= 0, one per example."""
    count()
    n = data.draw(st.sampled_from([1, 2, 5]), label="n")
    bits = data.draw(st.lists(st.booleans(), min_size=4 * n, max_size=4 * n), label="bits")
    dtype = data.draw(st.sampled_from(["bool", "uint8", "int32", "float16", "float32", "float64"]), label="dtype")
    x = np.array(bits).reshape(n, 4).astype(dtype)
    if data.draw(st.booleans(), label="as a tf.Tensor"):
        x = tf.constant(x)
    vae = model("bernoulli", "valid")
    elbo = vae.elbo(x)
    assert elbo.shape == (n,) and np.all(np.isfinite(elbo)) and np.all(elbo <= 0), elbo
    reconstruction = vae.predict(x, verbose=0)
    assert reconstruction.shape == (n, 4) and np.all((reconstruction >= 0) & (reconstruction <= 1))


@fuzz(20)
@given(data=st.data())
def test_valid_arrays_of_each_likelihood_give_finite_elbos(data):
    """Values inside each likelihood's support: accepted, with finite ELBOs and log p(x)."""
    count()
    likelihood = data.draw(st.sampled_from(["beta", "poisson", "categorical", "logistic", "normal",
                                            "continuous_bernoulli"]), label="likelihood")
    x = data.draw(valid_arrays(likelihood, max_batch=2), label="x").astype(np.float32)
    vae = model(likelihood, "valid")
    elbo, error = attempt(lambda: vae.elbo(x))
    assert error is None, describe(error)
    assert elbo.shape == (len(x),) and np.all(np.isfinite(elbo)), elbo
    log_px = vae.log_likelihood(x, num_samples=3)
    assert np.all(np.isfinite(log_px)), log_px


# --- each defect the fuzzing found, as one input ----------------------------------------
# A hypothesis test stops at its first failure, so one defect can hide the next; these are
# the inputs found (by the tests above or while writing them), one test each.


def written(scratch, name, content):
    path = scratch / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


X = np.full((1, 4), 0.5)
FOUND = {  # id -> (the call, what a clear error must say)
    "elbo(scalar x)": (lambda tmp: model().elbo(np.float64(0.5)), dict(starts="x", any_of=["[batch, 4]"])),
    "elbo(complex x)": (lambda tmp: model().elbo(X + 0.5j), dict(starts="x", any_of=["numeric", "complex"])),
    "elbo(timedelta64 x)": (lambda tmp: model().elbo(np.ones((1, 4), "timedelta64[s]")),
                            dict(starts="x", any_of=["numeric"])),
    "normal: elbo(x=1e39, finite as float64)": (lambda tmp: model("normal").elbo(np.full((1, 4), 1e39)),
                                                dict(starts="x", any_of=["finite", "float32"])),
    "poisson: elbo(x=1e39, an integer as float64)": (lambda tmp: model("poisson").elbo(np.full((1, 4), 1e39)),
                                                     dict(starts="x", any_of=["finite", "float32"])),
    "beta: elbo(x=1-1e-10, 1.0 as float32)": (lambda tmp: model("beta").elbo(np.full((1, 4), 1 - 1e-10)),
                                              dict(starts="x", any_of=["beta"])),
    "elbo(x, num_samples=0)": (lambda tmp: model().elbo(X, num_samples=0), dict(any_of=["num_samples"])),
    "elbo(x, batch_size=0)": (lambda tmp: model().elbo(X, batch_size=0), dict(any_of=["batch_size"])),
    "elbo(x, batch_size=-1)": (lambda tmp: model().elbo(X, batch_size=-1), dict(any_of=["batch_size"])),
    "log_likelihood(x, batch_size=0)": (lambda tmp: model().log_likelihood(X, num_samples=2, batch_size=0),
                                        dict(any_of=["batch_size"])),
    "log_likelihood(x, chunk_size=-1)": (lambda tmp: model().log_likelihood(X, num_samples=2, chunk_size=-1),
                                         dict(any_of=["chunk_size"])),
    "log_likelihood(x, chunk_size=0)": (lambda tmp: model().log_likelihood(X, num_samples=2, chunk_size=0),
                                        dict(any_of=["chunk_size"])),
    "get(bernoulli, colour=red)": (lambda tmp: families.get({"name": "bernoulli", "colour": "red"}, "likelihood"),
                                   dict(any_of=["colour"])),
    "get(poisson, min_scale=0.1)": (lambda tmp: families.get({"name": "poisson", "min_scale": 0.1}, "likelihood"),
                                    dict(any_of=["min_scale"])),
    "get(normal, min_scale='x')": (lambda tmp: families.get({"name": "normal", "min_scale": "x"}, "posterior"),
                                   dict(any_of=["min_scale"])),
    "get(normal, min_scale=inf)": (
        lambda tmp: families.get({"name": "normal", "min_scale": math.inf}, "likelihood"),
        dict(any_of=["min_scale"])),
    "get(normal, scale=inf)": (lambda tmp: families.get({"name": "normal", "scale": math.inf}, "likelihood"),
                               dict(any_of=["scale"])),
    "VAE(prior=mixture, components=True)": (lambda tmp: small_vae(prior={"name": "mixture", "components": True}),
                                            dict(any_of=["components"])),
    "VAE(prior=mixture, seed='x')": (lambda tmp: small_vae(prior={"name": "mixture", "seed": "x"}),
                                     dict(any_of=["seed"])),
    "VAE(posterior=iaf, seed=1.5)": (lambda tmp: small_vae(posterior={"name": "iaf", "seed": 1.5}),
                                     dict(any_of=["seed"])),
    "VAE(beta=inf)": (lambda tmp: small_vae(beta=math.inf), dict(any_of=["beta"])),
    "VAE(beta=1e300)": (lambda tmp: small_vae(beta=1e300), dict(any_of=["beta"])),
    "VAE(free_bits=inf)": (lambda tmp: small_vae(free_bits=math.inf), dict(any_of=["free_bits"])),
    "VAE(encoder=mlp, units=8)": (lambda tmp: small_vae(encoder={"name": "mlp", "units": 8}),
                                  dict(any_of=["units"], types=(ValueError, TypeError))),
    "VAE(decoder=mlp, units=[])": (lambda tmp: small_vae(decoder={"name": "mlp", "units": []}),
                                   dict(any_of=["units"])),
    "VAE(conv, filters=[])": (lambda tmp: small_vae(event_shape=IMAGE, encoder={"name": "conv", "filters": []},
                                                    decoder={"name": "conv", "filters": []}),
                              dict(any_of=["filters"], types=(ValueError, TypeError))),
    "VAE(decoder=conv, filters=[0])": (
        lambda tmp: small_vae(event_shape=IMAGE, decoder={"name": "conv", "filters": [0]}),
        dict(any_of=["filters"])),
    "VAE.from_config(prior=mixture, seed='x')": (
        lambda tmp: tfpvae.VAE.from_config({"event_shape": [4], "latent_dim": 2,
                                            "prior": {"name": "mixture", "seed": "x"}}),
        dict(any_of=["seed"], types=(ValueError, TypeError))),
    "merge(learning_rate='abc')": (lambda tmp: configs.merge({"training": {"learning_rate": "abc"}}),
                                   dict(any_of=["learning_rate"])),
    "merge(validation_split=[1])": (lambda tmp: configs.merge({"data": {"validation_split": [1]}}),
                                    dict(any_of=["validation_split"])),
    "merge(learning_rate=inf)": (lambda tmp: configs.merge({"training": {"learning_rate": math.inf}}),
                                 dict(any_of=["learning_rate"])),
    "merge(learning_rate='0.1')": (lambda tmp: configs.merge({"training": {"learning_rate": "0.1"}}),
                                   dict(any_of=["learning_rate"])),
    "merge(validation_split=0.0), then train": (
        lambda tmp: check_merge([{"data": {"validation_split": 0.0}}]), None),
    "merge(seed=null), then train": (lambda tmp: check_merge([{"training": {"seed": None}}]), None),
    "read(non-UTF-8 .toml)": (lambda tmp: configs.read(written(tmp, "latin1.toml", b"# caf\xe9\n")),
                              dict(any_of=["latin1.toml"])),
    "read(deeply nested .json)": (lambda tmp: configs.read(written(tmp, "deep.json", "[" * 100_000)),
                                  dict(any_of=["deep.json"])),
    "read(deeply nested .toml)": (lambda tmp: configs.read(written(tmp, "deep.toml", "a = " + "[" * 100_000)),
                                  dict(any_of=["deep.toml"])),
}


@pytest.mark.parametrize("case", list(FOUND))
def test_defects_found_by_fuzzing(case, scratch):
    call, says = FOUND[case]
    if says is None:  # the call makes its own assertions
        call(scratch)
        return
    result, error = attempt(lambda: call(scratch))
    assert_clear(error, result=result, **says)


# --- how many inputs were tried (keep last) --------------------------------------------


def hypothesis_items():
    """How many hypothesis test items this file holds (parametrizations counted)."""
    total = 0
    for value in list(globals().values()):
        if getattr(value, "is_hypothesis_test", False):
            items = 1
            for mark in getattr(value, "pytestmark", []):
                if mark.name == "parametrize":
                    items *= len(mark.args[1])
            total += items
    return total


MIN_INPUTS = 500  # with every hypothesis test of this file run


def test_zz_inputs_tried():
    total = sum(TRIED.values())
    if not TRIED:
        pytest.skip("no fuzz test ran")
    print(f"\nfuzz inputs tried: {total} by {len(TRIED)} hypothesis tests")
    for name, n in sorted(TRIED.items()):
        print(f"  {n:5d}  {name.split('::', 1)[-1]}")
    assert total >= 3 * len(TRIED)
    if len(TRIED) == hypothesis_items():
        assert total >= MIN_INPUTS
