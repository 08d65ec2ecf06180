"""Tests of the serialization layer (keras_inits/serialization.py) and of
`keras_inits.register`: identifiers, every round trip, hostile configs, the
committed compatibility fixture, and writing your own initializer."""

import glob
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest
from keras.src.saving.serialization_lib import SafeModeScope
from keras.src.utils.naming import to_snake_case

import keras_inits
from keras_inits._internal import checks
from keras_inits.initializers import _names as names
from keras_inits.random import _samplers as samplers
from tests.catalogue import CASES
from tests.catalogue import RANDOM_CASES
from tests.fixtures.make_fixtures import grouped_model

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SEED = 5


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def first_draw(init, case):
    return to_numpy(init(case.shape, dtype="float32"))


def assert_same_initializer(rebuilt, original, case):
    """Same class, identical config and, if seeded, an identical first draw
    (`original` must not have drawn yet)."""
    assert type(rebuilt) is type(original)
    assert rebuilt.get_config() == original.get_config()
    np.testing.assert_array_equal(
        first_draw(rebuilt, case), first_draw(original, case)
    )


# get: every identifier form.


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_get_resolves_every_name_form_to_the_keras_inits_class(case):
    cls = type(case.make(SEED))
    for name in (
        f"keras_inits>{case.name}",
        case.name,
        to_snake_case(case.name),
    ):
        assert type(keras_inits.get(name)) is cls, name
    assert type(keras_inits.get(cls)) is cls
    instance = case.make(SEED)
    assert keras_inits.get(instance) is instance


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_get_takes_configs_with_or_without_module_and_registered_name(case):
    config = keras_inits.serialize(case.make(SEED))
    bare = {"class_name": config["class_name"], "config": config["config"]}
    registered_only = {
        "class_name": config["registered_name"],
        "config": config["config"],
    }
    for form in (config, bare, registered_only):
        assert_same_initializer(keras_inits.get(form), case.make(SEED), case)


def test_get_passes_none_and_keras_instances_through():
    assert keras_inits.get(None) is None
    assert keras_inits.serialize(None) is None
    assert keras_inits.deserialize(None) is None
    theirs = keras.initializers.HeNormal(seed=1)
    assert keras_inits.get(theirs) is theirs


def test_keras_aliases_resolve_to_keras_inits_classes():
    assert type(keras_inits.get("normal")) is keras_inits.RandomNormal
    assert type(keras_inits.get("zero")) is keras_inits.Zeros
    assert type(keras_inits.get("OrthogonalInitializer")) is (
        keras_inits.Orthogonal
    )


def test_keras_names_keras_inits_does_not_define_resolve_to_keras(monkeypatch):
    # Every Keras initializer has a keras_inits namesake today; hide one to
    # see the fallback a future Keras initializer would take.
    ours = names.our_classes()
    del ours["HeNormal"]
    monkeypatch.setattr(names, "our_classes", lambda: ours)
    assert type(keras_inits.get("he_normal")) is keras.initializers.HeNormal
    assert type(keras_inits.get("HeNormal")) is keras.initializers.HeNormal
    assert type(keras_inits.get("HeUniform")) is keras_inits.HeUniform


def test_a_config_naming_keras_module_gives_keras_class_back_unchanged():
    config = keras.initializers.serialize(
        keras.initializers.HeNormal(seed=keras.random.SeedGenerator(3))
    )
    rebuilt = keras_inits.deserialize(config)
    assert type(rebuilt) is keras.initializers.HeNormal
    assert keras.initializers.serialize(rebuilt) == config


def test_keras_seed_generator_dict_becomes_the_int_seed_of_ours():
    config = keras.initializers.serialize(
        keras.initializers.HeNormal(seed=keras.random.SeedGenerator(3))
    )
    assert isinstance(config["config"]["seed"], dict)
    del config["module"]
    rebuilt = keras_inits.deserialize(config)
    assert type(rebuilt) is keras_inits.HeNormal
    assert rebuilt.get_config()["seed"] == 3
    np.testing.assert_array_equal(
        to_numpy(rebuilt((64, 32))),
        to_numpy(keras_inits.HeNormal(seed=3)((64, 32))),
    )


def test_a_tf_keras_legacy_config_loads():
    config = {
        "class_name": "VarianceScaling",
        "config": {
            "scale": 2.0,
            "mode": "fan_in",
            "distribution": "normal",
            "seed": None,
        },
    }
    rebuilt = keras_inits.get(config)
    assert type(rebuilt) is keras_inits.VarianceScaling
    assert rebuilt.distribution == "truncated_normal"


@pytest.mark.parametrize(
    "name, suggestion",
    [
        ("HeNormall", "'keras_inits>HeNormal'"),
        ("he_normall", "'keras_inits>HeNormal'"),
        ("henormal", "'keras_inits>HeNormal'"),
        ("orthogonl", "'keras_inits>Orthogonal'"),
        ("xavier_uniform", "'keras_inits>GlorotUniform'"),
        # "kaiming_uniform" itself is KaimingUniform; a misspelling of it goes
        # through the kaiming -> he synonym.
        ("kaiming_unifrom", "'keras_inits>HeUniform'"),
    ],
)
def test_unknown_name_suggests_the_closest(name, suggestion):
    with pytest.raises(
        ValueError,
        match=(f"Unknown initializer: '{name}'. Did you mean {suggestion}"),
    ):
        keras_inits.get(name)


def test_unknown_name_without_close_match_says_what_is_expected():
    with pytest.raises(
        ValueError,
        match="Unknown initializer: 'zzz'. Expected"
        " a keras_inits name such as 'keras_inits>HeNormal'",
    ):
        keras_inits.get("zzz")


def test_unknown_class_in_a_config_dict_suggests_too():
    with pytest.raises(
        ValueError,
        match="Unknown initializer: 'GlorotUnifrom'"
        ". Did you mean 'keras_inits>GlorotUniform'",
    ):
        keras_inits.get({"class_name": "GlorotUnifrom", "config": {}})


