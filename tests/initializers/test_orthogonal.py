"""Tests of Orthogonal: orthogonality, gain, layout, precision."""

import re

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import limits
from keras_inits.random import _householder as householder
from keras_inits.random import _samplers as samplers
from tests.catalogue import skip_unless_storable


def as_matrix(values, shape):
    values = keras.ops.convert_to_numpy(keras.ops.cast(values, "float32"))
    return values.reshape(-1, shape[-1]).astype("float64")


@pytest.mark.parametrize(
    "shape",
    [
        (16, 16),
        (32, 8),
        (8, 32),
        (3, 3, 4, 36),
        (3, 3, 16, 8),
        (300, 200),
        (130, 130),
    ],
)
def test_columns_or_rows_are_orthonormal(shape):
    q = as_matrix(keras_inits.Orthogonal(seed=1)(shape), shape)
    small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


def test_gain_scales_the_matrix():
    a = as_matrix(keras_inits.Orthogonal(gain=3.0, seed=5)((8, 8)), (8, 8))
    b = as_matrix(keras_inits.Orthogonal(gain=1.0, seed=5)((8, 8)), (8, 8))
    np.testing.assert_allclose(a, 3.0 * b, rtol=1e-6)


def test_bfloat16_is_computed_in_float32():
    q = as_matrix(
        keras_inits.Orthogonal(seed=1)((64, 64), "bfloat16"), (64, 64)
    )
    # bfloat16 keeps 8 bits of mantissa: entries are off by < 2**-8
    # relative, so Q^T Q is the identity to about 64 * 2**-8 * |q|^2.
    np.testing.assert_allclose(q.T @ q, np.eye(64), atol=2e-2)


def test_haar_distribution_has_no_sign_bias():
    # With the signs of R's diagonal folded in, the diagonal of Q is
    # symmetric around 0. Over 200 draws of 16 x 16 (3200 diagonal entries,
    # each with std 1/4), the mean is within 6 standard errors of 0: 0.027.
    draws = [
        as_matrix(keras_inits.Orthogonal(seed=i)((16, 16)), (16, 16))
        for i in range(200)
    ]
    diagonal = np.concatenate([np.diag(q) for q in draws])
    assert abs(diagonal.mean()) < 6 * 0.25 / np.sqrt(diagonal.size)


@pytest.mark.parametrize("rows, cols", [(3, 3), (4, 2), (2, 4)])
def test_haar_statistics_match_the_decomposition(rows, cols):
    # JAX, PyTorch and NumPy form Q from the Gaussian matrix's reflections
    # (householder.py), TensorFlow decomposes it: either
    # way the law is that of NumPy's QR of a Gaussian matrix with R's signs
    # folded in. Fixed seeds, so deterministic; a missing or wrong sign
    # fold fails by far (a square Q then always has determinant +1, or its
    # trace the wrong law). 3000 draws each, Kolmogorov-Smirnov p > 1e-4.
    from scipy import stats

    generator = keras.random.SeedGenerator(11)
    ours = [
        keras.ops.convert_to_numpy(
            samplers.orthogonal_matrix(rows, cols, "float32", generator)
        ).astype("float64")
        for _ in range(3000)
    ]
    rng = np.random.default_rng(0)
    reference = []
    for _ in range(3000):
        q, r = np.linalg.qr(
            rng.standard_normal((max(rows, cols), min(rows, cols)))
        )
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        reference.append(q if rows >= cols else q.T)
    statistics = [
        lambda q: q[0, 0],
        lambda q: q[-1, -1],
        lambda q: q[0, 0] * q[1, 1] - q[0, 1] * q[1, 0],
    ]
    if rows == cols:
        statistics.append(np.trace)
        signs = [np.sign(np.linalg.det(q)) for q in ours]
        # Half of each sign: within 5 standard errors of 1/2.
        assert abs(np.mean(np.array(signs) > 0) - 0.5) < 5 * 0.5 / np.sqrt(
            len(signs)
        )
    for statistic in statistics:
        pvalue = stats.ks_2samp(
            [statistic(q) for q in ours], [statistic(q) for q in reference]
        ).pvalue
        assert pvalue > 1e-4


@pytest.mark.parametrize(
    "rows, cols", [(600, 300), (300, 256), (140, 129), (65, 65), (5, 1)]
)
@pytest.mark.parametrize("block, panel", [(16, 40), (None, None)])
def test_numpy_product_is_lapacks_orgqr(rows, cols, block, panel, monkeypatch):
    # Whole blocks of reflections, a part block and part panels (small
    # ones, then the package's), against LAPACK's own `dorgqr` on the same
    # reflections (from a QR by `dgeqrf`, with R above the diagonal, which
    # both ignore).
    from scipy.linalg import lapack

    if block:
        monkeypatch.setattr(householder, "BLOCK", block)
        monkeypatch.setattr(householder, "PANEL", panel)
    z = np.random.default_rng(rows + cols).standard_normal((rows, cols))
    packed, taus, _, info = lapack.dgeqrf(z)
    assert info == 0
    expected, _, info = lapack.dorgqr(packed.copy(), taus)
    assert info == 0
    np.testing.assert_allclose(
        householder._numpy_product(packed, taus), expected, atol=1e-12
    )


