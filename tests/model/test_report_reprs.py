"""`reinitialize`'s report and errors show an initializer that holds an
array by its shape, and cut an initializer's long error, as plans do: a
rule that copies a (1024, 1024) array printed all its values."""

import json

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import recipes


class JsonArray(keras.initializers.Initializer):
    """Copies an array it keeps in its config as JSON text."""

    def __init__(self, values):
        self.values = values

    def __call__(self, shape, dtype=None):
        return keras.ops.convert_to_tensor(json.loads(self.values), dtype)

    def get_config(self):
        return {"values": self.values}


class Loud(keras.initializers.Initializer):
    """Raises an error that holds a whole array."""

    def __call__(self, shape, dtype=None):
        raise ValueError(f"cannot use {np.arange(100_000).tolist()}")


def copy_model(size):
    inputs = keras.Input((size,))
    return keras.Model(
        inputs, keras.layers.Dense(size, name="copy")(inputs), name="m"
    )


def register(initializer):
    recipes.register(
        "test_copy",
        lambda slot: initializer if slot.role == "head" else None,
        summary="copies an array",
        overwrite=True,
    )


def test_the_report_shows_a_copied_array_by_its_shape():
    array = np.random.default_rng(0).standard_normal((1024, 1024))
    model = copy_model(1024)
    register(JsonArray(json.dumps(array.tolist())))
    report = keras_inits.reinitialize(
        model, seed=0, recipe="test_copy", measure=False
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model.get_layer("copy").kernel),
        array.astype("float32"),
    )
    assert report["copy/kernel"].initializer.startswith("JsonArray(values=")
    assert len(report["copy/kernel"].initializer) < 200
    assert len(str(report)) < 10_000, str(report)[:300]


def test_a_long_draw_error_is_cut_and_changes_nothing():
    model = copy_model(4)
    before = keras.ops.convert_to_numpy(model.get_layer("copy").kernel)
    register(Loud())
    with pytest.raises(keras_inits.ReinitializeError) as error:
        keras_inits.reinitialize(model, seed=0, recipe="test_copy")
    message = str(error.value)
    assert message.startswith(
        "reinitialize changed no weight: it cannot re-draw copy/kernel: "
        "ValueError: cannot use [0, 1, 2"
    ), message[:300]
    assert len(message) < 1_000
    assert len(error.value.problems["copy/kernel"]) < 1_000
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model.get_layer("copy").kernel), before
    )