@pytest.mark.parametrize(
    "identifier",
    [
        True,
        1 + 2j,
        [1.0, 2.0],
        object(),
        print,
        keras.layers.Dense,
        lambda shape, dtype=None: keras.ops.ones(shape, dtype),
    ],
)
def test_get_refuses_anything_else_saying_what_it_accepts(identifier):
    with pytest.raises(
        ValueError,
        match=r"Could not interpret initializer "
        r"identifier: .*keras_inits.get accepts an initializer "
        r"instance or class, None, a name",
    ):
        keras_inits.get(identifier)


@pytest.mark.parametrize(
    "config, message",
    [
        (
            {"config": {}},
            "An initializer config is a dict with a string `class_name`",
        ),
        (
            {"class_name": "HeNormal", "config": [1]},
            "The `config` of initializer 'HeNormal' must be a dict",
        ),
        (
            {"class_name": "HeNormal", "config": {"sed": 1}},
            r"Unknown config key\(s\) \['sed'\] for keras_inits>HeNormal. Expected "
            r"a subset of \['seed', 'input_axes', 'output_axes'\]",
        ),
        (
            {"class_name": "HeNormal", "config": {"seed": -1}},
            "Argument `seed` of HeNormal must be",
        ),
        (
            {
                "class_name": "HeNormal",
                "config": {"seed": {"class_name": "x"}},
            },
            "A `seed` in an initializer config must be None, an integer or a "
            "serialized keras.random.SeedGenerator",
        ),
    ],
)
def test_bad_configs_are_refused_clearly(config, message):
    with pytest.raises(ValueError, match=message):
        keras_inits.deserialize(config)


# Numbers and arrays.


def test_numbers_become_a_constant():
    for number in (0.5, 3, np.float32(0.25)):
        init = keras_inits.get(number)
        assert type(init) is keras_inits.Constant
        np.testing.assert_array_equal(
            to_numpy(init((2, 2))), np.full((2, 2), float(number))
        )
    assert type(keras_inits.get(np.array(2.0))) is keras_inits.Constant


@pytest.mark.parametrize("make", [np.asarray, keras.ops.convert_to_tensor])
def test_arrays_become_a_serializable_constant_array(make):
    values = np.arange(6.0).reshape(2, 3) - 2.5
    init = keras_inits.get(make(values))
    assert type(init) is keras_inits.ConstantArray
    rebuilt = keras_inits.deserialize(
        json.loads(json.dumps(keras_inits.serialize(init)))
    )
    for dtype in ("float16", "float32", "int32"):
        np.testing.assert_array_equal(
            to_numpy(rebuilt((2, 3), dtype=dtype)), values.astype(dtype)
        )
    assert repr(init) == (
        "ConstantArray(value=[[-2.5, -1.5, -0.5], [0.5, 1.5, 2.5]])"
    )
    assert repr(keras_inits.ConstantArray(np.ones((3, 3)))) == (
        "ConstantArray(value=<array of shape (3, 3) and dtype float64>)"
    )
    # Its saved form since 0.1.0: nested lists, under the one key `value`.
    assert init.get_config() == {"value": values.tolist()}


def test_constant_array_of_the_wrong_shape_fails_at_call_time():
    init = keras_inits.get(np.ones((2, 3)))
    # Keras' sentence for its tensor identifier first, then ours.
    message = (
        "Expected `shape` to be (2, 3) for direct tensor as "
        "initializer. ConstantArray needs the shape of its value, "
        "(2, 3). Received: shape=(3, 2)"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        init((3, 2))
    layer = keras.layers.Dense(3, kernel_initializer=init)
    with pytest.raises(ValueError, match="ConstantArray needs the shape"):
        layer.build((None, 8))


def test_constant_array_is_the_exact_shape_constant():
    init = keras_inits.ConstantArray([[-1, 2], [3, 4]])
    assert isinstance(init, keras_inits.Constant)
    assert init.max_abs((2, 2)) == 4.0
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"{init!r} makes values from -1 to 4, beyond the range of uint8"
        ),
    ):
        init((2, 2), "uint8")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "ConstantArray(value=[1e+39]) makes values up to 1e+39"
        ),
    ):
        keras_inits.ConstantArray([1e39])((1,), "float32")


# Numbers no Keras dtype holds: a ValueError naming `value`, never NumPy's
# TypeError ("ufunc 'isnan' not supported") or an OverflowError.
@pytest.mark.parametrize(
    "identifier", [2**64, -(2**63) - 1, 10**400, np.nan, np.array(np.nan)]
)
def test_get_refuses_numbers_no_dtype_holds_naming_value(identifier):
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `value` of Constant must be a real number or an array "
            "of real numbers. Received: value="
        ),
    ):
        keras_inits.get(identifier)


# Beyond any float (10**400), beyond int64 and uint64 (2**64), beyond
# float32 (10**39, for the arguments checked against float32).
@pytest.mark.parametrize(
    "name, config, argument, number",
    [
        ("Constant", '{"value": %s}', "value", 10**400),
        ("Constant", '{"value": %s}', "value", 2**64),
        ("Constant", '{"value": [1, %s]}', "value", 10**400),
        ("Constant", '{"value": [1, %s]}', "value", 2**64),
        ("ConstantArray", '{"value": [[%s]]}', "value", 10**400),
        ("ConstantArray", '{"value": [[%s]]}', "value", 2**64),
        ("Identity", '{"gain": %s}', "gain", 10**400),
        ("Identity", '{"gain": %s}', "gain", 10**39),
        ("STFT", '{"window": [1, %s]}', "window", 10**400),
        ("STFT", '{"window": [1, %s]}', "window", 10**39),
    ],
)
def test_huge_numbers_in_a_json_config_name_the_argument(
    name, config, argument, number
):
    # The config's template holds a %s for the number (JSON of any size).
    inner = config.replace("%s", str(number))
    text = f'{{"class_name": "keras_inits>{name}", "config": {inner}}}'
    for load in (keras_inits.deserialize, keras.initializers.deserialize):
        with pytest.raises(
            ValueError,
            match=re.escape(f"Argument `{argument}` of {name} must be"),
        ):
            load(json.loads(text))