@pytest.mark.parametrize("shape", [(5,), ()])
def test_needs_rank_two(shape):
    message = (
        f"Orthogonal needs a tensor of rank >= 2. Received: shape={shape}"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_inits.Orthogonal()(shape)


@pytest.mark.parametrize("gain", [0.0, -1.0, np.nan])
def test_bad_gain(gain):
    with pytest.raises(
        ValueError,
        match="Argument `gain` of Orthogonal must be a positive number",
    ):
        keras_inits.Orthogonal(gain=gain)


# column_axis (JAX's argument of that name).


@pytest.mark.parametrize(
    "shape, axis", [((4, 6, 3), 1), ((8, 3), 0), ((3, 8), 0), ((2, 5, 7), -3)]
)
def test_column_axis_holds_orthonormal_columns(shape, axis):
    values = keras_inits.Orthogonal(seed=2, column_axis=axis)(shape)
    values = keras.ops.convert_to_numpy(values).astype("float64")
    # JAX's view: columns along `axis`, rows over the other axes in order.
    q = np.moveaxis(values, axis, -1).reshape(-1, shape[axis])
    small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


@pytest.mark.parametrize("axis", [-1, 2])
def test_last_column_axis_draws_what_orthogonal_always_drew(axis):
    before = keras_inits.Orthogonal(gain=2.0, seed=9)((3, 4, 5))
    after = keras_inits.Orthogonal(gain=2.0, seed=9, column_axis=axis)(
        (3, 4, 5)
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(after), keras.ops.convert_to_numpy(before)
    )


def test_config_without_column_axis_still_loads():
    # A config saved by keras_inits 0.1.0, before column_axis existed.
    old = {
        "class_name": "Orthogonal",
        "config": {"gain": 2.0, "seed": 4},
        "registered_name": "keras_inits>Orthogonal",
    }
    init = keras_inits.deserialize(old)
    assert init.column_axis == -1
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(init((6, 4))),
        keras.ops.convert_to_numpy(keras_inits.Orthogonal(2.0, 4)((6, 4))),
    )


@pytest.mark.parametrize("axis", [1.5, "0", True, None])
def test_bad_column_axis(axis):
    with pytest.raises(
        ValueError,
        match="Argument `column_axis` of Orthogonal must be an integer",
    ):
        keras_inits.Orthogonal(column_axis=axis)


@pytest.mark.parametrize("axis", [2, -3])
def test_column_axis_out_of_range(axis):
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"Orthogonal needs column_axis in [-rank, rank). Received: "
            f"column_axis={axis} for shape=(4, 4)"
        ),
    ):
        keras_inits.Orthogonal(column_axis=axis)((4, 4))


# BlockOrthogonal


def blocks_of(values, count):
    q = keras.ops.convert_to_numpy(values).astype("float64")
    return np.split(q.reshape(-1, q.shape[-1]), count, axis=1)


@pytest.mark.parametrize(
    "shape, blocks, count",
    [
        ((8, 32), None, 4),
        ((8, 24), None, 3),
        ((8, 8), None, 1),
        ((8, 32), 2, 2),
        ((16, 12), 3, 3),
        ((2, 4, 16), None, 2),
    ],
)
def test_every_block_is_orthogonal(shape, blocks, count):
    values = keras_inits.BlockOrthogonal(blocks, gain=0.5, seed=1)(shape)
    for q in blocks_of(values, count):
        small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(small, 0.25 * np.eye(len(small)), atol=1e-5)


def test_blocks_are_drawn_independently():
    first, second = blocks_of(keras_inits.BlockOrthogonal(seed=1)((8, 16)), 2)
    assert not np.allclose(first, second)


def test_lstm_recurrent_kernel_is_orthogonal_per_gate():
    layer = keras.layers.LSTM(
        6, recurrent_initializer=keras_inits.BlockOrthogonal(seed=3)
    )
    layer.build((None, 5, 4))
    recurrent = layer.cell.recurrent_kernel
    assert tuple(recurrent.shape) == (6, 24)
    for q in blocks_of(recurrent, 4):
        np.testing.assert_allclose(q.T @ q, np.eye(6), atol=1e-5)


def test_irnn_is_an_identity_recurrent_kernel():
    # IRNN (Le et al., 2015): a ReLU SimpleRNN whose recurrent kernel is the
    # identity and biases zero. With an identity input kernel too, each step
    # adds the (non-negative) input to the state: the output is the sum.
    x = np.random.default_rng(0).uniform(size=(2, 7, 4)).astype("float32")
    layer = keras.layers.SimpleRNN(
        4,
        activation="relu",
        kernel_initializer=keras_inits.Identity(),
        recurrent_initializer=keras_inits.Identity(gain=1.0),
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x)), x.sum(axis=1), rtol=1e-5
    )


def test_blocks_must_divide_the_columns():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "BlockOrthogonal needs shape[-1] divisible by blocks=5. "
            "Received: shape=(8, 32)"
        ),
    ):
        keras_inits.BlockOrthogonal(blocks=5)((8, 32))


