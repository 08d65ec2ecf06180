"""Tests of VarianceScaling and its presets: fans, scales, arguments."""

import math

import keras
import numpy as np
import pytest

import keras_inits


def std_of(init, shape):
    return float(np.std(keras.ops.convert_to_numpy(init(shape))))


@pytest.mark.parametrize(
    "mode, n", [("fan_in", 48), ("fan_out", 80), ("fan_avg", 64)]
)
@pytest.mark.parametrize(
    "distribution", ["truncated_normal", "untruncated_normal", "uniform"]
)
def test_stddev_is_sqrt_scale_over_n(mode, n, distribution):
    # A (4, 4, 3, 5) conv kernel: fan_in = 16 * 3, fan_out = 16 * 5. With
    # 240 values per draw, average the std over 40 draws (9600 values): its
    # standard error is below 1%, so 5% is a safe, meaningful tolerance.
    init = keras_inits.VarianceScaling(2.0, mode, distribution, seed=1)
    assert init.expected_std((4, 4, 3, 5)) == pytest.approx(math.sqrt(2.0 / n))
    values = np.concatenate(
        [
            keras.ops.convert_to_numpy(init((4, 4, 3, 5))).ravel()
            for _ in range(40)
        ]
    )
    assert np.std(values) == pytest.approx(math.sqrt(2.0 / n), rel=0.05)


def test_normal_is_an_alias_of_truncated_normal():
    init = keras_inits.VarianceScaling(distribution="Normal")
    assert init.distribution == "truncated_normal"


def test_einsum_dense_passes_the_real_axes():
    # Kernel "abc,cde->abde": weight (c, d, e) = (64, 4, 8). Keras' default
    # rule would take fan_in = 64 * 4 = 256; the real fan_in is 64.
    layer = keras.layers.EinsumDense(
        "abc,cde->abde",
        output_shape=(None, 4, 8),
        kernel_initializer=keras_inits.VarianceScaling(
            1.0, "fan_in", "uniform", seed=3
        ),
    )
    layer.build((None, 5, 64))
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    limit = math.sqrt(3.0 / 64)
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.9 * limit  # 2048 values reach the limit


def test_multi_head_attention_kernels_get_their_axes():
    layer = keras.layers.MultiHeadAttention(
        num_heads=4, key_dim=16, kernel_initializer="keras_inits>HeUniform"
    )
    x = keras.ops.ones((1, 3, 32))
    layer(x, x)
    query = keras.ops.convert_to_numpy(layer.query_dense.kernel)  # (32, 4, 16)
    output = keras.ops.convert_to_numpy(
        layer.output_dense.kernel
    )  # (4, 16, 32)
    # fan_in 32 for the query kernel and 4 * 16 = 64 for the output kernel.
    assert np.abs(query).max() == pytest.approx(math.sqrt(6 / 32), rel=0.02)
    assert np.abs(output).max() == pytest.approx(math.sqrt(6 / 64), rel=0.02)


def test_explicit_axes_for_depthwise_kernels():
    init = keras_inits.VarianceScaling(
        input_axes=[0, 1], output_axes=[0, 1, 3]
    )
    assert init.fans((3, 3, 32, 2)) == (9, 18)
    layer = keras.layers.DepthwiseConv2D(3, depthwise_initializer=init)
    layer.build((None, 8, 8, 32))
    assert tuple(layer.kernel.shape) == (3, 3, 32, 1)


def test_axes_outside_the_tensor_are_a_clear_error():
    init = keras_inits.VarianceScaling(input_axes=[3], output_axes=[0])
    with pytest.raises(
        ValueError,
        match=r"Argument `input_axes` of "
        r"VarianceScaling has an axis outside a tensor of rank "
        r"2. Received: input_axes=\[3\], shape=\(4, 4\)",
    ):
        init((4, 4))


@pytest.mark.parametrize(
    "preset, args",
    [
        (keras_inits.GlorotNormal, (1.0, "fan_avg", "truncated_normal")),
        (keras_inits.GlorotUniform, (1.0, "fan_avg", "uniform")),
        (keras_inits.HeNormal, (2.0, "fan_in", "truncated_normal")),
        (keras_inits.HeUniform, (2.0, "fan_in", "uniform")),
        (keras_inits.LecunNormal, (1.0, "fan_in", "truncated_normal")),
        (keras_inits.LecunUniform, (1.0, "fan_in", "uniform")),
    ],
)
def test_presets_match_keras(preset, args):
    init = preset(seed=2)
    assert (init.scale, init.mode, init.distribution) == args
    keras_init = getattr(keras.initializers, preset.__name__)()
    assert (keras_init.scale, keras_init.mode, keras_init.distribution) == args
    assert set(init.get_config()) == set(keras_init.get_config())
    # Same seed, same call: our preset draws what VarianceScaling does.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(init((6, 5))),
        keras.ops.convert_to_numpy(
            keras_inits.VarianceScaling(*args, seed=2)((6, 5))
        ),
    )


@pytest.mark.parametrize("scale", [0.0, -2.0, np.inf, "1"])
def test_bad_scale(scale):
    with pytest.raises(
        ValueError,
        match="Argument `scale` of VarianceScaling "
        "must be a positive number. Received: scale=",
    ):
        keras_inits.VarianceScaling(scale=scale)


def test_bad_mode_and_distribution():
    with pytest.raises(
        ValueError,
        match=r"Invalid `mode` argument: "
        r"'fan_sideways'. VarianceScaling expects one of "
        r"\['fan_avg', 'fan_in', 'fan_out'\].",
    ):
        keras_inits.VarianceScaling(mode="fan_sideways")
    with pytest.raises(
        ValueError,
        match="Invalid `distribution` argument: "
        "'cauchy'. VarianceScaling expects",
    ):
        keras_inits.VarianceScaling(distribution="cauchy")


@pytest.mark.parametrize("axes", ["0", [0.5], [1, 1]])
def test_bad_axes(axes):
    with pytest.raises(
        ValueError, match="Argument `input_axes` of HeNormal must be"
    ):
        keras_inits.HeNormal(input_axes=axes)


def test_is_a_keras_variance_scaling():
    # How EinsumDense recognises an initializer it may give axes to.
    assert isinstance(
        keras_inits.HeNormal(), keras.initializers.VarianceScaling
    )
