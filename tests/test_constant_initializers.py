"""Exact tests of Zeros, Ones, Constant, Identity and STFT."""

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
    assert keras.backend.standardize_dtype(
        keras_inits.Ones()((2,), dtype).dtype) == dtype


def test_constant_values():
    assert to_numpy(keras_inits.Constant(3)((2, 2), "int32")).tolist() == [
        [3, 3], [3, 3]]
    assert to_numpy(keras_inits.Constant(-np.inf)((1,))).tolist() == [-np.inf]
    assert keras_inits.Constant(np.float32(0.5)).get_config() == {"value": 0.5}


@pytest.mark.parametrize("value", [np.nan, "1", None, [1.0], True])
def test_constant_refuses_non_numbers(value):
    with pytest.raises(ValueError, match="Argument `value` of Constant must "
                       "be a real number. Received: value="):
        keras_inits.Constant(value)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_identity(shape):
    np.testing.assert_array_equal(
        to_numpy(keras_inits.Identity(gain=0.5)(shape)), 0.5 * np.eye(*shape))


@pytest.mark.parametrize("shape", [(3,), (3, 3, 3)])
def test_identity_needs_a_matrix(shape):
    message = (f"Identity needs a tensor of rank 2. Received: shape={shape} "
               f"of rank {len(shape)}.")
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_inits.Identity()(shape)


@pytest.mark.parametrize("gain", [np.inf, "2", None])
def test_identity_refuses_bad_gain(gain):
    with pytest.raises(ValueError, match="Argument `gain` of Identity must be "
                       "a finite number"):
        keras_inits.Identity(gain)


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize("window, scaling", [
    ("hann", "density"), ("hamming", "spectrum"), (None, None),
    ([0.5, 1.0, 1.0, 0.5, 0.25, 1.0, 0.75, 0.1], "density"),
])
def test_stft_kernel_computes_the_dft_of_windowed_frames(side, window,
                                                         scaling):
    frame_length, bins = 8, 5
    kernel = to_numpy(keras_inits.STFT(side, window, scaling)(
        (frame_length, 1, bins), dtype="float64" if keras.backend.backend()
        != "jax" else "float32"))
    signal = np.random.default_rng(0).normal(size=frame_length)
    if window is None:
        w = np.ones(frame_length)
    elif isinstance(window, str):
        import scipy.signal

        w = scipy.signal.get_window(window, frame_length, fftbins=False)
    else:
        w = np.asarray(window)
    scale = {"density": np.sqrt(np.sum(w**2)), "spectrum": np.sum(np.abs(w)),
             None: 1.0}[scaling]
    spectrum = np.fft.rfft(signal * w) / scale
    expected = spectrum.real if side == "real" else spectrum.imag
    np.testing.assert_allclose(signal @ kernel[:, 0, :], expected, atol=1e-5)


def test_stft_periodic_window_and_channels():
    kernel = to_numpy(keras_inits.STFT(window="hann", periodic=True,
                                       scaling=None)((4, 3, 3)))
    import scipy.signal

    w = scipy.signal.get_window("hann", 4, fftbins=True)
    np.testing.assert_allclose(kernel[:, 2, 0], w, atol=1e-7)
    np.testing.assert_array_equal(kernel[:, 0, :], kernel[:, 2, :])


def test_stft_bad_arguments():
    with pytest.raises(ValueError, match="Invalid `side` argument: "
                       "'both'. STFT expects"):
        keras_inits.STFT(side="both")
    with pytest.raises(ValueError, match="Argument `window` of STFT must be "
                       "None, a list of numbers or the name of a "
                       "scipy.signal.windows window. Received: window='hanning"):
        keras_inits.STFT(window="hanning2")
    with pytest.raises(ValueError, match="Argument `window` of STFT must be a "
                       "1-D list of finite numbers"):
        keras_inits.STFT(window=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="Invalid `scaling` argument: 'energy'. STFT"):
        keras_inits.STFT(scaling="energy")
    with pytest.raises(ValueError, match="Argument `periodic` of STFT must be "
                       "a bool"):
        keras_inits.STFT(periodic="yes")
    with pytest.raises(ValueError, match="STFT needs a window of frame_length "
                       "values"):
        keras_inits.STFT(window=[1.0, 1.0])((4, 1, 3))
    with pytest.raises(ValueError, match="STFT needs a tensor of rank 3"):
        keras_inits.STFT()((4, 3))
