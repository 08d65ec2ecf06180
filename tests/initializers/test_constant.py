"""Exact tests of Zeros, Ones, Constant, Identity and STFT."""

import json
import re

import keras
import numpy as np
import pytest

import keras_inits


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("dtype", ["int32", "bool", "float16"])
def test_constants_take_any_numeric_dtype(dtype):
    assert to_numpy(keras_inits.Zeros()((2,), dtype)).tolist() == [0, 0]
    assert to_numpy(keras_inits.Ones()((2,), dtype)).tolist() == [1, 1]
    assert (
        keras.backend.standardize_dtype(keras_inits.Ones()((2,), dtype).dtype)
        == dtype
    )


def test_constant_values():
    assert to_numpy(keras_inits.Constant(3)((2, 2), "int32")).tolist() == [
        [3, 3],
        [3, 3],
    ]
    assert to_numpy(keras_inits.Constant(-np.inf)((1,))).tolist() == [-np.inf]
    assert keras_inits.Constant(np.float32(0.5)).get_config() == {"value": 0.5}


@pytest.mark.parametrize(
    "value",
    [
        np.nan,
        "1",
        None,
        True,
        1 + 2j,
        {"a": 1},
        ["1", "2"],
        [[1.0], [2.0, 3.0]],
        [1.0, np.nan],
        np.array([True]),
        np.array([1.0], dtype=np.longdouble),
        # Beyond every Keras dtype: int64's and uint64's range, float64's range.
        2**64,
        -(2**63) - 1,
        10**400,
        [2**64],
        np.longdouble("1e4000"),
        # Integers no one integer dtype holds (NumPy would make them float64).
        [-1, 2**64 - 1],
    ],
)
def test_constant_refuses_what_no_keras_dtype_holds(value):
    # A ValueError naming `value`, never NumPy's TypeError ("ufunc 'isnan'
    # not supported") or an OverflowError.
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `value` of Constant must be a real number or an array "
            "of real numbers. Received: value="
        ),
    ):
        keras_inits.Constant(value)


@pytest.mark.parametrize("value", [2**64 - 1, -(2**63), 1.7e308, -np.inf])
def test_constant_takes_the_extremes_of_keras_dtypes(value):
    assert keras_inits.Constant(value).get_config() == {"value": value}


def test_lists_of_integers_stay_exact():
    assert keras_inits.Constant([0, 2**64 - 1]).value.dtype == "uint64"
    assert keras_inits.Constant([-1, 2**62 + 1]).value.tolist() == [
        -1,
        2**62 + 1,
    ]
    assert keras_inits.Constant([1, 0.5]).value.dtype == "float64"


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_identity(shape):
    np.testing.assert_array_equal(
        to_numpy(keras_inits.Identity(gain=0.5)(shape)), 0.5 * np.eye(*shape)
    )


