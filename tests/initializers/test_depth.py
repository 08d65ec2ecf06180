"""Tests of DepthScaled and ZerO."""

import json
import math
import re

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import limits
from keras_inits.initializers import _base as base
from keras_inits.initializers import _depth as depth
from tests.catalogue import skip_unless_storable


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize(
    "kwargs, factor",
    [
        ({"depth": 12}, 1 / math.sqrt(24)),  # GPT-2 small: 0.02 -> 0.00408
        ({"depth": 48}, 1 / math.sqrt(96)),
        ({"depth": 16, "rule": "fixup", "branch_layers": 2}, 16**-0.5),
        ({"depth": 16, "rule": "fixup", "branch_layers": 3}, 16**-0.25),
        ({"depth": 1, "rule": "fixup", "branch_layers": 5}, 1.0),
    ],
)
def test_factor(kwargs, factor):
    init = keras_inits.DepthScaled("ones", **kwargs)
    assert init.factor == pytest.approx(factor, rel=1e-15)
    np.testing.assert_allclose(
        to_numpy(init((3, 2))), np.full((3, 2), factor), rtol=1e-6
    )


def test_scales_the_draws_of_the_wrapped_initializer():
    # Same seed, same draws: the wrapper only multiplies.
    inner = to_numpy(keras_inits.RandomNormal(stddev=0.02, seed=3)((64, 64)))
    scaled = keras_inits.DepthScaled(
        keras_inits.RandomNormal(stddev=0.02, seed=3), depth=12
    )
    np.testing.assert_allclose(
        to_numpy(scaled((64, 64))), inner / math.sqrt(24), rtol=1e-6
    )


def test_nested_config_round_trip():
    init = keras_inits.DepthScaled(
        keras_inits.RandomNormal(seed=5),
        depth=8,
        rule="fixup",
        branch_layers=3,
    )
    config = json.loads(json.dumps(init.get_config()))
    registered = config["initializer"]["registered_name"]
    assert registered == "keras_inits>RandomNormal"
    rebuilt = keras_inits.DepthScaled.from_config(config)
    assert isinstance(rebuilt.initializer, keras_inits.RandomNormal)
    np.testing.assert_array_equal(
        to_numpy(rebuilt((16, 16))), to_numpy(init((16, 16)))
    )


def test_keeps_the_dtype():
    values = keras_inits.DepthScaled("ones", depth=2)((2, 2), dtype="float16")
    assert keras.backend.standardize_dtype(values.dtype) == "float16"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"depth": 0},
            "Argument `depth` of DepthScaled must be an integer >= 1. "
            "Received: depth=0",
        ),
        ({"depth": 2.5}, "Argument `depth` of DepthScaled must be an integer"),
        (
            {"rule": "deepnet"},
            "Invalid `rule` argument: "
            "'deepnet'. DepthScaled expects one of \\['fixup', 'gpt2'\\].",
        ),
        (
            {"rule": "fixup"},
            "Argument `branch_layers` of DepthScaled must be an "
            "integer >= 2. Received: branch_layers=None",
        ),
        (
            {"rule": "fixup", "branch_layers": 1},
            "Argument `branch_layers` of "
            "DepthScaled must be an integer >= 2. Received: branch_layers=1",
        ),
        (
            {"branch_layers": 2},
            "Argument `branch_layers` of DepthScaled is "
            "Fixup's m and must be None with rule='gpt2'. Received: "
            "branch_layers=2",
        ),
        (
            {"initializer": "no_such_init"},
            "Argument `initializer` of DepthScaled "
            "must be an initializer, its name or its config",
        ),
        (
            {"initializer": None},
            "Argument `initializer` of DepthScaled must be",
        ),
    ],
)
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


@pytest.mark.parametrize("shape", [(8, 8), (16, 5), (5, 16), (3, 12), (7, 7)])
def test_zero_matches_the_reference(shape):
    np.testing.assert_allclose(
        to_numpy(keras_inits.ZerO()(shape)), _zero_reference(*shape), atol=1e-7
    )


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
    with pytest.raises(
        ValueError,
        match="ZerO needs a tensor of rank >= 2. "
        r"Received: shape=\(4,\) of rank 1.",
    ):
        keras_inits.ZerO()((4,))


# Float32 range, dtypes, float8 and nesting.

