"""One name for an initializer, in every table, plan, report and error.

`initializer_name` writes a Keras or keras_inits initializer as its class
and the arguments that differ from the class's defaults (as scikit-learn
writes an estimator): numbers to 4 significant digits, arrays by their
shape, nested initializers by their own names. keras_inits' initializers
use it as their `repr`; `describe`, `recipes.plan`, `reinitialize`'s
report and the experiments' labels show it.

`close_names` finds the names a mistyped one may have meant, for the
"Did you mean" of an unknown recipe's error.
"""

import difflib
import inspect
import numbers
from collections.abc import Iterable

import keras
import numpy as np

from keras_inits._internal import checks
from keras_inits._internal import keras_internals

# Arrays and lists of up to this many numbers are written out.
SHOWN_VALUES = 8


def initializer_name(initializer: object) -> str:
    """`Class(argument=value, ...)` for an initializer, with the arguments
    that differ from its constructor's defaults; for anything else that
    made a variable, "?" (nothing found: None), "initial value" (a value,
    such as an optimizer's iteration count) or a function's qualified name.

    Examples:

    >>> from keras_inits._internal.naming import initializer_name
    >>> initializer_name(keras.initializers.RandomNormal(stddev=1 / 3))
    'RandomNormal(stddev=0.3333)'
    """
    if initializer is None:
        return "?"
    if not isinstance(initializer, keras.initializers.Initializer):
        if not callable(initializer):
            return "initial value"
        return getattr(initializer, "__qualname__", type(initializer).__name__)
    defaults = _defaults(type(initializer))
    arguments = []
    # A wrapper's config serializes what it wraps, which would import
    # TensorFlow under another backend.
    with keras_internals.tensorflow_left_unimported():
        config = initializer.get_config()
    for name, value in config.items():
        if name in defaults and _equal(value, defaults[name]):
            continue
        # A wrapper's config holds what it wraps serialized; the wrapper
        # holds it as an instance, whose own name leaves out its defaults.
        held = getattr(initializer, name, None)
        if isinstance(held, keras.initializers.Initializer):
            value = held
        arguments.append(f"{name}={_value_name(value)}")
    return f"{type(initializer).__name__}({', '.join(arguments)})"


def close_names(
    name: str, known: Iterable[str], *, limit: int = 3
) -> list[str]:
    """Up to `limit` of the `known` names that `name` may have meant, the
    likeliest first: the names equal to it but for case (`"GPT2"` ->
    `"gpt2"`), then those that contain it or that it contains, compared
    lowercased (`"llama"` -> `"torchtitan_llama"`), then the close ones
    by `difflib` (`"gtp2"` -> `"gpt2"`). Empty when none is close. Names
    stay exact where they are looked up: this only words the error.

    Examples:

    >>> from keras_inits._internal.naming import close_names
    >>> close_names("Llama", ["gpt2", "torchtitan_llama"])
    ['torchtitan_llama']
    """
    known = list(dict.fromkeys(known))
    lowered: dict[str, list[str]] = {}
    for spelling in known:
        lowered.setdefault(spelling.lower(), []).append(spelling)
    query = name.lower()
    found = list(lowered.get(query, []))
    # A part of a name, 3 characters at least ("gpt" in "gpt2", "gpt_neox").
    if len(query) >= 3:
        found += [k for k in known if query in k.lower()]
        found += [k for k in known if len(k) >= 3 and k.lower() in query]
    for match in difflib.get_close_matches(query, list(lowered), n=limit):
        found += lowered[match]
    return [k for k in dict.fromkeys(found) if k != name][:limit]


def short_name(initializer: object) -> str:
    """`initializer_name` without empty parentheses (`HeUniform` for
    `HeUniform()`): the label of a curve or a table row."""
    return initializer_name(initializer).replace("()", "")


def _defaults(cls):
    """`{argument: default}` of `cls`'s constructor."""
    try:
        parameters = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):  # a constructor without a signature
        return {}
    return {
        p.name: p.default
        for p in parameters
        if p.default is not inspect.Parameter.empty
    }


def _equal(value, default):
    """Whether `value` equals `default`: of the same type (or both real
    numbers, `0` and `0.0`), and equal; never raising for arrays."""
    if value is default:
        return True
    if type(value) is not type(default) and not (
        checks.is_real_number(value) and checks.is_real_number(default)
    ):
        return False
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays compare elementwise
        return False


def _float_name(value):
    """A float to 4 significant digits, still written as a float (`1.0`,
    not `1`): `0.3333`, `1e+05`, `-1.0`."""
    text = f"{value:.4g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def _value_name(value):
    """One argument's value in `initializer_name`: a nested initializer by
    its own name, a float to 4 significant digits, an int, None, a string
    or a bool as its repr, a serialized object (a seed) as `Class(...)`, an
    array or tensor, or a list of more than `SHOWN_VALUES` numbers, by its
    shape and dtype; anything else as `checks.shown` writes it, shortened
    past 80 characters."""
    if isinstance(value, keras.initializers.Initializer):
        return initializer_name(value)
    if isinstance(value, (float, np.floating)):
        return _float_name(float(value))
    if (
        isinstance(value, numbers.Integral)
        or value is None
        or isinstance(value, (str, bool))
    ):
        return repr(value)
    if (
        isinstance(value, dict)
        and isinstance(value.get("class_name"), str)
        and isinstance(value.get("config"), dict)
    ):
        # An object in Keras' serialized form (a PortableSeed in a config).
        arguments = ", ".join(
            f"{key}={_value_name(item)}"
            for key, item in value["config"].items()
        )
        return f"{value['class_name'].rpartition('>')[2]}({arguments})"
    if isinstance(value, (list, tuple, np.ndarray)) or keras.ops.is_tensor(
        value
    ):
        try:
            array = np.asarray(
                keras.ops.convert_to_numpy(value)
                if keras.ops.is_tensor(value)
                else value
            )
        except (TypeError, ValueError):
            array = None
        if (
            array is not None
            and array.dtype.kind in "biuf"
            and (
                array.size > SHOWN_VALUES
                or isinstance(value, np.ndarray)
                or keras.ops.is_tensor(value)
            )
        ):
            return f"<array of shape {array.shape} and dtype {array.dtype}>"
    return checks.shown(value, limit=80)
