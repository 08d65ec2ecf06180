"""Initializers whose values do not depend on a seed.

Each checks its call with `base.check_call`, computes its values in the
`compute_dtype` that returns (float32 for float16, bfloat16 and float8
weights: TensorFlow cannot even fill a float8 tensor) and casts them, and
bounds them in `max_abs`, so that a dtype which cannot hold them is refused
before anything is allocated: a floating-point one by `check_call`, an
integer one by `_check_integer_range`.
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_inits import base
from keras_inits import limits


def _finish(values, dtype, compute_dtype):
    """`values`, a tensor of `compute_dtype`, as a tensor of `dtype`."""
    return values if compute_dtype == dtype else ops.cast(values, dtype)


def _from_numpy(values, dtype, compute_dtype):
    """A NumPy array of values as a tensor of `dtype`, through
    `compute_dtype` (NumPy's `astype` also materializes a broadcast view)."""
    values = ops.convert_to_tensor(values.astype(compute_dtype), compute_dtype)
    return _finish(values, dtype, compute_dtype)


def _check_integer_range(initializer, dtype, lowest, highest):
    """Raises a ValueError naming `initializer` when the integer `dtype`
    cannot hold values from `lowest` to `highest` (after truncation toward
    zero, as a cast does): a cast would wrap them around silently. Floating
    dtypes are `base.check_call`'s, and any value fits a bool."""
    if not keras.backend.is_int_dtype(dtype):
        return
    # JAX without x64 stores int64 as int32.
    info = np.iinfo(limits.stored_dtype(dtype))
    # Python numbers compare exactly, 2**63 with int64's maximum included.
    low, high = (x if isinstance(x, int) or not math.isfinite(x)
                 else math.trunc(x) for x in (lowest, highest))
    if not info.min <= low <= high <= info.max:
        values = (f"the value {lowest!r}" if lowest == highest
                  else f"values from {lowest!r} to {highest!r}")
        raise ValueError(
            f"{initializer!r} makes {values}, beyond the range of {dtype} "
            f"({info.min} to {info.max}). Use a wider dtype or another "
            f"value. Received: dtype={dtype!r}"
        )


# Low-precision dtypes that NumPy names only through ml_dtypes: an array of
# one is kept as float32, which holds its values exactly.
_ML_DTYPES = tuple(d for d in limits.LOW_PRECISION if d != "float16")


def _real_array(value):
    """`value` (a number, nested lists, a NumPy array or a backend tensor)
    as a NumPy array of integers or floats of a dtype Keras stores, or None.

    NumPy's own inference sets the range: an integer from -2**63 to
    2**64 - 1 (int64's and uint64's) or a float within float64's; beyond
    that NumPy makes an object array, refused here. bfloat16 and float8
    arrays (ml_dtypes) become float32, which holds them exactly; booleans,
    complex numbers, strings and ragged lists are refused.
    """
    if keras.ops.is_tensor(value):
        value = keras.ops.convert_to_numpy(value)
    elif isinstance(value, numbers.Real) and not isinstance(
        value, numbers.Integral
    ):
        # A Fraction or NumPy's longdouble: None if beyond float64 (a finite
        # longdouble would become an infinity).
        number = base.as_float(value)
        if number is not None and math.isinf(number) and isinstance(
            value, np.floating
        ) and np.isfinite(value):
            number = None
        value = number
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged nested lists
        return None
    if array.dtype.kind == "f" and not isinstance(value, np.ndarray):
        array = _exact_integers(value, array)
    if array is None:
        return None
    if array.dtype.name in _ML_DTYPES:
        array = array.astype("float32")
    if array.dtype.kind not in "iuf" or array.dtype.itemsize > 8:
        return None
    return array


def _exact_integers(value, array):
    """Nested lists of integers as an int64 or uint64 array, exactly, or
    None; `array` (NumPy's float64 inference) when they hold any float.

    NumPy reads `[0, 2**64 - 1]` as float64, which loses digits: one
    integer dtype must hold them all."""
    leaves = np.asarray(value, dtype=object).ravel()
    if not all(isinstance(x, numbers.Integral) for x in leaves):
        return array
    for dtype in ("int64", "uint64"):
        try:
            return np.asarray(value, dtype=dtype)
        except OverflowError:
            continue
    return None


@base.register
class Zeros(base.Initializer):
    """Initializer that fills a tensor with 0.

    Any numeric or boolean dtype; the default is `keras.config.floatx()`.
    Matches `keras.initializers.Zeros`, `torch.nn.init.zeros_` and
    `jax.nn.initializers.zeros`.

    Examples:

    >>> import keras_inits
    >>> keras.ops.convert_to_numpy(keras_inits.Zeros()(shape=(2, 2))).tolist()
    [[0.0, 0.0], [0.0, 0.0]]

    >>> layer = keras.layers.Dense(3, bias_initializer="keras_inits>Zeros")
    """

    def __call__(self, shape, dtype=None):
        shape, dtype, compute_dtype = base.check_call(self, shape, dtype)
        return _finish(ops.zeros(shape, compute_dtype), dtype, compute_dtype)

    def max_abs(self, shape):
        return 0.0


@base.register
class Ones(base.Initializer):
    """Initializer that fills a tensor with 1.

    Any numeric or boolean dtype; the default is `keras.config.floatx()`.
    Matches `keras.initializers.Ones`, `torch.nn.init.ones_` and
    `jax.nn.initializers.ones`.

    Examples:

    >>> import keras_inits
    >>> keras.ops.convert_to_numpy(keras_inits.Ones()(shape=(2,), dtype="int32")).tolist()
    [1, 1]

    >>> layer = keras.layers.Dense(3, bias_initializer="keras_inits>Ones")
    """

    def __call__(self, shape, dtype=None):
        shape, dtype, compute_dtype = base.check_call(self, shape, dtype)
        return _finish(ops.ones(shape, compute_dtype), dtype, compute_dtype)

    def max_abs(self, shape):
        return 1.0


# The forms in which Keras' `serialize_keras_object` writes an array into a
# config (a NumPy array, a backend tensor), and the dtypes read back from
# them: those a `Constant` keeps.
_SAVED_ARRAYS = ("__numpy__", "__tensor__")
_SAVED_DTYPES = (
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", *_ML_DTYPES,
)


def _saved_array(owner, saved):
    """The array in Keras' config form `{"class_name": "__numpy__", "config":
    {"value": nested lists, "dtype": name}}` (or `"__tensor__"`), read
    field by field: nothing is imported or called, and values that the
    dtype does not hold exactly (a corrupted file) are refused."""
    inner = saved.get("config")
    array = None
    if (isinstance(saved.get("class_name"), str)
            and saved["class_name"] in _SAVED_ARRAYS
            and isinstance(inner, dict) and set(inner) == {"value", "dtype"}
            and isinstance(inner["dtype"], str)
            and inner["dtype"] in _SAVED_DTYPES):
        array = _real_array(inner["value"])
    if array is not None:
        dtype = inner["dtype"]
        if dtype in _ML_DTYPES:
            import ml_dtypes  # a dependency of Keras

            dtype = getattr(ml_dtypes, dtype)
        with np.errstate(all="ignore"):
            typed = array.astype(dtype)
        # NaN never equals itself, so this refuses it too.
        if np.array_equal(typed.astype(array.dtype), array):
            return _real_array(typed)
    raise base.argument_error(
        owner, "value",
        "a number, nested lists, or Keras' saved form of an array "
        "({'class_name': '__numpy__', 'config': {'value': [...], 'dtype': "
        "...}}) whose values its dtype holds", saved,
    )


def _fill_value(value, dtype):
    """`value` as a NumPy scalar of `dtype`, as a cast makes it (integers
    truncate toward zero; the range is checked before). Not a Python int:
    TensorFlow converts none beyond int64's range, even for uint64."""
    if keras.backend.is_int_dtype(dtype) and not isinstance(value, int):
        value = math.trunc(value)
    return np.array(value, dtype=dtype)[()]


@base.register
class Constant(base.Initializer):
    """Initializer that fills a tensor with `value`, a number or an array.

    A number fills every entry. An array (a NumPy array, nested lists or a
    backend tensor) is broadcast to the requested shape as
    `numpy.broadcast_to` does: `Constant([1.0, 2.0])` fills each row of a
    `(3, 2)` kernel with `[1, 2]`, and a shape it cannot broadcast to is a
    `ValueError` (Keras' `Constant` returns a tensor of the broadcast shape
    instead, which may not be the one asked for). The array is saved with
    the model, values and dtype, in Keras' own form (`{"class_name":
    "__numpy__", ...}`), so keep it small; the config Keras writes for its
    `Constant` of an array loads too. For an array that must have exactly
    the requested shape, as `keras.initializers.get(array)` requires, see
    `ConstantArray`.

    `value` must be storable in some Keras dtype: an integer from -2**63 to
    2**64 - 1 (int64's and uint64's ranges: beyond them every dtype loses
    digits), any other real number within float64's range, or an infinity
    (as in attention masks); never NaN or a boolean. Whether the dtype of a
    call holds it is checked at the call, before anything is allocated:
    `Constant(300)(shape, "int8")` and `Constant(1e39)(shape)` (float32)
    raise where a cast would wrap around or overflow. The dtype is any
    numeric or boolean one, by default `keras.config.floatx()`. Matches
    `keras.initializers.Constant` and `torch.nn.init.constant_`.

    Args:
        value: A real number, or an array of real numbers (nested lists, a
            NumPy array or a backend tensor; a 0-d array is a number).
            bfloat16 and float8 arrays are kept as float32, which holds
            their values exactly.

    Examples:

    >>> import keras_inits
    >>> keras.ops.convert_to_numpy(keras_inits.Constant(0.5)(shape=(3,))).tolist()
    [0.5, 0.5, 0.5]
    >>> keras.ops.convert_to_numpy(
    ...     keras_inits.Constant([1, 2])(shape=(2, 2), dtype="int32")).tolist()
    [[1, 2], [1, 2]]

    >>> layer = keras.layers.Dense(3, bias_initializer=keras_inits.Constant(0.1))
    """

    _REQUIREMENT = "a real number or an array of real numbers"

    def __init__(self, value=0.0):
        array = _real_array(value)
        if array is None or np.isnan(array).any():
            raise base.argument_error(type(self).__name__, "value",
                                      self._REQUIREMENT, value)
        # A copy: the caller's array may change after this.
        self._array = np.array(array)
        self.value = self._array.item() if array.ndim == 0 else self._array

    def get_config(self):
        if isinstance(self.value, np.ndarray):
            # Keras' own form for an array: JSON, exact in every dtype kept.
            return {"value": {"class_name": "__numpy__", "config": {
                "value": self.value.tolist(), "dtype": self.value.dtype.name,
            }}}
        return {"value": self.value}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("value"), dict):
            config["value"] = _saved_array(cls.__name__, config["value"])
        return cls(**config)

    def max_abs(self, shape):
        # Infinite values are meant (masks): only the finite ones are bounded.
        finite = self._array[np.isfinite(self._array)].astype("float64")
        return float(np.abs(finite).max()) if finite.size else None

    def _broadcast(self, shape):
        """The values for `shape`, a read-only view, or a ValueError."""
        try:
            return np.broadcast_to(self._array, shape)
        except ValueError:
            raise ValueError(
                f"Constant cannot broadcast its value of shape "
                f"{self._array.shape} to the requested shape. Received: "
                f"shape={shape}"
            ) from None

    def __call__(self, shape, dtype=None):
        shape, dtype, compute_dtype = base.check_call(self, shape, dtype)
        values = self._broadcast(shape)
        if self._array.size:
            _check_integer_range(self, dtype, self._array.min().item(),
                                 self._array.max().item())
        if self._array.ndim == 0:
            # The backend fills the tensor: no NumPy copy of it on the way.
            values = ops.full(shape, _fill_value(self.value, compute_dtype),
                              compute_dtype)
            return _finish(values, dtype, compute_dtype)
        return _from_numpy(values, dtype, compute_dtype)

    def __repr__(self):
        if self._array.ndim == 0:
            return super().__repr__()
        return (f"Constant(value=<array of shape {self._array.shape} and "
                f"dtype {self._array.dtype}>)")