def test_a_huge_number_in_a_keras_file_names_the_argument(tmp_path):
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(
        2, bias_initializer=keras_inits.Constant(0.5)
    )(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "model.keras")
    with zipfile.ZipFile(tmp_path / "model.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = files["config.json"].decode()
    assert config.count('"value": 0.5') == 1
    files["config.json"] = config.replace(
        '"value": 0.5', f'"value": {10**400}'
    ).encode()
    with zipfile.ZipFile(tmp_path / "huge.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    # Keras' Functional.from_config re-raises any error as a TypeError
    # ending with the original message.
    with pytest.raises(
        (TypeError, ValueError),
        match=re.escape(
            "Argument `value` of Constant must be a real number or an array "
            "of real numbers. Received: value=1000000000"
        )
        + r".*\.\.\. "
        r"\(401 characters\)",
    ):
        keras.models.load_model(tmp_path / "huge.keras")


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        [[1.0], [2.0, 3.0]],
        [1.0, float("nan")],
        np.array([True]),
        np.array([1 + 1j]),
        {"a": 1},
    ],
)
def test_constant_array_refuses_bad_values(value):
    with pytest.raises(
        ValueError,
        match="Argument `value` of ConstantArray "
        "must be an array of real numbers. Received: value=",
    ):
        keras_inits.ConstantArray(value)


# Seeds in configs: every form keras_inits or Keras writes loads back
# (seeds.read_seed), bare or nested. The full matrix of
# initializers, seeds, nestings and routes is in test_round_trips.py.


def _portable_seed_forms(seed):
    full = keras.saving.serialize_keras_object(keras_inits.PortableSeed(seed))
    assert full == {
        "module": "keras_inits.random._portable",
        "class_name": "PortableSeed",
        "config": {"seed": seed},
        "registered_name": "keras_inits>PortableSeed",
    }
    without_module = {k: v for k, v in full.items() if k != "module"}
    bare = {"class_name": "PortableSeed", "config": {"seed": seed}}
    registered_only = {
        "class_name": "keras_inits>PortableSeed",
        "config": {"seed": seed},
    }
    return [full, without_module, bare, registered_only]


def _seed_generator_forms(seed):
    full = keras.saving.serialize_keras_object(
        keras.random.SeedGenerator(seed)
    )
    return [full, {k: v for k, v in full.items() if k != "module"}]


SAVED_SEEDS = (
    [(None, None), (3, 3)]
    + [(form, 3) for form in _seed_generator_forms(3)]
    + [(form, keras_inits.PortableSeed(3)) for form in _portable_seed_forms(3)]
    + [
        (form, keras_inits.PortableSeed(None))
        for form in _portable_seed_forms(None)
    ]
)


@pytest.mark.parametrize(
    "saved, seed",
    SAVED_SEEDS,
    ids=[
        "None",
        "int",
        "SeedGenerator",
        "SeedGenerator-without-module",
        *(
            f"PortableSeed({seed})-{form}"
            for seed in (3, None)
            for form in (
                "full",
                "without-module",
                "bare",
                "registered-name-only",
            )
        ),
    ],
)
def test_every_saved_seed_form_loads(saved, seed):
    config = {"class_name": "HeNormal", "config": {"seed": saved}}
    nested = {
        "class_name": "DepthScaled",
        "config": {
            "initializer": {
                "class_name": "ICNR",
                "config": {"initializer": config},
            }
        },
    }
    init = keras_inits.deserialize(json.loads(json.dumps(config)))
    assert init.seed == seed and type(init.seed) is type(seed)
    inner = keras_inits.deserialize(nested).initializer.initializer
    assert inner.seed == seed and type(inner.seed) is type(seed)


@pytest.mark.parametrize(
    "form",
    _portable_seed_forms(3),
    ids=["full", "without-module", "bare", "registered-name-only"],
)
def test_keras_deserialize_reads_a_saved_portable_seed_too(form):
    # Keras' deserializer gives the seed dict to the constructor as it is.
    config = keras_inits.serialize(keras_inits.HeNormal(seed=1))
    config["config"]["seed"] = form
    init = keras.initializers.deserialize(config)
    assert type(init) is keras_inits.HeNormal
    assert init.seed == keras_inits.PortableSeed(3)


def test_a_saved_portable_seed_replays_its_draws_nested():
    init = keras_inits.DepthScaled(
        keras_inits.ICNR(
            keras_inits.HeNormal(seed=keras_inits.PortableSeed(9))
        ),
        depth=2,
    )
    config = keras_inits.serialize(init)
    rebuilt = keras_inits.deserialize(json.loads(json.dumps(config)))
    assert keras_inits.serialize(rebuilt) == config
    np.testing.assert_array_equal(
        to_numpy(rebuilt((3, 3, 2, 8))), to_numpy(init((3, 3, 2, 8)))
    )


BAD_SEED = (
    "A `seed` in an initializer config must be None, an integer or a "
    "serialized keras.random.SeedGenerator or keras_inits.PortableSeed."
    " Received: HeNormal\\(seed="
)


@pytest.mark.parametrize(
    "seed",
    [
        {"class_name": "x"},
        {"class_name": "PortableSeed", "config": {"seed": 1, "draws": 3}},
        {"class_name": "PortableSeed", "config": {"seed": "1"}},
        {"class_name": "PortableSeed", "config": [1]},
        {
            "class_name": "PortableSeed",
            "module": "keras.random",
            "config": {"seed": 1},
        },
        {
            "class_name": "PortableSeed",
            "registered_name": "mine>PortableSeed",
            "config": {"seed": 1},
        },
        {"class_name": "SeedGenerator", "config": {"seed": None}},
        {
            "class_name": "SeedGenerator",
            "module": "keras_inits.portable",
            "config": {"seed": 1},
        },
        # Keras would follow a registered name to whatever class holds it.
        {
            "class_name": "SeedGenerator",
            "module": "keras.random",
            "registered_name": "keras_inits>PortableSeed",
            "config": {"seed": 1},
        },
    ],
)
def test_a_bad_seed_in_a_config_is_refused_naming_the_initializer(seed):
    config = {"class_name": "HeNormal", "config": {"seed": seed}}
    with pytest.raises(ValueError, match=BAD_SEED):
        keras_inits.deserialize(config)
    nested = {"class_name": "DepthScaled", "config": {"initializer": config}}
    # The cause is in the message itself, which is all `load_model` keeps.
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `initializer` of DepthScaled holds an invalid config "
            "at nesting level 2 (DepthScaled > HeNormal): "
        )
        + BAD_SEED,
    ) as raised:
        keras_inits.deserialize(nested)
    assert re.match(BAD_SEED, str(raised.value.__cause__))