@pytest.mark.parametrize("shape", [(3,), (3, 3, 3)])
def test_identity_needs_a_matrix(shape):
    # Keras' sentence first, for code that matches Keras' message.
    message = (
        "Identity matrix initializer can only be used for 2D "
        "matrices. Identity needs a tensor of rank 2. Received: "
        f"shape={shape} of rank {len(shape)}."
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        keras_inits.Identity()(shape)


# Beyond float32 (1e300, -1e39) or any float (10**400): a ValueError naming
# `gain`, never an OverflowError.
@pytest.mark.parametrize("gain", [np.inf, "2", None, 1e300, -1e39, 10**400])
def test_identity_refuses_bad_gain(gain):
    with pytest.raises(
        ValueError, match="Argument `gain` of Identity must be a finite number"
    ):
        keras_inits.Identity(gain)


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize(
    "window, scaling",
    [
        ("hann", "density"),
        ("hamming", "spectrum"),
        (None, None),
        (None, "density"),
        (None, "spectrum"),
        ([0.5, 1.0, 1.0, 0.5, 0.25, 1.0, 0.75, 0.1], "density"),
    ],
)
def test_stft_kernel_computes_the_dft_of_windowed_frames(
    side, window, scaling
):
    frame_length, bins = 8, 5
    kernel = to_numpy(
        keras_inits.STFT(side, window, scaling)(
            (frame_length, 1, bins),
            dtype="float64" if keras.backend.backend() != "jax" else "float32",
        )
    )
    signal = np.random.default_rng(0).normal(size=frame_length)
    if window is None:
        w = np.ones(frame_length)
    elif isinstance(window, str):
        import scipy.signal

        w = scipy.signal.get_window(window, frame_length, fftbins=False)
    else:
        w = np.asarray(window)
    scale = {
        "density": np.sqrt(np.sum(w**2)),
        "spectrum": np.sum(np.abs(w)),
        None: 1.0,
    }[scaling]
    if window is None:  # no window, no scaling, as keras.initializers.STFT
        scale = 1.0
    spectrum = np.fft.rfft(signal * w) / scale
    expected = spectrum.real if side == "real" else spectrum.imag
    np.testing.assert_allclose(signal @ kernel[:, 0, :], expected, atol=1e-5)


def test_stft_periodic_window_and_channels():
    kernel = to_numpy(
        keras_inits.STFT(window="hann", periodic=True, scaling=None)((4, 3, 3))
    )
    import scipy.signal

    w = scipy.signal.get_window("hann", 4, fftbins=True)
    np.testing.assert_allclose(kernel[:, 2, 0], w, atol=1e-7)
    np.testing.assert_array_equal(kernel[:, 0, :], kernel[:, 2, :])


def test_stft_bad_arguments():
    with pytest.raises(
        ValueError,
        match="Argument `window` of STFT must be "
        "None, a list of numbers or the name of a "
        "scipy.signal.windows window. Received: window='hanning",
    ):
        keras_inits.STFT(window="hanning2")
    with pytest.raises(
        ValueError, match="Argument `periodic` of STFT must be a bool"
    ):
        keras_inits.STFT(periodic="yes")
    with pytest.raises(ValueError, match="STFT needs a tensor of rank 3"):
        keras_inits.STFT()((4, 3))


# STFT: Keras' wording first, then ours; every window value a number.

KERAS_FRAME = "The shape of `window` must be equal to [frame_length]."


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: keras_inits.STFT(side="both"),
            "side should be 'real' or 'imag', not both. Invalid `side` argument: "
            "'both'. STFT expects one of ['imag', 'real'].",
        ),
        (
            lambda: keras_inits.STFT(side=np.array(["real", "imag"])),
            "side should be 'real' or 'imag', not ['real' 'imag']. Invalid `side` "
            "argument: array(['real', 'imag']",
        ),
        (
            lambda: keras_inits.STFT(scaling="energy"),
            "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
            "Invalid `scaling` argument: 'energy'. STFT expects one of",
        ),
        (
            lambda: keras_inits.STFT(scaling=np.array(["density"])),
            "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
            "Invalid `scaling` argument: array(['density']",
        ),
        (
            lambda: keras_inits.STFT(window=[1.0, 1.0])((4, 1, 3)),
            f"{KERAS_FRAME} STFT needs a window of frame_length values. Received: "
            "window of length 2 for shape=(4, 1, 3)",
        ),
        (
            lambda: keras_inits.STFT(window=[0.0] * 4)((4, 1, 3)),
            "STFT cannot scale a window of zeros: scaling='density' divides by its "
            "norm. Use scaling=None or another window. Received: window=[0.0, 0.0, "
            "0.0, 0.0] for shape=(4, 1, 3)",
        ),
    ],
)
def test_stft_errors_start_with_keras_wording(make, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        make()


# Strings NumPy would read as numbers, nested lists, booleans, NaN, and
# numbers beyond float32 (10**400 beyond any float: no OverflowError).
@pytest.mark.parametrize(
    "window",
    [
        ["1", "2"],
        np.array(["1.0", "2.0"]),
        [[1.0, 2.0]],
        [True, False],
        [1.0, np.nan],
        [1.0, np.inf],
        [1e39],
        [10**400],
        ("tukey", 0.5),
    ],
)
def test_stft_window_must_be_numbers(window):
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `window` of STFT must be a 1-D list of finite numbers "
            "float32 can hold (|x| <= 3.4e38). Received: window="
        ),
    ):
        keras_inits.STFT(window=window)


def test_stft_window_may_be_an_array_or_a_tensor():
    values = [0.5, 1.0, 1.0, 0.5]
    expected = to_numpy(keras_inits.STFT(window=values)((4, 1, 3)))
    for window in (
        np.asarray(values, "float32"),
        keras.ops.convert_to_tensor(values),
    ):
        init = keras_inits.STFT(window=window)
        assert init.window == values
        np.testing.assert_array_equal(to_numpy(init((4, 1, 3))), expected)


