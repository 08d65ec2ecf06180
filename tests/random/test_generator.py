"""Tests of the portable generator: Threefry-2x32 against known answers
and JAX, its transforms against float64 quantiles, golden tables and bits,
and the equality of every path (keras.ops, NumPy's and PyTorch's own
operations, XLA-compiled chunks, traced per-position draws)."""

import hashlib
import math

import keras
import numpy as np
import pytest
from scipy import stats

from keras_inits._internal import native_ops
from keras_inits.random import _generator
from keras_inits.random import _quantiles
from keras_inits.random import _threefry


def digest(values):
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


# The generator.


@pytest.mark.parametrize(
    "key, counter, expected",
    [
        # Random123's known-answer vectors for Threefry-2x32-20 (kat_vectors).
        ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
        ((2**32 - 1,) * 2, (2**32 - 1,) * 2, (0x1CB996FC, 0xBB002BE7)),
        (
            (0x13198A2E, 0x03707344),
            (0x243F6A88, 0x85A308D3),
            (0xC4923A9C, 0x483DF7A0),
        ),
    ],
)
def test_threefry_known_answers(key, counter, expected):
    x0, x1 = (
        keras.ops.convert_to_tensor(
            np.array([c]).astype(np.uint32).view(np.int32)
        )
        for c in counter
    )
    y = [
        int(keras.ops.convert_to_numpy(v).view(np.uint32)[0])
        for v in _threefry.threefry2x32(key, x0, x1)
    ]
    assert tuple(y) == expected


def test_words_match_jax_threefry():
    prng = pytest.importorskip("jax.extend.random")
    key, blocks = (123456789, 987654321), 1000
    ours = keras.ops.convert_to_numpy(_threefry.random_words(key, 0, blocks))
    theirs = np.asarray(
        prng.threefry_2x32(
            np.uint32(key),
            np.concatenate(
                [
                    np.arange(blocks, dtype=np.uint32),
                    np.zeros(blocks, np.uint32),
                ]
            ),
        )
    )
    # JAX returns the first outputs of all blocks, then the second ones.
    expected = np.stack([theirs[:blocks], theirs[blocks:]], -1).ravel()
    np.testing.assert_array_equal(ours.view(np.uint32), expected)


def test_chunks_do_not_change_the_words(monkeypatch):
    key = (5, 0)
    whole = keras.ops.convert_to_numpy(
        _generator.draw(_quantiles.standard_normal, (1001,), (5, 0))
    )
    monkeypatch.setattr(_generator, "CHUNK_BLOCKS", 64)
    monkeypatch.setattr(_generator, "IN_PLACE_BLOCKS", 64)
    chunked = keras.ops.convert_to_numpy(
        _generator.draw(_quantiles.standard_normal, (1001,), (5, 0))
    )
    np.testing.assert_array_equal(whole.view(np.int32), chunked.view(np.int32))
    words = keras.ops.convert_to_numpy(_threefry.random_words(key, 0, 501))
    np.testing.assert_array_equal(
        whole.view(np.int32),
        keras.ops.convert_to_numpy(
            _quantiles.standard_normal(words[:1001])
        ).view(np.int32),
    )


# Keys whose words have the top bit set (negative as int32), so that the
# counter plus the key wraps past 2**32 in the first blocks.
IN_PLACE_KEYS = [(3, 1), (2**32 - 1, 2**32 - 2), (2**31, 7)]


@pytest.mark.parametrize("key", IN_PLACE_KEYS)
def test_threefry_in_place_gives_the_functional_words(key):
    counters = np.concatenate(
        [np.arange(300), 2**32 - 1 - np.arange(300), [2**31 - 1, 2**31]]
    ).astype(np.uint32)
    expected = [
        v.view(np.uint32)
        for v in _threefry.threefry2x32(
            key,
            counters.view(np.int32),
            np.zeros_like(counters).view(np.int32),
            native_ops.numpy_ops(),
        )
    ]
    x0 = counters + np.uint32(key[0] & 0xFFFFFFFF)  # the key added first
    x1 = np.full_like(counters, key[1] & 0xFFFFFFFF)
    _threefry.threefry2x32_in_place(key, x0, x1, np.empty_like(x0))
    np.testing.assert_array_equal(x0, expected[0])
    np.testing.assert_array_equal(x1, expected[1])


# Sizes around the steps of a draw filled in place (64 blocks, 128 values
# here): below one step, one exactly, one value or block either side, odd
# counts (whose last block gives one word of two), several steps.
STEP = 64
IN_PLACE_COUNTS = [1, 2, 3, 127, 128, 129, 130, 255, 256, 257, 1001]


