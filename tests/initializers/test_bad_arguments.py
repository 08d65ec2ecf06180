"""Every public constructor argument of every public initializer, given
values a user gets wrong: out of range, non-finite, beyond float32, of the
wrong type, huge integers.

Each either gives a ValueError that names the initializer, the argument and
what was received, or is a value the initializer accepts; then the instance
must work (finite values, or a ValueError naming it at call) and its config
must load back. Any other exception (TypeError, OverflowError, numpy's
"truth value is ambiguous", RecursionError) fails. The same values also
arrive through a config (`from_config`, and JSON where they are JSON).

One test per initializer runs each of its cases (argument, value, route)
and names every failing one (`tests._each_case`): 4,930 cases, which as
tests of their own cost more in pytest than in their checks.
"""

import json
import math
import re

import keras
import numpy as np
import pytest

import keras_inits
from tests._each_case import each_case
from tests.catalogue import CASES

BAD_VALUES = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "1e39": 1e39,  # finite in Python, infinite in float32
    "-1e39": -1e39,
    "1e300": 1e300,
    "1e-300": 1e-300,  # zero in float32
    "10**400": 10**400,  # float() raises OverflowError
    "-10**400": -(10**400),
    "2**64": 2**64,
    "-1": -1,
    "0": 0,
    "True": True,
    "str": "1",
    "bytes": b"x",
    "list": [1.0],
    "ndarray": np.ones(2),
    "dict": {},
    "object": object(),
}


def _arguments(case):
    return list(case.make(1).get_config())


# The initializers that take arguments (Zeros, Ones, ... take none).
ARGUMENT_CASES = [case for case in CASES if _arguments(case)]


def _check_error(error, case, name):
    message = str(error)
    assert case.name in message, message
    assert name in message, message
    # "... Received: x=...", or a choice error: "Invalid `x` argument: ...".
    assert "Received" in message or f"`{name}` argument: " in message, message


def _check_accepted(initializer, case, value):
    # An accepted value must give a working initializer: a ValueError at
    # call names it, or the initializer it wraps, which holds the value...
    names = [type(initializer).__name__]
    if isinstance(
        getattr(initializer, "initializer", None),
        keras.initializers.Initializer,
    ):
        names.append(type(initializer.initializer).__name__)
    try:
        values = initializer(case.shape, dtype="float32")
    except ValueError as error:
        assert any(name in str(error) for name in names), str(error)
    else:
        # ... and finite values, unless infinity is what was asked for
        # (Constant(-inf), as in attention masks).
        values = keras.ops.convert_to_numpy(values)
        asked_infinity = isinstance(value, float) and math.isinf(value)
        assert asked_infinity or np.all(np.isfinite(values)), initializer
    # ... whose config loads back as the same initializer.
    config = initializer.get_config()
    loaded = type(initializer).from_config(config)
    assert repr(loaded) == repr(initializer)


def _build(case, name, value, through_config):
    config = case.make(1).get_config()
    config[name] = value
    cls = type(case.make(1))
    if through_config:
        return cls.from_config(config)
    return cls(**config)


@pytest.mark.parametrize("case", ARGUMENT_CASES, ids=repr)
def test_bad_argument(case):
    with each_case() as cases:
        for name in _arguments(case):
            for bad in BAD_VALUES:
                for through_config in (False, True):
                    route = "from_config" if through_config else "constructor"
                    with cases.case(f"{name}={bad} ({route})"):
                        _check_bad_argument(case, name, bad, through_config)


def _check_bad_argument(case, name, bad, through_config):
    value = BAD_VALUES[bad]
    try:
        initializer = _build(case, name, value, through_config)
    except ValueError as error:
        _check_error(error, case, name)
        return
    _check_accepted(initializer, case, value)


JSON_VALUES = [
    "nan",
    "inf",
    "1e39",
    "1e300",
    "10**400",
    "2**64",
    "True",
    "str",
    "list",
    "dict",
]


@pytest.mark.parametrize("case", ARGUMENT_CASES, ids=repr)
def test_bad_argument_in_a_json_config(case):
    _each_json_value(case, _check_bad_argument_in_a_json_config)


def _each_json_value(case, check):
    """`check(case, name, bad)` for each argument `name` of `case` and each
    `bad` of `JSON_VALUES`, as one test's cases."""
    with each_case() as cases:
        for name in _arguments(case):
            for bad in JSON_VALUES:
                with cases.case(f"{name}={bad}"):
                    check(case, name, bad)


def _check_bad_argument_in_a_json_config(case, name, bad):
    initializer = case.make(1)
    config = initializer.get_config()
    config[name] = BAD_VALUES[bad]
    text = json.dumps(
        {
            "class_name": keras.saving.get_registered_name(type(initializer)),
            "config": config,
        }
    )
    try:
        loaded = keras_inits.deserialize(json.loads(text))
    except ValueError as error:
        _check_error(error, case, name)
        return
    _check_accepted(loaded, case, BAD_VALUES[bad])


NESTED = (
    r"Argument `initializer` of \w+ holds an invalid config at nesting "
    r"level (\d+) \((.*?)\): (.*)"
)


@pytest.mark.parametrize("case", ARGUMENT_CASES, ids=repr)
def test_bad_argument_in_a_nested_json_config_keeps_its_message(case):
    _each_json_value(case, _check_nested_json_config)


def _check_nested_json_config(case, name, bad):
    # Nested in a wrapper, a refused config's own message follows the
    # wrapper's, the level and the path: the whole cause is in the text,
    # which is all that `keras.models.load_model` keeps of an error.
    initializer = case.make(1)
    config = initializer.get_config()
    config[name] = BAD_VALUES[bad]
    inner = {
        "class_name": keras.saving.get_registered_name(type(initializer)),
        "config": config,
    }
    inner = json.loads(json.dumps(inner))
    nested = {"class_name": "DepthScaled", "config": {"initializer": inner}}
    try:
        keras_inits.deserialize(inner)
    except ValueError as error:
        level, path, cause = 2, type(initializer).__name__, str(error)
        # A wrapper's own nested error: one level deeper, the same cause.
        deeper = re.fullmatch(NESTED, cause, flags=re.DOTALL)
        if deeper:
            level, path, cause = int(deeper[1]) + 1, deeper[2], deeper[3]
        with pytest.raises(ValueError) as raised:
            keras_inits.deserialize(nested)
        assert str(raised.value) == (
            "Argument `initializer` of DepthScaled holds an invalid config "
            f"at nesting level {level} (DepthScaled > {path}): {cause}"
        )
        return
    assert type(keras_inits.deserialize(nested).initializer) is type(
        initializer
    )
