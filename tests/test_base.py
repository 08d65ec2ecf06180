"""Tests of the shared machinery: argument checks, seeds, shapes, fans."""

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import base


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7", True, [1]])
def test_bad_seed_is_refused(seed):
    with pytest.raises(ValueError, match=r"Argument `seed` of RandomNormal "
                       r"must be None, an integer in \[0, 2\*\*32\), a "
                       r"keras.random.SeedGenerator or a "
                       r"keras_inits.PortableSeed. Received: seed="):
        keras_inits.RandomNormal(seed=seed)


def test_numpy_integer_seed_is_accepted_and_stored_as_int():
    init = keras_inits.RandomNormal(seed=np.int64(4))
    assert init.get_config()["seed"] == 4
    assert type(init.get_config()["seed"]) is int


@pytest.mark.parametrize("shape", [(2, -1), (None, 3), (2.0, 3), "ab", 5])
def test_bad_shape_is_refused(shape):
    with pytest.raises(ValueError, match="HeNormal needs a shape"):
        keras_inits.HeNormal()(shape)


def test_negative_dimension_message_names_the_shape():
    with pytest.raises(ValueError, match=r"Zeros needs a shape without "
                       r"negative dimensions. Received: shape=\(2, -1\)"):
        keras_inits.Zeros()((2, -1))


def test_zero_sized_shapes_work():
    for init in [keras_inits.HeNormal(), keras_inits.Orthogonal(),
                 keras_inits.Zeros(), keras_inits.TruncatedNormal()]:
        assert tuple(init((0, 4)).shape) == (0, 4)


def test_error_wording_matches_the_house_style():
    error = base.argument_error("TruncatedNormal", "stddev",
                                "a positive number", -1.0)
    assert str(error) == ("Argument `stddev` of TruncatedNormal must be a "
                          "positive number. Received: stddev=-1.0")
    error = base.choice_error("VarianceScaling", "mode", "fan_sideways",
                              ["fan_in", "fan_out", "fan_avg"])
    assert str(error) == ("Invalid `mode` argument of VarianceScaling: "
                          "'fan_sideways'. Expected one of ['fan_avg', "
                          "'fan_in', 'fan_out'].")


def test_nested_initializer_resolves_or_names_its_owner():
    assert type(base.nested_initializer("Wrapper", "he_normal")) is (
        keras_inits.HeNormal)
    for value in ["no_such_init", None]:
        with pytest.raises(ValueError) as caught:
            base.nested_initializer("Wrapper", value)
        assert str(caught.value) == (
            "Argument `initializer` of Wrapper must be an initializer, its "
            f"name or its config. Received: initializer={value!r}")


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)),
    ((7,), (7, 7)),
    ((5, 3), (5, 3)),
    ((3, 3, 16, 32), (144, 288)),
    ((2, 3, 4, 5, 6), (120, 144)),
])
def test_compute_fans_follows_keras(shape, fans):
    assert base.compute_fans(shape) == fans
    from keras.src.initializers.random_initializers import compute_fans

    assert compute_fans(shape) == fans


def test_compute_fans_with_axes():
    assert base.compute_fans((4, 5, 6), [0], [1, 2]) == (4, 30)
    # Each axis list replaces only its own fan.
    assert base.compute_fans((3, 3, 8, 2), [0, 1], None) == (9, 18)


def test_repr_shows_the_arguments():
    assert repr(keras_inits.RandomUniform(-1, 1, seed=2)) == (
        "RandomUniform(minval=-1.0, maxval=1.0, seed=2)")


def test_get_config_is_exactly_the_constructor_arguments():
    assert keras_inits.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
        "seed": None, "input_axes": None, "output_axes": None,
    }
    assert keras_inits.HeNormal(seed=3).get_config() == {
        "seed": 3, "input_axes": None, "output_axes": None}


def test_seed_generator_is_created_lazily_once():
    init = keras_inits.RandomNormal(seed=1)
    assert init._seed_generator is None
    init((2,))
    generator = init._seed_generator
    init((2,))
    assert init._seed_generator is generator


def test_global_seed_makes_unseeded_initializers_reproducible():
    keras.utils.set_random_seed(123)
    first = keras.ops.convert_to_numpy(keras_inits.HeNormal()((4, 4)))
    keras.utils.set_random_seed(123)
    again = keras.ops.convert_to_numpy(keras_inits.HeNormal()((4, 4)))
    np.testing.assert_array_equal(first, again)
