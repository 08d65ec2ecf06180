"""Tests of networks: the diagnostics' and experiments' MLP, its seeds and names, and the
checks of its arguments."""

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import networks


def test_each_layer_gets_its_own_seed_and_name():
    model = networks.mlp(
        keras_inits.HeUniform(),
        inputs=6,
        depth=2,
        width=4,
        activation="relu",
        first_seed=2**31 - 2,
        prefix="hidden",
        classes=3,
        name="net",
    )
    assert model.name == "net"
    assert [layer.name for layer in model.layers] == [
        "hidden_1",
        "hidden_2",
        "output",
    ]
    # Layer i draws from seed (first_seed + i) % 2**31: the third wraps to 0.
    for layer, seed in zip(model.layers, (2**31 - 2, 2**31 - 1, 0)):
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        expected = keras_inits.HeUniform(seed=seed)(kernel.shape)
        np.testing.assert_array_equal(
            kernel, keras.ops.convert_to_numpy(expected)
        )
        assert layer.activation is keras.activations.get(
            "linear" if layer.name == "output" else "relu"
        )


def test_without_classes_there_is_no_output_layer():
    model = networks.mlp(
        keras_inits.Zeros(),
        inputs=3,
        depth=3,
        width=2,
        activation=None,
        first_seed=0,
        prefix="dense",
        name="m",
    )
    assert [layer.name for layer in model.layers] == [
        "dense_1",
        "dense_2",
        "dense_3",
    ]
    assert model.layers[0].kernel.shape == (3, 2)


def test_seeded_keeps_a_given_seed():
    assert networks.seeded(keras_inits.HeNormal(seed=7), 3).seed == 7
    assert networks.seeded(keras_inits.HeNormal(), 3).seed == 3


@pytest.mark.parametrize("seed", [-1, 2**31, 1.5, True, "1"])
def test_check_int_seed(seed):
    with pytest.raises(
        ValueError,
        match="Argument `seed` of owner must be an "
        "integer in \\[0, 2\\*\\*31\\)",
    ):
        networks.check_int_seed("owner", seed)


def test_check_mlp_size_names_the_budget():
    networks.check_mlp_size("owner", 2, 4, 4, 8)
    with pytest.raises(ValueError, match="owner would build a network of"):
        networks.check_mlp_size("owner", 3, 8192, 8192, 1)
