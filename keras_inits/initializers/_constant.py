"""Initializers whose values do not depend on a seed.

Each checks its call with `_base.check_call`, computes its values in the
`compute_dtype` that returns (float32 for float16, bfloat16 and float8
weights: TensorFlow cannot even fill a float8 tensor) and casts them, and
bounds them in `max_abs`, so that a dtype which cannot hold them is refused
before anything is allocated: a floating-point one by `check_call`, an
integer one by `arrays.check_integer_range`.
"""

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from keras import ops

from keras_inits._internal import arrays
from keras_inits._internal import checks
from keras_inits._internal.arrays import Tensor
from keras_inits._internal.arrays import in_dtype
from keras_inits.initializers import _base
from keras_inits.initializers._registration import register


@register
class Zeros(_base.Initializer):
    """Initializer that fills a tensor with 0.

    Any numeric or boolean dtype; the default is `keras.config.floatx()`.
    Matches `keras.initializers.Zeros`, `torch.nn.init.zeros_` and
    `jax.nn.initializers.zeros`.

    Examples:

        >>> import keras_inits
        >>> keras.ops.convert_to_numpy(keras_inits.Zeros()(shape=(2, 2))).tolist()
        [[0.0, 0.0], [0.0, 0.0]]

        >>> layer = keras.layers.Dense(3, bias_initializer="keras_inits>Zeros")
    """

    draw_family = "filled"
    fails_only_in_check_call = True

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        return in_dtype(ops.zeros(shape, compute_dtype), dtype)

    def max_abs(self, shape):
        return 0.0

    def expected_std(self, shape):
        return 0.0


@register
class Ones(_base.Initializer):
    """Initializer that fills a tensor with 1.

    Any numeric or boolean dtype; the default is `keras.config.floatx()`.
    Matches `keras.initializers.Ones`, `torch.nn.init.ones_` and
    `jax.nn.initializers.ones`.

    Examples:

        >>> import keras_inits
        >>> keras.ops.convert_to_numpy(keras_inits.Ones()(shape=(2,), dtype="int32")).tolist()
        [1, 1]

        >>> layer = keras.layers.Dense(3, bias_initializer="keras_inits>Ones")
    """

    draw_family = "filled"
    fails_only_in_check_call = True

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        return in_dtype(ops.ones(shape, compute_dtype), dtype)

    def max_abs(self, shape):
        return 1.0

    def expected_std(self, shape):
        return 0.0


@register
class Constant(_base.Initializer):
    """Initializer that fills a tensor with `value`, a number or an array.

    A number fills every entry. An array (a NumPy array, nested lists or a
    backend tensor) is broadcast to the requested shape as
    `numpy.broadcast_to` does: `Constant([1.0, 2.0])` fills each row of a
    `(3, 2)` kernel with `[1, 2]`, and a shape it cannot broadcast to is a
    `ValueError` (Keras' `Constant` returns a tensor of the broadcast shape
    instead, which may not be the one asked for). The array is saved with
    the model, values and dtype, in Keras' own form (`{"class_name":
    "__numpy__", ...}`), so keep it small; the config Keras writes for its
    `Constant` of an array loads too. For an array that must have exactly
    the requested shape, as `keras.initializers.get(array)` requires, see
    `ConstantArray`.

    `value` must be storable in some Keras dtype: an integer from -2**63 to
    2**64 - 1 (int64's and uint64's ranges: beyond them every dtype loses
    digits), any other real number within float64's range, or an infinity
    (as in attention masks); never NaN or a boolean. Whether the dtype of a
    call holds it is checked at the call, before anything is allocated:
    `Constant(300)(shape, "int8")` and `Constant(1e39)(shape)` (float32)
    raise where a cast would wrap around or overflow. The dtype is any
    numeric or boolean one, by default `keras.config.floatx()`. Matches
    `keras.initializers.Constant` and `torch.nn.init.constant_`.

    Args:
        value: A real number, or an array of real numbers (nested lists, a
            NumPy array or a backend tensor; a 0-d array is a number).
            bfloat16 and float8 arrays are kept as float32, which holds
            their values exactly.

    Examples:

        >>> import keras_inits
        >>> keras.ops.convert_to_numpy(keras_inits.Constant(0.5)(shape=(3,))).tolist()
        [0.5, 0.5, 0.5]
        >>> keras.ops.convert_to_numpy(
        ...     keras_inits.Constant([1, 2])(shape=(2, 2), dtype="int32")).tolist()
        [[1, 2], [1, 2]]

        >>> layer = keras.layers.Dense(3, bias_initializer=keras_inits.Constant(0.1))
    """

    _REQUIREMENT = "a real number or an array of real numbers"

    def __init__(self, value: npt.ArrayLike = 0.0):
        array = arrays.real_array(value)
        if array is None or np.isnan(array).any():
            raise checks.argument_error(
                type(self).__name__, "value", self._REQUIREMENT, value
            )
        # A copy: the caller's array may change after this.
        self._array = np.array(array)
        self.value = self._array.item() if array.ndim == 0 else self._array

    @property
    def draw_family(self):
        # A number fills the tensor on the backend; an array is broadcast
        # on the host and converted.
        return "filled" if self._array.ndim == 0 else "host"

    def get_config(self):
        if isinstance(self.value, np.ndarray):
            # Keras' own form for an array: JSON, exact in every dtype kept.
            return {
                "value": {
                    "class_name": "__numpy__",
                    "config": {
                        "value": self.value.tolist(),
                        "dtype": self.value.dtype.name,
                    },
                }
            }
        return {"value": self.value}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("value"), dict):
            config["value"] = arrays.saved_array(cls.__name__, config["value"])
        return cls(**config)

    def max_abs(self, shape):
        # Infinite values are meant (masks): only the finite ones are bounded.
        finite = self._array[np.isfinite(self._array)].astype("float64")
        return float(np.abs(finite).max()) if finite.size else None

    def expected_std(self, shape):
        # Broadcasting repeats every value equally often, so the values of
        # any shape have the std of the array's; NaN with infinite values,
        # and for a shape the value does not broadcast to.
        try:
            self._broadcast(shape)
        except ValueError:
            return math.nan
        with np.errstate(invalid="ignore"):
            return float(np.std(self._array.astype("float64")))

    def _broadcast(self, shape):
        """The values for `shape`, a read-only view, or a ValueError."""
        try:
            return np.broadcast_to(self._array, shape)
        except ValueError:
            raise ValueError(
                f"Constant cannot broadcast its value of shape "
                f"{self._array.shape} to the requested shape. Received: "
                f"shape={shape}"
            ) from None

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        values = self._broadcast(shape)
        if self._array.size:
            arrays.check_integer_range(
                self, dtype, self._array.min().item(), self._array.max().item()
            )
        if self._array.ndim == 0:
            # The backend fills the tensor: no NumPy copy of it on the way.
            values = ops.full(
                shape,
                arrays.fill_value(self.value, compute_dtype),
                compute_dtype,
            )
            return in_dtype(values, dtype)
        return _base.from_host(values, dtype, compute_dtype)