# Keras' own STFT for the same arguments: its kernel is (frame_length, 1,
# bins); phases up to 2 pi 15 * 8 / 16 ~ 47 radians cost float32 ~5e-6.
@pytest.mark.parametrize(
    "arguments",
    [
        ("real", None),
        ("imag", None),
        ("real", None, "spectrum"),
        ("real", None, None),
        ("real", "hann"),
        ("imag", "hamming", None, True),
        ("imag", "tukey", "density", False),
        ("real", "blackman", "spectrum"),
        ("imag", [float(i) for i in range(1, 17)], "spectrum"),
    ],
    ids=repr,
)
def test_stft_gives_the_values_of_keras_stft(arguments):
    shape = (16, 1, 9)
    theirs = to_numpy(keras.initializers.STFT(*arguments)(shape, "float32"))
    ours = to_numpy(keras_inits.STFT(*arguments)(shape, "float32"))
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


# Deterministic initializers: float16, bfloat16 and float8 values are the
# float32 ones cast (TensorFlow cannot fill a float8 tensor itself), and
# `max_abs` bounds every value.

DETERMINISTIC = {
    "Zeros": (keras_inits.Zeros, (2, 3)),
    "Ones": (keras_inits.Ones, (2, 3)),
    "Constant": (lambda: keras_inits.Constant(0.75), (2, 3)),
    "Constant(array)": (
        lambda: keras_inits.Constant([0.5, -1.5, 2.0]),
        (2, 3),
    ),
    "Identity": (lambda: keras_inits.Identity(gain=-1.5), (3, 3)),
    "STFT": (keras_inits.STFT, (8, 2, 5)),
    "STFT(None)": (lambda: keras_inits.STFT("imag", None), (8, 1, 5)),
    "STFT(list, None)": (
        lambda: keras_inits.STFT(window=[3.0, -2.0, 1.0, 4.0], scaling=None),
        (4, 1, 3),
    ),
    "STFT(hamming, None)": (
        lambda: keras_inits.STFT(window="hamming", scaling=None),
        (7, 1, 4),
    ),
}


@pytest.mark.parametrize(
    "dtype", ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"]
)
@pytest.mark.parametrize("name", DETERMINISTIC)
def test_low_precision_values_are_the_float32_ones_cast(name, dtype):
    make, shape = DETERMINISTIC[name]
    values = make()(shape, dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    expected = keras.ops.cast(make()(shape, "float32"), dtype)
    np.testing.assert_array_equal(
        to_numpy(keras.ops.cast(values, "float32")),
        to_numpy(keras.ops.cast(expected, "float32")),
    )


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_max_abs_bounds_the_values(name):
    make, shape = DETERMINISTIC[name]
    init = make()
    largest = np.abs(to_numpy(init(shape, "float32"))).max()
    assert init.max_abs(shape) is not None
    assert largest <= init.max_abs(shape) * (1 + 1e-6)


def test_max_abs_of_constant_ignores_infinities():
    assert keras_inits.Constant(-np.inf).max_abs((2,)) is None
    assert keras_inits.Constant([-np.inf, -3.0, 2.0]).max_abs((3,)) == 3.0
    # Masks of -inf stay -inf in any floating dtype.
    values = keras_inits.Constant([0.0, -np.inf])((2, 2), "float16")
    assert to_numpy(values).tolist() == [[0.0, -np.inf], [0.0, -np.inf]]


# Built in the test, not at collection: a constructor error fails one test.
@pytest.mark.parametrize(
    "make, shape, dtype",
    [
        (lambda: keras_inits.Constant(1e5), (2,), "float16"),
        (lambda: keras_inits.Constant(-1000.0), (2,), "float8_e4m3fn"),
        (lambda: keras_inits.Constant([1.0, -1e39]), (2,), "float32"),
        (lambda: keras_inits.Identity(gain=7e4), (2, 2), "float16"),
        (
            lambda: keras_inits.STFT(window=[1e3] * 4, scaling=None),
            (4, 1, 3),
            "float8_e4m3fn",
        ),
    ],
    ids=[
        "Constant-float16",
        "Constant-float8",
        "Constant(array)-float32",
        "Identity-float16",
        "STFT-float8",
    ],
)
def test_values_beyond_a_floating_dtype_are_refused(make, shape, dtype):
    init = make()
    with pytest.raises(
        ValueError, match=re.escape(f"{init!r} makes values up to")
    ):
        init(shape, dtype)


@pytest.mark.parametrize(
    "make, dtype, values",
    [
        (lambda: keras_inits.Constant(300), "int8", "the value 300"),
        (lambda: keras_inits.Constant(-1), "uint8", "the value -1"),
        (
            lambda: keras_inits.Constant(2**63),
            "int64",
            "the value 9223372036854775808",
        ),
        (lambda: keras_inits.Constant(-np.inf), "int32", "the value -inf"),
        (
            lambda: keras_inits.Constant(1e10),
            "int32",
            "the value 10000000000.0",
        ),
        (
            lambda: keras_inits.Constant([1, 300]),
            "int8",
            "values from 1 to 300",
        ),
        (
            lambda: keras_inits.Identity(gain=1e10),
            "int32",
            "values from 0.0 to 10000000000.0",
        ),
        (lambda: keras_inits.STFT(), "uint8", "values from -1.0 to 1.0"),
    ],
    ids=lambda x: x if isinstance(x, str) and " " not in x else None,
)
def test_values_beyond_an_integer_dtype_are_refused(make, dtype, values):
    init = make()
    shape = (4, 1, 3) if isinstance(init, keras_inits.STFT) else (2, 2)
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"{init!r} makes {values}, beyond the range of {dtype} ("
        ),
    ):
        init(shape, dtype)


