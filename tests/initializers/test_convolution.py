"""Tests of Dirac, DeltaOrthogonal, ICNR and Bilinear against numpy."""

import json
import re

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import limits
from tests.catalogue import skip_unless_storable

CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}


def to_numpy(x):
    return np.asarray(
        keras.ops.convert_to_numpy(keras.ops.cast(x, "float32")),
        dtype="float64",
    )


def conv(kernel_initializer, inputs, filters, kernel_size, **kwargs):
    """Runs a same-padded convolution without bias of the rank of `inputs`."""
    layer = CONV[inputs.ndim - 2](
        filters,
        kernel_size,
        padding="same",
        use_bias=False,
        kernel_initializer=kernel_initializer,
        **kwargs,
    )
    return to_numpy(layer(inputs)), to_numpy(layer.kernel)


def random_inputs(spatial, channels, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, *spatial, channels)).astype("float32")


# Dirac


@pytest.mark.parametrize(
    "spatial, kernel_size",
    [
        ((9,), 3),
        ((9,), 4),
        ((7, 6), 3),
        ((7, 6), 2),
        ((5, 4, 6), 3),
        ((5, 4, 6), (2, 3, 4)),
    ],
)
def test_dirac_convolution_reproduces_its_input(spatial, kernel_size):
    x = random_inputs(spatial, 5)
    y, _ = conv(keras_inits.Dirac(), x, 5, kernel_size)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("groups", [2, 4])
def test_dirac_with_groups_reproduces_its_input(groups):
    x = random_inputs((6, 6), 8)
    y, kernel = conv(keras_inits.Dirac(groups=groups), x, 8, 3, groups=groups)
    assert kernel.shape == (3, 3, 8 // groups, 8)
    np.testing.assert_array_equal(y, x)


def test_dirac_more_outputs_than_inputs_pads_with_zeros():
    x = random_inputs((6, 6), 4)
    y, _ = conv(keras_inits.Dirac(), x, 6, 3)
    np.testing.assert_array_equal(y[..., :4], x)
    np.testing.assert_array_equal(y[..., 4:], 0.0)


def test_dirac_fewer_outputs_than_inputs_drops_the_last_inputs():
    x = random_inputs((6, 6), 5)
    y, _ = conv(keras_inits.Dirac(), x, 3, 3)
    np.testing.assert_array_equal(y, x[..., :3])


def test_dirac_partial_identity_per_group():
    # 2 groups, 3 inputs and 2 outputs per group: output g*2+d copies input
    # g*3+d, for d < 2.
    x = random_inputs((5, 5), 6)
    y, _ = conv(keras_inits.Dirac(groups=2), x, 4, 3, groups=2)
    np.testing.assert_array_equal(y, x[..., [0, 1, 3, 4]])


def dirac_reference(shape, groups):
    # PyTorch's dirac_ in its (out, in, *spatial) layout, written out with
    # loops, then moved to Keras' (*spatial, in, out) layout. The centre is
    # (k - 1) // 2, which equals PyTorch's k // 2 for odd k.
    *spatial, inputs, outputs = shape
    torch_layout = np.zeros((outputs, inputs, *spatial))
    per_group = outputs // groups
    for g in range(groups):
        for d in range(min(per_group, inputs)):
            index = (g * per_group + d, d) + tuple(
                (k - 1) // 2 for k in spatial
            )
            torch_layout[index] = 1.0
    return np.moveaxis(torch_layout, (0, 1), (-1, -2))


@pytest.mark.parametrize(
    "shape, groups",
    [
        ((3, 4, 6), 2),
        ((5, 3, 3, 2), 1),
        ((3, 3, 2, 9), 3),
        ((4, 4, 4, 4), 2),
        ((3, 2, 3, 2, 4), 2),
        ((4, 1, 1), 1),
    ],
)
def test_dirac_matches_the_reference(shape, groups):
    values = to_numpy(keras_inits.Dirac(groups=groups)(shape, dtype="float32"))
    np.testing.assert_array_equal(values, dirac_reference(shape, groups))


def test_dirac_takes_integer_dtypes():
    values = keras_inits.Dirac()((3, 2, 2), dtype="int32")
    assert keras.backend.standardize_dtype(values.dtype) == "int32"
    assert keras.ops.convert_to_numpy(values)[1].tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("groups", [0, -1, 1.5, True, "2"])
def test_dirac_bad_groups(groups):
    with pytest.raises(
        ValueError,
        match="Argument `groups` of Dirac must be a positive integer",
    ):
        keras_inits.Dirac(groups=groups)


@pytest.mark.parametrize("shape", [(4, 4), (1, 1, 1, 1, 2, 2)])
def test_dirac_needs_rank_three_to_five(shape):
    message = f"Dirac needs a tensor of rank 3 to 5. Received: shape={shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_inits.Dirac()(shape)


def test_dirac_needs_outputs_divisible_by_groups():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Dirac needs an output dimension divisible by groups=2. "
            "Received: shape=(3, 3, 2, 5)"
        ),
    ):
        keras_inits.Dirac(groups=2)((3, 3, 2, 5))


