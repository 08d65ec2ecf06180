"""Each way of making values holds, at its peak, no more tensors of the
result's size than `limits.PEAK_COPIES` declares for it on the active
backend: the size check relies on it, and a new or changed path must not
hold more than it declares.

Measured in child processes (`_peak_child`): ~128 MiB draws, under an
address-space limit, with a timeout, so a path that holds far more fails
the test rather than the machine.
"""

import concurrent.futures
import json
import os
import subprocess
import sys

import keras
import pytest

import keras_inits
from keras_inits._internal import limits
from tests.catalogue import CASES

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
BACKEND = keras.backend.backend()

# The catalogue's case of each family in `PEAK_COPIES`: the one that held
# the most in the measurements behind the table.
FAMILY_CASES = {
    "filled": "Identity",
    "host": "ZerO",
    "uniform": "RandomUniform",
    "normal": "RandomNormal",
    "truncated_normal": "TruncatedNormal",
    "bounded_normal": "TruncatedNormalSigmas",
    "clipped_normal": "ClippedNormal",
    "orthogonal": "Orthogonal",
    "sparse": "Sparse",
    "wrapper": "DepthScaled",
}

# What is measured: on TensorFlow, whose allocator keeps a draw's memory
# and serves later draws from it (so each draw needs a process of its own,
# ~10 s), each family's case; on the other backends, whose children measure
# draw after draw, every case. Then two float64 draws (TensorFlow makes
# them without keras_inits' compiled generator, and its bounded normal
# holds four times as much in float64), and, but on TensorFlow, a bfloat16
# one (computed in float32 and cast).
if BACKEND == "tensorflow":
    MEASURED = [f"{name}:float32" for name in FAMILY_CASES.values()]
else:
    MEASURED = [
        f"{case.name}:float32"
        for case in CASES
        if case.name != "ConstantArray"
    ]
MEASURED += ["RandomNormal:float64", "TruncatedNormalSigmas:float64"]
if BACKEND != "tensorflow":
    MEASURED += ["RandomUniform:bfloat16"]

# Address space a child may map: the backend's own (imported, TensorFlow
# maps 1.5 GiB, PyTorch 1.3, JAX 0.8; their thread pools map more) and the
# few 128 MiB tensors a draw holds, with room; finite, so that a path that
# holds far more fails here, not the machine (two children run at once).
CHILD_ADDRESS_SPACE = 8 * 2**30


def _run_child(requests):
    """`{request: copies}` of the `CASE:DTYPE` requests one `_peak_child`
    process measured: all, or those up to a draw whose memory the
    allocator kept."""
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests._internal._peak_child",
            str(CHILD_ADDRESS_SPACE),
            *requests,
        ],
        cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    found = {}
    for line in child.stdout.strip().splitlines():
        found.update(json.loads(line))
    return found


def _measure(requests):
    """`{request: copies}` of all `requests`: two children at a time (one
    per core of CI's machines), each given half of what is left, until
    every request is measured."""
    found = {}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        while len(found) < len(requests):
            rest = [request for request in requests if request not in found]
            halves = [rest[0::2], rest[1::2]]
            for measured in pool.map(_run_child, filter(None, halves)):
                found.update(measured)
    return found


@pytest.fixture(scope="module")
def peaks():
    return _measure(MEASURED)


def _family(name):
    case = next(case for case in CASES if case.name == name)
    return case.make(1).draw_family


@pytest.mark.parametrize("request_", MEASURED)
def test_a_draw_holds_no_more_than_its_family_declares(request_, peaks):
    name, dtype = request_.split(":")
    family = _family(name)
    if dtype in limits.LOW_PRECISION:  # computed in float32, then cast
        declared = limits.peak_copies(family, "float32")
        declared += limits.bytes_per_value(dtype) / 4  # as check_size does
    else:
        declared = limits.peak_copies(family, dtype)
    measured = peaks[request_]
    assert measured <= declared, (
        f"{name} in {dtype} held {measured:.2f} tensors of its size at its "
        f"peak on {BACKEND}; its family {family!r} declares {declared:g}"
    )


def test_every_family_is_measured():
    assert set(limits.PEAK_COPIES) == set(FAMILY_CASES)
    for family, name in FAMILY_CASES.items():
        assert _family(name) == family


def test_every_public_initializer_declares_a_known_family():
    # Its own, not the base class's UNKNOWN (which is safe, but refuses
    # tensors its real peak would allow).
    base = keras_inits.initializers.Initializer
    for name in keras_inits.initializers.__all__:
        cls = getattr(keras_inits.initializers, name)
        if not isinstance(cls, type) or not issubclass(cls, base):
            continue
        if cls in (base, keras_inits.initializers.RandomInitializer):
            continue
        owner = next(k for k in cls.__mro__ if "draw_family" in vars(k))
        assert owner is not base, name
    for case in CASES:
        assert case.make(1).draw_family in limits.PEAK_COPIES, case.name


def test_an_undeclared_family_gets_the_largest_peak():
    class Mine(keras_inits.initializers.RandomInitializer):
        def draw(self, shape, dtype):
            return keras.ops.zeros(shape, dtype)

    assert Mine().draw_family == limits.UNKNOWN
    assert limits.peak_copies(limits.UNKNOWN) == max(
        limits.peak_copies(family) for family in FAMILY_CASES
    )