def test_a_saved_portable_seed_out_of_range_names_portable_seed():
    config = {
        "class_name": "HeNormal",
        "config": {
            "seed": {"class_name": "PortableSeed", "config": {"seed": 2**32}}
        },
    }
    with pytest.raises(
        ValueError,
        match=r"Argument `seed` of PortableSeed "
        r"must be None or an integer in \[0, 2\*\*32\)",
    ):
        keras_inits.deserialize(config)


def test_keras_own_initializers_never_get_a_portable_seed():
    # Keras' RandomInitializer would restore it through the registry and
    # then refuse it, or draw natively from a seed meant to be portable.
    for form in _portable_seed_forms(3):
        config = {
            "class_name": "HeNormal",
            "module": "keras.initializers",
            "config": {"seed": form},
        }
        with pytest.raises(
            ValueError,
            match="HeNormal is not a keras_inits "
            "initializer: only keras_inits' initializers take "
            "a keras_inits.PortableSeed",
        ):
            keras_inits.deserialize(config)


# Round trips of one initializer: each gives the identical config and, for a
# seeded initializer, the identical first draw.


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_round_trips_of_one_initializer(case):
    init = case.make(SEED)
    config = init.get_config()
    for seed in (config.get("seed"),):
        assert seed is None or type(seed) is int
    serialized = keras_inits.serialize(init)
    assert serialized["registered_name"] == f"keras_inits>{case.name}"
    assert serialized["config"] == config
    routes = {
        "from_config": type(init).from_config(config),
        "deserialize": keras_inits.deserialize(serialized),
        "json": keras_inits.deserialize(json.loads(json.dumps(serialized))),
        "keras.initializers": keras.initializers.deserialize(
            json.loads(json.dumps(serialized))
        ),
    }
    for route, rebuilt in routes.items():
        assert type(rebuilt) is type(init), route
        assert keras_inits.serialize(rebuilt) == serialized, route
        np.testing.assert_array_equal(
            first_draw(rebuilt, case),
            first_draw(case.make(SEED), case),
            err_msg=route,
        )


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_a_seed_generator_round_trips_as_its_int_seed(case):
    init = case.make(keras.random.SeedGenerator(SEED))
    serialized = keras_inits.serialize(init)
    assert serialized["config"]["seed"] == SEED
    rebuilt = keras_inits.deserialize(json.loads(json.dumps(serialized)))
    np.testing.assert_array_equal(
        first_draw(rebuilt, case), first_draw(case.make(SEED), case)
    )


# Round trips of a model: one model holds every initializer, one layer each.


@pytest.fixture(scope="module")
def model_and_layers():
    return grouped_model(CASES, seed=SEED)


def assert_model_round_trip(loaded, original, layers, route):
    for name, (case, init, attribute) in layers.items():
        got = getattr(loaded.get_layer(name), attribute)
        assert type(got) is type(init), (route, case.name)
        assert got.get_config() == init.get_config(), (route, case.name)
        for mine, theirs in zip(
            original.get_layer(name).get_weights(),
            loaded.get_layer(name).get_weights(),
        ):
            np.testing.assert_array_equal(
                theirs, mine, err_msg=f"{route}: {case.name}"
            )


def test_model_json_and_clone_redraw_identical_weights(model_and_layers):
    # Rebuilt from config, not copied: equal weights mean the rebuilt
    # initializers replayed the seeded draws.
    model, layers = model_and_layers
    rebuilt = {
        "to_json": keras.models.model_from_json(model.to_json()),
        "clone_model": keras.models.clone_model(model),
    }
    for route, loaded in rebuilt.items():
        assert_model_round_trip(loaded, model, layers, route)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_file_round_trip(model_and_layers, tmp_path, suffix):
    model, layers = model_and_layers
    path = os.path.join(tmp_path, "model" + suffix)
    model.save(path)
    loaded = keras.models.load_model(path)
    assert_model_round_trip(loaded, model, layers, suffix)


def test_save_weights_and_load_weights(model_and_layers, tmp_path):
    model, layers = model_and_layers
    path = os.path.join(tmp_path, "model.weights.h5")
    model.save_weights(path)
    other, _ = grouped_model(CASES, seed=SEED + 1)
    before = [w.copy() for w in other.get_weights()]
    other.load_weights(path)
    for mine, theirs in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(theirs, mine)
    assert any(
        not np.array_equal(b, w) for b, w in zip(before, model.get_weights())
    )


_FRESH_PROCESS = textwrap.dedent("""
    import json, sys
    import keras
    try:
        keras.models.load_model(sys.argv[1])
        unregistered = "loaded"
    except Exception as error:
        unregistered = type(error).__name__
    import keras_inits
    model = keras.models.load_model(sys.argv[1])
    layers = json.loads(sys.argv[2])
    json.dump({
        "without_keras_inits": unregistered,
        "layers": {
            name: [keras.saving.serialize_keras_object(
                       getattr(model.get_layer(name), attribute)),
                   [w.tolist() for w in model.get_layer(name).get_weights()]]
            for name, attribute in layers.items()},
    }, sys.stdout)
""")


# A child process: once, on TensorFlow (loading a .keras file in this
# process is checked on every backend by tests/initializers/
# test_round_trips.py).
@pytest.mark.e2e
def test_keras_file_loads_in_a_fresh_process(model_and_layers, tmp_path):
    model, layers = model_and_layers
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    attributes = {
        name: attribute for name, (_, _, attribute) in layers.items()
    }
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, path, json.dumps(attributes)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    # Without `import keras_inits` the names are unknown: the test can fail.
    assert result["without_keras_inits"] != "loaded"
    for name, (case, init, _) in layers.items():
        config, weights = result["layers"][name]
        assert config == keras_inits.serialize(init), case.name
        for mine, theirs in zip(model.get_layer(name).get_weights(), weights):
            np.testing.assert_array_equal(np.asarray(theirs, mine.dtype), mine)


# Safety: a config from someone else's file never runs code.


