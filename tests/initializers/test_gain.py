"""Tests of calculate_gain, KaimingNormal and KaimingUniform."""

import math

import keras
import numpy as np
import pytest

import keras_inits

# PyTorch's table, written out independently.
TABLE = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": 1.4142135623730951,
    "selu": 0.75,
    "leaky_relu": math.sqrt(2.0 / (1.0 + 0.01**2)),
}


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize("name", sorted(TABLE))
def test_calculate_gain_table(name):
    assert keras_inits.calculate_gain(name) == pytest.approx(
        TABLE[name], rel=1e-15
    )


@pytest.mark.parametrize("slope", [0.0, 0.2, 1.0, -0.5, 5**0.5])
def test_leaky_relu_gain(slope):
    assert keras_inits.calculate_gain("leaky_relu", slope) == pytest.approx(
        math.sqrt(2.0 / (1.0 + slope * slope)), rel=1e-15
    )


def test_matches_torch_calculate_gain():
    # The peer itself, as a library (not as a Keras backend).
    torch_init = pytest.importorskip("torch.nn.init")
    for name in TABLE:
        assert keras_inits.calculate_gain(name) == pytest.approx(
            torch_init.calculate_gain(name), rel=1e-12
        )
    assert keras_inits.calculate_gain("leaky_relu", 0.3) == pytest.approx(
        torch_init.calculate_gain("leaky_relu", 0.3), rel=1e-12
    )


@pytest.mark.parametrize("name", ["Relu", "gelu", "", None, 3])
def test_unknown_nonlinearity(name):
    with pytest.raises(
        ValueError,
        match="Invalid `nonlinearity` argument: "
        f"{name!r}. calculate_gain expects one of",
    ):
        keras_inits.calculate_gain(name)


@pytest.mark.parametrize("param", [True, "0.1", math.inf, math.nan])
def test_bad_slope(param):
    with pytest.raises(
        ValueError,
        match="Argument `param` of calculate_gain "
        "must be a finite number. Received: param=",
    ):
        keras_inits.calculate_gain("leaky_relu", param)


def test_param_only_for_leaky_relu():
    with pytest.raises(
        ValueError,
        match="Argument `param` of calculate_gain "
        "is the negative slope of 'leaky_relu' and must be "
        "None for 'relu'. Received: param=0.2",
    ):
        keras_inits.calculate_gain("relu", 0.2)


# Kaiming: fans of a (3, 3, 16, 32) conv kernel are 144 (in) and 288 (out),
# the same as PyTorch's for its (32, 16, 3, 3) weight of the same layer.
CONV = (3, 3, 16, 32)


@pytest.mark.parametrize(
    "cls", [keras_inits.KaimingNormal, keras_inits.KaimingUniform]
)
@pytest.mark.parametrize(
    "kwargs, gain, fan",
    [
        ({}, math.sqrt(2.0), 144),
        ({"negative_slope": 0.2}, math.sqrt(2.0 / 1.04), 144),
        ({"mode": "fan_out", "nonlinearity": "tanh"}, 5.0 / 3.0, 288),
        ({"nonlinearity": "selu"}, 0.75, 144),
        ({"nonlinearity": "linear", "mode": "fan_out"}, 1.0, 288),
    ],
)
def test_kaiming_stddev_is_gain_over_sqrt_fan(cls, kwargs, gain, fan):
    init = cls(**kwargs)
    assert init.scale == pytest.approx(gain**2, rel=1e-12)
    assert init.expected_std(CONV) == pytest.approx(
        gain / math.sqrt(fan), rel=1e-12
    )


