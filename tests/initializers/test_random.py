"""Tests of RandomNormal, RandomUniform, TruncatedNormal and the shared
truncated-normal sampler."""

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import gaussian
from keras_inits.random import _generator
from keras_inits.random import _quantiles
from keras_inits.random import _samplers as samplers


def test_truncated_stddev_constant_matches_scipy():
    from scipy import stats

    assert gaussian.TRUNCATED_STDDEV == pytest.approx(
        stats.truncnorm(-2, 2).std(), rel=1e-12
    )
    # The value Keras hard-codes for VarianceScaling.
    assert gaussian.TRUNCATED_STDDEV == pytest.approx(
        0.87962566103423978, rel=1e-12
    )


def test_truncated_values_stay_within_two_stddev():
    values = keras.ops.convert_to_numpy(
        keras_inits.TruncatedNormal(mean=3.0, stddev=0.5, seed=2)((100000,))
    )
    # float32 rounding may land a value one ulp beyond the bound.
    assert values.min() >= 2.0 - 1e-6 and values.max() <= 4.0 + 1e-6
    # The bounds are reached: a sample of 1e5 has values within 1% of each.
    assert values.min() < 2.01 and values.max() > 3.99


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_draws_have_float32_statistics(dtype):
    # Drawn in float32 then cast: the std over 65536 values is within 2% of
    # the float32 draw with the same seed (rounding to bfloat16 changes
    # values by at most 2**-8 relative).
    wide = keras_inits.RandomNormal(stddev=1e-3, seed=4)((256, 256))
    narrow = keras_inits.RandomNormal(stddev=1e-3, seed=4)((256, 256), dtype)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.ops.cast(narrow, "float32")),
        keras.ops.convert_to_numpy(wide),
        rtol=2**-7,
        atol=1e-7,
    )


@pytest.mark.parametrize(
    "cls", [keras_inits.RandomNormal, keras_inits.TruncatedNormal]
)
@pytest.mark.parametrize("stddev", [0.0, -1.0, np.inf, np.nan, "1", None])
def test_bad_stddev(cls, stddev):
    with pytest.raises(
        ValueError,
        match=f"Argument `stddev` of {cls.__name__} "
        "must be a positive number. Received: stddev=",
    ):
        cls(stddev=stddev)


@pytest.mark.parametrize(
    "cls", [keras_inits.RandomNormal, keras_inits.TruncatedNormal]
)
def test_bad_mean(cls):
    with pytest.raises(
        ValueError,
        match=f"Argument `mean` of {cls.__name__} "
        "must be a finite number. Received: mean=inf",
    ):
        cls(mean=np.inf)


@pytest.mark.parametrize("minval, maxval", [(1.0, 1.0), (2.0, -2.0)])
def test_uniform_needs_minval_below_maxval(minval, maxval):
    with pytest.raises(
        ValueError,
        match="Argument `maxval` of RandomUniform "
        "must be greater than `minval`. Received: "
        f"minval={minval}, maxval={maxval}",
    ):
        keras_inits.RandomUniform(minval, maxval)


def test_uniform_bad_bound():
    with pytest.raises(
        ValueError,
        match="Argument `minval` of RandomUniform "
        "must be a finite number. Received: minval=-inf",
    ):
        keras_inits.RandomUniform(-np.inf, 1.0)


def test_keras_defaults_are_kept():
    assert keras_inits.RandomNormal().get_config() == {
        "mean": 0.0,
        "stddev": 0.05,
        "seed": None,
    }
    assert keras_inits.RandomUniform().get_config() == {
        "minval": -0.05,
        "maxval": 0.05,
        "seed": None,
    }
    assert keras_inits.TruncatedNormal().get_config() == {
        "mean": 0.0,
        "stddev": 0.05,
        "seed": None,
    }