def _touch_configs(path):
    command = f"touch {path}"
    return [
        {
            "class_name": "system",
            "module": "os",
            "config": {"command": command},
        },
        {
            "class_name": "function",
            "module": "os",
            "config": "system",
            "registered_name": "system",
        },
        {
            "class_name": "system",
            "module": "posix",
            "config": {},
            "registered_name": "os>system",
        },
        {
            "class_name": "eval",
            "module": "builtins",
            "config": {"source": f"open({str(path)!r}, 'w')"},
        },
        {
            "class_name": "run",
            "module": "subprocess",
            "config": {"args": ["touch", str(path)]},
        },
        {
            "class_name": "Popen",
            "module": "subprocess",
            "config": {"args": ["touch", str(path)]},
        },
        {"class_name": "os.system", "config": {"command": command}},
        {
            "class_name": "HeNormal",
            "module": "keras_inits.variance_scaling",
            "config": {
                "seed": {
                    "class_name": "system",
                    "module": "os",
                    "config": {"command": command},
                }
            },
        },
        {"class_name": "__numpy__", "config": {"value": 1, "dtype": "int"}},
        {"class_name": "HeNormal", "module": ["os"], "config": {}},
    ]


def _lambda_config(path):
    path = str(path)
    touch = lambda shape, dtype=None: open(path, "w").close()  # noqa: E731
    with pytest.warns(UserWarning, match="includes a `lambda`"):
        return keras.saving.serialize_keras_object(touch)


@pytest.mark.parametrize("index", range(len(_touch_configs("x"))))
def test_hostile_configs_are_refused_and_nothing_runs(index, tmp_path):
    path = tmp_path / "ran"
    config = _touch_configs(path)[index]
    with pytest.raises(
        ValueError,
        match="Refusing to|Unknown initializer|A "
        "`seed` in an initializer config must be",
    ):
        keras_inits.deserialize(config)
    with pytest.raises(ValueError):
        keras_inits.get(config)
    assert not path.exists()


# A seed dict is read field by field, never by Keras' deserializer, which
# would resolve the class it names and, for a module of Keras, import it.
NEVER_IMPORTED = "keras.src.utils.code_stats"  # a Keras module nothing uses


def _hostile_seeds():
    return [
        {
            "class_name": "system",
            "module": "os",
            "config": {"command": "true"},
        },
        {
            "class_name": "function",
            "module": "os",
            "config": "system",
            "registered_name": "system",
        },
        {"class_name": "count_loc", "module": NEVER_IMPORTED, "config": {}},
        {
            "class_name": "PortableSeed",
            "module": "keras_inits_no_such_module",
            "config": {"seed": 1},
        },
        {
            "class_name": "Thing",
            "module": "keras.keras_inits_no_such_module",
            "config": {},
        },
    ]


@pytest.mark.parametrize("index", range(len(_hostile_seeds())))
def test_a_hostile_seed_is_refused_by_every_route_and_imports_nothing(index):
    assert NEVER_IMPORTED not in sys.modules
    seed = _hostile_seeds()[index]
    config = keras_inits.serialize(keras_inits.HeNormal(seed=1))
    config["config"]["seed"] = seed
    nested = keras_inits.serialize(
        keras_inits.DepthScaled(keras_inits.HeNormal(seed=1))
    )
    nested["config"]["initializer"]["config"]["seed"] = seed
    in_config = "A `seed` in an initializer config must be"
    argument = "Argument `seed` of HeNormal must be a saved PortableSeed"
    nested_argument = re.escape(
        "Argument `initializer` of DepthScaled holds an invalid config at "
        "nesting level 2 (DepthScaled > HeNormal): "
    )
    routes = [
        (lambda: keras_inits.deserialize(config), in_config),
        (
            lambda: keras_inits.deserialize(nested),
            nested_argument + in_config,
        ),
        (lambda: keras.initializers.deserialize(config), argument),
        (
            lambda: keras.initializers.deserialize(nested),
            nested_argument + in_config,
        ),
        (lambda: keras_inits.HeNormal(seed=seed), argument),
    ]
    for load, message in routes:
        with pytest.raises(ValueError, match=message):
            load()
    assert NEVER_IMPORTED not in sys.modules
    assert not [name for name in sys.modules if "no_such_module" in name]


def test_a_config_may_name_only_initializer_classes(tmp_path):
    path = tmp_path / "ran"

    @keras.saving.register_keras_serializable(package="keras_inits_tests")
    def touch(shape, dtype=None):
        path.write_text("ran")

    config = {
        "class_name": "function",
        "config": "touch",
        "registered_name": "keras_inits_tests>touch",
    }
    with pytest.raises(ValueError, match="Refusing to deserialize 'function'"):
        keras_inits.deserialize(config)
    config = {
        "class_name": "touch",
        "config": {},
        "registered_name": "keras_inits_tests>touch",
    }
    with pytest.raises(
        ValueError,
        match="'keras_inits_tests>touch' resolves "
        "to .* which is not a keras.initializers.Initializer",
    ):
        keras_inits.deserialize(config)
    assert not path.exists()


@pytest.mark.parametrize("identifier", [os.system, eval, subprocess.Popen])
def test_get_refuses_callables_that_are_not_initializers(identifier):
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        keras_inits.get(identifier)


def test_a_serialized_lambda_is_refused_in_safe_mode(tmp_path):
    path = tmp_path / "ran"
    config = _lambda_config(path)
    assert config["class_name"] == "__lambda__"
    for safe in ({}, {"safe_mode": True}):
        with pytest.raises(
            ValueError, match="Refusing to deserialize a Python lambda"
        ):
            keras_inits.deserialize(config, **safe)
    # Inside a Keras Constant, whose value must be a number or an array,
    # it is refused before Keras' deserializer sees it, safe mode or not.
    nested = {
        "class_name": "Constant",
        "module": "keras.initializers",
        "config": {"value": config},
    }
    for safe in (True, False):
        with pytest.raises(
            ValueError,
            match="Argument `value` of Constant must be a number, nested "
            "lists, or Keras' saved form of an array",
        ):
            keras_inits.deserialize(nested, safe_mode=safe)
    assert not path.exists()


def test_safe_mode_false_is_honoured(tmp_path):
    # What the refusals above prevent: this lambda does write the file.
    path = tmp_path / "ran"
    config = _lambda_config(path)
    with SafeModeScope(False):  # as load_model(..., safe_mode=False) sets
        loaded = keras_inits.deserialize(config)
    assert not path.exists()
    loaded((1,))
    assert path.exists()
    path.unlink()
    keras_inits.deserialize(config, safe_mode=False)((1,))
    assert path.exists()


