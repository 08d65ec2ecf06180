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
import json, re, sys, time
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
# The peak of this process's own memory (VmHWM): `ru_maxrss` keeps, across
# exec, the peak of the image it replaced, a copy of the test process's.
with open("/proc/self/status") as status:
    peak = int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1)) * 1024
print(json.dumps({"results": results, "peak": peak}))
"""


def _run_child(code):
    """The JSON the last line of `python -c code` prints, run from the
    repository's root; the child must succeed."""
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    child = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def huge_requests():
    return _run_child(_HUGE_CHILD)


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
    assert "bytes" in outcome and " more than the " in outcome
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


def _device_of(monkeypatch, size):
    monkeypatch.setattr(
        limits, "memory_limit", lambda: limits.MemoryLimit(size, limits.DEVICE)
    )


def test_the_bound_is_the_peak_of_the_family(monkeypatch):
    # Check the bound itself, without allocating: a uniform draw holds
    # `peak_copies("uniform")` tensors of its size at its peak, and one
    # computed in float32 for float16 its float16 cast as well.
    _device_of(monkeypatch, 2**30)
    copies = limits.peak_copies("uniform")
    most = int(2**30 / (4 * copies))
    limits.check_size("HeUniform", (most,), "float32", family="uniform")
    with pytest.raises(
        ValueError,
        match=rf"^HeUniform cannot fill a tensor of shape=\({most + 1},\) "
        rf"and dtype='float32': it takes {4 * (most + 1):,} bytes .*, and "
        rf"making it holds {copies:g} such tensors \(.*\), more than the "
        rf"1 GiB of memory of the device it would go to. "
        rf"Received: shape=\({most + 1},\)$",
    ):
        limits.check_size(
            "HeUniform", (most + 1,), "float32", family="uniform"
        )
    most = int(2**30 / (4 * (copies + 0.5)))
    limits.check_size("HeUniform", (most,), "float16", "float32", "uniform")
    with pytest.raises(
        ValueError,
        match=rf"^HeUniform cannot fill a tensor of shape=\({most + 1},\) "
        rf"and dtype='float16': it takes .* \(computed in float32\), and "
        rf"making it holds {copies + 0.5:g} such tensors",
    ):
        limits.check_size(
            "HeUniform", (most + 1,), "float16", "float32", "uniform"
        )


def test_an_unknown_family_is_bounded_by_the_largest_peak():
    largest = max(limits.peak_copies(family) for family in limits.PEAK_COPIES)
    assert limits.peak_copies(limits.UNKNOWN) == largest
    assert limits.peak_copies("a family of a newer version") == largest


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_a_call_is_refused_when_its_peak_exceeds_the_memory(case, monkeypatch):
    # The catalogue's tensor, on a device one byte too small for the peak
    # its family declares, and on one just large enough: refused before it
    # is made, and made.
    initializer = case.make(1)
    copies = limits.peak_copies(initializer.draw_family)
    peak = math.ceil(4 * math.prod(case.shape) * copies)
    _device_of(monkeypatch, peak - 1)
    with pytest.raises(
        ValueError,
        match=rf"^{case.name} cannot fill a tensor of shape=.* and making "
        rf"it holds {copies:g} such tensors",
    ):
        initializer(case.shape, dtype="float32")
    _device_of(monkeypatch, peak)
    values = initializer(case.shape, dtype="float32")
    assert tuple(values.shape) == case.shape


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

    # JAX's Config sets each option as a dynamic attribute.
    if jax.config.jax_enable_x64:  # pyright: ignore[reportAttributeAccessIssue]
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


# Process limits, read from a fake /proc and /sys/fs/cgroup tree.


@pytest.fixture
def fake_tree(tmp_path, monkeypatch):
    """A fake /proc and /sys/fs/cgroup under `tmp_path`: `write(path,
    text)` fills a file of it, as `proc/self/cgroup` or
    `cgroup/memory/a/memory.limit_in_bytes`."""
    monkeypatch.setattr(limits, "PROC", str(tmp_path / "proc"))
    monkeypatch.setattr(limits, "CGROUP_ROOT", str(tmp_path / "cgroup"))
    limits.cgroup_memory.cache_clear()

    def write(path, text):
        file = tmp_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)

    yield write
    limits.cgroup_memory.cache_clear()


def test_a_nested_cgroup_v2_limit_below_its_parents_is_the_limit(fake_tree):
    # A container's own cgroup, two levels below the root, limits it to
    # 3 GiB; its parent to 8 GiB; the root and the leaf set none.
    fake_tree("proc/self/cgroup", "0::/kubepods.slice/pod1/app\n")
    fake_tree("cgroup/memory.max", "max\n")
    fake_tree("cgroup/kubepods.slice/memory.max", f"{8 * 2**30}\n")
    fake_tree("cgroup/kubepods.slice/pod1/memory.max", f"{3 * 2**30}\n")
    fake_tree("cgroup/kubepods.slice/pod1/app/memory.max", "max\n")
    assert limits.cgroup_memory() == 3 * 2**30
    assert limits.host_memory() == min(3 * 2**30, _physical())