def test_integer_dtypes_get_what_a_cast_gives():
    assert to_numpy(keras_inits.Constant(127.9)((2,), "int8")).tolist() == [
        127,
        127,
    ]
    assert to_numpy(keras_inits.Constant(-0.5)((1,), "uint8")).tolist() == [0]
    assert to_numpy(keras_inits.Constant(3)((2,), "bool")).tolist() == [
        True,
        True,
    ]
    assert to_numpy(
        keras_inits.Constant([1.5, -2.5])((2,), "int32")
    ).tolist() == [1, -2]
    assert to_numpy(
        keras_inits.Identity(gain=2)((2, 2), "int32")
    ).tolist() == [[2, 0], [0, 2]]
    # Keras' PyTorch backend has no uint64, and JAX without jax_enable_x64
    # (Keras' default) makes 64-bit dtypes 32-bit.
    if keras.backend.backend() in ("numpy", "tensorflow"):
        assert to_numpy(
            keras_inits.Constant(2**64 - 1)((1,), "uint64")
        ).tolist() == [2**64 - 1]


# Constant with an array, as keras.initializers.Constant takes.


def test_constant_broadcasts_an_array_as_keras_does():
    value = np.random.default_rng(0).random((3, 3))
    np.testing.assert_array_equal(
        to_numpy(keras_inits.Constant(value)((3, 3))),
        to_numpy(keras.initializers.Constant(value)((3, 3))),
    )
    rows = keras_inits.Constant([1.0, 2.0])((3, 2))
    assert to_numpy(rows).tolist() == [[1.0, 2.0]] * 3
    columns = keras_inits.Constant(keras.ops.convert_to_tensor([[1], [2]]))
    assert to_numpy(columns((2, 3), "int32")).tolist() == [
        [1, 1, 1],
        [2, 2, 2],
    ]
    assert columns.value.dtype == "int32"


