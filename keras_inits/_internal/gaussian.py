"""The standard normal distribution's functions that the portable
generator's quantile tables and the samplers share.

This module imports only `arrays`' `Tensor` type of keras_inits.
"""

import math

import keras
from scipy import special

from keras_inits._internal.arrays import Tensor

# The mass of a standard normal within [-2, 2], erf(sqrt(2)), and the
# standard deviation of one truncated there:
# sqrt(1 - 2 * 2 * pdf(2) / (cdf(2) - cdf(-2))) = 0.8796256610342398.
TWO_SIGMA_MASS = math.erf(2.0 / math.sqrt(2.0))
TRUNCATED_STDDEV = math.sqrt(
    1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / TWO_SIGMA_MASS
)


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


def effective_bounds(lower: float, upper: float) -> tuple[float, float]:
    """`(lower, upper)`, with a bound beyond which a float64 holds no
    probability of the normal (`normal_cdf(lower) == 0` or
    `normal_cdf(-upper) == 0`: from about 38.5 standard deviations out)
    made infinite. The masses, the quantile tables and so every draw stay
    the same, bit for bit; draws whose bounds differ only there share one
    table and one compiled transform (torchtitan's `minval=-2, maxval=2`
    on weights of standard deviation 0.02 / sqrt(2 (l + 1)) are 100 to 170
    standard deviations, different in each layer).

    Examples:

        >>> effective_bounds(-100.0, 2.0)
        (-inf, 2.0)
    """
    if normal_cdf(lower) == 0.0:
        lower = -math.inf
    if normal_cdf(-upper) == 0.0:
        upper = math.inf
    return lower, upper


def standard_normal_quantile(p: Tensor) -> Tensor:
    """`Phi^-1(p)` for a tensor `0 < p <= 1/2`, accurate to 3 float32 ulps
    down to `p ~ 1e-30` (about -11.4), and to float64's precision in
    float64: the backend's own `ndtri` (Cephes' algorithm: a rational
    function of `p` in the centre, of `sqrt(-2 log p)` in the tails), one
    pass where the Newton steps on `log Phi` it replaced took thirty.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.math.ndtri(p)
    if backend == "jax":
        from jax.scipy import special as jax_special

        return jax_special.ndtri(p)
    if backend == "torch":
        import torch

        return torch.special.ndtri(p)
    return special.ndtri(p)
