"""What a call refuses before it allocates: tensors that cannot fit in the
device's memory, dtypes that cannot hold the values; and float8, computed in
float32 and cast. Over every public initializer (`catalogue.CASES`)."""

import json
import math
import os
import subprocess
import sys

import keras
import ml_dtypes
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import limits
from tests.catalogue import CASES

FLOAT8 = ["float8_e4m3fn", "float8_e5m2"]
ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)

# Run in a child process: if the check regressed, the child would start
# filling memory, and the timeout (and the child's own address-space-free
# peak measurement) keeps that from taking the test machine down.
_HUGE_CHILD = r"""
import json, resource, sys, time
from tests.catalogue import CASES

results = {}
for case in CASES:
    # Each of the last two dimensions times 2**20: ~2**40 times the
    # catalogue's tensor, far beyond any machine, and every dimension
    # constraint (square blocks, divisibility, kernel sizes) still holds.
    shape = (*case.shape[:-2], case.shape[-2] * 2**20, case.shape[-1] * 2**20)
    start = time.perf_counter()
    try:
        case.make(1)(shape, dtype="float32")
        outcome = "no error"
    except Exception as error:
        outcome = f"{type(error).__name__}: {error}"
    results[case.name] = [outcome, time.perf_counter() - start,
                          list(shape)]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"results": results, "peak": peak}))
"""