@pytest.mark.parametrize(
    "value, shape",
    [
        ([1.0, 2.0, 3.0], (2, 2)),
        # Keras' Constant would return a (3, 3) tensor for shape (3,).
        (np.ones((3, 3)), (3,)),
    ],
)
def test_a_value_that_cannot_broadcast_is_refused_naming_both_shapes(
    value, shape
):
    message = (
        f"Constant cannot broadcast its value of shape "
        f"{np.shape(value)} to the requested shape. Received: "
        f"shape={shape}"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        keras_inits.Constant(value)(shape)


def test_constant_keeps_a_copy_of_the_array():
    value = np.zeros(2)
    init = keras_inits.Constant(value)
    value[0] = 5.0
    assert to_numpy(init((2,))).tolist() == [0.0, 0.0]


def test_low_precision_arrays_are_kept_as_float32():
    import ml_dtypes

    init = keras_inits.Constant(np.array([1.5, -2.0], ml_dtypes.bfloat16))
    assert init.value.dtype == "float32"
    assert init.value.tolist() == [1.5, -2.0]


ARRAYS = {
    "float16": np.array([0.1, -65504.0, np.inf], "float16"),
    "float32": np.random.default_rng(1).normal(size=(2, 3)).astype("float32"),
    "float64": np.array([[1 / 3, -1e300], [5e-324, -np.inf]]),
    "int8": np.array([-128, 127], "int8"),
    "int64": np.array([-(2**63), 2**63 - 1]),
    "uint64": np.array([0, 2**64 - 1], "uint64"),
}


@pytest.mark.parametrize("name", ARRAYS)
def test_an_array_config_is_json_and_restores_values_and_dtype(name):
    value = ARRAYS[name]
    init = keras_inits.Constant(value)
    config = init.get_config()
    assert config == {
        "value": {
            "class_name": "__numpy__",
            "config": {"value": value.tolist(), "dtype": name},
        }
    }
    routes = {
        "from_config": lambda: keras_inits.Constant.from_config(
            json.loads(json.dumps(config))
        ),
        "deserialize": lambda: keras_inits.deserialize(
            json.loads(json.dumps(keras_inits.serialize(init)))
        ),
        "keras": lambda: keras.saving.deserialize_keras_object(
            json.loads(json.dumps(keras.saving.serialize_keras_object(init)))
        ),
    }
    for route, rebuild in routes.items():
        rebuilt = rebuild()
        assert type(rebuilt) is keras_inits.Constant, route
        assert rebuilt.value.dtype == value.dtype, route
        np.testing.assert_array_equal(rebuilt.value, value, err_msg=route)
        assert rebuilt.get_config() == config, route


@pytest.mark.parametrize(
    "make",
    [np.asarray, keras.ops.convert_to_tensor, lambda value: value.tolist()],
)
def test_a_config_keras_constant_writes_for_an_array_loads(make):
    value = np.arange(6, dtype="float32").reshape(2, 3) / 7
    theirs = keras.initializers.Constant(make(value))
    config = json.loads(json.dumps(theirs.get_config()))
    for ours in (
        keras_inits.Constant.from_config(config),
        keras_inits.deserialize({"class_name": "Constant", "config": config}),
    ):
        assert type(ours) is keras_inits.Constant
        np.testing.assert_array_equal(
            to_numpy(ours((2, 3))), to_numpy(theirs((2, 3)))
        )


@pytest.mark.parametrize(
    "saved",
    [
        {
            "class_name": "__numpy__",
            "config": {"value": [300], "dtype": "int8"},
        },
        {
            "class_name": "__numpy__",
            "config": {"value": [1.5], "dtype": "int32"},
        },
        {
            "class_name": "__numpy__",
            "config": {"value": [1e300], "dtype": "float32"},
        },
        {
            "class_name": "__numpy__",
            "config": {"value": [10**400], "dtype": "float64"},
        },
        {
            "class_name": "__numpy__",
            "config": {"value": [True], "dtype": "bool"},
        },
        {
            "class_name": "__numpy__",
            "config": {"value": ["1"], "dtype": "str"},
        },
        {"class_name": "__numpy__", "config": {"value": [1.0]}},
        {
            "class_name": "__numpy__",
            "config": {"value": [1.0], "dtype": "float32", "extra": 1},
        },
        {
            "class_name": "__lambda__",
            "config": {"value": [1.0], "dtype": "float32"},
        },
        {"class_name": "keras_inits>Constant", "config": {"value": 1.0}},
    ],
)
def test_a_saved_array_is_read_field_by_field(saved):
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `value` of Constant must be a number, nested lists, or "
            "Keras' saved form of an array"
        ),
    ):
        keras_inits.Constant.from_config({"value": saved})


def _array_model():
    inputs = keras.Input((3,))
    dense = keras.layers.Dense(
        4,
        kernel_initializer=keras_inits.Constant(
            np.linspace(-1, 1, 4, dtype="float32")
        ),
        bias_initializer=keras_inits.Constant([1, 2, 3, 4]),
    )
    return keras.Model(inputs, dense(inputs)), dense


def test_constant_with_an_array_saves_with_the_model(tmp_path):
    model, dense = _array_model()
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    rebuilt = {
        "load_model": loaded,
        "model_from_json": keras.models.model_from_json(model.to_json()),
        "clone_model": keras.models.clone_model(model),
    }
    for route, other in rebuilt.items():
        layer = other.layers[-1]
        for attribute in ("kernel_initializer", "bias_initializer"):
            original = getattr(dense, attribute)
            init = getattr(layer, attribute)
            assert type(init) is keras_inits.Constant, route
            assert init.value.dtype == original.value.dtype, route
            assert init.get_config() == original.get_config(), route
        for weight, expected in zip(layer.weights, dense.weights):
            np.testing.assert_array_equal(
                to_numpy(weight), to_numpy(expected), err_msg=route
            )
    assert to_numpy(dense.bias).tolist() == [1.0, 2.0, 3.0, 4.0]