def test_inferred_blocks_need_a_multiple():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "BlockOrthogonal with blocks=None needs shape[-1] to be a "
            "multiple of the other dimensions' product"
        ),
    ):
        keras_inits.BlockOrthogonal()((8, 12))


@pytest.mark.parametrize("blocks", [0, -1, 2.5, True, "4"])
def test_bad_blocks(blocks):
    with pytest.raises(
        ValueError,
        match="Argument `blocks` of "
        "BlockOrthogonal must be None or a positive integer",
    ):
        keras_inits.BlockOrthogonal(blocks=blocks)


@pytest.mark.parametrize("gain", [0.0, -1.0, np.nan])
def test_block_orthogonal_bad_gain(gain):
    with pytest.raises(
        ValueError,
        match="Argument `gain` of BlockOrthogonal must be a positive number",
    ):
        keras_inits.BlockOrthogonal(gain=gain)


def test_block_orthogonal_needs_rank_two():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "BlockOrthogonal needs a tensor of rank >= 2. Received: shape=(5,)"
        ),
    ):
        keras_inits.BlockOrthogonal()((5,))


# Float32 range, dtypes that cannot hold the values, float8.

LOW_PRECISION = limits.LOW_PRECISION


def as_float32(values):
    return keras.ops.convert_to_numpy(keras.ops.cast(values, "float32"))


@pytest.mark.parametrize("dtype", LOW_PRECISION)
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: keras_inits.Orthogonal(gain=1.5, seed=3), (8, 8)),
        (lambda: keras_inits.Orthogonal(seed=3, column_axis=0), (4, 6)),
        (lambda: keras_inits.BlockOrthogonal(seed=3), (4, 12)),
    ],
    ids=["Orthogonal", "column_axis", "BlockOrthogonal"],
)
def test_low_precision_is_the_float32_draw_cast(make, shape, dtype):
    # Drawn (and QR-decomposed) in float32, then rounded once: no NaN from
    # a float8 QR, and the same values as casting the float32 result.
    skip_unless_storable(dtype)
    values = make()(shape, dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    expected = keras.ops.cast(make()(shape, dtype="float32"), dtype)
    np.testing.assert_array_equal(as_float32(values), as_float32(expected))
    assert np.all(np.isfinite(as_float32(values)))


@pytest.mark.parametrize(
    "cls", [keras_inits.Orthogonal, keras_inits.BlockOrthogonal]
)
def test_max_abs_is_the_gain(cls):
    # Entries of a matrix with orthonormal rows or columns are at most 1.
    init = cls(gain=2.5, seed=1)
    assert init.max_abs((8, 8)) == 2.5
    values = as_float32(init((8, 8)))
    assert 0 < np.abs(values).max() <= 2.5 * (1 + 1e-6)


@pytest.mark.parametrize(
    "cls", [keras_inits.Orthogonal, keras_inits.BlockOrthogonal]
)
@pytest.mark.parametrize("dtype", ["float16", "float8_e4m3fn"])
def test_a_dtype_that_cannot_hold_the_gain_is_refused(cls, dtype):
    # 1e5 is beyond float16's 65504 and float8_e4m3fn's 448: the values
    # would be infinite (or NaN). Refused before anything is drawn.
    with pytest.raises(
        ValueError,
        match=re.escape(f"{cls.__name__}(")
        + ".*gain=1e\\+05.* makes values up to "
        f"1e\\+05 for shape=\\(4, 4\\), beyond {dtype}'s largest finite "
        "value",
    ):
        cls(gain=1e5, seed=1)((4, 4), dtype=dtype)
    # ... while one it can hold is drawn.
    skip_unless_storable(dtype)
    values = as_float32(cls(gain=400.0, seed=1)((4, 4), dtype=dtype))
    assert np.all(np.isfinite(values)) and np.abs(values).max() <= 400.0


@pytest.mark.parametrize("gain", [1e308, 10**400])
def test_gain_float32_cannot_hold_is_refused(gain):
    # Orthogonal(gain=1e308) made infinite weights.
    with pytest.raises(
        ValueError,
        match="Argument `gain` of Orthogonal must be a positive number",
    ):
        keras_inits.Orthogonal(gain=gain)


def test_huge_blocks_are_refused_at_construction():
    # Not only when called ("divisible by blocks=1000...0"): 10**400 is no
    # block count, and would overflow any arithmetic on it.
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `blocks` of BlockOrthogonal must be None or a positive "
            "integer no larger than 2**31 - 1. Received: blocks=1000"
        ),
    ):
        keras_inits.BlockOrthogonal(blocks=10**400)
    assert keras_inits.BlockOrthogonal(blocks=2**31 - 1).blocks == 2**31 - 1


@pytest.mark.parametrize("axis", [10**400, -(10**400), 2**31])
def test_huge_column_axis_is_refused_at_construction(axis):
    with pytest.raises(
        ValueError,
        match="Argument `column_axis` of Orthogonal must be an integer",
    ):
        keras_inits.Orthogonal(column_axis=axis)
