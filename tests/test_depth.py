"""Tests of DepthScaled and ZerO."""

import json
import math

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import depth


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize("kwargs, factor", [
    ({"depth": 12}, 1 / math.sqrt(24)),  # GPT-2 small: 0.02 -> 0.00408
    ({"depth": 48}, 1 / math.sqrt(96)),
    ({"depth": 16, "rule": "fixup", "branch_layers": 2}, 16**-0.5),
    ({"depth": 16, "rule": "fixup", "branch_layers": 3}, 16**-0.25),
    ({"depth": 1, "rule": "fixup", "branch_layers": 5}, 1.0),
])
def test_factor(kwargs, factor):
    init = keras_inits.DepthScaled("ones", **kwargs)
    assert init.factor == pytest.approx(factor, rel=1e-15)
    np.testing.assert_allclose(to_numpy(init((3, 2))), np.full((3, 2), factor),
                               rtol=1e-6)


def test_scales_the_draws_of_the_wrapped_initializer():
    # Same seed, same draws: the wrapper only multiplies.
    inner = to_numpy(keras_inits.RandomNormal(stddev=0.02, seed=3)((64, 64)))
    scaled = keras_inits.DepthScaled(
        keras_inits.RandomNormal(stddev=0.02, seed=3), depth=12)
    np.testing.assert_allclose(to_numpy(scaled((64, 64))),
                               inner / math.sqrt(24), rtol=1e-6)


def test_nested_config_round_trip():
    init = keras_inits.DepthScaled(keras_inits.RandomNormal(seed=5), depth=8,
                                   rule="fixup", branch_layers=3)
    config = json.loads(json.dumps(init.get_config()))
    registered = config["initializer"]["registered_name"]
    assert registered == "keras_inits>RandomNormal"
    rebuilt = keras_inits.DepthScaled.from_config(config)
    assert isinstance(rebuilt.initializer, keras_inits.RandomNormal)
    np.testing.assert_array_equal(to_numpy(rebuilt((16, 16))),
                                  to_numpy(init((16, 16))))


def test_keeps_the_dtype():
    values = keras_inits.DepthScaled("ones", depth=2)((2, 2), dtype="float16")
    assert keras.backend.standardize_dtype(values.dtype) == "float16"


@pytest.mark.parametrize("kwargs, message", [
    ({"depth": 0}, "Argument `depth` of DepthScaled must be an integer >= 1. "
     "Received: depth=0"),
    ({"depth": 2.5}, "Argument `depth` of DepthScaled must be an integer"),
    ({"rule": "deepnet"}, "Invalid `rule` argument: "
     "'deepnet'. DepthScaled expects one of \\['fixup', 'gpt2'\\]."),
    ({"rule": "fixup"}, "Argument `branch_layers` of DepthScaled must be an "
     "integer >= 2. Received: branch_layers=None"),
    ({"rule": "fixup", "branch_layers": 1}, "Argument `branch_layers` of "
     "DepthScaled must be an integer >= 2. Received: branch_layers=1"),
    ({"branch_layers": 2}, "Argument `branch_layers` of DepthScaled is "
     "Fixup's m and must be None with rule='gpt2'. Received: "
     "branch_layers=2"),
    ({"initializer": "no_such_init"}, "Argument `initializer` of DepthScaled "
     "must be an initializer, its name or its config"),
    ({"initializer": None}, "Argument `initializer` of DepthScaled must be"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_inits.DepthScaled(**kwargs)


def test_hadamard_is_sylvester():
    # Built independently by the recursion H_{2n} = [[H, H], [H, -H]].
    h = np.ones((1, 1))
    for _ in range(4):
        h = np.block([[h, h], [h, -h]])
    np.testing.assert_array_equal(depth.hadamard(16), h)


def _zero_reference(inputs, outputs):
    # The authors' recipe in PyTorch's (out, in) layout, transposed to
    # Keras' (in, out): eye if out <= in, else eye(out, p) @ H_p / 2**(m/2)
    # @ eye(p, in) with p = 2**m the next power of two of out.
    if outputs <= inputs:
        w = np.eye(outputs, inputs)
    else:
        m = math.ceil(math.log2(outputs))
        p = 2**m
        h = np.ones((1, 1))
        for _ in range(m):
            h = np.block([[h, h], [h, -h]])
        w = np.eye(outputs, p) @ (h / 2 ** (m / 2)) @ np.eye(p, inputs)
    return w.T


@pytest.mark.parametrize("shape", [(8, 8), (16, 5), (5, 16), (3, 12),
                                   (7, 7)])
def test_zero_matches_the_reference(shape):
    np.testing.assert_allclose(to_numpy(keras_inits.ZerO()(shape)),
                               _zero_reference(*shape), atol=1e-7)


def test_zero_expansion_keeps_full_rank():
    # out > in: the kernel's in rows are orthonormal.
    kernel = to_numpy(keras_inits.ZerO()((20, 32)))
    np.testing.assert_allclose(kernel @ kernel.T, np.eye(20), atol=1e-6)


def test_zero_conv_kernel_is_the_matrix_at_the_centre():
    kernel = to_numpy(keras_inits.ZerO()((3, 4, 6, 8)))
    np.testing.assert_allclose(kernel[1, 1], _zero_reference(6, 8), atol=1e-7)
    kernel[1, 1] = 0
    assert not kernel.any()


def test_zero_needs_a_matrix():
    with pytest.raises(ValueError, match="ZerO needs a tensor of rank >= 2. "
                       r"Received: shape=\(4,\) of rank 1."):
        keras_inits.ZerO()((4,))