def test_truncated_draws_in_pieces_keep_the_distribution(monkeypatch):
    from scipy import stats

    # Large native truncated normals are made piece by piece on TensorFlow
    # (in float64, which keras_inits' generator does not draw) and NumPy
    # (`samplers._in_pieces`): here 50000 values in 13 pieces of 4096 (the
    # last one partial). Fixed seed, so deterministic per
    # backend; a Kolmogorov-Smirnov p-value above 1e-4 fails a wrong scale
    # or shift by far. Pieces that repeated one another (the same seed
    # drawn twice) would leave about 4096 distinct values, where float32
    # draws of 50000 keep over 99% distinct.
    monkeypatch.setattr(samplers, "NATIVE_PIECE", 4096)
    # JAX has no float64 unless asked to (`jax_enable_x64`).
    dtype = "float32" if keras.backend.backend() == "jax" else "float64"
    values = keras.ops.convert_to_numpy(
        samplers.truncated_normal(
            (100, 500), 0.0, 0.5, dtype, keras.random.SeedGenerator(3)
        )
    )
    assert values.shape == (100, 500)
    assert len(np.unique(values)) > 0.99 * values.size
    cdf = stats.truncnorm(-2, 2, 0.0, 0.5).cdf
    assert stats.kstest(values.ravel(), cdf).pvalue > 1e-4


def test_an_int_seed_draws_in_one_piece(monkeypatch):
    # An int seed would give every piece the same values.
    expected = samplers.truncated_normal((10000,), 0.0, 1.0, "float32", 5)
    monkeypatch.setattr(samplers, "NATIVE_PIECE", 4096)
    values = samplers.truncated_normal((10000,), 0.0, 1.0, "float32", 5)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(values),
        keras.ops.convert_to_numpy(expected),
    )


def test_native_uniform_draws_keras_words():
    # On TensorFlow and PyTorch keras_inits draws a SeedGenerator's
    # uniforms from the generator Keras seeds, so they are Keras' values,
    # but for the last bit on PyTorch (drawn in place there, scaled in
    # float64). NumPy draws float32 words from the generator Keras seeds
    # (Keras draws float64), JAX from keras_inits' generator.
    if keras.backend.backend() in ("jax", "numpy"):
        pytest.skip("another generator or word size than Keras' here")
    low, high = -0.25, 0.75
    ours = samplers.uniform(
        (4000,), low, high, "float32", keras.random.SeedGenerator(7)
    )
    theirs = keras.random.uniform(
        (4000,), low, high, "float32", seed=keras.random.SeedGenerator(7)
    )
    ours = keras.ops.convert_to_numpy(ours)
    np.testing.assert_allclose(
        ours, keras.ops.convert_to_numpy(theirs), rtol=0, atol=2**-24
    )
    assert low <= ours.min() and ours.max() < high


def test_large_draws_of_a_seed_generator_come_from_keras_inits_generator(
    monkeypatch,
):
    # On JAX, and on TensorFlow for draws of more than NATIVE_PIECE values,
    # a SeedGenerator's next state is the key of keras_inits' generator.
    if keras.backend.backend() not in ("jax", "tensorflow"):
        pytest.skip("Keras' generator draws here")
    monkeypatch.setattr(samplers, "NATIVE_PIECE", 4096)
    state = keras.random.SeedGenerator(3).next()
    key = tuple(int(word) for word in np.asarray(state))
    values = samplers.normal(
        (100, 50), 0.5, 2.0, "float32", keras.random.SeedGenerator(3)
    )
    expected = _generator.draw(
        _quantiles.standard_normal, (100, 50), key, 2.0, 0.5
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(values),
        keras.ops.convert_to_numpy(expected),
    )


def test_a_tf_function_draws_with_keras_random(monkeypatch):
    # Inside tf.function the generator's state cannot be read: the draw is
    # Keras' own, and it still advances the generator.
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.function is TensorFlow's")
    import tensorflow as tf

    monkeypatch.setattr(samplers, "NATIVE_PIECE", 4096)
    generator = keras.random.SeedGenerator(3)
    draw = tf.function(
        lambda: samplers.normal((100, 50), 0.5, 2.0, "float32", generator)
    )
    first, second = draw(), draw()
    expected = keras.random.normal(
        (100, 50), 0.5, 2.0, "float32", seed=keras.random.SeedGenerator(3)
    )
    np.testing.assert_array_equal(first.numpy(), expected.numpy())
    assert not np.array_equal(first.numpy(), second.numpy())
