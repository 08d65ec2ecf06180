"""Shared checks over every public initializer in `catalogue.CASES`."""

import json
import os

import keras
import numpy as np
import pytest
from scipy import stats

import keras_inits
from tests.catalogue import CASES
from tests.catalogue import RANDOM_CASES

FLOAT_DTYPES = ["float16", "bfloat16", "float32", "float64"]


def to_numpy(x):
    return np.asarray(
        keras.ops.convert_to_numpy(keras.ops.cast(x, "float32"))
        if keras.backend.standardize_dtype(x.dtype) == "bfloat16"
        else keras.ops.convert_to_numpy(x),
        dtype="float64",
    )


def test_every_public_initializer_is_in_the_table():
    public = {
        name
        for name in keras_inits.__all__
        if isinstance(getattr(keras_inits, name), type)
        and issubclass(
            getattr(keras_inits, name), keras.initializers.Initializer
        )
        and name not in ("Initializer", "RandomInitializer")
    }
    assert public == {case.name for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=repr)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_shape_and_dtype(case, dtype):
    if dtype == "float64" and keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX without jax_enable_x64 has no float64")
    values = case.make(1)(case.shape, dtype=dtype)
    assert tuple(values.shape) == case.shape
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    assert np.all(np.isfinite(to_numpy(values)))


# Shapes and dtypes a call may be refused for: scalars, empty and odd
# shapes, integer and low-precision dtypes.
CHECKED_SHAPES = [
    (),
    (0,),
    (1,),
    (5,),
    (0, 7),
    (3, 4),
    (2, 3, 4),
    (2, 1, 3, 5),
]
CHECKED_DTYPES = ["float32", "float16", "bfloat16", "int32", "bool"]


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if type(c.make(1)).fails_only_in_check_call],
    ids=repr,
)
def test_check_is_every_check_of_a_call(case):
    # `reinitialize` checks these classes' draws by `check` alone, with no
    # trace: a call `check` accepts must succeed, with the shape and dtype
    # asked for, and one it refuses must fail the same way.
    initializer = case.make(1)
    for shape in CHECKED_SHAPES:
        for dtype in CHECKED_DTYPES:
            try:
                initializer.check(shape, dtype)
            except ValueError as refused:
                with pytest.raises(ValueError) as called:
                    initializer(shape, dtype=dtype)
                assert str(called.value) == str(refused)
                continue
            values = initializer(shape, dtype=dtype)
            assert tuple(values.shape) == shape, (shape, dtype)
            assert keras.backend.standardize_dtype(values.dtype) == dtype


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_default_dtype_is_floatx(case):
    values = case.make(1)(case.shape)
    assert (
        keras.backend.standardize_dtype(values.dtype) == keras.config.floatx()
    )


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.exact is not None], ids=repr
)
def test_exact_values(case):
    values = to_numpy(case.make(1)(case.shape, dtype="float32"))
    np.testing.assert_allclose(values, case.exact(case.shape), atol=1e-6)


@pytest.mark.parametrize(
    "case", [c for c in RANDOM_CASES if c.dist is not None], ids=repr
)
def test_statistics(case):
    # 32768 draws with a fixed seed: deterministic on each backend, so the
    # test cannot flake. The mean is checked to 6 standard errors and the
    # standard deviation to 6 of its standard error, std / sqrt(2n) for a
    # normal and less for lighter tails (uniform, truncated): ~2.3% here, so
    # a wrong scale of a few percent fails. A correct sampler fails either
    # with probability ~2e-9. The Kolmogorov-Smirnov test against the exact
    # distribution (p > 1e-4) guards the shape: clipping instead of
    # truncating, or a normal instead of a uniform, fails it by far.
    values = to_numpy(case.make(7)(case.shape, dtype="float32")).ravel()
    dist = case.dist(case.shape)
    n = values.size
    assert abs(values.mean() - dist.mean()) < 6 * dist.std() / np.sqrt(n)
    assert abs(values.std() - dist.std()) < 6 * dist.std() / np.sqrt(2 * n)
    assert stats.kstest(values, dist.cdf).pvalue > 1e-4
    lower, upper = dist.support()
    # float32 rounding may put a value a hair outside a bound.
    slack = 1e-6 * max(1.0, abs(dist.mean()) + dist.std())
    assert values.min() >= lower - slack and values.max() <= upper + slack


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_random_initializers_refuse_non_float_dtypes(case, dtype):
    with pytest.raises(
        ValueError,
        match=f"{case.name} draws random values and"
        " needs a floating-point dtype",
    ):
        case.make(1)(case.shape, dtype=dtype)


# Seeding contract (docs/differences.md, "Seeds"): every clause is one
# test.


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_unseeded_calls_draw_fresh_values(case):
    init = case.make(None)
    first, second = init(case.shape), init(case.shape)
    assert not np.array_equal(to_numpy(first), to_numpy(second))


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_shared_instance_gives_each_layer_its_own_weights(case):
    init = case.make(None)
    a, b = case.layer(init), case.layer(init)
    inputs_shape = (None,) + case.inputs
    a.build(inputs_shape)
    b.build(inputs_shape)
    assert not np.array_equal(to_numpy(a.kernel), to_numpy(b.kernel))


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_integer_seed_replays_the_sequence(case):
    first = case.make(3)
    replay = case.make(3)
    draws = [to_numpy(first(case.shape)) for _ in range(2)]
    assert not np.array_equal(draws[0], draws[1])
    for expected in draws:
        np.testing.assert_array_equal(to_numpy(replay(case.shape)), expected)
    rebuilt = type(first).from_config(first.get_config())
    np.testing.assert_array_equal(to_numpy(rebuilt(case.shape)), draws[0])


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_seed_generator_is_honoured(case):
    generator = keras.random.SeedGenerator(11)
    init = case.make(generator)
    before = keras.ops.convert_to_numpy(generator.state.value).copy()
    values = to_numpy(init(case.shape))
    after = keras.ops.convert_to_numpy(generator.state.value)
    assert not np.array_equal(before, after)
    same = case.make(keras.random.SeedGenerator(11))
    np.testing.assert_array_equal(to_numpy(same(case.shape)), values)
    # Its config carries the generator's initial seed, which replays it.
    assert init.get_config()["seed"] == 11


# Serialization: config, JSON, registered name, a saved model.


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_config_round_trip(case):
    init = case.make(5)
    config = init.get_config()
    rebuilt = type(init).from_config(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(init)
    assert rebuilt.get_config() == config


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_registered_name_resolves(case):
    init = keras.initializers.get(f"keras_inits>{case.name}")
    assert type(init) is getattr(keras_inits, case.name)
    assert (
        keras.saving.get_registered_name(type(init))
        == f"keras_inits>{case.name}"
    )


def _model(case, init):
    inputs = keras.Input(case.inputs)
    return keras.Model(inputs, case.layer(init)(inputs))


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_keras_file_round_trip(case, tmp_path):
    model = _model(case, case.make(5))
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    layer, loaded_layer = model.layers[-1], loaded.layers[-1]
    assert type(loaded_layer.kernel_initializer) is type(
        layer.kernel_initializer
    )
    assert (
        loaded_layer.kernel_initializer.get_config()
        == layer.kernel_initializer.get_config()
    )
    np.testing.assert_array_equal(
        to_numpy(loaded_layer.kernel), to_numpy(layer.kernel)
    )
