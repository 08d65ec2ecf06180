"""Argument checks, with one wording for every error of the package.

Each check returns the value in the form the package keeps (a float, a
tuple of ints, a list of axes) or raises a ValueError that names the
owner (the initializer or function), the argument and what was received.
Tests match the start of these messages, so the wording is part of the
contract: change it only with a CHANGELOG entry. Where Keras has its own
message for the same mistake, it comes first (`keras_wording`), so code
that matches Keras' messages matches these.

This module imports nothing of keras_inits: every other module may use it.
"""

import collections.abc
import math
import numbers
from collections.abc import Collection
from typing import TYPE_CHECKING
from typing import TypeVar

import keras
import numpy as np

if TYPE_CHECKING:  # TypeIs is in typing from Python 3.13
    from typing_extensions import TypeIs

Value = TypeVar("Value")

FLOAT32_MAX = float(np.finfo("float32").max)
# The smallest normal float32: below it values are subnormal, which several
# backends (XLA on CPU, oneDNN) flush to zero.
FLOAT32_TINY = float(np.finfo("float32").tiny)


def shown(value, limit=200):
    """`repr(value)` for an error message: never raising (an int of more
    than 4300 digits, a list nested past the recursion limit), and
    shortened past `limit` characters."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        if is_whole_number(value):
            return f"<an integer of {int(value).bit_length()} bits>"
        return f"<{type(value).__name__} that cannot be shown>"
    if len(text) > limit:
        text = f"{text[: limit // 2]}... ({len(text):,} characters)"
    return text


def argument_error(
    owner: str, name: str, requirement: str, value: object
) -> ValueError:
    """The ValueError, for the caller to raise, of argument `name` of
    `owner` that is not `requirement`: "Argument `stddev` of
    TruncatedNormal must be a positive number. Received: stddev=-1.0"."""
    return ValueError(
        f"Argument `{name}` of {owner} must be {requirement}. "
        f"Received: {name}={shown(value)}"
    )


def choice_error(owner, name, value, choices):
    """The ValueError, for the caller to raise, of argument `name` of
    `owner` that is none of `choices` (listed sorted). Keras' wording
    comes first ("Invalid `mode` argument: "), so code that matches Keras'
    messages matches these."""
    return ValueError(
        f"Invalid `{name}` argument: {shown(value)}. {owner} expects one of "
        f"{sorted(choices)}."
    )


def keras_wording(sentence, error):
    """`error` with Keras' own `sentence` for the same mistake put first,
    for code and tests that match Keras' messages."""
    return ValueError(f"{sentence} {error}")


def is_real_number(value):
    """Whether `value` is a real number: an int, float or NumPy scalar,
    not a bool."""
    # bool is an int subclass, but `stddev=True` is always a mistake. NumPy
    # scalars register as numbers.Real and are accepted.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_whole_number(value: object) -> "TypeIs[int | np.integer]":
    """Whether `value` is an integer (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def as_float(value):
    """`value` as a Python float, or None if it is not a real number or is
    too large for a float (`10**400` raises OverflowError in `float`)."""
    if not is_real_number(value):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def check_number(owner: str, name: str, value: object) -> float:
    """Returns `value` as a float; it must be a finite real number that
    float32 can hold (the weights are float32 unless asked otherwise)."""
    number = as_float(value)
    if number is None or not math.isfinite(number):
        raise argument_error(owner, name, "a finite number", value)
    if abs(number) > FLOAT32_MAX:
        raise argument_error(
            owner,
            name,
            "a finite number float32 can hold (|x| <= 3.4e38)",
            value,
        )
    return number


def check_positive(owner: str, name: str, value: object) -> float:
    """Returns `value` as a float; it must be a number above zero that
    float32 holds as a normal number (1.2e-38 to 3.4e38): smaller ones
    become zeros or subnormals that several backends flush to zero."""
    number = as_float(value)
    if number is None or not math.isfinite(number) or number <= 0:
        raise argument_error(owner, name, "a positive number", value)
    if not FLOAT32_TINY <= number <= FLOAT32_MAX:
        raise argument_error(
            owner,
            name,
            "a positive number float32 can hold (1.2e-38 to 3.4e38)",
            value,
        )
    return number


def check_reach(owner, name, value, largest, what):
    """Raises naming argument `name` when the values an initializer can make,
    up to `largest` in magnitude (described by `what`, e.g.
    "|mean| + 8 stddev"), overflow float32."""
    if not largest <= FLOAT32_MAX:
        raise argument_error(
            owner,
            name,
            f"small enough that {what} fits in float32 (<= 3.4e38; here "
            f"{largest:.4g})",
            value,
        )


def check_choice(
    owner: str, name: str, value: Value, choices: Collection[object]
) -> Value:
    """Returns `value` if it is one of `choices`, else raises
    `choice_error`. An array is refused before `in`, where it would raise
    NumPy's "truth value is ambiguous"; anything unhashable is no choice."""
    if (
        isinstance(value, np.ndarray)
        or not isinstance(value, collections.abc.Hashable)
        or value not in choices
    ):
        raise choice_error(owner, name, value, choices)
    return value


