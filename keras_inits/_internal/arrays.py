"""Numbers and arrays that a user gives or a saved file holds, read exactly.

`real_array` turns what a `Constant` takes (a number, nested lists, a NumPy
array, a backend tensor) into a NumPy array of a dtype Keras stores, or
None; `saved_array` reads Keras' config form of an array field by field;
`check_integer_range` refuses an integer dtype that cannot hold the values
(a cast would wrap them around silently); `fill_value` makes the scalar a
tensor is filled with; `in_dtype` is the one cast at the end of a draw;
`to_numpy` reads a tensor's values into a NumPy array.
"""

import math
import numbers
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_inits._internal import checks
from keras_inits._internal import limits

# A tensor of the active backend: Keras has no type of its own for one.
Tensor = Any


def check_integer_range(initializer, dtype, lowest, highest):
    """Raises a ValueError naming `initializer` when the integer `dtype`
    cannot hold values from `lowest` to `highest` (after truncation toward
    zero, as a cast does): a cast would wrap them around silently. Floating
    dtypes are `base.check_call`'s, and any value fits a bool."""
    if not keras.backend.is_int_dtype(dtype):
        return
    # JAX without x64 stores int64 as int32.
    info = np.iinfo(limits.stored_dtype(dtype))
    # Python numbers compare exactly, 2**63 with int64's maximum included.
    low, high = (
        x if isinstance(x, int) or not math.isfinite(x) else math.trunc(x)
        for x in (lowest, highest)
    )
    if not info.min <= low <= high <= info.max:
        values = (
            f"the value {lowest!r}"
            if lowest == highest
            else f"values from {lowest!r} to {highest!r}"
        )
        raise ValueError(
            f"{initializer!r} makes {values}, beyond the range of {dtype} "
            f"({info.min} to {info.max}). Use a wider dtype or another "
            f"value. Received: dtype={dtype!r}"
        )


# Low-precision dtypes that NumPy names only through ml_dtypes: an array of
# one is kept as float32, which holds its values exactly.
ML_DTYPES = tuple(d for d in limits.LOW_PRECISION if d != "float16")


def real_array(value):
    """`value` (a number, nested lists, a NumPy array or a backend tensor)
    as a NumPy array of integers or floats of a dtype Keras stores, or None.

    NumPy's own inference sets the range: an integer from -2**63 to
    2**64 - 1 (int64's and uint64's) or a float within float64's; beyond
    that NumPy makes an object array, refused here. bfloat16 and float8
    arrays (ml_dtypes) become float32, which holds them exactly; booleans,
    complex numbers, strings and ragged lists are refused.
    """
    if keras.ops.is_tensor(value):
        value = keras.ops.convert_to_numpy(value)
    elif isinstance(value, numbers.Real) and not isinstance(
        value, numbers.Integral
    ):
        # A Fraction or NumPy's longdouble: None if beyond float64 (a finite
        # longdouble would become an infinity).
        number = checks.as_float(value)
        if (
            number is not None
            and math.isinf(number)
            and isinstance(value, np.floating)
            and np.isfinite(value)
        ):
            number = None
        value = number
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged nested lists
        return None
    if array.dtype.kind == "f" and not isinstance(value, np.ndarray):
        array = _exact_integers(value, array)
    if array is None:
        return None
    if array.dtype.name in ML_DTYPES:
        array = array.astype("float32")
    if array.dtype.kind not in "iuf" or array.dtype.itemsize > 8:
        return None
    return array


def _exact_integers(value, array):
    """Nested lists of integers as an int64 or uint64 array, exactly, or
    None; `array` (NumPy's float64 inference) when they hold any float.

    NumPy reads `[0, 2**64 - 1]` as float64, which loses digits: one
    integer dtype must hold them all."""
    leaves = np.asarray(value, dtype=object).ravel()
    if not all(isinstance(x, numbers.Integral) for x in leaves):
        return array
    for dtype in ("int64", "uint64"):
        try:
            return np.asarray(value, dtype=dtype)
        except OverflowError:
            continue
    return None


# The forms in which Keras' `serialize_keras_object` writes an array into a
# config (a NumPy array, a backend tensor), and the dtypes read back from
# them: those a `Constant` keeps.
_SAVED_ARRAYS = ("__numpy__", "__tensor__")
_SAVED_DTYPES = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    *ML_DTYPES,
)


def saved_array(owner, saved):
    """The array in Keras' config form `{"class_name": "__numpy__", "config":
    {"value": nested lists, "dtype": name}}` (or `"__tensor__"`), read
    field by field: nothing is imported or called, and values that the
    dtype does not hold exactly (a corrupted file) are refused."""
    inner = saved.get("config")
    array = None
    if (
        isinstance(saved.get("class_name"), str)
        and saved["class_name"] in _SAVED_ARRAYS
        and isinstance(inner, dict)
        and set(inner) == {"value", "dtype"}
        and isinstance(inner["dtype"], str)
        and inner["dtype"] in _SAVED_DTYPES
    ):
        array = real_array(inner["value"])
    if array is not None:
        dtype = inner["dtype"]
        if dtype in ML_DTYPES:
            import ml_dtypes  # a dependency of Keras

            dtype = getattr(ml_dtypes, dtype)
        with np.errstate(all="ignore"):
            typed = array.astype(dtype)
        # NaN never equals itself, so this refuses it too.
        if np.array_equal(typed.astype(array.dtype), array):
            return real_array(typed)
    raise checks.argument_error(
        owner,
        "value",
        "a number, nested lists, or Keras' saved form of an array "
        "({'class_name': '__numpy__', 'config': {'value': [...], 'dtype': "
        "...}}) whose values its dtype holds",
        saved,
    )


def fill_value(value, dtype):
    """`value` as a NumPy scalar of `dtype`, as a cast makes it (integers
    truncate toward zero; the range is checked before). Not a Python int:
    TensorFlow converts none beyond int64's range, even for uint64."""
    if keras.backend.is_int_dtype(dtype) and not isinstance(value, int):
        value = math.trunc(value)
    return np.array(value, dtype=dtype)[()]


def in_dtype(values, dtype):
    """The tensor `values` as a tensor of `dtype`: cast only if it is of
    another dtype. `ops.cast` copies even to the same dtype on NumPy, and a
    backend's op may return another than it was given (NumPy's erfinv and
    `where` give float32 for float64)."""
    if keras.backend.standardize_dtype(values.dtype) == dtype:
        return values
    return ops.cast(values, dtype)


def to_numpy(values: Any) -> np.ndarray:
    """`keras.ops.convert_to_numpy(values)`, typed: a NumPy array. (Keras'
    functions are unannotated, and the return type inferred from their
    bodies admits None.)"""
    array: Any = keras.ops.convert_to_numpy(values)
    return array