@pytest.mark.parametrize("count", IN_PLACE_COUNTS)
@pytest.mark.parametrize("key", IN_PLACE_KEYS)
def test_steps_give_the_functional_values(count, key, monkeypatch):
    # Control: the reference is one functional chunk of NumPy's int32
    # operations (as draws were made before the in-place steps), covering
    # every block, cut to `count`; with an offset, for the shifted branch.
    monkeypatch.setattr(_generator, "IN_PLACE_BLOCKS", STEP)
    monkeypatch.setattr(_generator, "CHUNK_BLOCKS", STEP)
    for transform in TRANSFORMS:
        got = keras.ops.convert_to_numpy(
            _generator.draw(transform, (count,), key, 0.375, -0.09375)
        )
        k0, k1 = (_threefry.i32(k) for k in key)
        expected = _generator.chunk(
            transform,
            (count + 1) // 2,
            k0,
            k1,
            0,
            0.375,
            -0.25,
            native_ops.numpy_ops(),
        )[:count]
        np.testing.assert_array_equal(
            got.view(np.int32),
            expected.view(np.int32),
            err_msg=f"{transform.__name__}, {count} values",
        )


def test_torch_on_an_accelerator_gives_the_same_values(monkeypatch):
    # PyTorch's own operations, chunk by chunk, run where its tensors are
    # not in host memory; the CPU stands in for the accelerator here.
    if keras.backend.backend() != "torch":
        pytest.skip("PyTorch's path")
    shape = (3, 1001)
    host = keras.ops.convert_to_numpy(
        _generator.draw(_quantiles.standard_normal, shape, (6, 1), 2.0, 1.0)
    )
    monkeypatch.setattr(_generator, "_host_array", lambda values: None)
    monkeypatch.setattr(_generator, "CHUNK_BLOCKS", STEP)
    device = keras.ops.convert_to_numpy(
        _generator.draw(_quantiles.standard_normal, shape, (6, 1), 2.0, 1.0)
    )
    np.testing.assert_array_equal(device.view(np.int32), host.view(np.int32))


def test_compiled_draws_match_eager_ones():
    # JAX, and TensorFlow from 2**15 blocks, compile each chunk with XLA;
    # the reference here runs the same operations eagerly.
    size = 2**16
    compiled = keras.ops.convert_to_numpy(
        _generator.draw(_quantiles.standard_normal, (2 * size,), (8, 0))
    )
    eager = keras.ops.convert_to_numpy(
        _generator.chunk(_quantiles.standard_normal, size, 8, 0, 0, 1.0)
    )
    np.testing.assert_array_equal(
        compiled.view(np.int32), eager.view(np.int32)
    )


# The transforms, against float64 quantiles from scipy.

WORDS = (
    np.random.default_rng(0)
    .integers(-(2**31), 2**31, size=200_000, dtype=np.int64)
    .astype(np.int32)
)
WORDS[:4] = [0, -1, 2**31 - 1, -(2**31)]  # the extremes of every transform


def signs_and_r():
    words = WORDS.astype(np.int64)
    return np.where(words < 0, -1.0, 1.0), words & 0x7FFFFFFF


def test_normal_is_the_interpolated_quantile():
    sign, r = signs_and_r()
    expected = -sign * stats.norm.ppf((r + 0.5) / 2.0**32)
    got = keras.ops.convert_to_numpy(_quantiles.standard_normal(WORDS))
    # Linear interpolation over 512 segments per binade: at most 4e-7.
    np.testing.assert_allclose(got, expected, rtol=0, atol=5e-7)


def test_truncated_normal_is_the_interpolated_quantile():
    sign, r = signs_and_r()
    lower = stats.norm.cdf(-2.0)
    expected = -sign * stats.norm.ppf(lower + (0.5 - lower) * r / 2.0**31)
    got = keras.ops.convert_to_numpy(
        _quantiles.standard_truncated_normal(WORDS)
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-7)
    assert np.abs(got).max() <= 2.0


def test_uniform_is_exact():
    k = WORDS.astype(np.int64) >> 8
    got = keras.ops.convert_to_numpy(_quantiles.symmetric_uniform(WORDS))
    np.testing.assert_array_equal(got, ((2 * k + 1) / 2.0**24).astype("f4"))


def test_tables_are_golden():
    # The tables come from statistics.NormalDist in double precision,
    # rounded to 24 fractional bits; this fails if a platform rounds one
    # entry differently.
    assert digest(_quantiles._NORMAL_TABLE) == (
        "00559176bcfb0b56a4f488b34ac7022289a75aa83449a25e929390c9913fc03d"
    )
    assert digest(_quantiles._TRUNCATED_TABLE) == (
        "96557b02b1e750267eb91124fec66b8c569941d0330abbe2b6bc6b20f3c9fe19"
    )