@base.register
class Identity(base.Initializer):
    """Initializer that generates `gain` times the identity matrix.

    For a `(rows, cols)` matrix, `W[i, j] = gain if i == j else 0`; a
    non-square matrix gets the identity on its leading square block. Only
    matrices: for convolution kernels that pass their input through, see
    `Dirac`. Matches `keras.initializers.Identity` and `torch.nn.init.eye_`
    (which has no gain).

    Any numeric dtype that holds `gain` (an integer one truncates it, as a
    cast does); the default is `keras.config.floatx()`.

    Args:
        gain: Multiplicative factor, a finite number float32 can hold.

    Examples:

    >>> import keras_inits
    >>> keras.ops.convert_to_numpy(keras_inits.Identity(gain=2.0)(shape=(2, 3))).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]

    >>> layer = keras.layers.Dense(4, kernel_initializer="keras_inits>Identity")
    """

    def __init__(self, gain=1.0):
        self.gain = base.check_number("Identity", "gain", gain)

    def max_abs(self, shape):
        return abs(self.gain)

    def __call__(self, shape, dtype=None):
        shape = base.check_shape("Identity", shape)
        try:
            base.check_rank("Identity", shape, 2, 2)
        except ValueError as error:
            raise base.keras_wording(
                "Identity matrix initializer can only be used for 2D "
                "matrices.", error,
            ) from None
        shape, dtype, compute_dtype = base.check_call(self, shape, dtype)
        _check_integer_range(self, dtype, min(self.gain, 0.0),
                             max(self.gain, 0.0))
        values = ops.eye(*shape, dtype=compute_dtype) * ops.cast(
            _fill_value(self.gain, compute_dtype), compute_dtype)
        return _finish(values, dtype, compute_dtype)


