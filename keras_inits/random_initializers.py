"""Initializers that draw from a fixed distribution: normal, uniform and
truncated normal, and the truncated-normal sampler the package shares."""

import math

import keras
from keras import ops

from keras_inits import base
from keras_inits import portable

# Standard deviation of a standard normal truncated to [-2, 2]:
# sqrt(1 - 2 * 2 * pdf(2) / (cdf(2) - cdf(-2))) = 0.8796256610342398.
_TWO_SIGMA_MASS = math.erf(2.0 / math.sqrt(2.0))
TRUNCATED_STDDEV = math.sqrt(
    1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / _TWO_SIGMA_MASS
)


def truncated_normal(shape, mean, stddev, dtype, seed):
    """Draws a normal(mean, stddev) truncated to two standard deviations.

    Keras' `keras.random.truncated_normal` redraws values outside the
    bounds; on TensorFlow and PyTorch that costs several candidate samples
    per element (four output-sized tensors in flight on PyTorch). This
    inverse-CDF draw takes one uniform sample per element,
    `x = mean + stddev * sqrt(2) * erfinv(u)` with `u` uniform in
    `(-erf(sqrt(2)), erf(sqrt(2)))`, which is exactly the truncated
    distribution. JAX's own sampler is already an inverse-CDF draw and
    faster there, so JAX keeps it. See `benchmarks/initializers.py`.
    A `keras_inits.PortableSeed` draws from the portable generator.
    """
    if isinstance(seed, portable.PortableSeed):
        return portable.truncated_normal(shape, mean, stddev, dtype, seed)
    if keras.backend.backend() == "jax":
        return keras.random.truncated_normal(
            shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed
        )
    u = keras.random.uniform(
        shape, minval=-_TWO_SIGMA_MASS, maxval=_TWO_SIGMA_MASS,
        dtype=dtype, seed=seed,
    )
    values = ops.erfinv(u) * (stddev * math.sqrt(2.0))
    return values + mean if mean else values


@base.register
class RandomNormal(base.RandomInitializer):
    """Initializer that draws from a normal distribution.

    `W ~ N(mean, stddev**2)`. Matches `keras.initializers.RandomNormal`,
    `torch.nn.init.normal_` and `jax.nn.initializers.normal`; unlike
    Keras', an unseeded instance draws new values at every call.

    Args:
        mean: Mean of the values, a finite number.
        stddev: Standard deviation of the values, a positive number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, or a `keras.random.SeedGenerator`.

    Examples:

    >>> import keras_inits
    >>> values = keras_inits.RandomNormal(stddev=0.1, seed=1)(shape=(2, 2))
    >>> tuple(values.shape)
    (2, 2)

    >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>RandomNormal")
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = base.check_number("RandomNormal", "mean", mean)
        self.stddev = base.check_positive("RandomNormal", "stddev", stddev)
        super().__init__(seed=seed)

    def draw(self, shape, dtype):
        return portable.normal(shape, self.mean, self.stddev, dtype,
                               self.seed_generator)


@base.register
class RandomUniform(base.RandomInitializer):
    """Initializer that draws from a uniform distribution.

    `W ~ U[minval, maxval)`. Matches `keras.initializers.RandomUniform`,
    `torch.nn.init.uniform_(a, b)` and `jax.nn.initializers.uniform`
    (which takes only a scale, `U[0, scale)`).

    Args:
        minval: Lower bound (inclusive), a finite number.
        maxval: Upper bound (exclusive), a finite number above `minval`.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, or a `keras.random.SeedGenerator`.

    Examples:

    >>> import keras_inits
    >>> values = keras_inits.RandomUniform(-1.0, 1.0, seed=1)(shape=(100,))
    >>> bool(keras.ops.all(keras.ops.abs(values) <= 1.0))
    True

    >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>RandomUniform")
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = base.check_number("RandomUniform", "minval", minval)
        self.maxval = base.check_number("RandomUniform", "maxval", maxval)
        if self.maxval <= self.minval:
            raise ValueError(
                "Argument `maxval` of RandomUniform must be greater than "
                f"`minval`. Received: minval={minval!r}, maxval={maxval!r}"
            )
        super().__init__(seed=seed)

    def draw(self, shape, dtype):
        return portable.uniform(shape, self.minval, self.maxval, dtype,
                                self.seed_generator)


@base.register
class TruncatedNormal(base.RandomInitializer):
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
            sequence of draws reproducible, or a `keras.random.SeedGenerator`.

    Examples:

    >>> import keras_inits
    >>> values = keras_inits.TruncatedNormal(stddev=1.0, seed=1)(shape=(1000,))
    >>> bool(keras.ops.max(keras.ops.abs(values)) <= 2.0 + 1e-5)
    True

    >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>TruncatedNormal")
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = base.check_number("TruncatedNormal", "mean", mean)
        self.stddev = base.check_positive("TruncatedNormal", "stddev", stddev)
        super().__init__(seed=seed)

    def draw(self, shape, dtype):
        return truncated_normal(
            shape, self.mean, self.stddev, dtype, self.seed_generator
        )