def test_transforms_are_golden():
    words = _threefry.random_words((42, 7), 0, 4)
    bits = {
        f.__name__: keras.ops.convert_to_numpy(f(words))
        .view(np.uint32)[:4]
        .tolist()
        for f in (
            _quantiles.symmetric_uniform,
            _quantiles.standard_normal,
            _quantiles.standard_truncated_normal,
        )
    }
    assert bits == {
        "symmetric_uniform": [0x3F2B80B7, 0x3EAE9B42, 0xBF0A328B, 0x3D909DB8],
        "standard_normal": [0x3EDA3C2C, 0x3F73BF28, 0xBF3D1320, 0x3FE76B1E],
        "standard_truncated_normal": [
            0x3ECFBA10,
            0x3F650330,
            0xBF32DF1E,
            0x3FCAEAC1,
        ],
    }


BOUNDS = [
    (0.0, math.inf),
    (-math.inf, -3.0),
    (1.0, 1.5),
    (-1.0, 3.0),
    (3.0, 8.0),
    (-10.0, 10.0),
    (-math.inf, math.inf),
]


@pytest.mark.parametrize("lower, upper", BOUNDS)
def test_bounded_normal_is_the_interpolated_quantile(lower, upper):
    sign, r = signs_and_r()
    v = (r + 0.5) / 2.0**32
    # Words >= 0 take the upper tail Q(1 - v), the others the lower Q(v).
    expected = np.where(
        sign > 0,
        stats.truncnorm.isf(v, lower, upper),
        stats.truncnorm.ppf(v, lower, upper),
    )
    got = keras.ops.convert_to_numpy(
        _quantiles.bounded_normal(lower, upper)(WORDS)
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=5e-7)
    assert got.min() >= lower and got.max() <= upper


def test_bounded_normal_is_golden():
    assert digest(_quantiles._bounded_table(-1.0, 3.0)) == (
        "73ed6ccaf663ee7a061e0f1cde78489f4750c0f8e91a3536603b2c7c6895ce56"
    )
    words = _threefry.random_words((42, 7), 0, 4)
    bits = (
        keras.ops.convert_to_numpy(_quantiles.bounded_normal(-1.0, 3.0)(words))
        .view(np.uint32)[:4]
        .tolist()
    )
    assert bits == [0x3F1324CF, 0x3F87ACD8, 0xBEC2A09A, 0x3FEEDF5C]


TRANSFORMS = [
    _quantiles.symmetric_uniform,
    _quantiles.standard_normal,
    _quantiles.standard_truncated_normal,
    _quantiles.bounded_normal(-1.0, 3.0),
]


def native_namespaces():
    # NumPy's functions run on any backend (they take and give numpy
    # arrays); PyTorch's need Keras' device, so only on the torch backend.
    spaces = [("numpy", native_ops.numpy_ops)]
    if keras.backend.backend() == "torch":
        spaces.append(("torch", native_ops.torch_ops))
    return spaces


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.__name__)
def test_native_operations_give_the_keras_ops_bits(transform):
    # Blocks just below 2**31, where the int32 counter turns negative.
    arguments = (transform, 5000, 11, 3, 2**31 - 2000, 0.375, -0.25)
    expected = keras.ops.convert_to_numpy(_generator.chunk(*arguments))
    for name, make in native_namespaces():
        got = keras.ops.convert_to_numpy(_generator.chunk(*arguments, make()))
        np.testing.assert_array_equal(
            got.view(np.int32), expected.view(np.int32), err_msg=name
        )


@pytest.mark.parametrize("shape", [(37, 29), (3, 4, 5), (1,), (2, 0)])
def test_per_position_draws_match_chunked_ones(shape):
    # The traced path (every word from its own position, for sharded
    # draws under jax.jit) runs eagerly too: it must give the same values.
    chunked = keras.ops.convert_to_numpy(
        _generator.draw(_quantiles.standard_normal, shape, (4, 2))
    )
    positioned = keras.ops.convert_to_numpy(
        _generator.draw(_quantiles.standard_normal, shape, (4, 2), traced=True)
    )
    assert chunked.shape == positioned.shape == shape
    np.testing.assert_array_equal(
        positioned.view(np.int32), chunked.view(np.int32)
    )


def test_per_position_draws_compile_to_the_same_values():
    jax = pytest.importorskip("jax")
    if keras.backend.backend() != "jax":
        pytest.skip("compiles with jax.jit on the JAX backend")
    shape = (33, 65)
    compiled = jax.jit(
        lambda: _generator.draw(
            _quantiles.bounded_normal(0.0, math.inf),
            shape,
            (9, 1),
            traced=True,
        )
    )()
    eager = _generator.draw(
        _quantiles.bounded_normal(0.0, math.inf), shape, (9, 1)
    )
    np.testing.assert_array_equal(
        np.asarray(compiled).view(np.int32), np.asarray(eager).view(np.int32)
    )


def test_a_draw_beyond_the_counter_is_refused():
    with pytest.raises(
        ValueError,
        match=r"at most 2\*\*32 - 1 values.*"
        r"shape=\(65536, 65536\)",
    ):
        _generator.draw(_quantiles.standard_normal, (65536, 65536), (1, 0))