# DeltaOrthogonal


@pytest.mark.parametrize(
    "shape", [(3, 4, 4), (5, 3, 8, 8), (2, 4, 3, 8), (3, 3, 3, 2, 5)]
)
def test_delta_orthogonal_is_orthogonal_at_the_centre_only(shape):
    kernel = to_numpy(keras_inits.DeltaOrthogonal(gain=1.5, seed=2)(shape))
    centre = tuple((k - 1) // 2 for k in shape[:-2])
    q = kernel[centre]
    # Rows orthonormal (in <= out), times the gain.
    np.testing.assert_allclose(q @ q.T, 2.25 * np.eye(shape[-2]), atol=1e-5)
    rest = kernel.copy()
    rest[centre] = 0.0
    np.testing.assert_array_equal(rest, 0.0)


def test_delta_orthogonal_convolution_maps_each_position_by_its_centre():
    x = random_inputs((6, 5), 4)
    y, kernel = conv(keras_inits.DeltaOrthogonal(seed=3), x, 6, 3)
    np.testing.assert_allclose(y, x @ kernel[1, 1], atol=1e-5)
    # ... and so preserves every position's norm (in <= out).
    np.testing.assert_allclose(
        np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-5
    )


def test_delta_orthogonal_seed_replays():
    a = to_numpy(keras_inits.DeltaOrthogonal(seed=4)((3, 3, 4, 4)))
    b = to_numpy(keras_inits.DeltaOrthogonal(seed=4)((3, 3, 4, 4)))
    np.testing.assert_array_equal(a, b)


def test_delta_orthogonal_refuses_more_inputs_than_outputs():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "DeltaOrthogonal needs at most as many input channels as output "
            "channels (shape[-2] <= shape[-1]). Received: shape=(3, 3, 8, 4)"
        ),
    ):
        keras_inits.DeltaOrthogonal()((3, 3, 8, 4))


@pytest.mark.parametrize("shape", [(4, 4), (1, 1, 1, 1, 2, 2)])
def test_delta_orthogonal_needs_rank_three_to_five(shape):
    with pytest.raises(
        ValueError,
        match=re.escape("DeltaOrthogonal needs a tensor of rank 3 to 5."),
    ):
        keras_inits.DeltaOrthogonal()(shape)


@pytest.mark.parametrize("gain", [0.0, -1.0, np.inf, "1"])
def test_delta_orthogonal_bad_gain(gain):
    with pytest.raises(
        ValueError,
        match="Argument `gain` of DeltaOrthogonal must be a positive number",
    ):
        keras_inits.DeltaOrthogonal(gain=gain)


# ICNR


