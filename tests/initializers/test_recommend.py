"""Tests of recommend."""

import importlib

import keras
import numpy as np
import pytest

import keras_inits

# The package attribute `recommend` is the function, not the module.
module = importlib.import_module("keras_inits.initializers._recommend")


@pytest.mark.parametrize(
    "activation",
    [
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "gelu",
        "silu",
        "swish",
        "mish",
        "softplus",
        "ReLU",
        keras.activations.relu,
        keras.activations.gelu,
    ],
)
def test_relu_family_gets_he_normal(activation):
    recommendation = keras_inits.recommend(activation)
    assert type(recommendation.initializer) is keras_inits.HeNormal
    assert "He et al." in recommendation.reason


@pytest.mark.parametrize(
    "activation",
    [
        "tanh",
        "sigmoid",
        "linear",
        "softmax",
        None,
        keras.activations.tanh,
        keras.activations.linear,
    ],
)
def test_saturating_and_linear_get_glorot_uniform(activation):
    recommendation = keras_inits.recommend(activation)
    assert type(recommendation.initializer) is keras_inits.GlorotUniform
    assert "Glorot" in recommendation.reason


def test_selu_gets_lecun_normal():
    initializer, reason = keras_inits.recommend(keras.activations.selu)
    assert type(initializer) is keras_inits.LecunNormal
    assert "self-normalizing" in reason


@pytest.mark.parametrize("activation", ["relu", "tanh", "selu"])
def test_recurrent_gets_orthogonal(activation):
    recommendation = keras_inits.recommend(activation, recurrent=True)
    assert type(recommendation.initializer) is keras_inits.Orthogonal
    assert "orthogonal" in recommendation.reason


def test_is_a_named_tuple_of_fresh_instances():
    first = keras_inits.recommend("relu")
    second = keras_inits.recommend("relu")
    assert first._fields == ("initializer", "reason")
    assert isinstance(first, keras_inits.Recommendation)
    assert first.initializer is not second.initializer


def test_swish_function_resolves_to_silu():
    # keras.activations.swish is silu itself; both are in the ReLU family.
    assert "silu" in keras_inits.recommend(keras.activations.swish).reason


@pytest.mark.parametrize("activation", ["relu7", "", 3, print])
def test_unknown_activation_lists_the_valid_names(activation):
    with pytest.raises(
        ValueError,
        match="Invalid `activation` argument: "
        ".*recommend expects one of \\['celu', 'elu'",
    ):
        keras_inits.recommend(activation)


def test_every_listed_name_is_a_keras_activation():
    for name in module.ACTIVATIONS:
        assert callable(keras.activations.get(name))


def test_recurrent_must_be_a_bool():
    with pytest.raises(
        ValueError,
        match="Argument `recurrent` of recommend "
        "must be True or False. Received: recurrent=1",
    ):
        keras_inits.recommend("relu", recurrent=1)


@pytest.mark.parametrize("activation", [np.array(["relu"]), np.array("relu")])
def test_an_array_is_not_an_activation_name(activation):
    # `in` compared arrays element-wise, so np.array(["relu"]) passed.
    with pytest.raises(ValueError, match="Invalid `activation` argument: "):
        keras_inits.recommend(activation)
