"""Normal distributions with chosen bounds: truncated at absolute bounds
(PyTorch's `trunc_normal_`), truncated at bounds in standard deviations
(JAX's `truncated_normal`), and clipped (values beyond the bounds moved onto
them).

`keras_inits.TruncatedNormal` stays Keras' initializer (two standard
deviations, same config); these take the bounds as arguments and share its
sampler, `truncated_normal`.
"""

import math

from keras_inits._internal import checks
from keras_inits._internal import native_ops
from keras_inits.initializers import _base
from keras_inits.initializers._registration import register
from keras_inits.random import MAX_SIGMAS
from keras_inits.random import NORMAL_REACH
from keras_inits.random import Seed
from keras_inits.random import check_sigma_bounds
from keras_inits.random import normal
from keras_inits.random import truncated_normal


def _check_bound(owner, name, value):
    """Returns the bound `value`, argument `name` of `owner`, as a float.
    Infinite bounds are allowed (one-sided truncation); NaN is not, nor a
    finite bound float32 cannot hold (`10**400`, 1e39): an argument error
    names `name`."""
    number = checks.as_float(value)
    if number is None or math.isnan(number):
        raise checks.argument_error(
            owner, name, "a number or an infinity", value
        )
    if math.isfinite(number) and abs(number) > checks.FLOAT32_MAX:
        raise checks.argument_error(
            owner,
            name,
            "a number float32 can hold (|x| <= 3.4e38) or an infinity",
            value,
        )
    return number


def _value_range(mean, stddev, lower, upper):
    """`(low, high)`, bounds of the values a normal(mean, stddev) truncated
    to `[lower, upper]` standard deviations takes: the bounds, or, on an
    infinite side, `NORMAL_REACH` standard deviations beyond the mean or
    the other bound (the sampler's float32 quantiles reach about 5.5
    beyond; as far as 10 + 1.5 for a far one-sided tail)."""
    low = max(lower, min(upper, 0.0) - NORMAL_REACH)
    high = min(upper, max(lower, 0.0) + NORMAL_REACH)
    return mean + stddev * low, mean + stddev * high


# How check_reach describes the largest value of a truncated normal.
_TRUNCATED_REACH = (
    "every value (within the bounds, and at most 8 stddev "
    "beyond the mean or a finite bound on an infinite side)"
)