def depth_to_space(x, r, data_format="channels_last"):
    """numpy reference: channels-last output[h*r+i, w*r+j, c] is input
    channel (i*r + j)*C + c; channels-first output[c, h*r+i, w*r+j] is
    input channel c*r*r + i*r + j."""
    if data_format == "channels_first":
        n, depth, h, w = x.shape
        c = depth // (r * r)
        y = x.reshape(n, c, r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
        return y.reshape(n, c, h * r, w * r)
    n, h, w, depth = x.shape
    c = depth // (r * r)
    y = x.reshape(n, h, w, r, r, c).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(n, h * r, w * r, c)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_reference_depth_to_space_matches_keras(data_format):
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 18)).astype("float32")
    expected = depth_to_space(x, 3)
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
        expected = depth_to_space(x, 3, data_format)
        if keras.backend.backend() == "tensorflow":
            # Keras 3.15's TensorFlow backend transposes to NHWC around
            # tf.nn.depth_to_space, so its channels-first order is the
            # channels-last one (ICNR's docstring says so).
            expected = depth_to_space(x.transpose(0, 2, 3, 1), 3).transpose(
                0, 3, 1, 2
            )
    np.testing.assert_array_equal(
        to_numpy(keras.ops.depth_to_space(x, 3, data_format=data_format)),
        expected,
    )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("scale", [2, 3])
def test_icnr_sub_kernels_of_one_output_channel_are_identical(
    data_format, scale
):
    channels = 4
    shape = (3, 3, 5, channels * scale**2)
    kernel = to_numpy(
        keras_inits.ICNR(keras_inits.RandomNormal(seed=1), scale, data_format)(
            shape
        )
    )
    # Which kernel channel feeds output channel c at block offset (i, j):
    # run the channel indices through depth_to_space.
    index = np.arange(shape[-1], dtype="float64")
    if data_format == "channels_last":
        feeds = depth_to_space(index.reshape(1, 1, 1, -1), scale)[0]
    else:
        feeds = depth_to_space(index.reshape(1, -1, 1, 1), scale, data_format)[
            0
        ].transpose(1, 2, 0)
    feeds = feeds.astype(int)  # (scale, scale, channels)
    for c in range(channels):
        first = kernel[..., feeds[0, 0, c]]
        for i in range(scale):
            for j in range(scale):
                np.testing.assert_array_equal(
                    kernel[..., feeds[i, j, c]], first
                )
    # The channels are not all the same: the sub-kernel is random.
    assert not np.allclose(
        kernel[..., feeds[0, 0, 0]], kernel[..., feeds[0, 0, 1]]
    )


def test_icnr_subpixel_convolution_has_no_checkerboard():
    scale = 2
    x = random_inputs((5, 5), 3)
    y, _ = conv(keras_inits.ICNR("he_normal", scale=scale), x, 2 * scale**2, 3)
    up = to_numpy(keras.ops.depth_to_space(y, scale))
    # Every scale x scale block of the upsampled output is constant: a
    # nearest-neighbour upsampling of the low-resolution output.
    blocks = up.reshape(2, 5, scale, 5, scale, 2)
    np.testing.assert_array_equal(
        blocks, np.broadcast_to(blocks[:, :, :1, :, :1], blocks.shape)
    )


def test_icnr_sub_kernel_is_the_wrapped_initializers_draw():
    kernel = to_numpy(
        keras_inits.ICNR(keras_inits.GlorotUniform(seed=5), scale=2)(
            (3, 3, 4, 12)
        )
    )
    expected = to_numpy(keras_inits.GlorotUniform(seed=5)((3, 3, 4, 3)))
    np.testing.assert_array_equal(kernel[..., :3], expected)


@pytest.mark.parametrize(
    "initializer",
    [
        "he_normal",
        keras_inits.HeUniform(seed=2),
        keras.initializers.Orthogonal(),
        {"class_name": "RandomNormal", "config": {"stddev": 0.5}},
    ],
)
def test_icnr_config_nests_the_initializer(initializer):
    init = keras_inits.ICNR(initializer, scale=3, data_format="channels_first")
    config = json.loads(json.dumps(init.get_config()))
    assert (
        config["initializer"]["class_name"] == type(init.initializer).__name__
    )
    rebuilt = keras_inits.ICNR.from_config(config)
    assert type(rebuilt.initializer) is type(init.initializer)
    assert rebuilt.get_config() == init.get_config()
    assert (
        keras.initializers.deserialize(
            keras.initializers.serialize(init)
        ).get_config()
        == init.get_config()
    )


