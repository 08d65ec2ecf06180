"""Initializers that draw from a fixed distribution: normal, uniform and
truncated normal, and the truncated-normal sampler the package shares."""

import math

import keras
import numpy as np
from keras import ops

from keras_inits import base
from keras_inits import portable

# Standard deviation of a standard normal truncated to [-2, 2]:
# sqrt(1 - 2 * 2 * pdf(2) / (cdf(2) - cdf(-2))) = 0.8796256610342398.
_TWO_SIGMA_MASS = math.erf(2.0 / math.sqrt(2.0))
TRUNCATED_STDDEV = math.sqrt(
    1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / _TWO_SIGMA_MASS
)


def _two_sigma_draw(shape, scale, dtype, seed):
    """`scale * erfinv(u)`, `u` uniform in `(-erf(sqrt(2)), erf(sqrt(2)))`:
    a normal with standard deviation `scale / sqrt(2)` truncated at two,
    drawn piece by piece where that is faster (see `portable.native_draw`;
    with its erfinv pass this draw gains from two pieces already: 1.5-1.9x
    Keras' at 3x3x512x512 on TensorFlow; 1.1-1.4x in one piece at
    4096x4096)."""

    def piece(piece_shape):
        u = keras.random.uniform(
            piece_shape, minval=-_TWO_SIGMA_MASS, maxval=_TWO_SIGMA_MASS,
            dtype=dtype, seed=seed,
        )
        return ops.erfinv(u) * scale

    return portable.native_draw(piece, shape, seed,
                                threshold=portable.NATIVE_PIECE)


def truncated_normal(shape, mean, stddev, dtype, seed, lower=-2.0,
                     upper=2.0):
    """Draws a normal(mean, stddev) truncated to `[lower, upper]` standard
    deviations from the mean (JAX's convention; either bound may be
    infinite, and the interval must reach within `MAX_SIGMAS` of 0).

    One uniform sample per element, put through the inverse CDF, is
    exactly the truncated distribution; Keras' `keras.random.truncated_normal`
    instead redraws values outside `[-2, 2]`, which on TensorFlow and
    PyTorch costs several candidate samples per element (four output-sized
    tensors in flight on PyTorch). For the default `[-2, 2]` the fast path
    is `x = mean + stddev * sqrt(2) * erfinv(u)` with `u` uniform in
    `(-erf(sqrt(2)), erf(sqrt(2)))`; JAX's own sampler is already an
    inverse-CDF draw and faster there, so JAX keeps it. See
    `benchmarks/initializers.py`.

    Other bounds go through `standard_normal_quantile`, which stays accurate
    in float32 for one-sided and far-tail intervals (`[3, inf]`,
    `[-inf, -8]`) where `erfinv` of a uniform near 1 would round most
    values away. A `keras_inits.PortableSeed` draws from the portable
    generator's quantile tables for the bounds (`portable.truncated_normal`).
    """
    check_sigma_bounds("truncated_normal", lower, upper)
    if isinstance(seed, portable.PortableSeed):
        return portable.truncated_normal(shape, mean, stddev, dtype, seed,
                                         lower, upper)
    if lower == -2.0 and upper == 2.0:
        if keras.backend.backend() == "jax":
            return keras.random.truncated_normal(
                shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed
            )
        values = _two_sigma_draw(shape, stddev * math.sqrt(2.0), dtype, seed)
        # Some backends' ops (NumPy's erfinv, PyTorch's maximum with a
        # Python float) return float32 for float64 inputs: restore dtype.
        return ops.cast(values + mean if mean else values, dtype)
    # With u uniform, the truncated value is Phi^-1(p) for
    # p = Phi(lower) + u * mass, and also -Phi^-1(q) for its complement
    # q = 1 - p = Phi(-upper) + (1 - u) * mass. Both are sums of
    # non-negative terms (no cancellation), and the smaller of the two is
    # always below 1/2, where the quantile is well conditioned in float32.
    # The tail probabilities and the mass come from erfc in float64.
    below = _normal_cdf(lower)
    above = _normal_cdf(-upper)
    mass = (_normal_cdf(upper) - below if lower + upper < 0
            else _normal_cdf(-lower) - above)
    u = portable.uniform(shape, 0.0, 1.0, dtype, seed)
    # keras.random.uniform may return exactly 0 (and a portable uniform
    # rounds to 1): a half-step floor keeps both tails finite.
    floor = ops.cast(float(np.finfo(dtype).eps) / 4.0, dtype)
    p = below + ops.maximum(u, floor) * mass
    q = above + ops.maximum(1.0 - u, floor) * mass
    z = standard_normal_quantile(ops.minimum(p, q))
    x = ops.where(p <= q, z, -z)
    x = ops.clip(x, max(lower, -_CLIP), min(upper, _CLIP))
    values = x * stddev + mean if mean else x * stddev
    # Keep float32 rounding of the affine map inside absolute bounds too.
    values = ops.clip(values, max(mean + stddev * lower, -_HUGE),
                      min(mean + stddev * upper, _HUGE))
    return ops.cast(values, dtype)


