"""Initializers whose values do not depend on a seed."""

import numpy as np
import keras
from keras import ops

from keras_inits import base


def _dtype(dtype):
    return keras.backend.standardize_dtype(dtype or keras.config.floatx())


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
        shape = base.check_shape("Zeros", shape)
        return ops.zeros(shape, dtype=_dtype(dtype))


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
        shape = base.check_shape("Ones", shape)
        return ops.ones(shape, dtype=_dtype(dtype))


@base.register
class Constant(base.Initializer):
    """Initializer that fills a tensor with one scalar `value`.

    Any numeric dtype that can hold `value`; the default is
    `keras.config.floatx()`. Matches `keras.initializers.Constant` and
    `torch.nn.init.constant_`.

    Args:
        value: A real number (infinities are allowed, as in attention masks;
            NaN is not).

    Examples:

    >>> import keras_inits
    >>> keras.ops.convert_to_numpy(keras_inits.Constant(0.5)(shape=(3,))).tolist()
    [0.5, 0.5, 0.5]

    >>> layer = keras.layers.Dense(3, bias_initializer=keras_inits.Constant(0.1))
    """

    def __init__(self, value=0.0):
        if not base._is_real_number(value) or np.isnan(value):
            raise base.argument_error("Constant", "value", "a real number", value)
        self.value = value.item() if isinstance(value, np.generic) else value

    def __call__(self, shape, dtype=None):
        shape = base.check_shape("Constant", shape)
        return ops.full(shape, self.value, dtype=_dtype(dtype))


@base.register
class Identity(base.Initializer):
    """Initializer that generates `gain` times the identity matrix.

    For a `(rows, cols)` matrix, `W[i, j] = gain if i == j else 0`; a
    non-square matrix gets the identity on its leading square block. Only
    matrices: for convolution kernels that pass their input through, see
    `Dirac`. Matches `keras.initializers.Identity` and `torch.nn.init.eye_`
    (which has no gain).

    Args:
        gain: Multiplicative factor, a finite number.

    Examples:

    >>> import keras_inits
    >>> keras.ops.convert_to_numpy(keras_inits.Identity(gain=2.0)(shape=(2, 3))).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]

    >>> layer = keras.layers.Dense(4, kernel_initializer="keras_inits>Identity")
    """

    def __init__(self, gain=1.0):
        self.gain = base.check_number("Identity", "gain", gain)

    def __call__(self, shape, dtype=None):
        shape = base.check_shape("Identity", shape)
        base.check_rank("Identity", shape, 2, 2)
        dtype = _dtype(dtype)
        return ops.eye(*shape, dtype=dtype) * ops.cast(self.gain, dtype)


_STFT_SIDES = ("real", "imag")
_STFT_SCALINGS = ("density", "spectrum", None)


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
    1 for `None`. Every input channel gets the same kernel. Matches
    `keras.initializers.STFT`, which the `STFTSpectrogram` layer uses; unlike
    it, the kernel always has the requested shape (Keras' ignores
    `input_channels`), and it is computed in float64 before the cast.

    Args:
        side: `"real"` or `"imag"`.
        window: The name of a `scipy.signal.windows` window (`"hann"`,
            `"hamming"`, ...), a list of `frame_length` numbers, or `None`
            for a rectangular window.
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
        self.side = base.check_choice("STFT", "side", side, _STFT_SIDES)
        if isinstance(window, str):
            try:
                _scipy_window(window, 8, False)
            except ValueError:
                raise base.argument_error(
                    "STFT", "window",
                    "None, a list of numbers or the name of a "
                    "scipy.signal.windows window", window,
                ) from None
        elif window is not None:
            try:
                values = np.asarray(window, dtype="float64")
            except (TypeError, ValueError):
                values = None
            if values is None or values.ndim != 1 or not np.all(
                np.isfinite(values)
            ):
                raise base.argument_error(
                    "STFT", "window", "a 1-D list of finite numbers", window
                )
            window = values.tolist()
        self.window = window
        if scaling not in _STFT_SCALINGS:
            raise base.choice_error("STFT", "scaling", scaling,
                                    ["density", "spectrum", "None"])
        self.scaling = scaling
        if not isinstance(periodic, (bool, np.bool_)):
            raise base.argument_error("STFT", "periodic", "a bool", periodic)
        self.periodic = bool(periodic)

    def __call__(self, shape, dtype=None):
        shape = base.check_shape("STFT", shape)
        base.check_rank("STFT", shape, 3, 3)
        frame_length, _, fft_bins = shape
        if self.window is None:
            window = np.ones(frame_length)
        elif isinstance(self.window, str):
            window = _scipy_window(self.window, frame_length, self.periodic)
        else:
            window = np.asarray(self.window, dtype="float64")
            if window.shape != (frame_length,):
                raise ValueError(
                    "STFT needs a window of frame_length values. Received: "
                    f"window of length {window.shape[0]} for shape={shape}"
                )
        scale = 1.0
        if self.scaling == "density":
            scale = np.sqrt(np.sum(window**2))
        elif self.scaling == "spectrum":
            scale = np.sum(np.abs(window))
        fft_length = max(2 * (fft_bins - 1), 1)
        time = np.arange(frame_length)[:, None]
        freq = np.arange(fft_bins)[None, :]
        phase = 2.0 * np.pi * time * freq / fft_length
        kernel = np.cos(phase) if self.side == "real" else -np.sin(phase)
        kernel = kernel * window[:, None] / scale
        kernel = np.broadcast_to(kernel[:, None, :], shape)
        return ops.convert_to_tensor(kernel, dtype=_dtype(dtype))


def _scipy_window(name, length, periodic):
    import scipy.signal

    return scipy.signal.get_window(name, length, fftbins=periodic)