LOW_PRECISION = limits.LOW_PRECISION


@pytest.mark.parametrize("dtype", LOW_PRECISION)
@pytest.mark.parametrize(
    "make, shape",
    [
        # 1 / sqrt(24) is no power of 2: scaling in the low precision (as the
        # wrapped draw came back) would round twice.
        (
            lambda: keras_inits.DepthScaled(
                keras_inits.RandomNormal(stddev=1.0, seed=2), depth=12
            ),
            (8, 8),
        ),
        # Keras' own initializer draws in the dtype it is asked for: float32.
        (
            lambda: keras_inits.DepthScaled(
                keras.initializers.RandomNormal(stddev=1.0, seed=2), depth=12
            ),
            (8, 8),
        ),
        (lambda: keras_inits.ZerO(), (3, 12)),  # entries 2**-2 and 2**-1.5
    ],
    ids=["DepthScaled", "DepthScaled-keras", "ZerO"],
)
def test_low_precision_is_the_float32_result_cast(make, shape, dtype):
    skip_unless_storable(dtype)
    values = make()(shape, dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    expected = keras.ops.cast(make()(shape, dtype="float32"), dtype)
    np.testing.assert_array_equal(
        to_numpy(keras.ops.cast(values, "float32")),
        to_numpy(keras.ops.cast(expected, "float32")),
    )


def test_max_abs():
    # The wrapped initializer's bound times the factor (1 / sqrt(16)).
    init = keras_inits.DepthScaled(
        keras_inits.RandomUniform(-2.0, 1.0), depth=8
    )
    assert init.max_abs((4, 4)) == 0.5
    assert np.abs(to_numpy(init((64, 64)))).max() <= 0.5
    # Unknown for an initializer that states none (Keras' own).
    assert (
        keras_inits.DepthScaled(
            keras.initializers.RandomNormal(), depth=8
        ).max_abs((4, 4))
        is None
    )
    assert keras_inits.ZerO().max_abs((3, 12)) == 1.0
    assert np.abs(to_numpy(keras_inits.ZerO()((6, 4)))).max() == 1.0


def test_a_dtype_that_cannot_hold_the_values_is_refused():
    # DepthScaled refuses for its own (scaled) bound, before the wrapped
    # initializer draws: 1e6 / sqrt(2) is beyond float16's 65504.
    init = keras_inits.DepthScaled(keras_inits.Orthogonal(gain=1e6), depth=1)
    with pytest.raises(
        ValueError,
        match=r"DepthScaled\(initializer=.* makes "
        "values up to 7.071e\\+05 for shape=\\(4, 4\\), beyond "
        "float16's largest finite value 65504",
    ):
        init((4, 4), dtype="float16")


def test_zero_builds_only_the_corner_of_the_hadamard_matrix():
    # (2, 2**20): the rows of H[:2, :2**20] / 2**10 are orthonormal. The
    # whole 2**20 x 2**20 Hadamard matrix would take 8 TiB.
    kernel = to_numpy(keras_inits.ZerO()((2, 2**20)))
    np.testing.assert_allclose(kernel @ kernel.T, np.eye(2), atol=1e-6)
    np.testing.assert_array_equal(kernel[1, :4], [2**-10, -(2**-10)] * 2)


def test_zero_checks_the_call_first():
    with pytest.raises(
        ValueError, match="ZerO cannot fill a tensor of shape="
    ):
        keras_inits.ZerO()((2**30, 2**30))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"depth": 10**400},
            "Argument `depth` of DepthScaled must be an integer "
            ">= 1 no larger than 2\\*\\*31 - 1. Received: depth=1000",
        ),
        (
            {"depth": 2**31},
            "Argument `depth` of DepthScaled must be an integer "
            ">= 1 no larger than",
        ),
        (
            {"rule": "fixup", "branch_layers": 10**400},
            "Argument `branch_layers` "
            "of DepthScaled must be an integer >= 2 no larger than",
        ),
        (
            {"rule": np.array(["gpt2"])},
            "Invalid `rule` argument: .*DepthScaled expects one of",
        ),
        (
            {"rule": np.array("gpt2")},
            "Invalid `rule` argument: .*DepthScaled expects one of",
        ),
    ],
)
def test_more_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_inits.DepthScaled("ones", **kwargs)


