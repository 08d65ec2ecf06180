"""Tests of autodiff.gradients: the backend's gradients, as numpy arrays."""

import keras
import numpy as np
import pytest

from keras_inits._internal.autodiff import gradients

AUTODIFF = keras.backend.backend() != "numpy"


@pytest.mark.skipif(not AUTODIFF, reason="the NumPy backend has no autodiff")
def test_gradients_match_the_closed_form():
    layer = keras.layers.Dense(3, kernel_initializer="ones")
    x = np.arange(8, dtype="float32").reshape(2, 4)
    layer.build((None, 4))
    found = gradients(lambda: keras.ops.sum(layer(x) ** 2), layer.weights)
    y = x @ np.ones((4, 3))
    np.testing.assert_allclose(found[0], x.T @ (2 * y), rtol=1e-6)
    np.testing.assert_allclose(found[1], (2 * y).sum(axis=0), rtol=1e-6)


def test_gradients_are_none_without_autodiff():
    layer = keras.layers.Dense(1)
    layer.build((None, 1))
    found = gradients(lambda: keras.ops.sum(layer.kernel), layer.weights)
    assert (found is None) == (not AUTODIFF)