def test_kaiming_normal_is_untruncated_he_normal_is_not():
    # 65536 draws: an untruncated normal puts 4.55% beyond 2 sigma (binomial
    # standard error 0.08%, so [4%, 5.1%] is a 6-sigma band); HeNormal none.
    std = math.sqrt(2.0 / 256)
    beyond = np.mean(
        np.abs(to_numpy(keras_inits.KaimingNormal(seed=3)((256, 256))))
        > 2 * std
    )
    assert 0.04 < beyond < 0.051
    he = to_numpy(keras_inits.HeNormal(seed=3)((256, 256)))
    assert np.abs(he).max() <= 2 * std / 0.8796256610342398 * (1 + 1e-6)
    assert keras_inits.KaimingNormal().distribution == "untruncated_normal"


def test_kaiming_uniform_bound_is_pytorch_default_linear():
    # torch's nn.Linear default: kaiming_uniform_(a=sqrt(5)), bound
    # 1 / sqrt(fan_in).
    values = to_numpy(
        keras_inits.KaimingUniform(negative_slope=math.sqrt(5.0), seed=1)(
            (400, 300)
        )
    )
    bound = 1.0 / math.sqrt(400)
    assert values.max() <= bound * (1 + 1e-6)
    assert values.min() >= -bound * (1 + 1e-6)
    # 120000 uniform values: the extremes are within 1e-4 of the bound.
    assert values.max() > bound * 0.999 and values.min() < -bound * 0.999


def test_defaults_and_config_are_pytorch_arguments():
    assert keras_inits.KaimingNormal().get_config() == {
        "negative_slope": 0.0,
        "mode": "fan_in",
        "nonlinearity": "leaky_relu",
        "seed": None,
        "input_axes": None,
        "output_axes": None,
    }


def test_kaiming_takes_einsum_dense_axes():
    layer = keras.layers.EinsumDense(
        "ab,bcd->acd",
        output_shape=(4, 8),
        kernel_initializer=keras_inits.KaimingNormal(seed=1),
    )
    layer.build((None, 64))
    # Kernel (64, 4, 8): the real fan_in is 64 (std 0.177), Keras' default
    # rule would take 256 (std 0.088). 2048 values: std within 10%.
    std = np.std(to_numpy(layer.kernel))
    assert std == pytest.approx(math.sqrt(2.0 / 64), rel=0.1)


@pytest.mark.parametrize(
    "cls", [keras_inits.KaimingNormal, keras_inits.KaimingUniform]
)
def test_bad_kaiming_arguments(cls):
    name = cls.__name__
    with pytest.raises(
        ValueError,
        match=f"Invalid `mode` argument: 'fan_avg'. {name} expects one of",
    ):
        cls(mode="fan_avg")
    with pytest.raises(
        ValueError,
        match=f"Invalid `nonlinearity` argument: 'swish'. {name} expects",
    ):
        cls(nonlinearity="swish")
    slope = f"Argument `negative_slope` of {name} "
    with pytest.raises(
        ValueError,
        match=slope + "must be a finite number. Received: negative_slope=nan",
    ):
        cls(negative_slope=math.nan)
    with pytest.raises(
        ValueError,
        match=slope + "applies to "
        "nonlinearity='leaky_relu' only and must be 0 for "
        "nonlinearity='relu'. Received: negative_slope=0.1",
    ):
        cls(negative_slope=0.1, nonlinearity="relu")


# Float32 range, dtypes, float8.


@pytest.mark.parametrize(
    "param, message",
    [
        (1e200, "must be a finite number float32 can hold"),
        (10**400, "must be a finite number"),
        (-1e39, "must be a finite number float32 can hold"),
        # sqrt(2 / (1 + 3e38**2)) = 4.7e-39: below float32's normal numbers.
        (
            3e38,
            "must be small enough that the gain sqrt\\(2 / \\(1 \\+ "
            "param\\*\\*2\\)\\) is a normal float32 \\(>= 1.2e-38; here "
            "4.714e-39\\)",
        ),
    ],
)
def test_slope_float32_cannot_use(param, message):
    with pytest.raises(
        ValueError,
        match="Argument `param` of calculate_gain "
        + message
        + ".* Received: param=",
    ):
        keras_inits.calculate_gain("leaky_relu", param)


