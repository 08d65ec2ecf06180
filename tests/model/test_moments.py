"""Tests of keras_inits/moments.py: the report's mean and standard
deviation, on the host's view or on the device, against float64 NumPy."""

import math

import keras
import numpy as np
import pytest

from keras_inits.model import _moments as moments_module
from keras_inits.model._moments import moments

# Sizes around every chunk and row boundary of both paths.
SIZES = (
    1,
    7,
    moments_module.ROW,
    moments_module.ROW + 3,
    moments_module.HOST_CHUNK * 3 + 5,
    moments_module.DEVICE_CHUNK + 3,
)
DTYPES = ("float32", "float16", "bfloat16", "float64")


def _variable(values, dtype):
    return keras.Variable(values.astype("float32"), dtype=dtype)


def _reference(variable):
    values = keras.ops.convert_to_numpy(
        keras.ops.cast(variable.value, "float32")
    )
    return values.astype(np.float64).mean(), values.astype(np.float64).std()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("device", [False, True], ids=["host", "device"])
def test_moments_match_float64_numpy(size, dtype, device, monkeypatch):
    if dtype == "float64" and keras.backend.backend() == "jax":
        pytest.skip("JAX without x64 stores float64 as float32")
    if device:  # the path of accelerators and TensorFlow, on every backend
        monkeypatch.setattr(moments_module, "_host_view", lambda v: None)
    # A mean 25 times the spread: unshifted float32 sums of squares would
    # lose the variance (relative error about 1e-7 * 25**2 per value sum).
    values = np.random.default_rng(size).standard_normal(size) * 0.02 + 0.5
    variable = _variable(values, dtype)
    mean, std = moments(variable)
    want_mean, want_std = _reference(variable)
    # Each float32 sum runs over at most a chunk (pairwise) or a row of 1024
    # values, then float64: the relative error stays far below 1e-6.
    assert mean == pytest.approx(want_mean, rel=1e-6)
    assert std == pytest.approx(want_std, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("threads", [2, 3])
def test_host_values_split_among_threads_sum_the_same(threads, monkeypatch):
    monkeypatch.setattr(moments_module.threads, "cores", lambda: threads)
    size = threads * moments_module.THREAD_SHARE + 5
    values = np.random.default_rng(threads).standard_normal(size) * 0.02 + 0.5
    variable = _variable(values, "float32")
    want_mean, want_std = _reference(variable)
    shift = float(values.astype("float32")[0])
    parts = moments_module._host_sums(
        np.asarray(values, "float32"), shift, "float32", threads
    )
    whole = moments_module._chunk_sums(
        np.asarray(values, "float32"), shift, "float32"
    )
    assert parts == pytest.approx(whole, rel=1e-6)
    mean, std = moments(variable)
    assert mean == pytest.approx(want_mean, rel=1e-6)
    assert std == pytest.approx(want_std, rel=1e-6)


@pytest.mark.parametrize("device", [False, True], ids=["host", "device"])
def test_a_constant_has_exactly_its_value_and_no_spread(device, monkeypatch):
    if device:
        monkeypatch.setattr(moments_module, "_host_view", lambda v: None)
    variable = keras.Variable(np.full((300, 7), 1.25, "float32"))
    assert moments(variable) == (1.25, 0.0)


def test_an_empty_variable_has_no_moments():
    mean, std = moments(keras.Variable(np.zeros((0, 3), "float32")))
    assert math.isnan(mean) and math.isnan(std)


def test_integer_variables_are_measured_too():
    variable = keras.Variable(np.arange(10, dtype="int32"), trainable=False)
    assert moments(variable) == pytest.approx((4.5, math.sqrt(8.25)))


def test_host_values_are_read_in_place():
    # Two reads of a variable on the CPU share memory: neither copied it
    # (TensorFlow's variable itself, given to NumPy, would be copied).
    variable = keras.Variable(np.arange(12, dtype="float32").reshape(3, 4))
    first = moments_module._host_view(variable.value)
    second = moments_module._host_view(variable.value)
    assert first is not None and np.shares_memory(first, second)


def test_one_core_measures_in_the_calling_thread(monkeypatch):
    # Beside a draw, `reinitialize` leaves the draw its core: the
    # measurement of a large variable then starts no thread of its own.
    monkeypatch.setattr(moments_module.threads, "cores", lambda: 4)

    def no_pool():
        raise AssertionError("measured in the thread pool")

    monkeypatch.setattr(moments_module, "_pool", no_pool)
    values = np.arange(4 * moments_module.THREAD_SHARE, dtype="float32")
    mean, _ = moments(_variable(values, "float32"), cores=1)
    assert mean == pytest.approx(float(values.mean()))
    with pytest.raises(AssertionError, match="thread pool"):
        moments(_variable(values, "float32"))
