"""Tests of Sparse."""

import math
import re

import keras
import numpy as np
import pytest
from scipy import stats

import keras_inits


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize(
    "shape, sparsity, zeros",
    [
        # Few distinct shapes: JAX compiles each eager op once per shape.
        ((10, 7), 0.3, 3),  # PyTorch's float ceil(0.3 * 10) would give 4
        ((10, 7), 0.95, 10),  # ceil(9.5)
        ((3, 3, 4, 5), 0.5, 18),  # rows = 3 * 3 * 4 = 36 (the fan-in)
        ((10, 7), 0.0, 0),
        ((10, 7), 1.0, 10),
    ],
)
def test_every_output_unit_has_the_same_number_of_zero_inputs(
    shape, sparsity, zeros
):
    values = to_numpy(keras_inits.Sparse(sparsity, 1.0, seed=2)(shape))
    columns = values.reshape(-1, shape[-1])
    np.testing.assert_array_equal(
        np.sum(columns == 0, axis=0), np.full(shape[-1], zeros)
    )


def test_zeros_per_column_is_the_ceiling():
    init = keras_inits.Sparse(0.25)
    assert [init.zeros_per_column(r) for r in (1, 4, 5, 8, 9)] == [
        math.ceil(0.25 * r) for r in (1, 4, 5, 8, 9)
    ]
    # Martens: 15 non-zero incoming weights per unit out of 1000.
    assert keras_inits.Sparse(1 - 15 / 1000).zeros_per_column(1000) == 985
    assert keras_inits.Sparse(0.9).zeros_per_column(64) == 58  # ceil(57.6)


def test_non_zero_values_are_normal_and_positions_random():
    # 256 x 128 with 3/4 zeros: 8192 non-zero values, checked against
    # N(0, 0.5**2) by Kolmogorov-Smirnov (p > 1e-4) and the std to 6
    # standard errors (0.5 / sqrt(2n), 0.8% here).
    values = to_numpy(keras_inits.Sparse(0.75, 0.5, seed=4)((256, 128)))
    nonzero = values[values != 0]
    assert nonzero.size == 64 * 128
    assert stats.kstest(nonzero, stats.norm(0, 0.5).cdf).pvalue > 1e-4
    assert abs(nonzero.std() - 0.5) < 6 * 0.5 / math.sqrt(2 * nonzero.size)
    # The zero positions differ between columns: not one shared row set.
    masks = values == 0
    assert len({tuple(np.flatnonzero(masks[:, j])) for j in range(128)}) > 100
    # And every row is hit about equally (each row is zero in a column with
    # probability 3/4: counts ~ Binomial(128, 3/4), sd 4.9; 6 sd is 29).
    assert np.all(np.abs(masks.sum(axis=1) - 96) < 30)


def test_torch_orientation_is_the_transpose():
    # PyTorch's sparse_ on a Linear weight (out, in) zeroes per column of
    # that layout, i.e. per input unit; the same count per input here is
    # not guaranteed, per output (column of (in, out)) it is.
    torch = pytest.importorskip("torch")
    weight = torch.empty(6, 10)  # out=6, in=10
    torch.nn.init.sparse_(weight, 0.5, std=1.0)
    per_input = (weight == 0).sum(dim=0).numpy()  # each of 10 inputs
    np.testing.assert_array_equal(per_input, np.full(10, 3))  # ceil(.5 * 6)
    kernel = to_numpy(keras_inits.Sparse(0.5, 1.0, seed=1)((10, 6)))
    np.testing.assert_array_equal(
        (kernel == 0).sum(axis=0), np.full(6, 5)
    )  # ceil(.5 * 10) per output


@pytest.mark.parametrize("sparsity", [-0.1, 1.5, math.nan, "0.5", None])
def test_bad_sparsity(sparsity):
    with pytest.raises(
        ValueError,
        match="Argument `sparsity` of Sparse must "
        "be a number in \\[0, 1\\]. Received: sparsity=",
    ):
        keras_inits.Sparse(sparsity)


def test_bad_stddev():
    with pytest.raises(
        ValueError,
        match="Argument `stddev` of Sparse must be "
        "a positive number. Received: stddev=0",
    ):
        keras_inits.Sparse(0.5, 0)


def test_needs_rank_two():
    with pytest.raises(
        ValueError,
        match="Sparse needs a tensor of rank >= 2. "
        r"Received: shape=\(5,\) of rank 1.",
    ):
        keras_inits.Sparse(0.5)((5,))


# Float32 range, dtypes, float8.


@pytest.mark.parametrize("sparsity", [10**400, -(10**400)])
def test_sparsity_that_is_no_fraction(sparsity):
    # 10**400 was an OverflowError.
    with pytest.raises(
        ValueError,
        match="Argument `sparsity` of Sparse must "
        "be a number in \\[0, 1\\]. Received: sparsity=",
    ):
        keras_inits.Sparse(sparsity)


def test_stddev_whose_values_overflow_float32_is_refused():
    # The normal draws reach 8 stddev: 8e38 overflows float32.
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `stddev` of Sparse must be small enough that 8 stddev "
            "fits in float32 (<= 3.4e38; here 8e+38). Received: "
            "stddev=1e+38"
        ),
    ):
        keras_inits.Sparse(0.5, 1e38)


def test_max_abs_is_eight_stddev():
    init = keras_inits.Sparse(0.5, 0.25, seed=3)
    assert init.max_abs((64, 64)) == 2.0
    values = np.abs(to_numpy(init((64, 64))))
    assert 0 < values.max() <= 2.0


def test_a_dtype_that_cannot_hold_the_values_is_refused():
    with pytest.raises(
        ValueError,
        match=r"Sparse\(.* makes values up to "
        "8e\\+04 for shape=\\(10, 7\\), beyond float16's "
        "largest finite value 65504",
    ):
        keras_inits.Sparse(0.5, 1e4, seed=1)((10, 7), dtype="float16")


@pytest.mark.parametrize(
    "dtype", ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"]
)
def test_low_precision_is_the_float32_draw_cast(dtype):
    try:
        keras.ops.cast(keras.ops.zeros((1,)), dtype)
    except Exception:  # each backend raises its own error type
        pytest.skip(f"the {keras.backend.backend()} backend has no {dtype}")

    def make():
        return keras_inits.Sparse(0.5, 1.0, seed=6)

    values = make()((10, 7), dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    expected = keras.ops.cast(make()((10, 7), dtype="float32"), dtype)
    values = to_numpy(keras.ops.cast(values, "float32"))
    np.testing.assert_array_equal(
        values, to_numpy(keras.ops.cast(expected, "float32"))
    )
