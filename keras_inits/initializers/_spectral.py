"""Spectral initializers: kernels that compute a transform of their input."""

from collections.abc import Sequence

import numpy as np

from keras_inits._internal import arrays
from keras_inits._internal import checks
from keras_inits._internal.arrays import Tensor
from keras_inits.initializers import _base
from keras_inits.initializers._registration import register

_STFT_SIDES = ("real", "imag")
_STFT_SCALINGS = ("density", "spectrum")


@register
class STFT(_base.Initializer):
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

    draw_family = "host"

    def __init__(
        self,
        side: str = "real",
        window: str | Sequence[float] | None = "hann",
        scaling: str | None = "density",
        periodic: bool = False,
    ):
        try:
            self.side = str(
                checks.check_choice("STFT", "side", side, _STFT_SIDES)
            )
        except ValueError as error:
            raise checks.keras_wording(
                f"side should be 'real' or 'imag', not {side}.", error
            ) from None
        if isinstance(window, str):
            window = str(window)
            try:
                _scipy_window(window, 8, False)
            except (ValueError, TypeError):
                raise checks.argument_error(
                    "STFT",
                    "window",
                    "None, a list of numbers or the name of a "
                    "scipy.signal.windows window",
                    window,
                ) from None
        elif window is not None:
            # Numbers only: NumPy would read ["1", "2"] as floats too.
            values = arrays.real_array(window)
            if (
                values is None
                or values.ndim != 1
                or not (
                    np.all(
                        np.abs(values.astype("float64")) <= checks.FLOAT32_MAX
                    )
                )
            ):
                raise checks.argument_error(
                    "STFT",
                    "window",
                    "a 1-D list of finite numbers float32 can hold "
                    "(|x| <= 3.4e38)",
                    window,
                )
            window = values.astype("float64").tolist()
        self.window = window
        # Strings only: an array compared with `in` is ambiguous.
        if scaling is not None and not (
            isinstance(scaling, str) and scaling in _STFT_SCALINGS
        ):
            raise checks.keras_wording(
                "Scaling is invalid, it must be `None`, 'density' or "
                "'spectrum'.",
                checks.choice_error(
                    "STFT", "scaling", scaling, ["density", "spectrum", "None"]
                ),
            )
        self.scaling = None if scaling is None else str(scaling)
        if not isinstance(periodic, (bool, np.bool_)):
            raise checks.argument_error("STFT", "periodic", "a bool", periodic)
        self.periodic = bool(periodic)

    def _window(self, frame_length: int) -> np.ndarray | None:
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
        assert window is not None  # self.window is not None
        return float(np.abs(window).max(initial=0.0))

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape = checks.check_shape("STFT", shape)
        checks.check_rank("STFT", shape, 3, 3)
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        largest = self.max_abs(shape)
        arrays.check_integer_range(self, dtype, -largest, largest)
        frame_length, _, fft_bins = shape
        window = self._window(frame_length)
        if window is not None and window.shape != (frame_length,):
            raise checks.keras_wording(
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
        return _base.from_host(kernel, dtype, compute_dtype)


def _scipy_window(name: str, length: int, periodic: bool) -> np.ndarray:
    """The values of the `scipy.signal.get_window` window `name`, `length`
    of them, periodic (`fftbins=True`) or symmetric; scipy raises a
    ValueError or TypeError for a name it does not know."""
    import scipy.signal

    # A NumPy array already (scipy's annotations allow other array types).
    return np.asarray(scipy.signal.get_window(name, length, fftbins=periodic))