@register
class TruncatedNormalRange(_base.RandomInitializer):
    """Normal distribution truncated to absolute bounds `[minval, maxval]`.

    `W ~ N(mean, stddev**2)` conditioned on `minval <= W <= maxval`: values
    outside are redrawn (exactly: one inverse-CDF draw per value), not
    clipped. Either bound may be infinite, for a one-sided truncation.

    Matches `torch.nn.init.trunc_normal_(mean, std, a, b)`, with its
    defaults: our `minval`/`maxval` are PyTorch's `a`/`b`, absolute values,
    **not** multiples of `stddev`. So `TruncatedNormalRange(stddev=0.02)`,
    like the common `trunc_normal_(w, std=0.02)`, truncates at +-2, a
    hundred standard deviations out, and is in effect an untruncated normal;
    write `minval=-0.04, maxval=0.04` (or use `TruncatedNormalSigmas`) to
    truncate at two standard deviations. Unlike PyTorch's sampler, ours
    stays exact when the mean lies far outside `[minval, maxval]` (PyTorch
    warns that its values may then be incorrect); the interval must reach
    within 10 standard deviations of the mean.

    Args:
        mean: Mean of the untruncated normal, a finite number.
        stddev: Standard deviation of the untruncated normal, a positive
            number.
        minval: Lower bound of the values, a number or `-inf`.
        maxval: Upper bound of the values, a number above `minval` or `inf`.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> init = keras_inits.TruncatedNormalRange(stddev=1.0, minval=0.0,
        ...                                         maxval=float("inf"), seed=1)
        >>> bool(keras.ops.min(init((1000,))) >= 0.0)  # a half-normal
        True

        >>> layer = keras.layers.Dense(3, kernel_initializer=(
        ...     keras_inits.TruncatedNormalRange(stddev=0.02, minval=-0.04, maxval=0.04)))

    Reference:
        [PyTorch `trunc_normal_`](https://pytorch.org/docs/stable/nn.init.html)
    """

    draw_family = "bounded_normal"
    fails_only_in_check_call = True

    def __init__(
        self,
        mean: float = 0.0,
        stddev: float = 1.0,
        minval: float = -2.0,
        maxval: float = 2.0,
        seed: Seed = None,
    ):
        owner = "TruncatedNormalRange"
        self.mean = checks.check_number(owner, "mean", mean)
        self.stddev = checks.check_positive(owner, "stddev", stddev)
        self.minval = _check_bound(owner, "minval", minval)
        self.maxval = _check_bound(owner, "maxval", maxval)
        checks.check_ordered(owner, "minval", minval, "maxval", maxval)
        # check_sigma_bounds would name `lower` and `upper`, the sampler's
        # arguments: these errors name this class's own.
        lower, upper = self.sigma_bounds()
        received = (
            f"Received: mean={self.mean!r}, stddev={self.stddev!r}, "
            f"minval={self.minval!r}, maxval={self.maxval!r}"
        )
        if lower >= MAX_SIGMAS or upper <= -MAX_SIGMAS:
            raise ValueError(
                f"{owner} needs bounds that reach within {MAX_SIGMAS:g} "
                "standard deviations of the mean (beyond, a normal has no "
                "mass float32 can sample): `minval` and `maxval` lie "
                f"{lower:.4g} to {upper:.4g} standard deviations from it. "
                + received
            )
        if not lower < upper:
            raise ValueError(
                f"Argument `maxval` of {owner} must exceed `minval` by a "
                "width float64 resolves in standard deviations. " + received
            )
        checks.check_reach(
            owner, "stddev", stddev, self.max_abs(()), _TRUNCATED_REACH
        )
        super().__init__(seed=seed)

    def sigma_bounds(self):
        """`(lower, upper)`: the bounds in standard deviations from the
        mean, as `TruncatedNormalSigmas` takes them."""
        return (
            (self.minval - self.mean) / self.stddev,
            (self.maxval - self.mean) / self.stddev,
        )

    def max_abs(self, shape):
        low, high = _value_range(self.mean, self.stddev, *self.sigma_bounds())
        return max(abs(max(low, self.minval)), abs(min(high, self.maxval)))

    def draw(self, shape, dtype):
        lower, upper = self.sigma_bounds()
        return truncated_normal(
            shape,
            self.mean,
            self.stddev,
            dtype,
            self.seed_generator,
            lower,
            upper,
        )


@register
class TruncatedNormalSigmas(_base.RandomInitializer):
    """Normal distribution truncated at bounds in standard deviations.

    `W = mean + stddev * Z`, `Z ~ N(0, 1)` conditioned on
    `lower <= Z <= upper`: values outside are redrawn (exactly: one
    inverse-CDF draw per value), not clipped. Either bound may be infinite;
    `lower=-2, upper=2` is `keras_inits.TruncatedNormal`. The standard
    deviation of the values is below `stddev` (0.8796 times it at +-2): no
    correction is applied, as in JAX.

    Matches `jax.nn.initializers.truncated_normal(stddev, lower=, upper=)`
    (same argument names and defaults), plus a `mean`. Exact for one-sided
    and far-tail intervals such as `lower=3, upper=inf`, where an
    `erfinv`-of-a-uniform sampler (JAX's, in float32) rounds most values
    onto a coarse grid; the interval must reach within 10 standard
    deviations of 0.

    Args:
        stddev: Standard deviation of the untruncated normal, a positive
            number.
        lower: Lower bound, in standard deviations from the mean: a number
            or `-inf`.
        upper: Upper bound, in standard deviations: a number above `lower`,
            or `inf`.
        mean: Mean of the untruncated normal, a finite number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> init = keras_inits.TruncatedNormalSigmas(1.0, lower=-1.0, upper=3.0, seed=1)
        >>> values = keras.ops.convert_to_numpy(init((1000,)))
        >>> bool(values.min() >= -1.0 and values.max() <= 3.0)
        True

        >>> layer = keras.layers.Dense(3, kernel_initializer=(
        ...     keras_inits.TruncatedNormalSigmas(stddev=0.02, lower=-3.0, upper=3.0)))

    Reference:
        [JAX `truncated_normal`](https://docs.jax.dev/en/latest/_autosummary/jax.nn.initializers.truncated_normal.html)
    """

    draw_family = "bounded_normal"
    fails_only_in_check_call = True

    def __init__(
        self,
        stddev: float = 1e-2,
        lower: float = -2.0,
        upper: float = 2.0,
        mean: float = 0.0,
        seed: Seed = None,
    ):
        owner = "TruncatedNormalSigmas"
        self.stddev = checks.check_positive(owner, "stddev", stddev)
        self.lower = _check_bound(owner, "lower", lower)
        self.upper = _check_bound(owner, "upper", upper)
        check_sigma_bounds(owner, self.lower, self.upper)
        self.mean = checks.check_number(owner, "mean", mean)
        checks.check_reach(
            owner, "stddev", stddev, self.max_abs(()), _TRUNCATED_REACH
        )
        super().__init__(seed=seed)

    def max_abs(self, shape):
        low, high = _value_range(
            self.mean, self.stddev, self.lower, self.upper
        )
        return max(abs(low), abs(high))

    def draw(self, shape, dtype):
        return truncated_normal(
            shape,
            self.mean,
            self.stddev,
            dtype,
            self.seed_generator,
            self.lower,
            self.upper,
        )