def test_custom_objects_resolve_and_win_over_names():
    class Mine(keras.initializers.Initializer):
        def __init__(self, value=1.0):
            self.value = value

        def __call__(self, shape, dtype=None):
            return keras.ops.full(shape, self.value, dtype=dtype)

        def get_config(self):
            return {"value": self.value}

    config = {"class_name": "HeNormal", "config": {"value": 2.0}}
    rebuilt = keras_inits.deserialize(
        config, custom_objects={"HeNormal": Mine}
    )
    assert type(rebuilt) is Mine and rebuilt.value == 2.0
    assert type(keras_inits.deserialize("Mine", {"Mine": Mine})) is Mine
    with keras.saving.custom_object_scope({"Mine": Mine}):
        assert type(keras_inits.get("Mine")) is Mine
    with pytest.raises(ValueError, match="Unknown initializer: 'Mine'"):
        keras_inits.get("Mine")


# Stability: the committed fixture of every version loads.


def _fixtures():
    found = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "configs-*.json"))):
        with open(path) as f:
            found.append((os.path.basename(path), json.load(f)))
    return found


FIXTURE_CONFIGS = [
    (f"{file}:{name}", config)
    for file, fixture in _fixtures()
    for name, config in fixture["configs"].items()
]


def check_fixture_covers(cases, fixtures):
    saved = {name for _, fixture in fixtures for name in fixture["configs"]}
    missing = sorted({case.name for case in cases} - saved)
    assert not missing, (
        f"No saved config of {missing} in tests/fixtures/: run "
        "`python tests/fixtures/make_fixtures.py` and commit the result."
    )


def check_saved_config(config):
    """What a saved model holds must still load, by Keras (as load_model
    does) and by keras_inits, into the class registered under that name,
    with every saved argument kept. A new argument with a default is a
    compatible change; a renamed or removed one fails here."""
    for load in (keras.initializers.deserialize, keras_inits.deserialize):
        try:
            init = load(json.loads(json.dumps(config)))
        except (TypeError, ValueError) as error:
            raise AssertionError(
                f"A saved {config['registered_name']} no longer loads: {error}"
            ) from error
        # Keras' deserialize returns an unknown class name as a bare string.
        assert isinstance(init, keras.initializers.Initializer), (
            f"A saved {config['registered_name']} no longer loads: "
            f"{load.__module__}.deserialize gave {init!r}"
        )
        name = keras.saving.get_registered_name(type(init))
        assert name == config["registered_name"], (
            f"{config['registered_name']} now loads as {name}"
        )
        now = init.get_config()
        for key, value in config["config"].items():
            # A nested config's `module` names where its class was defined
            # when it was saved, which moved; classes are found by their
            # registered names.
            assert key in now and _without_modules(now[key]) == (
                _without_modules(value)
            ), (
                f"{config['registered_name']}: saved {key}={value!r}, "
                f"now {now.get(key)!r}"
            )


def test_fixture_has_every_initializer():
    check_fixture_covers(CASES, _fixtures())


@pytest.mark.parametrize(
    "config",
    [c for _, c in FIXTURE_CONFIGS],
    ids=[i for i, _ in FIXTURE_CONFIGS],
)
def test_fixture_config_still_loads_with_the_same_meaning(config):
    check_saved_config(config)


def test_the_fixture_checks_catch_renames_and_missing_rows():
    with pytest.raises(
        AssertionError,
        match=r"No saved config of \['New'\] "
        r"in tests/fixtures/: run `python tests/fixtures/"
        r"make_fixtures.py`",
    ):
        check_fixture_covers(
            [*CASES, type(CASES[0])("New", None)], _fixtures()
        )
    renamed = keras_inits.serialize(keras_inits.HeNormal(seed=1))
    renamed["registered_name"] = renamed["class_name"] = "keras_inits>HeNorm"
    with pytest.raises(
        AssertionError, match="A saved keras_inits>HeNorm no longer loads"
    ):
        check_saved_config(renamed)
    config = keras_inits.serialize(keras_inits.HeNormal(seed=1))
    config["config"]["random_seed"] = config["config"].pop("seed")
    with pytest.raises(
        AssertionError, match="A saved keras_inits>HeNormal no longer loads"
    ):
        check_saved_config(config)
    config = keras_inits.serialize(keras_inits.VarianceScaling(mode="fan_out"))
    config["config"]["mode"] = "fan_in"  # a default that changed meaning
    check_saved_config(config)
    config["config"]["distribution"] = "normal"  # an alias the class rewrites
    with pytest.raises(
        AssertionError,
        match="keras_inits>VarianceScaling: "
        "saved distribution='normal', now 'truncated_normal'",
    ):
        check_saved_config(config)