def check_shape(owner, shape):
    """Returns `shape` as a tuple of Python ints, or raises naming `owner`."""
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(is_whole_number(d) for d in dims):
        raise ValueError(
            f"{owner} needs a shape of whole numbers. Received: shape={shape!r}"
        )
    dims = tuple(int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise ValueError(
            f"{owner} needs a shape without negative dimensions. "
            f"Received: shape={dims}"
        )
    # Backends index tensors with int64.
    if any(d >= 2**63 for d in dims):
        raise ValueError(
            f"{owner} needs a shape whose dimensions are below 2**63. "
            f"Received: shape={dims}"
        )
    return dims


def check_rank(owner, shape, minimum, maximum=None):
    """Raises a ValueError naming `owner` unless `shape` has rank `minimum`
    to `maximum` (None: no upper bound), saying which ranks it needs."""
    rank = len(shape)
    if rank < minimum or (maximum is not None and rank > maximum):
        if maximum is None:
            wanted = f"rank >= {minimum}"
        elif maximum == minimum:
            wanted = f"rank {minimum}"
        else:
            wanted = f"rank {minimum} to {maximum}"
        raise ValueError(
            f"{owner} needs a tensor of {wanted}. "
            f"Received: shape={shape} of rank {rank}."
        )


def check_axes(owner, name, axes):
    """Returns `axes` as a list of ints (JSON keeps lists, not tuples)."""
    if axes is None:
        return None
    if is_whole_number(axes):
        axes = [axes]
    # A string or bytes iterates as characters or byte values (b"x" would
    # be [120]): never axes.
    try:
        listed = list(axes)
    except TypeError:
        listed = None
    if (
        listed is None
        or isinstance(axes, (str, bytes, bytearray))
        or not all(is_whole_number(a) for a in listed)
    ):
        raise argument_error(owner, name, "None or a list of integers", axes)
    axes = listed
    if len(set(axes)) != len(axes):
        raise argument_error(owner, name, "a list of distinct axes", axes)
    return [int(a) for a in axes]


def check_axes_in(owner, name, axes, shape):
    """Raises unless every axis of `axes` (a list, or None) indexes `shape`,
    each dimension once (`[0, -2]` names one axis of a matrix twice)."""
    if axes is None:
        return
    rank = len(shape)
    if not all(-rank <= axis < rank for axis in axes):
        raise ValueError(
            f"Argument `{name}` of {owner} has an axis outside a tensor of "
            f"rank {rank}. Received: {name}={axes}, shape={tuple(shape)}"
        )
    if len({axis % rank for axis in axes}) != len(axes):
        raise ValueError(
            f"Argument `{name}` of {owner} names an axis of the tensor "
            f"twice. Received: {name}={axes}, shape={tuple(shape)}"
        )


# The largest count an argument may hold (DepthScaled's depth and
# branch_layers, Dirac's groups, BlockOrthogonal's blocks, ICNR's scale):
# int32's, far above any real network, and small enough that arithmetic on
# it (a factor, `scale**2`) stays exact in float64 and in every backend's
# index type. A larger one (`10**400`) would overflow that arithmetic.
MAX_COUNT = 2**31 - 1


def check_count(
    owner: str,
    name: str,
    value: object,
    minimum: int = 1,
    maximum: int = MAX_COUNT,
    requirement: str | None = None,
) -> int:
    """Returns `value` as an int; it must be a whole number (not a bool)
    from `minimum` to `maximum`. `requirement` words the error (default
    "an integer >= minimum"); a value above `maximum` adds "no larger
    than maximum"."""
    requirement = requirement or f"an integer >= {minimum}"
    if not is_whole_number(value) or value < minimum:
        raise argument_error(owner, name, requirement, value)
    if value > maximum:
        largest = "2**31 - 1" if maximum == MAX_COUNT else f"{maximum:,}"
        raise argument_error(
            owner, name, f"{requirement} no larger than {largest}", value
        )
    return int(value)


def check_dtype(owner, dtype):
    """Returns `dtype` (None for `keras.config.floatx()`) as Keras' name."""
    try:
        return keras.backend.standardize_dtype(dtype or keras.config.floatx())
    except (TypeError, ValueError) as error:
        refused = ValueError(
            f"{owner} needs a dtype Keras knows. Received: dtype={dtype!r}"
        )
        # Keras' own message ("Invalid dtype: foo") first; not numpy's
        # about an array passed as dtype.
        if str(error).startswith("Invalid dtype"):
            refused = keras_wording(str(error), refused)
        raise refused from None


def check_ordered(owner, low_name, low, high_name, high):
    """Raises unless `low < high` (two bounds, already checked as numbers;
    either may be infinite)."""
    if not low < high:
        raise ValueError(
            f"Argument `{high_name}` of {owner} must be greater than "
            f"`{low_name}`. Received: {low_name}={low!r}, {high_name}={high!r}"
        )