# Bounds must come within this many standard deviations of the mean: beyond
# it, float32 erfc and the tail probabilities underflow.
MAX_SIGMAS = 10.0
_CLIP = 40.0  # finite stand-in for infinite bounds in ops.clip
_HUGE = 3.0e38


def check_sigma_bounds(owner, lower, upper):
    """Raises unless `lower < upper` and the interval `[lower, upper]` (in
    standard deviations, possibly infinite) reaches within `MAX_SIGMAS`."""
    if not lower < upper:
        raise ValueError(
            f"Argument `upper` of {owner} must be greater than `lower`. "
            f"Received: lower={lower!r}, upper={upper!r}"
        )
    if lower >= MAX_SIGMAS or upper <= -MAX_SIGMAS:
        raise ValueError(
            f"{owner} needs bounds that reach within {MAX_SIGMAS:g} standard "
            "deviations of the mean (beyond, a normal has no mass float32 "
            f"can sample). Received: lower={lower!r}, upper={upper!r} "
            "standard deviations"
        )


def _normal_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def standard_normal_quantile(p):
    """`Phi^-1(p)` for `0 < p <= 1/2`, accurate to a few float32 ulps down to
    `p ~ 1e-30` (about -11.4); in float64, to about 1e-9.

    Starts from `sqrt(2) * erfinv(2p - 1)` where that is accurate
    (`p >= 1e-3`) and from the tail asymptote `x^2 = t^2 - log(2 pi t^2)`,
    `t^2 = -2 log p`, below, then takes two Newton steps on
    `log Phi(x) = log p`, whose slope `phi(x) / Phi(x)` is computed as
    `exp(-(log Phi(x) + x^2/2 + log sqrt(2 pi)))` so nothing overflows.
    """
    log_p = ops.log(p)
    t2 = -2.0 * log_p
    tail = -ops.sqrt(ops.maximum(t2 - ops.log(2.0 * math.pi * t2), 0.0))
    central = ops.erfinv(2.0 * p - 1.0) * math.sqrt(2.0)
    x = ops.where(p < 1e-3, tail, central)
    for _ in range(2):
        log_cdf = ops.log(0.5 * ops.erfc(x * -(1.0 / math.sqrt(2.0))))
        step = (log_cdf - log_p) * ops.exp(log_cdf + 0.5 * x * x
                                           + _LOG_SQRT_2PI)
        x = x - step
    return x


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
        base.check_reach("RandomNormal", "stddev", stddev, self.max_abs(()),
                         "|mean| + 8 stddev")
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return abs(self.mean) + base.NORMAL_REACH * self.stddev

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
        # The draw computes minval + (maxval - minval) * u.
        base.check_reach("RandomUniform", "maxval", maxval,
                         self.maxval - self.minval, "maxval - minval")
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return max(abs(self.minval), abs(self.maxval))

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
        base.check_reach("TruncatedNormal", "stddev", stddev,
                         self.max_abs(()), "|mean| + 2 stddev")
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return abs(self.mean) + 2.0 * self.stddev

    def draw(self, shape, dtype):
        return truncated_normal(
            shape, self.mean, self.stddev, dtype, self.seed_generator
        )
