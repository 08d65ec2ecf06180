"""One name for an initializer, in every table, plan, report and error.

`initializer_name` writes a Keras or keras_inits initializer as its class
and the arguments that differ from the class's defaults (as scikit-learn
writes an estimator): numbers to 4 significant digits, arrays by their
shape, nested initializers by their own names. keras_inits' initializers
use it as their `repr`; `describe`, `recipes.plan`, `reinitialize`'s
report and the experiments' labels show it.

`error_text` quotes an error (a rule's, a draw's) in another message, cut
past 500 characters.
"""

import inspect
import numbers

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
    try:
        with keras_internals.tensorflow_left_unimported():
            config = dict(initializer.get_config())
    except Exception:  # a name never raises (Keras' Constant of a variable)
        return f"{type(initializer).__name__}(...)"
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


# An error's text in another message (a plan's, a report's) is cut past
# this many characters: a user's rule or initializer can put a whole array
# in its error.
ERROR_TEXT_LIMIT = 500


def error_text(error: BaseException) -> str:
    """`"KeyError: 'bias'"`: an error's class and message, as another
    message quotes it, cut past `ERROR_TEXT_LIMIT` characters; never
    raising (an error whose `str` raises gives its class alone).

    Examples:

        >>> from keras_inits._internal.naming import error_text
        >>> error_text(KeyError("bias"))
        "KeyError: 'bias'"
    """
    try:
        text = f"{type(error).__name__}: {error}"
    except Exception:
        text = type(error).__name__
    if len(text) > ERROR_TEXT_LIMIT:
        half = ERROR_TEXT_LIMIT // 2
        text = f"{text[:half]}... ({len(text):,} characters)"
    return text


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
    shape and dtype; anything else (a string, an int of many digits) as
    `checks.shown` writes it, shortened past 80 characters."""
    if isinstance(value, keras.initializers.Initializer):
        return initializer_name(value)
    if isinstance(value, (float, np.floating)):
        return _float_name(float(value))
    if isinstance(value, numbers.Integral) or value is None:
        return checks.shown(value, limit=80)
    if isinstance(value, (str, bytes)):
        # A long string (an array saved as JSON text) is cut, as arrays are.
        return checks.shown(value, limit=80)
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
