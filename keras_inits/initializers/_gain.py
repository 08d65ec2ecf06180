"""PyTorch's gains and Kaiming initializers: `calculate_gain`,
`KaimingNormal` and `KaimingUniform`.

A gain is the factor by which an activation function shrinks the standard
deviation of its input (He et al. 2015): a Kaiming initializer is a
`VarianceScaling` with `scale = gain**2`, so its values have standard
deviation `gain / sqrt(fan)`.
"""

import math
from collections.abc import Sequence

from keras_inits._internal import checks
from keras_inits.initializers._registration import register
from keras_inits.initializers._variance_scaling import VarianceScaling
from keras_inits.random import Seed

# torch.nn.init.calculate_gain's table. Linear maps and sigmoid keep unit
# gain; tanh's 5/3 and SELU's 3/4 are PyTorch's empirical choices.
_GAINS = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 0.75,
}
NONLINEARITIES = tuple(sorted([*_GAINS, "leaky_relu"]))
# PyTorch's default slope of `calculate_gain("leaky_relu")` (and of
# `torch.nn.LeakyReLU`); Keras' LeakyReLU defaults to 0.3.
DEFAULT_NEGATIVE_SLOPE = 0.01
_KAIMING_MODES = ("fan_in", "fan_out")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Returns the recommended gain of an activation function, as PyTorch.

    | nonlinearity | gain |
    | --- | --- |
    | `"linear"`, `"sigmoid"`, and the convolutions `"conv1d"` to `"conv_transpose3d"` | 1 |
    | `"tanh"` | 5/3 |
    | `"relu"` | sqrt(2) |
    | `"leaky_relu"` | sqrt(2 / (1 + negative_slope**2)) |
    | `"selu"` | 3/4 |

    Matches `torch.nn.init.calculate_gain` value for value, except that a
    `param` given for anything but `"leaky_relu"` is an error here (PyTorch
    ignores it, which hides a slope passed with `"relu"`).

    Args:
        nonlinearity: One of the names above.
        param: The negative slope of `"leaky_relu"`, a finite number; None
            means PyTorch's default 0.01. Must be None for the others.

    Returns:
        The gain, a float.

    Examples:

        >>> import keras_inits
        >>> round(keras_inits.calculate_gain("leaky_relu", 0.2), 4)
        1.3868

        >>> gain = keras_inits.calculate_gain("tanh")
        >>> layer = keras.layers.Dense(3, activation="tanh",
        ...     kernel_initializer=keras_inits.Orthogonal(gain=gain))

    Reference:
        [PyTorch `calculate_gain`](https://pytorch.org/docs/stable/nn.init.html),
        [He et al., 2015](https://arxiv.org/abs/1502.01852).
    """
    checks.check_choice(
        "calculate_gain", "nonlinearity", nonlinearity, NONLINEARITIES
    )
    if nonlinearity == "leaky_relu":
        if param is None:
            return _leaky_relu_gain(DEFAULT_NEGATIVE_SLOPE)
        slope = checks.check_number("calculate_gain", "param", param)
        gain = _leaky_relu_gain(slope)
        if gain < checks.FLOAT32_TINY:
            raise checks.argument_error(
                "calculate_gain",
                "param",
                "small enough that the gain sqrt(2 / (1 + param**2)) is a "
                f"normal float32 (>= 1.2e-38; here {gain:.4g})",
                param,
            )
        return gain
    if param is not None:
        raise ValueError(
            "Argument `param` of calculate_gain is the negative slope of "
            f"'leaky_relu' and must be None for {nonlinearity!r}. "
            f"Received: param={param!r}"
        )
    return _GAINS[nonlinearity]


def _leaky_relu_gain(slope):
    """`sqrt(2 / (1 + slope**2))`, the gain of a leaky ReLU of negative
    slope `slope`. No overflow: `check_number` keeps |slope| <= 3.4e38, so
    slope**2 <= 1.2e77."""
    return math.sqrt(2.0 / (1.0 + slope**2))


class _Kaiming(VarianceScaling):
    """PyTorch's Kaiming arguments over VarianceScaling: `scale = gain**2`.
    A subclass sets `_DISTRIBUTION`; its config holds only these arguments."""

    _DISTRIBUTION: str

    def __init__(
        self,
        negative_slope: float = 0.0,
        mode: str = "fan_in",
        nonlinearity: str = "leaky_relu",
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        owner = type(self).__name__
        slope = checks.check_number(owner, "negative_slope", negative_slope)
        checks.check_choice(
            owner, "nonlinearity", nonlinearity, NONLINEARITIES
        )
        checks.check_choice(owner, "mode", mode, _KAIMING_MODES)
        if nonlinearity != "leaky_relu" and slope != 0.0:
            raise ValueError(
                f"Argument `negative_slope` of {owner} applies to "
                f"nonlinearity='leaky_relu' only and must be 0 for "
                f"nonlinearity={nonlinearity!r}. Received: "
                f"negative_slope={negative_slope!r}"
            )
        # calculate_gain's own checks would name its `param`.
        gain = (
            _leaky_relu_gain(slope)
            if nonlinearity == "leaky_relu"
            else _GAINS[nonlinearity]
        )
        # The variance's scale, gain**2, must stay a normal float32.
        if gain**2 < checks.FLOAT32_TINY:
            raise checks.argument_error(
                owner,
                "negative_slope",
                "small enough that gain**2 = 2 / (1 + negative_slope**2) is "
                f"a normal float32 (>= 1.2e-38; here {gain**2:.4g})",
                negative_slope,
            )
        self.negative_slope = slope
        self.nonlinearity = nonlinearity
        super().__init__(
            gain**2, mode, self._DISTRIBUTION, seed, input_axes, output_axes
        )


@register
class KaimingNormal(_Kaiming):
    """Kaiming normal initializer with PyTorch's arguments, untruncated.

    `W ~ N(0, std**2)` with `std = gain / sqrt(fan)`, `gain =
    calculate_gain(nonlinearity, negative_slope)` and `fan` the fan-in or
    fan-out (`mode`): `VarianceScaling(gain**2, mode, "untruncated_normal")`.
    The defaults (`negative_slope=0`, `"leaky_relu"`) give `gain =
    sqrt(2)`, He et al.'s ReLU initialization.

    Matches `torch.nn.init.kaiming_normal_(a, mode, nonlinearity)`; our
    `negative_slope` is PyTorch's `a`. Like PyTorch's, it is **untruncated**:
    about 4.6% of the values lie beyond two standard deviations.
    `keras_inits.HeNormal` (and `keras.initializers.HeNormal`) is the
    truncated one, redrawing beyond two standard deviations.

    Fans: PyTorch kernels are `(out, in, *spatial)` and Keras kernels
    `(*spatial, in, out)`, and each framework takes fan-in from its own
    input axis, so the same layer gets the same fan-in, the same fan-out and
    the same standard deviation in both. The fans here are Keras' (see
    `VarianceScaling`), so a vector counts its length (PyTorch refuses
    tensors of rank < 2) and `input_axes`/`output_axes` may override them.

    Args:
        negative_slope: The slope of the negative part of a leaky ReLU
            (PyTorch's `a`), a finite number. Must be 0 unless
            `nonlinearity="leaky_relu"`.
        mode: `"fan_in"` (preserves the variance of the activations, the
            default) or `"fan_out"` (of the gradients).
        nonlinearity: A name `calculate_gain` takes, default `"leaky_relu"`.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.KaimingNormal(seed=1)(shape=(200, 200))
        >>> round(float(keras.ops.std(values)), 2)  # sqrt(2 / 200)
        0.1

        >>> layer = keras.layers.Dense(3, activation="leaky_relu",
        ...     kernel_initializer=keras_inits.KaimingNormal(negative_slope=0.2))

    Reference:
        [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    _DISTRIBUTION = "untruncated_normal"


@register
class KaimingUniform(_Kaiming):
    """Kaiming uniform initializer with PyTorch's arguments.

    `W ~ U[-bound, bound]` with `bound = gain * sqrt(3 / fan)`, `gain =
    calculate_gain(nonlinearity, negative_slope)` and `fan` the fan-in or
    fan-out (`mode`): `VarianceScaling(gain**2, mode, "uniform")`. The
    defaults give `keras_inits.HeUniform`.

    Matches `torch.nn.init.kaiming_uniform_(a, mode, nonlinearity)`; our
    `negative_slope` is PyTorch's `a`. PyTorch kernels are
    `(out, in, *spatial)` and Keras kernels `(*spatial, in, out)`; each
    framework takes fan-in from its own input axis, so the same layer gets
    the same bound in both (fans as in `VarianceScaling`). PyTorch's default
    `nn.Linear` and `nn.Conv*` kernels are
    `kaiming_uniform_(a=sqrt(5))`: `KaimingUniform(negative_slope=5**0.5)`,
    i.e. `U[-1/sqrt(fan_in), 1/sqrt(fan_in)]`.

    Args:
        negative_slope: The slope of the negative part of a leaky ReLU
            (PyTorch's `a`), a finite number. Must be 0 unless
            `nonlinearity="leaky_relu"`.
        mode: `"fan_in"` (the default) or `"fan_out"`.
        nonlinearity: A name `calculate_gain` takes, default `"leaky_relu"`.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> init = keras_inits.KaimingUniform(negative_slope=5**0.5, seed=1)
        >>> bool(keras.ops.max(keras.ops.abs(init((100, 10)))) <= 0.1)  # 1/sqrt(100)
        True

        >>> layer = keras.layers.Conv2D(8, 3,
        ...     kernel_initializer=keras_inits.KaimingUniform(nonlinearity="relu"))

    Reference:
        [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    _DISTRIBUTION = "uniform"
