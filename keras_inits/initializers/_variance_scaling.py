"""Initializers whose scale follows the fans of the weight: VarianceScaling
and its presets Glorot, He and LeCun."""

import math
from collections.abc import Sequence

import keras

from keras_inits._internal import checks
from keras_inits._internal import gaussian
from keras_inits.initializers import _base
from keras_inits.initializers._registration import register
from keras_inits.random import NORMAL_REACH
from keras_inits.random import Seed
from keras_inits.random import normal
from keras_inits.random import truncated_normal
from keras_inits.random import uniform

_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


# Also a keras.initializers.VarianceScaling, because that is how Keras' own
# EinsumDense (and so MultiHeadAttention) recognises an initializer it may
# hand the kernel's real input and output axes to. Every method Keras' class
# defines is overridden here, and its constructor is never run.
@register
class VarianceScaling(
    _base.RandomInitializer, keras.initializers.VarianceScaling
):
    """Initializer whose variance adapts to the fans of the weight.

    With `n` the fan-in, the fan-out or their average (by `mode`), the values
    have variance `scale / n`:

    - `"truncated_normal"`: a normal truncated at two standard deviations,
      with `stddev = sqrt(scale / n) / 0.8796` so that the truncated values
      have standard deviation `sqrt(scale / n)`;
    - `"untruncated_normal"`: `N(0, scale / n)`;
    - `"uniform"`: `U[-limit, limit]` with `limit = sqrt(3 * scale / n)`.

    Fans follow Keras' rule for every built-in layer. A vector counts its
    length as both fans; a `(inputs, outputs)` matrix, as in `Dense`, gives
    `fan_in = inputs` and `fan_out = outputs`; a convolution kernel
    `(*spatial, inputs, outputs)` multiplies both by the receptive field
    `prod(spatial)`. `EinsumDense` and `MultiHeadAttention` pass the real
    input and output axes of their kernels, which replace that rule
    (`fan_in` is the product of the dimensions at `input_axes`, `fan_out` at
    `output_axes`). Two kernels need the axes from you:

    - depthwise `(kh, kw, channels, multiplier)`: each output sees one input
      channel, so `input_axes=[0, 1], output_axes=[0, 1, 3]`;
    - transposed convolution `(kh, kw, outputs, inputs)`: the channel axes
      are swapped, so `input_axes=[0, 1, 3], output_axes=[0, 1, 2]`.

    Matches `keras.initializers.VarianceScaling` (same arguments and
    defaults; `"normal"` is accepted for `"truncated_normal"`) and
    `jax.nn.initializers.variance_scaling` (whose `in_axis`/`out_axis` are
    our `input_axes`/`output_axes`). Unlike Keras', an unseeded instance
    draws new values at every call.

    Args:
        scale: Scaling factor, a positive number.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
        distribution: `"truncated_normal"`, `"untruncated_normal"` or
            `"uniform"`.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> init = keras_inits.VarianceScaling(scale=2.0, distribution="uniform")
        >>> values = init(shape=(512, 256))
        >>> round(float(keras.ops.max(values)), 2)  # sqrt(3 * 2 / 512)
        0.11

        >>> layer = keras.layers.DepthwiseConv2D(3, depthwise_initializer=(
        ...     keras_inits.VarianceScaling(input_axes=[0, 1], output_axes=[0, 1, 3])
        ... ))

    Reference:
        [He et al., 2015](https://arxiv.org/abs/1502.01852),
        [Glorot and Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html).
    """

    fails_only_in_check_call = True

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        owner = type(self).__name__
        try:
            self.scale = checks.check_positive(owner, "scale", scale)
        except ValueError as error:
            raise checks.keras_wording(
                "Argument `scale` must be positive float.", error
            ) from None
        self.mode = checks.check_choice(owner, "mode", mode, _MODES)
        if isinstance(distribution, str):
            distribution = distribution.lower()
            if distribution == "normal":
                distribution = "truncated_normal"
        self.distribution = checks.check_choice(
            owner, "distribution", distribution, _DISTRIBUTIONS
        )
        self.input_axes = checks.check_axes(owner, "input_axes", input_axes)
        self.output_axes = checks.check_axes(owner, "output_axes", output_axes)
        super().__init__(seed=seed)

    @property
    def draw_family(self):
        return _FAMILIES[self.distribution]

    def expected_std(self, shape):
        """The standard deviation of the values drawn for `shape`."""
        fan_in, fan_out = self.fans(shape)
        n = {
            "fan_in": fan_in,
            "fan_out": fan_out,
            "fan_avg": (fan_in + fan_out) / 2.0,
        }[self.mode]
        return math.sqrt(self.scale / max(1.0, n))

    def fans(self, shape):
        """`(fan_in, fan_out)` of `shape` by this initializer's rule."""
        owner = type(self).__name__
        shape = checks.check_shape(owner, shape)
        checks.check_axes_in(owner, "input_axes", self.input_axes, shape)
        checks.check_axes_in(owner, "output_axes", self.output_axes, shape)
        return _base.compute_fans(shape, self.input_axes, self.output_axes)

    def max_abs(self, shape):
        stddev = self.expected_std(shape)
        if self.distribution == "truncated_normal":
            return 2.0 * stddev / gaussian.TRUNCATED_STDDEV
        if self.distribution == "untruncated_normal":
            return NORMAL_REACH * stddev
        return math.sqrt(3.0) * stddev

    def draw(self, shape, dtype):
        stddev = self.expected_std(shape)
        if self.distribution == "truncated_normal":
            return truncated_normal(
                shape,
                0.0,
                stddev / gaussian.TRUNCATED_STDDEV,
                dtype,
                self.seed_generator,
            )
        if self.distribution == "untruncated_normal":
            return normal(shape, 0.0, stddev, dtype, self.seed_generator)
        limit = math.sqrt(3.0) * stddev
        return uniform(shape, -limit, limit, dtype, self.seed_generator)