@register
class Identity(_base.Initializer):
    """Initializer that generates `gain` times the identity matrix.

    For a `(rows, cols)` matrix, `W[i, j] = gain if i == j else 0`; a
    non-square matrix gets the identity on its leading square block. Only
    matrices: for convolution kernels that pass their input through, see
    `Dirac`. Matches `keras.initializers.Identity` and `torch.nn.init.eye_`
    (which has no gain).

    Any numeric dtype that holds `gain` (an integer one truncates it, as a
    cast does); the default is `keras.config.floatx()`.

    Args:
        gain: Multiplicative factor, a finite number float32 can hold.

    Examples:

        >>> import keras_inits
        >>> keras.ops.convert_to_numpy(keras_inits.Identity(gain=2.0)(shape=(2, 3))).tolist()
        [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]

        >>> layer = keras.layers.Dense(4, kernel_initializer="keras_inits>Identity")
    """

    draw_family = "filled"

    def __init__(self, gain: float = 1.0):
        self.gain = checks.check_number("Identity", "gain", gain)

    def max_abs(self, shape):
        return abs(self.gain)

    def expected_std(self, shape):
        if len(shape) != 2:
            return math.nan
        # min(r, c) entries equal gain, the rest 0.
        p = min(shape) / math.prod(shape)
        return abs(self.gain) * math.sqrt(p * (1.0 - p))

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape = checks.check_shape("Identity", shape)
        try:
            checks.check_rank("Identity", shape, 2, 2)
        except ValueError as error:
            raise checks.keras_wording(
                "Identity matrix initializer can only be used for 2D "
                "matrices.",
                error,
            ) from None
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        arrays.check_integer_range(
            self, dtype, min(self.gain, 0.0), max(self.gain, 0.0)
        )
        values = ops.eye(*shape, dtype=compute_dtype) * ops.cast(
            arrays.fill_value(self.gain, compute_dtype), compute_dtype
        )
        return in_dtype(values, dtype)


@register
class ConstantArray(Constant):
    """Initializer that returns a fixed array, for its own shape only.

    `W = value`, for a tensor of exactly `value`'s shape; any other shape is
    a `ValueError` when the initializer is called, as for the array or
    tensor `keras.initializers.get` takes (whose message it starts with).
    `keras_inits.get(array)` returns one. Unlike the closure Keras' `get`
    returns, it is registered and saves with the model: its config holds
    the values as nested lists (`{"value": [[...], ...]}`, its saved form
    since 0.1.0, without the dtype: they load as float64 or int64, which
    hold them exactly), so keep it for small arrays. It checks its values
    as `Constant` does, of which it is the exact-shape variant.

    Args:
        value: An array (or nested lists) of real numbers; infinities are
            allowed, NaN is not.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.ConstantArray([[1.0, 2.0], [3.0, 4.0]])((2, 2))
        >>> keras.ops.convert_to_numpy(values).tolist()
        [[1.0, 2.0], [3.0, 4.0]]

        >>> layer = keras.layers.Dense(
        ...     2, bias_initializer=keras_inits.ConstantArray([0.5, -0.5]))
    """

    _REQUIREMENT = "an array of real numbers"

    def __init__(self, value: npt.ArrayLike = 0.0):
        super().__init__(value)
        # Nested lists of Python numbers: JSON as they are, and exact for
        # every float32 and float64 value.
        self.value = self._array.tolist()

    def _broadcast(self, shape):
        if shape != self._array.shape:
            raise checks.keras_wording(
                f"Expected `shape` to be {self._array.shape} for direct "
                "tensor as initializer.",
                ValueError(
                    "ConstantArray needs the shape of its value, "
                    f"{self._array.shape}. Received: shape={shape}"
                ),
            )
        return self._array