def test_largest_slope_with_a_float32_gain():
    # |param| = 1e38 still gives a normal float32 gain; 1.3e38 does not.
    gain = keras_inits.calculate_gain("leaky_relu", 1e38)
    assert gain == pytest.approx(math.sqrt(2.0) / 1e38, rel=1e-12)
    with pytest.raises(
        ValueError,
        match="Argument `param` of calculate_gain "
        "must be small enough that the gain",
    ):
        keras_inits.calculate_gain("leaky_relu", -1.3e38)


@pytest.mark.parametrize("name", [np.array(["relu"]), np.array("relu")])
def test_array_nonlinearity_is_a_choice_error(name):
    with pytest.raises(
        ValueError,
        match="Invalid `nonlinearity` argument: "
        ".*calculate_gain expects one of",
    ):
        keras_inits.calculate_gain(name)


@pytest.mark.parametrize(
    "cls", [keras_inits.KaimingNormal, keras_inits.KaimingUniform]
)
@pytest.mark.parametrize(
    "slope, message",
    [
        # gain**2 = 2 / (1 + 1e40) = 2e-40, the variance's scale: it would
        # underflow, and VarianceScaling's error would name `scale`.
        (
            1e20,
            "must be small enough that gain\\*\\*2 = 2 / \\(1 \\+ "
            "negative_slope\\*\\*2\\) is a normal float32 \\(>= 1.2e-38; here "
            "2e-40\\)",
        ),
        (3e38, "must be small enough that gain\\*\\*2"),
        (1e200, "must be a finite number float32 can hold"),
        (10**400, "must be a finite number"),
    ],
)
def test_kaiming_slope_float32_cannot_use(cls, slope, message):
    with pytest.raises(
        ValueError,
        match=f"Argument `negative_slope` of "
        f"{cls.__name__} " + message + ".* Received: "
        "negative_slope=",
    ):
        cls(negative_slope=slope)


@pytest.mark.parametrize(
    "cls", [keras_inits.KaimingNormal, keras_inits.KaimingUniform]
)
@pytest.mark.parametrize("name", ["mode", "nonlinearity"])
def test_kaiming_array_choices_are_choice_errors(cls, name):
    value = np.array(["fan_in" if name == "mode" else "relu"])
    with pytest.raises(
        ValueError,
        match=f"Invalid `{name}` argument: .*{cls.__name__} expects one of",
    ):
        cls(**{name: value})


@pytest.mark.parametrize(
    "cls, reach",
    [
        (keras_inits.KaimingNormal, 8.0),
        (keras_inits.KaimingUniform, math.sqrt(3.0)),
    ],
)
def test_kaiming_max_abs_follows_the_std_of_the_shape(cls, reach):
    # std = sqrt(2 / 144) for CONV; normal draws reach 8 std at most,
    # uniform ones sqrt(3) std.
    init = cls(seed=1)
    assert init.max_abs(CONV) == pytest.approx(
        reach * math.sqrt(2.0 / 144), rel=1e-12
    )
    assert np.abs(to_numpy(init(CONV))).max() <= init.max_abs(CONV)


@pytest.mark.parametrize(
    "cls", [keras_inits.KaimingNormal, keras_inits.KaimingUniform]
)
@pytest.mark.parametrize(
    "dtype", ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"]
)
def test_kaiming_low_precision_is_the_float32_draw_cast(cls, dtype):
    try:
        keras.ops.cast(keras.ops.zeros((1,)), dtype)
    except Exception:  # each backend raises its own error type
        pytest.skip(f"the {keras.backend.backend()} backend has no {dtype}")
    values = cls(seed=4)((16, 16), dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    expected = keras.ops.cast(cls(seed=4)((16, 16), dtype="float32"), dtype)
    np.testing.assert_array_equal(
        to_numpy(keras.ops.cast(values, "float32")),
        to_numpy(keras.ops.cast(expected, "float32")),
    )
