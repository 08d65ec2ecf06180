"""Tests of the native samplers' truncated normals on PyTorch and NumPy:
the quantile table they look words up in, and the passes a draw makes."""

import math

import keras
import numpy as np
import pytest
from scipy import stats

import keras_inits
from keras_inits._internal import gaussian
from keras_inits._internal import keras_internals
from keras_inits.random import _quantiles
from keras_inits.random import _samplers

INF = math.inf
BACKEND = keras.backend.backend()
BOUNDS = [
    (-2.0, 2.0),
    (3.0, INF),
    (-INF, -8.0),
    (9.5, INF),
    (4.0, 4.5),
    (-INF, INF),
    (-3.0, 2.0),
    (0.0, INF),
]


def lookup(table, words):
    """The table's value for each int32 word, as the samplers compute it."""
    bits = words.astype(np.float32).view(np.int32)
    keys = (bits >> _quantiles.NATIVE_KEY_SHIFT) & _quantiles.NATIVE_KEY_MASK
    fractions = (bits & _quantiles.NATIVE_FRACTION_MASK).astype(np.float32)
    return table.start[keys] + fractions * table.slope[keys]


@pytest.mark.parametrize("lower, upper", BOUNDS)
def test_table_is_the_truncated_quantile_within_three_ulps(lower, upper):
    # 200000 random words and the extremes (0, +-1, the largest): within 3
    # float32 ulps of max(1, |x|) of the float64 quantile of the position
    # each word stands for, v = |float32(w)| / 2**32 (w = 0: half a word).
    rng = np.random.default_rng(0)
    words = np.concatenate(
        [
            rng.integers(-(2**31), 2**31, 200000).astype(np.int32),
            np.array([0, 1, -1, 2, -2, 2**31 - 1, -(2**31)], np.int32),
        ]
    )
    got = lookup(_quantiles.native_truncated_table(lower, upper), words)
    v = np.abs(words.astype(np.float32).astype(np.float64)) * 2.0**-32
    v = np.where(words == 0, 2.0**-33, v)
    expected = np.where(
        words >= 0,
        stats.truncnorm.isf(v, lower, upper),
        stats.truncnorm.ppf(v, lower, upper),
    )
    error = np.abs(got - expected) / np.maximum(1.0, np.abs(expected))
    assert error.max() < 3 * 2.0**-23
    assert got.min() >= lower and got.max() <= upper


needs_native = pytest.mark.skipif(
    BACKEND not in ("torch", "numpy"),
    reason="the table path is PyTorch's and NumPy's",
)


@needs_native
@pytest.mark.parametrize("lower, upper", [(-2.0, 2.0), (3.0, INF)])
def test_draw_is_the_table_of_the_generators_words(lower, upper):
    # The draw is the lookup of the words the generator Keras seeds gives,
    # scaled and shifted: the same words, drawn again from the same seed.
    shape = (3, 40000)  # more than one chunk
    values = keras.ops.convert_to_numpy(
        _samplers.truncated_normal(
            shape,
            0.5,
            2.0,
            "float32",
            keras.random.SeedGenerator(3),
            lower,
            upper,
        )
    )
    seed = keras.random.SeedGenerator(3)
    generator = (
        keras_internals.numpy_generator(seed)
        if BACKEND == "numpy"
        else keras_internals.torch_generator(seed)
    )
    fill = _samplers._native_words(generator, _samplers._native_namespace())
    size, chunk = math.prod(shape), _samplers.TABLE_CHUNK
    words = np.concatenate(
        [
            keras.ops.convert_to_numpy(fill(min(chunk, size - begin)))
            for begin in range(0, size, chunk)
        ]
    )
    table = _quantiles.native_truncated_table(lower, upper)
    expected = lookup(table, words) * np.float32(2.0) + np.float32(0.5)
    np.testing.assert_array_equal(values.ravel(), expected)


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's intra-op threads")
@pytest.mark.parametrize(
    "make",
    [
        lambda: keras_inits.TruncatedNormal(seed=1),
        lambda: keras_inits.HeNormal(seed=1),
        lambda: keras_inits.TruncatedNormalRange(0.0, 0.02, -2.0, 2.0, seed=1),
        lambda: keras_inits.TruncatedNormalSigmas(1.0, 3.0, INF, seed=1),
        lambda: keras_inits.ClippedNormal(seed=1),
    ],
    ids=["TruncatedNormal", "HeNormal", "Range", "Sigmas", "ClippedNormal"],
)
def test_no_pass_waits_for_intra_op_threads(make):
    # PyTorch splits an elementwise pass of 32768 values or more across its
    # intra-op threads, and waits for all of them: on a busy machine each
    # such pass waits a time slice. Beyond the generator's own fill (one
    # pass, serial), a draw of 262144 values passes over fewer values at
    # once.
    from torch import profiler

    initializer = make()
    initializer((512, 512))  # builds the table
    with profiler.profile(record_shapes=True) as recorded:
        initializer((512, 512))
    fills = ("aten::random_", "aten::normal_", "aten::normal")
    passes = {}
    for event in recorded.events():
        if event.name in fills or event.name in NO_PASS:
            continue
        shapes = event.input_shapes
        if event.name == "aten::index_select":
            shapes = shapes[2:]  # a gather passes over its indices
        size = max((math.prod(shape) for shape in shapes if shape), default=0)
        passes[event.name] = max(size, passes.get(event.name, 0))
    assert passes  # the profiler saw the draw
    parallel = {name: size for name, size in passes.items() if size >= GRAIN}
    assert not parallel


# PyTorch's `at::internal::GRAIN_SIZE`.
GRAIN = 32768
# Operations that pass over no values: views, reshapes, allocations.
NO_PASS = (
    "aten::view",
    "aten::reshape",
    "aten::_reshape_alias",
    "aten::empty",
    "aten::empty_strided",
    "aten::slice",
    "aten::as_strided",
    "aten::lift_fresh",
    "aten::detach_",
    "aten::alias",
    "aten::to",
    "aten::_to_copy",
    "aten::resize_",
)


@pytest.mark.parametrize(
    "far, near", [((-100.0, 100.0), (-INF, INF)), ((-3.0, 141.4), (-3.0, INF))]
)
def test_bounds_without_mass_beyond_them_are_infinite(far, near):
    # keras_inits' generator draws with the table of the bounds made
    # infinite where a float64 holds no probability beyond them
    # (gaussian.effective_bounds): it is the far bounds' table, bit for bit,
    # and far bounds share it and its compiled transform.
    assert gaussian.effective_bounds(*far) == near
    np.testing.assert_array_equal(
        _quantiles._bounded_table(*far), _quantiles._bounded_table(*near)
    )
    assert gaussian.effective_bounds(-38.0, 38.0) == (-38.0, 38.0)