@pytest.mark.parametrize("initializer", ["not_an_initializer", None, 3j])
def test_icnr_bad_initializer(initializer):
    with pytest.raises(
        ValueError,
        match="Argument `initializer` of ICNR must "
        "be an initializer, its name or its config",
    ):
        keras_inits.ICNR(initializer)


@pytest.mark.parametrize("scale", [0, -2, 1.5, True])
def test_icnr_bad_scale(scale):
    with pytest.raises(
        ValueError, match="Argument `scale` of ICNR must be a positive integer"
    ):
        keras_inits.ICNR(scale=scale)


def test_icnr_bad_data_format():
    with pytest.raises(
        ValueError,
        match="Invalid `data_format` argument: 'NHWC'. ICNR expects one of",
    ):
        keras_inits.ICNR(data_format="NHWC")


def test_icnr_needs_outputs_divisible_by_scale_squared():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "ICNR needs an output dimension divisible by scale**2 = 4. "
            "Received: shape=(3, 3, 2, 6)"
        ),
    ):
        keras_inits.ICNR(scale=2)((3, 3, 2, 6))


def test_icnr_needs_rank_four():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "ICNR needs a tensor of rank 4. Received: shape=(3, 2, 4)"
        ),
    ):
        keras_inits.ICNR()((3, 2, 4))


# Bilinear


def bilinear_upsample(x, factor):
    """numpy bilinear interpolation with aligned pixel centres: output pixel
    o samples the input at (o + 0.5) / factor - 0.5. Returns the upsampled
    image and a mask of the outputs whose four neighbours are all inside."""

    def axis_weights(n):
        src = (np.arange(n * factor) + 0.5) / factor - 0.5
        low = np.floor(src).astype(int)
        frac = src - low
        inside = (low >= 0) & (low + 1 <= n - 1)
        low = np.clip(low, 0, n - 1)
        high = np.clip(low + 1, 0, n - 1)
        matrix = np.zeros((n * factor, n))
        rows = np.arange(n * factor)
        matrix[rows, low] += 1 - frac
        matrix[rows, high] += frac
        return matrix, inside

    _, h, w, _ = x.shape
    rows, inside_h = axis_weights(h)
    cols, inside_w = axis_weights(w)
    y = np.einsum("ph,qw,nhwc->npqc", rows, cols, x)
    return y, inside_h[:, None] & inside_w[None, :]


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_bilinear_transposed_convolution_interpolates(factor):
    h, w = 6, 7
    grid_h, grid_w = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    smooth = np.stack(
        [
            np.sin(0.4 * grid_h + 0.3 * grid_w),
            np.cos(0.2 * grid_h) * grid_w / w + 1.0,
        ],
        axis=-1,
    )
    x = smooth[None].astype("float32")
    layer = keras.layers.Conv2DTranspose(
        2,
        2 * factor - factor % 2,
        strides=factor,
        padding="same",
        use_bias=False,
        kernel_initializer=keras_inits.Bilinear(),
    )
    y = to_numpy(layer(x))
    expected, interior = bilinear_upsample(x.astype("float64"), factor)
    assert y.shape == expected.shape
    assert interior.sum() >= (h - 1) * (w - 1) * factor**2
    np.testing.assert_allclose(
        y[0][interior], expected[0][interior], atol=1e-5
    )


@pytest.mark.parametrize(
    "size, taps",
    [
        (4, [1 / 4, 3 / 4, 3 / 4, 1 / 4]),
        (3, [1 / 2, 1, 1 / 2]),
        (5, [1 / 3, 2 / 3, 1, 2 / 3, 1 / 3]),
        (6, [1 / 6, 1 / 2, 5 / 6, 5 / 6, 1 / 2, 1 / 6]),
    ],
)
def test_bilinear_kernel_values(size, taps):
    kernel = to_numpy(keras_inits.Bilinear()((size, 4, 3, 3)))
    expected = np.einsum(
        "i,j,kl->ijkl", taps, [1 / 4, 3 / 4, 3 / 4, 1 / 4], np.eye(3)
    )
    np.testing.assert_allclose(kernel, expected, atol=1e-7)


