"""The standard normal distribution's functions that the portable
generator's quantile tables and the samplers share.

This module imports only `arrays`' `Tensor` type of keras_inits.
"""

import math

from keras import ops

from keras_inits._internal.arrays import Tensor

# The mass of a standard normal within [-2, 2], erf(sqrt(2)), and the
# standard deviation of one truncated there:
# sqrt(1 - 2 * 2 * pdf(2) / (cdf(2) - cdf(-2))) = 0.8796256610342398.
TWO_SIGMA_MASS = math.erf(2.0 / math.sqrt(2.0))
TRUNCATED_STDDEV = math.sqrt(
    1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / TWO_SIGMA_MASS
)

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def normal_cdf(x):
    """`Phi(x)`, in float64; exact in the lower tail (through erfc)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def truncated_mass(lower, upper):
    """`(Phi(lower), Phi(-upper), Phi(upper) - Phi(lower))`: the mass below
    the interval `[lower, upper]` (either bound may be infinite), above it,
    and inside it. The inside mass is taken from the tail it has no
    cancellation in, so it stays accurate far out in either tail."""
    below, above = normal_cdf(lower), normal_cdf(-upper)
    mass = (
        normal_cdf(upper) - below
        if lower + upper < 0
        else normal_cdf(-lower) - above
    )
    return below, above, mass


def standard_normal_quantile(p: Tensor) -> Tensor:
    """`Phi^-1(p)` for a tensor `0 < p <= 1/2`, accurate to a few float32
    ulps down to `p ~ 1e-30` (about -11.4); in float64, to about 1e-9.

    Starts from `sqrt(2) * erfinv(2p - 1)` where that is accurate
    (`p >= 1e-3`) and from the tail asymptote `x^2 = t^2 - log(2 pi t^2)`,
    `t^2 = -2 log p`, below, then takes two Newton steps on
    `log Phi(x) = log p`, whose slope `phi(x) / Phi(x)` is computed as
    `exp(-(log Phi(x) + x^2/2 + log sqrt(2 pi)))` so nothing overflows.
    """
    log_p: Tensor = ops.log(p)
    t2 = -2.0 * log_p
    root: Tensor = ops.sqrt(ops.maximum(t2 - ops.log(2.0 * math.pi * t2), 0.0))
    tail = -root
    erfinv: Tensor = ops.erfinv(2.0 * p - 1.0)
    central = erfinv * math.sqrt(2.0)
    x: Tensor = ops.where(p < 1e-3, tail, central)
    for _ in range(2):
        erfc: Tensor = ops.erfc(x * -(1.0 / math.sqrt(2.0)))
        log_cdf: Tensor = ops.log(0.5 * erfc)
        inverse_slope: Tensor = ops.exp(log_cdf + 0.5 * x * x + _LOG_SQRT_2PI)
        step = (log_cdf - log_p) * inverse_slope
        x = x - step
    return x