@register
class ClippedNormal(_base.RandomInitializer):
    """Normal values clipped (not redrawn) at `sigmas` standard deviations.

    `W = clip(X, mean - sigmas * stddev, mean + sigmas * stddev)`,
    `X ~ N(mean, stddev**2)`. Clipping is not truncation: the values that
    would fall outside sit exactly on the bounds, a probability mass of
    `2 * (1 - Phi(sigmas))` (4.55% at 2) split between them, and the
    standard deviation is `stddev * sqrt(2 Phi(k) - 1 - 2 k phi(k) +
    2 k**2 (1 - Phi(k)))` with `k = sigmas` (0.9594 at 2, against 0.8796
    for truncation). For truncation use `TruncatedNormalSigmas`.

    No peer ships it: it is what `keras.ops.clip(keras.random.normal(...))`
    or `torch.nn.init.normal_(w).clamp_(a, b)` give by hand.

    Args:
        mean: Mean of the normal, a finite number.
        stddev: Standard deviation of the normal before clipping, a
            positive number.
        sigmas: Where to clip, in standard deviations from the mean, a
            positive number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> values = keras_inits.ClippedNormal(stddev=1.0, seed=1)((1000,))
        >>> float(keras.ops.max(values))  # some values sit on the bound
        2.0

        >>> layer = keras.layers.Dense(3, kernel_initializer="keras_inits>ClippedNormal")
    """

    draw_family = "clipped_normal"
    fails_only_in_check_call = True

    def __init__(
        self,
        mean: float = 0.0,
        stddev: float = 0.05,
        sigmas: float = 2.0,
        seed: Seed = None,
    ):
        self.mean = checks.check_number("ClippedNormal", "mean", mean)
        self.stddev = checks.check_positive("ClippedNormal", "stddev", stddev)
        self.sigmas = checks.check_positive("ClippedNormal", "sigmas", sigmas)
        bound = self.sigmas * self.stddev
        # Below the smallest normal float32 the clip interval collapses
        # onto the mean (or its subnormals, which backends flush).
        if bound < checks.FLOAT32_TINY:
            raise checks.argument_error(
                "ClippedNormal",
                "sigmas",
                "large enough that the clip bound sigmas * stddev is a "
                f"normal float32 (>= 1.2e-38; here {bound:.4g})",
                sigmas,
            )
        checks.check_reach(
            "ClippedNormal",
            "stddev",
            stddev,
            self.max_abs(()),
            "|mean| + min(sigmas, 8) * stddev",
        )
        super().__init__(seed=seed)

    def max_abs(self, shape):
        # The normal draws reach NORMAL_REACH standard deviations at most.
        return abs(self.mean) + min(self.sigmas, NORMAL_REACH) * self.stddev

    def draw(self, shape, dtype):
        values = normal(
            shape, self.mean, self.stddev, dtype, self.seed_generator
        )
        bound = self.sigmas * self.stddev
        # Within float32, so that no backend refuses a bound it cannot hold
        # (sigmas=100 with stddev=1e37); the draws never reach it anyway.
        low = max(self.mean - bound, -checks.FLOAT32_MAX)
        high = min(self.mean + bound, checks.FLOAT32_MAX)
        # The draw is new: clipped in place, without waiting for threads.
        return native_ops.clip_in_place(values, low, high)
