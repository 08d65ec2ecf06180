"""Tests of Orthogonal: orthogonality, gain, layout, precision."""

import re

import keras
import numpy as np
import pytest

import keras_inits


def as_matrix(values, shape):
    values = keras.ops.convert_to_numpy(keras.ops.cast(values, "float32"))
    return values.reshape(-1, shape[-1]).astype("float64")


@pytest.mark.parametrize("shape", [(16, 16), (32, 8), (8, 32), (3, 3, 4, 36),
                                   (3, 3, 16, 8)])
def test_columns_or_rows_are_orthonormal(shape):
    q = as_matrix(keras_inits.Orthogonal(seed=1)(shape), shape)
    small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


def test_gain_scales_the_matrix():
    a = as_matrix(keras_inits.Orthogonal(gain=3.0, seed=5)((8, 8)), (8, 8))
    b = as_matrix(keras_inits.Orthogonal(gain=1.0, seed=5)((8, 8)), (8, 8))
    np.testing.assert_allclose(a, 3.0 * b, rtol=1e-6)


def test_bfloat16_is_computed_in_float32():
    q = as_matrix(keras_inits.Orthogonal(seed=1)((64, 64), "bfloat16"),
                  (64, 64))
    # bfloat16 keeps 8 bits of mantissa: entries are off by < 2**-8
    # relative, so Q^T Q is the identity to about 64 * 2**-8 * |q|^2.
    np.testing.assert_allclose(q.T @ q, np.eye(64), atol=2e-2)


def test_haar_distribution_has_no_sign_bias():
    # With the signs of R's diagonal folded in, the diagonal of Q is
    # symmetric around 0. Over 200 draws of 16 x 16 (3200 diagonal entries,
    # each with std 1/4), the mean is within 6 standard errors of 0: 0.027.
    draws = [as_matrix(keras_inits.Orthogonal(seed=i)((16, 16)), (16, 16))
             for i in range(200)]
    diagonal = np.concatenate([np.diag(q) for q in draws])
    assert abs(diagonal.mean()) < 6 * 0.25 / np.sqrt(diagonal.size)


@pytest.mark.parametrize("shape", [(5,), ()])
def test_needs_rank_two(shape):
    message = f"Orthogonal needs a tensor of rank >= 2. Received: shape={shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_inits.Orthogonal()(shape)


@pytest.mark.parametrize("gain", [0.0, -1.0, np.nan])
def test_bad_gain(gain):
    with pytest.raises(ValueError, match="Argument `gain` of Orthogonal must "
                       "be a positive number"):
        keras_inits.Orthogonal(gain=gain)
