"""Config errors: every config keras_inits' serialization layer refuses
raises a ValueError whose message states the cause, bare or nested in a
wrapper (which argument of which initializer, at which nesting level), by
every route: `keras_inits.deserialize` and `get`, Keras' `deserialize`
and `deserialize_keras_object`, `from_config`, and `keras.models.load_model`
of a `.keras` file whose config.json was edited.

`load_model` keeps only the text: Keras' `Operation.from_config` re-raises
any error of a layer's constructor as a TypeError ending with
"Exception encountered: " and `str(error)` (Keras 3.10 to 3.15). So the
cause must be in the message itself, not only in `__cause__`; the
ValueError is that TypeError's `__context__`.

A config of Keras' own initializer (`"module": "keras.initializers"`) goes
through keras_inits only by keras_inits' routes, or nested in a keras_inits
wrapper: `keras.initializers.deserialize` of it, or a Keras layer holding
it in a `.keras` file, is Keras alone, which keras_inits does not patch.
"""

import copy
import importlib
import json
import re
import zipfile

import keras
import pytest

import keras_inits


def _ours(name, **config):
    return {"class_name": f"keras_inits>{name}", "config": config}


def _keras(name, **config):
    return {
        "module": "keras.initializers",
        "class_name": name,
        "config": config,
        "registered_name": None,
    }


def _seed_generator(seed):
    return {
        "module": "keras.random",
        "class_name": "SeedGenerator",
        "config": {"seed": seed},
        "registered_name": None,
    }


_OS_SYSTEM = {
    "class_name": "system",
    "module": "os",
    "config": {"command": "true"},
}
_SUBPROCESS_RUN = {
    "class_name": "run",
    "module": "subprocess",
    "config": {"args": ["true"]},
}
_FUNCTION = {
    "class_name": "function",
    "module": "os",
    "config": "system",
    "registered_name": "system",
}

_CONSTANT_VALUE = re.escape(
    "Argument `value` of Constant must be a number, nested lists, or "
    "Keras' saved form of an array"
)
_MODES = re.escape("VarianceScaling expects one of ['fan_avg', 'fan_in', ")


def _generator_range(limit, value):
    requirement = re.escape(
        "Argument `seed` of HeNormal must be a saved keras.random."
        f"SeedGenerator whose seed is an integer in [0, {limit})"
    )
    return f"{requirement}.* Received: seed=.*'seed': {value}"