_STFT_SIDES = ("real", "imag")
_STFT_SCALINGS = ("density", "spectrum")


@base.register
class STFT(base.Initializer):
    """Convolution kernel that computes a short-time Fourier transform.

    For a kernel of shape `(frame_length, input_channels, fft_bins)`, with
    `n = 2 * (fft_bins - 1)` the FFT length, `t` the time step and `f` the
    frequency bin, the real side is `cos(2 pi t f / n) * w[t] / s` and the
    imaginary side `-sin(2 pi t f / n) * w[t] / s`: a Conv1D with this kernel
    and stride `hop` computes the real (imaginary) part of the DFT of each
    windowed frame, as `numpy.fft.rfft` does. `w` is the window and `s` the
    scaling: `sqrt(sum(w**2))` for `"density"`, `sum(|w|)` for `"spectrum"`,
    1 for `None`. With `window=None` there is neither, whatever `scaling`
    says: `w[t] = s = 1`. Every input channel gets the same kernel. Matches
    `keras.initializers.STFT`, which the `STFTSpectrogram` layer uses: the
    same arguments give the same values. Unlike it, the kernel always has
    the requested shape (Keras' ignores `input_channels`), it is computed in
    float64 before the cast, and a window of zeros that `scaling` would
    divide by zero is a `ValueError` (Keras' kernel is NaN).

    Args:
        side: `"real"` or `"imag"`.
        window: The name of a `scipy.signal.windows` window (`"hann"`,
            `"hamming"`, ...), a list (or array) of `frame_length` numbers,
            or `None` for no window and no scaling.
        scaling: `"density"`, `"spectrum"` or `None`.
        periodic: Whether a named window is periodic (for spectral analysis)
            rather than symmetric.

    Examples:

    >>> import keras_inits
    >>> kernel = keras_inits.STFT(window=None, scaling=None)(shape=(4, 1, 3))
    >>> keras.ops.convert_to_numpy(kernel)[:, 0, 1].round(6).tolist()
    [1.0, 0.0, -1.0, -0.0]

    >>> layer = keras.layers.Conv1D(
    ...     65, 128, strides=64, kernel_initializer="keras_inits>STFT"
    ... )
    """

    def __init__(self, side="real", window="hann", scaling="density",
                 periodic=False):
        try:
            self.side = str(base.check_choice("STFT", "side", side,
                                              _STFT_SIDES))
        except ValueError as error:
            raise base.keras_wording(
                f"side should be 'real' or 'imag', not {side}.", error
            ) from None
        if isinstance(window, str):
            window = str(window)
            try:
                _scipy_window(window, 8, False)
            except (ValueError, TypeError):
                raise base.argument_error(
                    "STFT", "window",
                    "None, a list of numbers or the name of a "
                    "scipy.signal.windows window", window,
                ) from None
        elif window is not None:
            # Numbers only: NumPy would read ["1", "2"] as floats too.
            values = _real_array(window)
            if values is None or values.ndim != 1 or not (
                np.all(np.abs(values.astype("float64")) <= limits.FLOAT32_MAX)
            ):
                raise base.argument_error(
                    "STFT", "window",
                    "a 1-D list of finite numbers float32 can hold "
                    "(|x| <= 3.4e38)", window,
                )
            window = values.astype("float64").tolist()
        self.window = window
        # Strings only: an array compared with `in` is ambiguous.
        if scaling is not None and not (isinstance(scaling, str)
                                        and scaling in _STFT_SCALINGS):
            raise base.keras_wording(
                "Scaling is invalid, it must be `None`, 'density' or "
                "'spectrum'.",
                base.choice_error("STFT", "scaling", scaling,
                                  ["density", "spectrum", "None"]),
            )
        self.scaling = None if scaling is None else str(scaling)
        if not isinstance(periodic, (bool, np.bool_)):
            raise base.argument_error("STFT", "periodic", "a bool", periodic)
        self.periodic = bool(periodic)

    def _window(self, frame_length):
        """The window's values for `frame_length`, or None without one."""
        if self.window is None:
            return None
        if isinstance(self.window, str):
            return _scipy_window(self.window, frame_length, self.periodic)
        return np.asarray(self.window, dtype="float64")

    def max_abs(self, shape):
        # |cos| and |sin| are at most 1, and a scaled window at most 1 too:
        # max|w| is at most both sqrt(sum(w**2)) and sum(|w|).
        if self.window is None or self.scaling is not None:
            return 1.0
        window = self._window(shape[0] if shape else 0)
        return float(np.abs(window).max(initial=0.0))

    def __call__(self, shape, dtype=None):
        shape = base.check_shape("STFT", shape)
        base.check_rank("STFT", shape, 3, 3)
        shape, dtype, compute_dtype = base.check_call(self, shape, dtype)
        largest = self.max_abs(shape)
        _check_integer_range(self, dtype, -largest, largest)
        frame_length, _, fft_bins = shape
        window = self._window(frame_length)
        if window is not None and window.shape != (frame_length,):
            raise base.keras_wording(
                "The shape of `window` must be equal to [frame_length].",
                ValueError(
                    "STFT needs a window of frame_length values. Received: "
                    f"window of length {window.shape[0]} for shape={shape}"
                ),
            )
        scale = 1.0
        if window is not None and self.scaling == "density":
            scale = np.sqrt(np.sum(window**2))
        elif window is not None and self.scaling == "spectrum":
            scale = np.sum(np.abs(window))
        if scale == 0 and frame_length:
            raise ValueError(
                f"STFT cannot scale a window of zeros: scaling="
                f"{self.scaling!r} divides by its norm. Use scaling=None or "
                f"another window. Received: window={self.window!r} for "
                f"shape={shape}"
            )
        fft_length = max(2 * (fft_bins - 1), 1)
        time = np.arange(frame_length)[:, None]
        freq = np.arange(fft_bins)[None, :]
        phase = 2.0 * np.pi * time * freq / fft_length
        kernel = np.cos(phase) if self.side == "real" else -np.sin(phase)
        if window is not None:
            kernel = kernel * window[:, None] / scale
        kernel = np.broadcast_to(kernel[:, None, :], shape)
        return _from_numpy(kernel, dtype, compute_dtype)


def _scipy_window(name, length, periodic):
    import scipy.signal

    return scipy.signal.get_window(name, length, fftbins=periodic)