@pytest.fixture(scope="module")
def huge_requests():
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    child = subprocess.run(
        [sys.executable, "-c", _HUGE_CHILD],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


# ConstantArray makes only the shape of its value: any other is refused
# (tests/test_serialization.py), a huge one included.
@pytest.mark.parametrize(
    "case", [c for c in CASES if c.name != "ConstantArray"], ids=repr
)
def test_a_tensor_that_cannot_fit_is_refused_at_once(case, huge_requests):
    outcome, seconds, shape = huge_requests["results"][case.name]
    assert outcome.startswith(
        f"ValueError: {case.name} cannot fill a tensor "
        f"of shape={tuple(shape)} and dtype='float32'"
    )
    assert "bytes" in outcome and "of memory" in outcome
    # Nothing was drawn: a regression draws for minutes before failing.
    # (Generous: the first request also starts the backend, on a machine
    # that may be busy.)
    assert seconds < 30.0


def test_refusing_allocates_nothing(huge_requests):
    # The child imported Keras and its backend (a few hundred MB, about
    # 1.3 GB with TensorFlow); a single drawn piece of any of the requests
    # would add far more than the margin.
    assert huge_requests["peak"] < 3 * 2**30


def test_host_memory_is_physical_or_the_container_limit():
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < limits.host_memory() <= physical
    assert limits.device_memory() <= physical


def test_the_bound_is_two_tensors_of_the_result():
    # Check the bound itself, without allocating: making a tensor holds two
    # of its size at the peak, so half the device's memory is the most.
    limit = limits.device_memory()
    limits.check_size("HeNormal", (limit // 8,), "float32")
    limits.check_size("HeNormal", (limit // 4,), "float16")
    with pytest.raises(
        ValueError,
        match=r"HeNormal cannot fill a tensor of "
        r"shape=\(\d+,\) and dtype='float32': it takes .* "
        r"and making it holds 2 such tensors",
    ):
        limits.check_size("HeNormal", (limit // 8 + 1,), "float32")
    with pytest.raises(
        ValueError,
        match=r"HeNormal cannot fill a tensor of "
        r"shape=\(\d+,\) and dtype='float16': it takes .* "
        r"\(computed in float32\)",
    ):
        limits.check_size("HeNormal", (limit // 8 + 1,), "float16", "float32")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_more_than_half_the_memory_is_refused_before_anything_is_made(
    case, monkeypatch
):
    # A device of 1 MiB: the catalogue's tensor scaled to 0.75 MiB fits
    # once but not twice (a host-built kernel and its tensor, a draw's
    # pieces and their concatenation), and is refused before it is made.
    monkeypatch.setattr(limits, "device_memory", lambda: 2**20)
    if case.name == "ConstantArray":
        pytest.skip("makes only the shape of its value")
    # The last dimension times a whole number keeps every constraint on
    # the shape (divisibility, block sizes); 0.5 to 0.75 MiB of float32.
    copies = int(0.75 * 2**20 / (4 * math.prod(case.shape)))
    assert 4 * math.prod(case.shape) * copies > 2**19
    shape = (*case.shape[:-1], case.shape[-1] * copies)
    initializer = case.make(1)
    with pytest.raises(
        ValueError,
        match=r"cannot fill a tensor of "
        r"shape=.* and making it holds 2 such tensors",
    ):
        initializer(shape, dtype="float32")


def to_numpy(values):
    return np.asarray(
        keras.ops.convert_to_numpy(keras.ops.cast(values, "float32")),
        dtype="float64",
    )


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_max_abs_bounds_the_values(case):
    initializer = case.make(3)
    largest = initializer.max_abs(case.shape)
    assert largest is not None
    values = to_numpy(initializer(case.shape, dtype="float32"))
    assert np.max(np.abs(values)) <= largest * (1 + 1e-6)


@pytest.mark.parametrize("case", CASES, ids=repr)
@pytest.mark.parametrize("dtype", FLOAT8)
def test_float8_is_the_float32_result_cast(case, dtype):
    values = case.make(5)(case.shape, dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    reference = to_numpy(case.make(5)(case.shape, dtype="float32"))
    expected = reference.astype(getattr(ml_dtypes, dtype)).astype("float64")
    got = to_numpy(values)
    assert not np.any(np.isnan(got))
    # Casts round to nearest even on every backend; allow one float8 step
    # where a backend rounds a tie the other way.
    step = 2.0 ** (
        np.floor(np.log2(np.maximum(np.abs(expected), 2**-6)))
        - (3 if dtype == "float8_e4m3fn" else 2)
    )
    assert np.all(np.abs(got - expected) <= step)


def test_float8_normals_have_the_spread_of_float32():
    # Drawn in float8 directly, a normal had 4-8 distinct values (NaN on
    # JAX): the cast of a float32 draw keeps its standard deviation.
    values = to_numpy(
        keras_inits.HeNormal(seed=1)((256, 256), dtype="float8_e4m3fn")
    )
    assert len(np.unique(values)) > 50
    assert abs(values.std() - np.sqrt(2 / 256)) < 0.05 * np.sqrt(2 / 256)


@pytest.mark.parametrize(
    "make, dtype",
    [
        (lambda: keras_inits.RandomNormal(stddev=1e4), "float16"),
        (lambda: keras_inits.RandomNormal(mean=7e4, stddev=1.0), "float16"),
        (lambda: keras_inits.RandomUniform(-1e5, 1.0), "float16"),
        (lambda: keras_inits.TruncatedNormal(stddev=300.0), "float8_e4m3fn"),
        (lambda: keras_inits.VarianceScaling(scale=1e12), "float16"),
    ],
)
def test_a_dtype_too_narrow_for_the_values_is_refused(make, dtype):
    initializer = make()
    with pytest.raises(
        ValueError,
        match=rf"makes values up to .* beyond "
        rf"{dtype}'s largest finite value .* Received: "
        rf"dtype='{dtype}'",
    ):
        initializer((4, 4), dtype=dtype)
    values = to_numpy(initializer((4, 4), dtype="float32"))
    assert np.all(np.isfinite(values))


def test_float32_range_is_checked_when_built():
    for make, name in [
        (lambda: keras_inits.RandomNormal(stddev=1e300), "stddev"),
        (lambda: keras_inits.RandomNormal(mean=1e39), "mean"),
        (lambda: keras_inits.RandomNormal(stddev=1e38), "stddev"),
        (lambda: keras_inits.RandomNormal(stddev=1e-300), "stddev"),
        (lambda: keras_inits.TruncatedNormal(stddev=1e39), "stddev"),
        (lambda: keras_inits.RandomUniform(-1e308, 1e308), "minval"),
        (lambda: keras_inits.RandomUniform(-3e38, 3e38), "maxval"),
        (lambda: keras_inits.VarianceScaling(scale=1e300), "scale"),
    ]:
        with pytest.raises(ValueError, match=rf"Argument `{name}` .* float32"):
            make()


class _FakeDevice:
    platform = "gpu"

    def memory_stats(self):
        return {"bytes_limit": 16 * 2**30, "bytes_in_use": 0}


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX devices")
def test_jax_uses_the_memory_its_device_reports(monkeypatch):
    import jax

    monkeypatch.setattr(jax, "devices", lambda: [_FakeDevice()])
    assert limits.device_memory() == 16 * 2**30
    with pytest.raises(ValueError, match=r"more than the 16 GiB of memory"):
        keras_inits.HeNormal()((2**16, 2**16 + 1))


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="PyTorch devices"
)
def test_torch_uses_the_memory_of_its_cuda_device(monkeypatch):
    import torch
    from keras.src.backend.torch import core

    class Properties:
        total_memory = 8 * 2**30

    monkeypatch.setattr(core, "get_device", lambda: "cuda")
    monkeypatch.setattr(
        torch.cuda, "get_device_properties", lambda device: Properties()
    )
    assert limits.device_memory() == 8 * 2**30


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX's x64")
def test_jax_without_x64_checks_float64_as_the_float32_it_stores():
    import jax

    if jax.config.jax_enable_x64:
        pytest.skip("jax_enable_x64 is on")
    with pytest.raises(
        ValueError,
        match=r"beyond float64's largest finite "
        r"value 3.40282e\+38 \(this backend stores float64 "
        r"as float32\)",
    ):
        keras_inits.Constant(1e300)((2,), dtype="float64")


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch")
def test_a_dtype_the_backend_cannot_store_names_the_initializer():
    with pytest.raises(
        ValueError,
        match=r"^Ones cannot make uint64 values: "
        r"the torch backend cannot store uint64",
    ):
        keras_inits.Ones()((2,), dtype="uint64")
