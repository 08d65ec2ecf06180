"""Initializers that draw from a fixed distribution: normal, uniform and
truncated normal."""

import math

from keras_inits._internal import checks
from keras_inits._internal import gaussian
from keras_inits.initializers._base import RandomInitializer
from keras_inits.initializers._registration import register
from keras_inits.random import NORMAL_REACH
from keras_inits.random import Seed
from keras_inits.random import normal
from keras_inits.random import truncated_normal
from keras_inits.random import uniform


@register
class RandomNormal(RandomInitializer):
    """Initializer that draws from a normal distribution.

    `W ~ N(mean, stddev**2)`. Matches `keras.initializers.RandomNormal`,
    `torch.nn.init.normal_` and `jax.nn.initializers.normal`; unlike
    Keras', an unseeded instance draws new values at every call.

    Args:
        mean: Mean of the values, a finite number.
        stddev: Standard deviation of the values, a positive number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.RandomNormal(stddev=0.1, seed=1)(shape=(2, 2))
        >>> tuple(values.shape)
        (2, 2)

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>RandomNormal")
    """

    draw_family = "normal"
    fails_only_in_check_call = True

    def __init__(
        self, mean: float = 0.0, stddev: float = 0.05, seed: Seed = None
    ):
        self.mean = checks.check_number("RandomNormal", "mean", mean)
        self.stddev = checks.check_positive("RandomNormal", "stddev", stddev)
        checks.check_reach(
            "RandomNormal",
            "stddev",
            stddev,
            self.max_abs(()),
            "|mean| + 8 stddev",
        )
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return abs(self.mean) + NORMAL_REACH * self.stddev

    def expected_std(self, shape):
        return self.stddev

    def draw(self, shape, dtype):
        return normal(
            shape, self.mean, self.stddev, dtype, self.seed_generator
        )


@register
class RandomUniform(RandomInitializer):
    """Initializer that draws from a uniform distribution.

    `W ~ U[minval, maxval)`. Matches `keras.initializers.RandomUniform`,
    `torch.nn.init.uniform_(a, b)` and `jax.nn.initializers.uniform`
    (which takes only a scale, `U[0, scale)`).

    Args:
        minval: Lower bound (inclusive), a finite number.
        maxval: Upper bound (exclusive), a finite number above `minval`.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.RandomUniform(-1.0, 1.0, seed=1)(shape=(100,))
        >>> bool(keras.ops.all(keras.ops.abs(values) <= 1.0))
        True

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>RandomUniform")
    """

    draw_family = "uniform"
    fails_only_in_check_call = True

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: Seed = None
    ):
        self.minval = checks.check_number("RandomUniform", "minval", minval)
        self.maxval = checks.check_number("RandomUniform", "maxval", maxval)
        checks.check_ordered(
            "RandomUniform", "minval", minval, "maxval", maxval
        )
        # The draw computes minval + (maxval - minval) * u.
        checks.check_reach(
            "RandomUniform",
            "maxval",
            maxval,
            self.maxval - self.minval,
            "maxval - minval",
        )
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return max(abs(self.minval), abs(self.maxval))

    def expected_std(self, shape):
        return (self.maxval - self.minval) / math.sqrt(12.0)

    def draw(self, shape, dtype):
        return uniform(
            shape, self.minval, self.maxval, dtype, self.seed_generator
        )


@register
class TruncatedNormal(RandomInitializer):
    """Initializer that draws from a normal distribution truncated at 2 sigma.

    `W ~ N(mean, stddev**2)` conditioned on `|W - mean| <= 2 * stddev`:
    values beyond two standard deviations are redrawn, not clipped, so the
    standard deviation of the values is `0.8796 * stddev`. Matches
    `keras.initializers.TruncatedNormal`, `torch.nn.init.trunc_normal_` with
    `a = mean - 2 * stddev, b = mean + 2 * stddev`, and
    `jax.nn.initializers.truncated_normal` (`lower=-2, upper=2`).

    Args:
        mean: Mean of the untruncated normal, a finite number.
        stddev: Standard deviation of the untruncated normal, a positive
            number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.TruncatedNormal(stddev=1.0, seed=1)(shape=(1000,))
        >>> bool(keras.ops.max(keras.ops.abs(values)) <= 2.0 + 1e-5)
        True

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>TruncatedNormal")
    """

    draw_family = "truncated_normal"
    fails_only_in_check_call = True

    def __init__(
        self, mean: float = 0.0, stddev: float = 0.05, seed: Seed = None
    ):
        self.mean = checks.check_number("TruncatedNormal", "mean", mean)
        self.stddev = checks.check_positive(
            "TruncatedNormal", "stddev", stddev
        )
        checks.check_reach(
            "TruncatedNormal",
            "stddev",
            stddev,
            self.max_abs(()),
            "|mean| + 2 stddev",
        )
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return abs(self.mean) + 2.0 * self.stddev

    def expected_std(self, shape):
        # Cut at two standard deviations, as in Keras.
        return self.stddev * gaussian.TRUNCATED_STDDEV

    def draw(self, shape, dtype):
        return truncated_normal(
            shape, self.mean, self.stddev, dtype, self.seed_generator
        )