# (id, config, a regular expression its message must match (re.search),
# whether its class is keras_inits' own: Keras' own classes are loaded by
# Keras alone outside keras_inits' routes).
CASES = [
    (
        "RandomNormal-stddev--1",
        _ours("RandomNormal", stddev=-1),
        re.escape(
            "Argument `stddev` of RandomNormal must be a positive number. "
            "Received: stddev=-1"
        ),
        True,
    ),
    (
        "RandomNormal-seed-10**30",
        _ours("RandomNormal", seed=10**30),
        re.escape(
            "Argument `seed` of RandomNormal must be None, an integer in "
            "[0, 2**32)"
        )
        + f".* Received: seed={10**30}",
        True,
    ),
    (
        "RandomNormal-seed-subprocess.run",
        _ours("RandomNormal", seed=_SUBPROCESS_RUN),
        r"`seed`.* must be .*PortableSeed\. Received: .*'subprocess'",
        True,
    ),
    (
        "Constant-os.system",
        _ours("Constant", value=_OS_SYSTEM),
        _CONSTANT_VALUE + ".* Received: value=.*'os'",
        True,
    ),
    (
        "keras-Constant-os.system",
        _keras("Constant", value=_OS_SYSTEM),
        _CONSTANT_VALUE + ".* Received: value=.*'os'",
        False,
    ),
    (
        "keras-Constant-function",
        _keras("Constant", value=_FUNCTION),
        _CONSTANT_VALUE + ".* Received: value=.*'function'",
        False,
    ),
    (
        "keras-Constant-subprocess.run",
        _keras("Constant", value=_SUBPROCESS_RUN),
        _CONSTANT_VALUE + ".* Received: value=.*'subprocess'",
        False,
    ),
    (
        "VarianceScaling-mode-dict",
        _ours("VarianceScaling", mode={"fan": "in"}),
        re.escape("Invalid `mode` argument: {'fan': 'in'}. ") + _MODES,
        True,
    ),
    (
        "KaimingUniform-mode-list",
        _ours("KaimingUniform", mode=["fan_in"]),
        re.escape(
            "Invalid `mode` argument: ['fan_in']. KaimingUniform expects "
            "one of ['fan_in', 'fan_out']."
        ),
        True,
    ),
    (
        "STFT-side-list",
        _ours("STFT", side=["real"]),
        re.escape(
            "Invalid `side` argument: ['real']. STFT expects one of "
            "['imag', 'real']."
        ),
        True,
    ),
    (
        "ICNR-data_format-dict",
        _ours("ICNR", data_format={"channels": "last"}),
        re.escape(
            "Invalid `data_format` argument: {'channels': 'last'}. ICNR "
            "expects one of ['channels_first', 'channels_last']."
        ),
        True,
    ),
    (
        "DepthScaled-rule-list",
        _ours("DepthScaled", rule=["gpt2"]),
        re.escape(
            "Invalid `rule` argument: ['gpt2']. DepthScaled expects one of "
            "['fixup', 'gpt2']."
        ),
        True,
    ),
    (
        "keras-VarianceScaling-mode-dict",
        _keras("VarianceScaling", mode={"fan": "in"}),
        re.escape("Invalid `mode` argument: {'fan': 'in'}. ") + _MODES,
        False,
    ),
    (
        "keras-VarianceScaling-distribution-list",
        _keras("VarianceScaling", distribution=["uniform"]),
        re.escape(
            "Invalid `distribution` argument: ['uniform']. VarianceScaling "
            "expects one of ['normal', 'truncated_normal', 'uniform', "
            "'untruncated_normal']."
        ),
        False,
    ),
    (
        "keras-VarianceScaling-scale-str",
        _keras("VarianceScaling", scale="2"),
        re.escape(
            "VarianceScaling cannot be built from its config: TypeError: "
        ),
        False,
    ),
    (
        "HeNormal-SeedGenerator--3",
        _ours("HeNormal", seed=_seed_generator(-3)),
        _generator_range("2**32", -3),
        True,
    ),
    (
        "HeNormal-SeedGenerator-2**40",
        _ours("HeNormal", seed=_seed_generator(2**40)),
        _generator_range("2**32", 2**40),
        True,
    ),
    (
        "keras-HeNormal-SeedGenerator--3",
        _keras("HeNormal", seed=_seed_generator(-3)),
        _generator_range("2**31", -3),
        False,
    ),
    (
        "keras-HeNormal-SeedGenerator-2**31",
        _keras("HeNormal", seed=_seed_generator(2**31)),
        _generator_range("2**31", 2**31),
        False,
    ),
    (
        "keras-HeNormal-SeedGenerator-2**40",
        _keras("HeNormal", seed=_seed_generator(2**40)),
        _generator_range("2**31", 2**40),
        False,
    ),
    (
        "keras-HeNormal-seed--3",
        _keras("HeNormal", seed=-3),
        re.escape(
            "Argument `seed` of HeNormal must be None or an integer in "
            "[0, 2**31) (the seeds Keras' SeedGenerator takes on every "
            "backend). Received: seed=-3"
        ),
        False,
    ),
]
IDS = [case[0] for case in CASES]


def _class_name(config):
    return config["class_name"].split(">")[-1]


def _depth_scaled(inner):
    return _ours("DepthScaled", initializer=inner, depth=2)


def _routes(config, ours):
    """(name, load) of every route that goes through keras_inits for
    `config`."""
    routes = [
        ("keras_inits.deserialize", keras_inits.deserialize),
        ("keras_inits.get", keras_inits.get),
    ]
    if ours:
        cls = keras.saving.get_registered_object(config["class_name"])
        routes += [
            ("keras.initializers.deserialize", keras.initializers.deserialize),
            ("keras.initializers.get", keras.initializers.get),
            (
                "keras.saving.deserialize_keras_object",
                keras.saving.deserialize_keras_object,
            ),
            ("from_config", lambda c: cls.from_config(c["config"])),
        ]
    return routes


def _raised(load, config):
    with pytest.raises(Exception) as raised:
        load(copy.deepcopy(config))
    return raised.value


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_bad_config_is_a_value_error_stating_its_cause(case):
    _, config, cause, ours = case
    for route, load in _routes(config, ours):
        error = _raised(load, config)
        assert type(error) is ValueError, (route, repr(error))
        assert re.search(cause, str(error)), (route, str(error))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_bad_nested_config_names_the_wrapper_level_and_cause(case):
    _, config, cause, _ = case
    nested = _depth_scaled(config)
    # The initializer's own message, whole, after the path to it.
    own = str(_raised(keras_inits.deserialize, config))
    expected = (
        "Argument `initializer` of DepthScaled holds an invalid config at "
        f"nesting level 2 (DepthScaled > {_class_name(config)}): {own}"
    )
    for route, load in _routes(nested, ours=True):
        error = _raised(load, nested)
        assert type(error) is ValueError, (route, repr(error))
        assert str(error) == expected, route
        assert re.search(cause, str(error)), route