def test_a_line_that_names_no_cgroup_is_skipped(fake_tree):
    fake_tree("proc/self/cgroup", "garbage\n0::/app\n")
    fake_tree("cgroup/app/memory.max", f"{5 * 2**30}\n")
    assert limits.cgroup_memory() == 5 * 2**30


def test_a_nested_cgroup_v1_limit_below_its_parents_is_the_limit(fake_tree):
    # v1 names the memory controller's cgroup on its own line (here with
    # another controller); the root's "no limit" is a huge number.
    fake_tree(
        "proc/self/cgroup",
        "9:name=systemd:/\n5:memory,hugetlb:/docker/abc/inner\n3:cpu:/\n"
        "0::/\n",
    )
    fake_tree("cgroup/memory/memory.limit_in_bytes", "9223372036854771712")
    fake_tree("cgroup/memory/docker/memory.limit_in_bytes", f"{6 * 2**30}\n")
    fake_tree(
        "cgroup/memory/docker/abc/memory.limit_in_bytes", f"{2 * 2**30}\n"
    )
    fake_tree(
        "cgroup/memory/docker/abc/inner/memory.limit_in_bytes",
        "9223372036854771712\n",
    )
    assert limits.cgroup_memory() == 2 * 2**30


def test_no_cgroup_limit_leaves_the_physical_memory(fake_tree):
    # No limit anywhere; a cgroup directory the container does not mount
    # (the root is its own cgroup) is skipped.
    fake_tree("proc/self/cgroup", "0::/user.slice/session-1.scope\n")
    fake_tree("cgroup/memory.max", "max\n")
    assert limits.cgroup_memory() is None
    assert limits.host_memory() == _physical()


def test_a_request_beyond_the_cgroup_limit_names_it(fake_tree, monkeypatch):
    fake_tree("proc/self/cgroup", "0::/a/b\n")
    fake_tree("cgroup/a/b/memory.max", f"{2**30}\n")
    monkeypatch.setattr(limits, "address_space_room", lambda: None)
    with pytest.raises(
        ValueError,
        match=r"^Zeros cannot fill a tensor of shape=\(65536, 4096\) and "
        r"dtype='float32': it takes 1,073,741,824 bytes \(1 GiB\), and "
        r".* more than the 1 GiB of memory this process's cgroup allows",
    ):
        limits.check_size("Zeros", (65536, 4096), "float32")


def test_the_address_space_room_is_the_rlimit_less_what_is_mapped(
    fake_tree, monkeypatch
):
    import resource

    fake_tree("proc/self/status", "Name:\tpython\nVmSize:\t 2097152 kB\n")
    monkeypatch.setattr(
        resource,
        "getrlimit",
        lambda which: (5 * 2**30, resource.RLIM_INFINITY),
    )
    assert limits.address_space_room() == 3 * 2**30
    assert limits.memory_limit() == limits.MemoryLimit(
        3 * 2**30, limits.ADDRESS_SPACE
    )
    monkeypatch.setattr(
        resource,
        "getrlimit",
        lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY),
    )
    assert limits.address_space_room() is None


def _physical():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# Run in a child process under an address-space limit: on a regression the
# child would start drawing, and the limit makes that fail rather than
# fill the machine.
_RLIMIT_CHILD = r"""
import json, re, resource, time
import keras_inits

def mapped():
    with open("/proc/self/status") as file:
        return int(re.search(r"VmSize:\s+(\d+)", file.read()).group(1)) * 1024

limit = mapped() + 3 * 2**30 + 2**29
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
start = time.perf_counter()
try:
    keras_inits.TruncatedNormalSigmas(1.0, -1.0, 3.0, seed=1)(
        (3 * 2**28,), dtype="float32"
    )
    outcome = "no error"
except BaseException as error:
    outcome = f"{type(error).__name__}: {error}"
print(json.dumps([outcome, time.perf_counter() - start]))
"""


def test_a_request_beyond_the_address_space_limit_is_refused_at_once():
    # 3 GiB of float32 with 3.5 GiB of address space left: a truncated
    # normal draw holds at least 1.25 such tensors on every backend, so it
    # cannot be made, and is refused by the size check, before anything is
    # drawn (it was accepted, and failed with an out-of-memory error, on
    # TensorFlow after 19 s of drawing).
    outcome, _ = _run_child(_RLIMIT_CHILD)
    assert outcome.startswith(
        "ValueError: TruncatedNormalSigmas cannot fill a tensor of "
        "shape=(805306368,) and dtype='float32': it takes 3,221,225,472 "
        "bytes (3 GiB)"
    ), outcome
    assert "of address space this process may still map" in outcome
    assert "(RLIMIT_AS)" in outcome