def test_counts_stop_at_int32():
    with pytest.raises(
        ValueError,
        match="Argument `branch_layers` of "
        "DepthScaled must be an integer >= 2 no larger than",
    ):
        keras_inits.DepthScaled(
            "ones", depth=2, rule="fixup", branch_layers=2**31
        )
    # The largest ones give factors as usual.
    init = keras_inits.DepthScaled(
        "ones", depth=2**31 - 1, rule="fixup", branch_layers=2**31 - 1
    )
    assert 0.99 < init.factor < 1.0
    assert keras_inits.DepthScaled("ones", depth=2**31 - 1).factor > 1e-5


def nested_config(levels, leaf="ones"):
    """A config of `levels` DepthScaleds around `leaf`, built without
    recursion."""
    config = leaf
    for _ in range(levels):
        config = {
            "class_name": "DepthScaled",
            "registered_name": "keras_inits>DepthScaled",
            "config": {"initializer": config, "depth": 2},
        }
    return config


NESTING = re.escape(
    "Argument `initializer` of DepthScaled must be nested "
    "at most 31 initializers deep"
)


def test_nests_at_most_max_nesting_deep():
    assert base.MAX_NESTING == 32
    # 31 DepthScaleds around Ones: 32 initializers deep, the limit. It
    # prints, saves, loads and draws (each recursing once per level).
    init = keras_inits.Ones()
    for _ in range(31):
        init = keras_inits.DepthScaled(init, depth=2)
    assert base.nesting(init) == 32
    assert repr(init).startswith("DepthScaled(initializer=DepthScaled(")
    assert "Ones()" in repr(init)
    config = json.loads(json.dumps(keras_inits.serialize(init)))
    loaded = keras_inits.deserialize(config)
    assert to_numpy(loaded((1,))).item() == pytest.approx(0.5**31, rel=1e-6)
    # One more is refused, as an instance, a config and a deserialization.
    with pytest.raises(ValueError, match=NESTING):
        keras_inits.DepthScaled(init)
    with pytest.raises(ValueError, match=NESTING):
        keras_inits.DepthScaled(config)
    with pytest.raises(ValueError, match=NESTING):
        keras_inits.deserialize(nested_config(32))
    assert base.nesting(nested_config(31)) == 32  # the name counts one


@pytest.mark.parametrize(
    "load",
    [
        keras_inits.deserialize,
        keras.initializers.deserialize,
        keras.initializers.get,
        lambda config: keras_inits.DepthScaled.from_config(config["config"]),
        lambda config: keras_inits.DepthScaled(config),
    ],
    ids=[
        "keras_inits.deserialize",
        "keras.deserialize",
        "keras.get",
        "from_config",
        "constructor",
    ],
)
def test_a_hostile_config_nested_10000_deep_is_refused(load):
    # Refused by counting, not recursing: no RecursionError.
    with pytest.raises(ValueError, match=NESTING):
        load(nested_config(10000))


def test_nesting_counts_without_recursion_and_stops_at_the_limit():
    # A wrapper holding itself (a cycle) and a 10000-deep config both stop
    # one past the limit.
    init = keras_inits.DepthScaled("ones")
    init.initializer = init
    assert base.nesting(init) == base.MAX_NESTING + 1
    assert base.nesting(nested_config(10000), limit=5) == 6
    assert base.nesting(None) == 0
    assert base.nesting("he_normal") == 1


def test_an_error_of_the_wrapped_initializer_names_depth_scaled():
    # An array becomes a ConstantArray of its shape: called with another,
    # the error says which initializer the caller called.
    init = keras_inits.DepthScaled(np.array([1.0, 2.0]), depth=2)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The `initializer` of DepthScaled cannot fill shape=(3, 2): "
        )
        + ".*ConstantArray needs the shape of its value",
    ):
        init((3, 2))


def test_a_shape_the_wrapped_initializer_refuses_names_depth_scaled():
    # HeNormal's input_axes do not fit a matrix: its bound and its call both
    # refuse; the error names the initializer the caller called.
    init = keras_inits.DepthScaled(
        keras_inits.HeNormal(input_axes=[2]), depth=2
    )
    assert init.max_abs((4, 4)) is None
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The `initializer` of DepthScaled cannot fill shape=(4, 4): "
        ),
    ):
        init((4, 4))