def test_a_keras_constant_value_naming_a_module_never_imports_it(
    monkeypatch,
):
    # Keras' deserializer imports a module of Keras that a config names.
    imported = []
    import_module = importlib.import_module

    def spy(name, *args, **kwargs):
        imported.append(name)
        return import_module(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", spy)
    value = {
        "class_name": "count_loc",
        "module": "keras.src.utils.code_stats",
        "config": {},
    }
    bare = _keras("Constant", value=value)
    for load in (keras_inits.deserialize, keras_inits.get):
        for config in (bare, _depth_scaled(bare)):
            with pytest.raises(ValueError, match=_CONSTANT_VALUE):
                load(copy.deepcopy(config))
    assert "keras.src.utils.code_stats" not in imported


def test_the_level_and_path_of_a_config_nested_three_deep():
    config = _depth_scaled(
        _ours("ICNR", initializer=_ours("RandomNormal", stddev=-1), scale=2)
    )
    for route, load in _routes(config, ours=True):
        error = _raised(load, config)
        assert type(error) is ValueError, route
        assert str(error) == (
            "Argument `initializer` of DepthScaled holds an invalid config "
            "at nesting level 3 (DepthScaled > ICNR > RandomNormal): "
            "Argument `stddev` of RandomNormal must be a positive number. "
            "Received: stddev=-1"
        ), route


def test_an_unknown_class_nested_says_which_it_is_and_suggests():
    config = _depth_scaled({"class_name": "RandomNormall", "config": {}})
    error = _raised(keras_inits.deserialize, config)
    assert type(error) is ValueError
    assert str(error).startswith(
        "Argument `initializer` of DepthScaled holds an invalid config at "
        "nesting level 2 (DepthScaled > RandomNormall): "
    )
    assert "RandomNormal" in str(error).split("): ", 1)[1]


# load_model of an edited .keras file.


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """The files of a saved .keras model whose Dense layer "dense" has a
    keras_inits kernel initializer, to edit."""
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(
        2,
        kernel_initializer=keras_inits.DepthScaled(
            keras_inits.RandomNormal(stddev=0.02), depth=2
        ),
        name="dense",
    )(inputs)
    path = tmp_path_factory.mktemp("model") / "model.keras"
    keras.Model(inputs, outputs).save(path)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _load_edited(files, kernel_initializer, path):
    """`load_model` of the saved model with the Dense layer's kernel
    initializer config replaced by `kernel_initializer`."""
    config = json.loads(files["config.json"])
    (layer,) = [
        layer
        for layer in config["config"]["layers"]
        if layer["config"]["name"] == "dense"
    ]
    layer["config"]["kernel_initializer"] = kernel_initializer
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            if name == "config.json":
                data = json.dumps(config).encode()
            archive.writestr(name, data)
    return keras.models.load_model(path)


def _value_error_in(error):
    """The first ValueError among `error` and the errors it was raised
    from or while handling."""
    while error is not None and not isinstance(error, ValueError):
        error = error.__cause__ or error.__context__
    return error


def _check_load_model_error(error, message):
    # Keras' TypeError ends with "Exception encountered: " + our text.
    assert str(error).endswith(f"Exception encountered: {message}"), str(
        error
    )[-2000:]
    assert str(_value_error_in(error)) == message


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_load_model_keeps_the_cause_of_a_nested_bad_config(
    case, saved_model, tmp_path
):
    _, config, cause, _ = case
    nested = _depth_scaled(config)
    message = str(_raised(keras_inits.deserialize, nested))
    assert re.search(cause, message)
    with pytest.raises((TypeError, ValueError)) as raised:
        _load_edited(saved_model, nested, tmp_path / "edited.keras")
    _check_load_model_error(raised.value, message)


@pytest.mark.parametrize(
    "case", [case for case in CASES if case[3]], ids=lambda case: case[0]
)
def test_load_model_keeps_the_cause_of_a_bad_config(
    case, saved_model, tmp_path
):
    _, config, cause, _ = case
    # A Dense layer's initializer config goes through Keras' deserializer.
    message = str(_raised(keras.saving.deserialize_keras_object, config))
    assert re.search(cause, message)
    with pytest.raises((TypeError, ValueError)) as raised:
        _load_edited(saved_model, config, tmp_path / "edited.keras")
    _check_load_model_error(raised.value, message)


# Seeds of a saved SeedGenerator within range load, the same on every
# backend.


def test_a_saved_seed_generator_seed_loads_by_every_route_as_its_int():
    config = _ours("HeNormal", seed=_seed_generator(2**32 - 1))
    for route, load in _routes(config, ours=True):
        init = load(copy.deepcopy(config))
        assert type(init) is keras_inits.HeNormal, route
        assert init.seed == 2**32 - 1, route
        assert init((4, 3)).shape == (4, 3)


def test_a_keras_initializer_takes_a_seed_generator_seed_below_2_31():
    config = _keras("HeNormal", seed=_seed_generator(2**31 - 1))
    init = keras_inits.deserialize(config)
    assert type(init) is keras.initializers.HeNormal
    assert init((4, 3)).shape == (4, 3)
    nested = keras_inits.deserialize(_depth_scaled(config))
    assert nested((4, 3)).shape == (4, 3)