@pytest.mark.parametrize(
    "file, fixture", _fixtures(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_fixture_model_still_loads(file, fixture):
    path = os.path.join(FIXTURES, fixture["model"]["file"])
    model = keras.models.load_model(path)
    for layer_name, (case_name, attribute) in fixture["model"][
        "layers"
    ].items():
        init = getattr(model.get_layer(layer_name), attribute)
        saved = fixture["configs"][case_name]
        assert (
            keras.saving.get_registered_name(type(init))
            == (saved["registered_name"])
        )
        now = init.get_config()
        assert _without_modules(
            {key: now.get(key) for key in saved["config"]}
        ) == (_without_modules(saved["config"]))


def _nested_seed_fixtures():
    found = []
    for path in sorted(
        glob.glob(os.path.join(FIXTURES, "nested-seeds-*.json"))
    ):
        with open(path) as f:
            found.append((os.path.basename(path), json.load(f)))
    return found


def test_a_nested_seed_fixture_is_committed():
    assert _nested_seed_fixtures(), (
        "No tests/fixtures/nested-seeds-*.json: run `python tests/fixtures/"
        "make_fixtures.py nested-seeds` and commit the result."
    )


@pytest.mark.parametrize(
    "file, fixture",
    _nested_seed_fixtures(),
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_fixture_with_nested_seeds_loads_its_configs_and_weights(
    file, fixture
):
    model = keras.models.load_model(os.path.join(FIXTURES, fixture["model"]))
    kinds = set()
    for name, saved in fixture["layers"].items():
        layer = model.get_layer(name)
        config = saved["config"]
        assert _without_modules(
            keras_inits.serialize(layer.kernel_initializer)
        ) == _without_modules(config), name
        for load in (keras_inits.deserialize, keras.initializers.deserialize):
            assert _without_modules(keras_inits.serialize(load(config))) == (
                _without_modules(config)
            ), name
        # Saved weights are loaded, never redrawn.
        for weight, values in zip(layer.get_weights(), saved["weights"]):
            np.testing.assert_array_equal(
                weight, np.asarray(values, weight.dtype), err_msg=name
            )
        if saved["replays"]:
            # A PortableSeed draws them again, on every backend.
            kernel = layer.get_weights()[0]
            fresh = keras_inits.deserialize(config)
            np.testing.assert_array_equal(
                to_numpy(fresh(kernel.shape, dtype="float32")),
                kernel,
                err_msg=name,
            )
        inner, depth = _innermost(config)
        seed = inner["config"]["seed"]
        if isinstance(seed, dict):
            kind = (
                "PortableSeed"
                if seed["config"]["seed"] is not None
                else "PortableSeed(None)"
            )
        else:
            kind = type(seed).__name__
        kinds.add((kind, depth))
    # Nested, one and two deep, with each kind of seed keras_inits saves.
    assert {("PortableSeed", 2), ("PortableSeed(None)", 1), ("int", 2)} <= (
        kinds
    )


def _innermost(config):
    """The innermost initializer's config, and how deep it is nested."""
    depth = 0
    while "initializer" in config["config"]:
        config, depth = config["config"]["initializer"], depth + 1
    return config, depth


# Writing your own.


@keras_inits.register(package="keras_inits_tests")
class MyClippedNormal(keras_inits.RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = checks.check_number("MyClippedNormal", "mean", mean)
        self.stddev = checks.check_positive(
            "MyClippedNormal", "stddev", stddev
        )
        super().__init__(seed=seed)

    def draw(self, shape, dtype):
        values = samplers.normal(
            shape, self.mean, self.stddev, dtype, self.seed_generator
        )
        bound = 2.0 * self.stddev
        return keras.ops.clip(values, self.mean - bound, self.mean + bound)


@keras.saving.register_keras_serializable(package="keras_inits_tests")
class PlainClippedNormal(keras.initializers.Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        if not stddev > 0:
            raise ValueError(f"stddev must be positive. Received: {stddev}")
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def __call__(self, shape, dtype=None):
        dtype = dtype or keras.config.floatx()
        values = keras.random.normal(
            shape, self.mean, self.stddev, dtype, seed=self.seed_generator
        )
        bound = 2.0 * self.stddev
        return keras.ops.clip(values, self.mean - bound, self.mean + bound)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _lines(source):
    """Non-blank lines of a decorated class definition."""
    if isinstance(source, type):
        source = inspect.getsource(source)
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("@"))
    end = next(
        (
            i
            for i, line in enumerate(lines)
            if i > start + 1 and line.strip() and not line[0].isspace()
        ),
        len(lines),
    )
    return len([line for line in lines[start:end] if line.strip()])


def test_your_own_initializer_gets_the_seed_handling():
    # From RandomInitializer: a SeedGenerator seed saves as its int seed,
    # and a bad seed is refused with the subclass's name.
    mine = MyClippedNormal(seed=keras.random.SeedGenerator(1))
    assert keras_inits.serialize(mine)["config"]["seed"] == 1
    with pytest.raises(ValueError, match="Argument `seed` of MyClippedNormal"):
        MyClippedNormal(seed=-1)


def test_your_own_initializer_draws_a_clipped_normal():
    values = to_numpy(MyClippedNormal(1.0, 0.5, seed=3)((256, 128))).ravel()
    assert values.min() == pytest.approx(0.0) and (
        values.max() == pytest.approx(2.0)
    )
    # P(|Z| >= 2) = 0.0455; with 32768 draws its standard error is 0.00115,
    # so +-0.006 (over 5 standard errors) holds for a fixed seed and fails a
    # truncating (0) or unclipped (0 at the bounds) sampler.
    at_bounds = np.mean(np.isclose(np.abs(values - 1.0), 1.0))
    assert abs(at_bounds - 0.0455) < 0.006


def test_your_own_initializer_round_trips_everywhere(tmp_path):
    init = keras_inits.get("keras_inits_tests>MyClippedNormal")
    assert type(init) is MyClippedNormal
    config = keras_inits.serialize(MyClippedNormal(0.1, 2.0, seed=4))
    assert config["registered_name"] == "keras_inits_tests>MyClippedNormal"
    assert config["config"] == {"mean": 0.1, "stddev": 2.0, "seed": 4}
    rebuilt = keras_inits.deserialize(json.loads(json.dumps(config)))
    np.testing.assert_array_equal(
        to_numpy(rebuilt((8, 4))),
        to_numpy(MyClippedNormal(0.1, 2.0, seed=4)((8, 4))),
    )
    inputs = keras.Input((8,))
    model = keras.Model(
        inputs,
        keras.layers.Dense(4, kernel_initializer=MyClippedNormal(seed=4))(
            inputs
        ),
    )
    model.save(tmp_path / "mine.keras")
    loaded = keras.models.load_model(tmp_path / "mine.keras")
    assert type(loaded.layers[-1].kernel_initializer) is MyClippedNormal
    np.testing.assert_array_equal(
        to_numpy(loaded.layers[-1].kernel), to_numpy(model.layers[-1].kernel)
    )


def _guide_examples():
    """`(page, block)`: the python blocks of the guide to saving and
    loading, then the one of "Writing your own" that defines an
    initializer (its other block registers a recipe)."""
    examples = []
    for name in ("saving-loading.md", "extending.md"):
        page = os.path.join(ROOT, "docs", name)
        with open(page, encoding="utf-8") as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        examples += [
            (page, block)
            for block in blocks
            if name == "saving-loading.md" or "class ClippedNormal" in block
        ]
    return examples


def test_guide_examples_run_and_yours_is_shorter_than_plain_keras():
    examples = _guide_examples()
    assert len(examples) == 2
    namespace = {"__name__": "docs_example"}
    for page, block in examples:
        exec(compile(block, page, "exec"), namespace)
    assert type(namespace["same"]) is keras_inits.HeNormal
    cls = namespace["ClippedNormal"]
    assert keras.saving.get_registered_name(cls) == "my_project>ClippedNormal"
    source = examples[-1][1]
    assert _lines(source) < _lines(PlainClippedNormal)
    assert type(namespace["init"]) is cls and namespace["init"].seed == 1
    values = to_numpy(cls(stddev=1.0, seed=1)((1000,)))
    assert np.abs(values).max() == pytest.approx(2.0)


# register: the checks it adds to Keras' decorator.


def test_register_refuses_what_would_break_saved_models():
    class NotAnInitializer:
        def get_config(self):
            return {}

    with pytest.raises(
        ValueError,
        match="keras_inits.register takes a "
        "subclass of keras.initializers.Initializer",
    ):
        keras_inits.register(package="keras_inits_tests")(NotAnInitializer)
    for package in ("", "a>b", 3):
        with pytest.raises(
            ValueError,
            match="Argument `package` of register "
            "must be a non-empty string without '>'",
        ):
            keras_inits.register(package=package)(MyClippedNormal)
    with pytest.raises(
        ValueError,
        match="The package 'keras_inits' is "
        "reserved for keras_inits' own initializers",
    ):
        keras_inits.register(type("HeNormal", (keras_inits.Initializer,), {}))


def test_register_refuses_a_name_held_by_another_class():
    def impostor():
        class MyClippedNormal(keras_inits.RandomInitializer):
            pass

        return MyClippedNormal

    with pytest.raises(
        ValueError,
        match="'keras_inits_tests>MyClippedNormal' "
        "is already registered by tests.initializers.test_serialization."
        "MyClippedNormal; registering",
    ):
        keras_inits.register("keras_inits_tests")(impostor())
    assert type(keras_inits.get("keras_inits_tests>MyClippedNormal")) is (
        MyClippedNormal
    )


def test_register_replaces_a_redefinition_of_the_same_class():
    # A re-run notebook cell defines the class again, same module and name.
    def define():
        @keras_inits.register("keras_inits_tests")
        class Twice(keras_inits.Initializer):
            def __call__(self, shape, dtype=None):
                return keras.ops.zeros(shape, dtype=dtype)

        return Twice

    define()
    second = define()
    assert type(keras_inits.get("keras_inits_tests>Twice")) is second


def test_register_refuses_constructors_the_automatic_config_cannot_save():
    class Loose(keras_inits.Initializer):
        def __init__(self, scale=1.0, **kwargs):
            self.scale = scale

    with pytest.raises(
        ValueError,
        match=r"Loose cannot use the automatic "
        r"get_config: its constructor takes \['kwargs'\]",
    ):
        keras_inits.register("keras_inits_tests")(Loose)


def test_a_missing_attribute_is_named_by_get_config():
    class Forgetful(keras_inits.Initializer):
        def __init__(self, scale=1.0):
            self.factor = scale

    with pytest.raises(
        AttributeError,
        match=r"Forgetful has no attribute "
        r"`scale`: the automatic get_config saves each "
        r"constructor argument",
    ):
        Forgetful().get_config()


# The files the flat layout saved, before the package moved into folders
# (`tests/fixtures/make_fixtures.py before-layout`): each loads, as
# `.keras` and as legacy `.h5`, with the initializers it saved and the
# weights it holds, bit for bit.


def _before_layout():
    path = os.path.join(FIXTURES, "before-layout-0.1.0.json")
    with open(path) as f:
        return json.load(f)


def _without_modules(config):
    """`config` without its `module` fields, at any depth: they name the
    Python module that defined a class when it was saved, which moved;
    classes are found by their registered names."""
    if isinstance(config, dict):
        return {
            key: _without_modules(value)
            for key, value in config.items()
            if key != "module"
        }
    if isinstance(config, list):
        return [_without_modules(value) for value in config]
    return config


def _saved_modules(config):
    if isinstance(config, dict):
        found = {config["module"]} if "module" in config else set()
        for value in config.values():
            found |= _saved_modules(value)
        return found
    return set()


def test_the_before_layout_fixture_names_the_flat_modules():
    # What makes it a test of the move: the configs name modules that no
    # longer exist as such.
    fixture = _before_layout()
    modules = set()
    for model in fixture["models"].values():
        for configs in model["layers"].values():
            modules |= _saved_modules(configs)
    assert {
        "keras_inits.variance_scaling",
        "keras_inits.portable",
        "keras_inits.depth",
        "keras_inits.convolution",
    } <= modules


@pytest.mark.parametrize("model_name", ["catalogue", "nested", "recipe"])
@pytest.mark.parametrize("file_index", [0, 1], ids=[".keras", ".h5"])
def test_files_saved_before_the_layout_load_unchanged(model_name, file_index):
    from tests.fixtures.make_fixtures import digest
    from tests.fixtures.make_fixtures import initializer_configs

    saved = _before_layout()["models"][model_name]
    model = keras.models.load_model(
        os.path.join(FIXTURES, saved["files"][file_index])
    )
    for layer_name, configs in saved["layers"].items():
        now = initializer_configs(model.get_layer(layer_name))
        assert _without_modules(now) == _without_modules(configs), layer_name
    weights = {
        variable.path: digest(keras.ops.convert_to_numpy(variable))
        for variable in model.weights
    }
    assert weights == saved["weights"]


def test_the_recipe_fixture_is_redrawn_identically_on_every_backend():
    # Its weights came from `reinitialize(recipe="gpt2", seed=0,
    # portable=True)`: a portable draw is the same on every backend, so
    # reinitializing the loaded model again gives them back, bit for bit.
    from tests.fixtures.make_fixtures import digest

    fixture = _before_layout()
    saved = fixture["models"]["recipe"]
    model = keras.models.load_model(os.path.join(FIXTURES, saved["files"][0]))
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    keras_inits.reinitialize(model, **fixture["recipe_arguments"])
    weights = {
        variable.path: digest(keras.ops.convert_to_numpy(variable))
        for variable in model.weights
    }
    assert weights == saved["weights"]