def test_bilinear_needs_as_many_inputs_as_outputs():
    with pytest.raises(
        ValueError,
        match=re.escape("Bilinear needs as many input as output channels"),
    ):
        keras_inits.Bilinear()((4, 4, 2, 3))


def test_bilinear_needs_rank_four():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Bilinear needs a tensor of rank 4. Received: shape=(4, 2, 2)"
        ),
    ):
        keras_inits.Bilinear()((4, 2, 2))


# Float32 range, dtypes, float8 and nesting.

LOW_PRECISION = limits.LOW_PRECISION


@pytest.mark.parametrize("dtype", LOW_PRECISION)
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: keras_inits.Dirac(groups=2), (3, 2, 4)),
        (lambda: keras_inits.Bilinear(), (5, 6, 2, 2)),  # thirds and twelfths
        (lambda: keras_inits.DeltaOrthogonal(gain=1.5, seed=3), (3, 4, 4)),
        # Keras' own inner initializer draws in the dtype it is asked for: ICNR
        # asks for float32 and casts, so no float8 normal sampler runs.
        (
            lambda: keras_inits.ICNR(
                keras.initializers.RandomNormal(seed=2), 2
            ),
            (3, 3, 2, 8),
        ),
        (
            lambda: keras_inits.ICNR(
                keras_inits.GlorotUniform(seed=2), 2, "channels_first"
            ),
            (3, 3, 2, 8),
        ),
    ],
    ids=["Dirac", "Bilinear", "DeltaOrthogonal", "ICNR-keras", "ICNR"],
)
def test_low_precision_is_the_float32_result_cast(make, shape, dtype):
    skip_unless_storable(dtype)
    values = make()(shape, dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    expected = keras.ops.cast(make()(shape, dtype="float32"), dtype)
    np.testing.assert_array_equal(to_numpy(values), to_numpy(expected))
    assert np.all(np.isfinite(to_numpy(values)))


@pytest.mark.parametrize(
    "init, shape, bound",
    [
        (keras_inits.Dirac(), (3, 2, 2), 1.0),
        (keras_inits.Bilinear(), (3, 3, 2, 2), 1.0),
        (keras_inits.DeltaOrthogonal(gain=2.5, seed=1), (3, 4, 4), 2.5),
        # W copies W0: the bound of W0's shape (3, 3, 2, 2).
        (
            keras_inits.ICNR(keras_inits.RandomUniform(-3.0, 2.0, seed=1), 2),
            (3, 3, 2, 8),
            3.0,
        ),
    ],
)
def test_max_abs_bounds_the_values(init, shape, bound):
    assert init.max_abs(shape) == bound
    values = np.abs(to_numpy(init(shape)))
    assert 0 < values.max() <= bound * (1 + 1e-6)


def test_icnr_max_abs_is_unknown_for_shapes_it_refuses_and_keras_inits():
    init = keras_inits.ICNR(keras_inits.Orthogonal(), 2)
    assert init.max_abs((3, 3, 2, 8)) == 1.0
    assert init.max_abs((3, 3, 2, 6)) is None  # 6 % 4: refused when called
    # Keras' own initializers state no bound.
    init = keras_inits.ICNR(keras.initializers.RandomNormal(), 2)
    assert init.max_abs((3, 3, 2, 8)) is None


@pytest.mark.parametrize(
    "make, name",
    [
        (
            lambda: keras_inits.DeltaOrthogonal(gain=1e5, seed=1),
            "DeltaOrthogonal",
        ),
        # ICNR refuses for W0's bound itself, before its initializer draws.
        (
            lambda: keras_inits.ICNR(keras_inits.Orthogonal(gain=1e5), 2),
            "ICNR",
        ),
    ],
)
def test_a_dtype_that_cannot_hold_the_values_is_refused(make, name):
    shape = (3, 3, 4, 4) if name == "DeltaOrthogonal" else (3, 3, 2, 8)
    with pytest.raises(
        ValueError,
        match=re.escape(f"{name}(") + ".* makes "
        "values up to 1e\\+05 .*beyond float16's largest "
        "finite value 65504",
    ):
        make()(shape, dtype="float16")


def test_deterministic_kernels_check_the_call_first():
    # Through base.check_call: a shape that is no shape is refused naming
    # the initializer, and so is a kernel too large for memory, before
    # NumPy allocates it.
    with pytest.raises(
        ValueError, match="Dirac needs a shape of whole numbers"
    ):
        keras_inits.Dirac()((3, 2.0, 2))
    with pytest.raises(
        ValueError, match="Bilinear cannot fill a tensor of shape="
    ):
        keras_inits.Bilinear()((2**20, 2**20, 2**10, 2**10))
    with pytest.raises(ValueError, match="Dirac cannot fill a tensor"):
        keras_inits.Dirac()((2**20, 2**20, 2**10))


@pytest.mark.parametrize(
    "cls, name, value, message",
    [
        (
            keras_inits.Dirac,
            "groups",
            10**400,
            "a positive integer no larger than 2\\*\\*31 - 1",
        ),
        (keras_inits.Dirac, "groups", 2**31, "a positive integer no larger"),
        (keras_inits.ICNR, "scale", 10**400, "a positive integer no larger"),
    ],
)
def test_numbers_out_of_range_are_refused_at_construction(
    cls, name, value, message
):
    with pytest.raises(
        ValueError,
        match=f"Argument `{name}` of {cls.__name__} must be {message}",
    ):
        cls(**{name: value})


@pytest.mark.parametrize(
    "data_format",
    [
        np.array(["channels_last"]),
        np.array("channels_last"),
    ],
)
def test_icnr_array_data_format_is_a_choice_error(data_format):
    with pytest.raises(
        ValueError,
        match="Invalid `data_format` argument: .*ICNR expects one of",
    ):
        keras_inits.ICNR(data_format=data_format)


def nested_config(levels, leaf="ones"):
    """A config of `levels` ICNRs around `leaf`, built without recursion."""
    config = leaf
    for _ in range(levels):
        config = {
            "class_name": "ICNR",
            "registered_name": "keras_inits>ICNR",
            "config": {"initializer": config, "scale": 1},
        }
    return config


def test_icnr_nests_at_most_max_nesting_deep():
    # 31 ICNRs around "ones": 32 initializers deep, the limit. It saves,
    # loads and draws.
    init = keras_inits.deserialize(nested_config(31))
    config = json.loads(json.dumps(keras_inits.serialize(init)))
    assert to_numpy(keras_inits.deserialize(config)((1, 1, 1, 1))).item() == 1
    # One more is refused, as an instance and as a config.
    message = re.escape(
        "Argument `initializer` of ICNR must be nested at "
        "most 31 initializers deep"
    )
    with pytest.raises(ValueError, match=message):
        keras_inits.ICNR(init, scale=1)
    with pytest.raises(ValueError, match=message):
        keras_inits.deserialize(nested_config(32))


@pytest.mark.parametrize(
    "load",
    [
        keras_inits.deserialize,
        keras.initializers.deserialize,
        keras.initializers.get,
        lambda config: keras_inits.ICNR.from_config(config["config"]),
        lambda config: keras_inits.ICNR(config),
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
    with pytest.raises(
        ValueError,
        match="Argument `initializer` of ICNR "
        "must be nested at most 31 initializers deep",
    ):
        load(nested_config(10000))


def test_an_error_of_the_wrapped_initializer_names_icnr():
    init = keras_inits.ICNR(np.array([1.0, 2.0]), scale=2)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The `initializer` of ICNR cannot fill shape=(3, 3, 2, 2): "
        )
        + ".*ConstantArray needs the shape of its value",
    ):
        init((3, 3, 2, 8))