# How each distribution is drawn, for the size check (limits.PEAK_COPIES).
_FAMILIES = {
    "truncated_normal": "truncated_normal",
    "untruncated_normal": "normal",
    "uniform": "uniform",
}


# The presets. Each fixes scale, mode and distribution; its config holds only
# its own constructor arguments, as in Keras.


@register
class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal initializer.

    A normal truncated at two standard deviations whose values have standard
    deviation `sqrt(2 / (fan_in + fan_out))`: `VarianceScaling(1.0,
    "fan_avg", "truncated_normal")`. Matches `keras.initializers.GlorotNormal`
    and `jax.nn.initializers.glorot_normal`; `torch.nn.init.xavier_normal_`
    is untruncated (`VarianceScaling(1.0, "fan_avg", "untruncated_normal")`).

    Args:
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.GlorotNormal(seed=1)(shape=(300, 100))
        >>> round(float(keras.ops.std(values)), 2)  # sqrt(2 / 400)
        0.07

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>GlorotNormal")

    Reference:
        [Glorot and Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html)
    """

    def __init__(
        self,
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        super().__init__(
            1.0, "fan_avg", "truncated_normal", seed, input_axes, output_axes
        )


@register
class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform initializer, Keras' default for kernels.

    `U[-limit, limit]` with `limit = sqrt(6 / (fan_in + fan_out))`:
    `VarianceScaling(1.0, "fan_avg", "uniform")`. Matches
    `keras.initializers.GlorotUniform`, `torch.nn.init.xavier_uniform_` and
    `jax.nn.initializers.glorot_uniform`.

    Args:
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.GlorotUniform(seed=1)(shape=(300, 300))
        >>> bool(keras.ops.max(keras.ops.abs(values)) <= 0.1)  # sqrt(6 / 600)
        True

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>GlorotUniform")

    Reference:
        [Glorot and Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html)
    """

    def __init__(
        self,
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        super().__init__(
            1.0, "fan_avg", "uniform", seed, input_axes, output_axes
        )


@register
class HeNormal(VarianceScaling):
    """He (Kaiming) normal initializer, for ReLU networks.

    A normal truncated at two standard deviations whose values have standard
    deviation `sqrt(2 / fan_in)`: `VarianceScaling(2.0, "fan_in",
    "truncated_normal")`. Matches `keras.initializers.HeNormal` and
    `jax.nn.initializers.he_normal`; `torch.nn.init.kaiming_normal_` is
    untruncated (`VarianceScaling(2.0, "fan_in", "untruncated_normal")`):
    that one is `keras_inits.KaimingNormal()`, which also takes PyTorch's
    `negative_slope` (`a`), `mode` and `nonlinearity`.

    Args:
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.HeNormal(seed=1)(shape=(200, 200))
        >>> round(float(keras.ops.std(values)), 2)  # sqrt(2 / 200)
        0.1

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>HeNormal")

    Reference:
        [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    def __init__(
        self,
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        super().__init__(
            2.0, "fan_in", "truncated_normal", seed, input_axes, output_axes
        )


@register
class HeUniform(VarianceScaling):
    """He (Kaiming) uniform initializer, for ReLU networks.

    `U[-limit, limit]` with `limit = sqrt(6 / fan_in)`:
    `VarianceScaling(2.0, "fan_in", "uniform")`. Matches
    `keras.initializers.HeUniform`, `jax.nn.initializers.he_uniform` and
    `torch.nn.init.kaiming_uniform_(nonlinearity="relu")`.

    Args:
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.HeUniform(seed=1)(shape=(600, 10))
        >>> bool(keras.ops.max(keras.ops.abs(values)) <= 0.1)  # sqrt(6 / 600)
        True

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>HeUniform")

    Reference:
        [He et al., 2015](https://arxiv.org/abs/1502.01852)
    """

    def __init__(
        self,
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        super().__init__(
            2.0, "fan_in", "uniform", seed, input_axes, output_axes
        )


@register
class LecunNormal(VarianceScaling):
    """LeCun normal initializer, for SELU networks.

    A normal truncated at two standard deviations whose values have standard
    deviation `sqrt(1 / fan_in)`: `VarianceScaling(1.0, "fan_in",
    "truncated_normal")`. Matches `keras.initializers.LecunNormal` and
    `jax.nn.initializers.lecun_normal`.

    Args:
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.LecunNormal(seed=1)(shape=(100, 300))
        >>> round(float(keras.ops.std(values)), 2)  # sqrt(1 / 100)
        0.1

        >>> layer = keras.layers.Dense(3, activation="selu",
        ...                            kernel_initializer="keras_inits>LecunNormal")

    Reference:
        [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515)
    """

    def __init__(
        self,
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        super().__init__(
            1.0, "fan_in", "truncated_normal", seed, input_axes, output_axes
        )


@register
class LecunUniform(VarianceScaling):
    """LeCun uniform initializer.

    `U[-limit, limit]` with `limit = sqrt(3 / fan_in)`:
    `VarianceScaling(1.0, "fan_in", "uniform")`. Matches
    `keras.initializers.LecunUniform` and `jax.nn.initializers.lecun_uniform`.

    Args:
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.
        input_axes: None, or the axes whose dimensions multiply to fan-in.
        output_axes: None, or the axes whose dimensions multiply to fan-out.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.LecunUniform(seed=1)(shape=(300, 10))
        >>> bool(keras.ops.max(keras.ops.abs(values)) <= 0.1)  # sqrt(3 / 300)
        True

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>LecunUniform")

    Reference:
        [LeCun et al., 1998](https://doi.org/10.1007/3-540-49430-8_2)
    """

    def __init__(
        self,
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        super().__init__(
            1.0, "fan_in", "uniform", seed, input_axes, output_axes
        )
