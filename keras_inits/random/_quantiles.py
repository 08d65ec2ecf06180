"""The transforms of keras_inits' generator: from random 32-bit words to
float32 values (uniform, normal, normal truncated at two standard
deviations or at any bounds), by fixed integer arithmetic that uses no
transcendental function at run time.

Floats are made from integers below 2**24 (exact conversions), scaled by
powers of two (exact), then rounded at most twice, by an addition and a
final multiplication, each of which IEEE 754 fixes exactly. Normal and
truncated-normal values come from quantile tables, computed once in double
precision on the host, rounded to 24 fractional bits and linearly
interpolated in integer arithmetic: the same words give the same float32
values on every backend and device.

Every function takes `xp`, the operations to run with: `keras.ops`, or
NumPy's or PyTorch's own functions (`_internal.native_ops`).

The native samplers' truncated normals (`native_truncated_table`) take
the same layout of quantiles in float32, read with float operations: there
the values need not be the same on every backend, only few passes over
them.
"""

import dataclasses
import functools
import statistics

import numpy as np
from keras import ops
from scipy import special

from keras_inits._internal import gaussian
from keras_inits._internal import native_ops

# Transforms from words to float32 values.
_FRACTION_BITS = 24  # fixed point of the quantile tables
_SEGMENT_BITS = 9  # 512 interpolation segments per binade of the tail
_TRUNCATED_BITS = 14  # 16384 segments over the truncated normal's range
_LOWER_TAIL = statistics.NormalDist().cdf(-2.0)
_HEAD = 2**_SEGMENT_BITS
# The positions `r` (31 bits) of the nodes of the tail tables: one for each
# `r < 512`, then 513 per binade `[2**e, 2**(e+1))`.
_NODES = list(range(_HEAD)) + [
    2**e + j * 2 ** (e - _SEGMENT_BITS)
    for e in range(_SEGMENT_BITS, 31)
    for j in range(_HEAD + 1)
]


def _fixed(values):
    """`values` (|x| < 128) as int32 fixed-point numbers with
    `_FRACTION_BITS` fractional bits, rounded to the nearest."""
    return np.round(np.asarray(values) * 2.0**_FRACTION_BITS).astype("int32")


def _build_tables():
    """The quantile tables, as int32 with 24 fractional bits: `-Phi^-1(p)`.

    Normal: a 31-bit `r` stands for `p = (r + 1/2) / 2**32`, at `_NODES`,
    which bounds the interpolation error by about 4e-7 in every binade.
    Truncated normal: `r` maps linearly onto `p in [Phi(-2), 1/2]`, 16385
    nodes (error below 1e-7).
    """
    quantile = statistics.NormalDist().inv_cdf
    normal = _fixed([-quantile((r + 0.5) / 2.0**32) for r in _NODES])
    size = 2**_TRUNCATED_BITS
    truncated = _fixed(
        [
            -quantile(_LOWER_TAIL + (0.5 - _LOWER_TAIL) * i / size)
            for i in range(size + 1)
        ]
    )
    return normal, truncated


_NORMAL_TABLE, _TRUNCATED_TABLE = _build_tables()


def _bounded_table(lower, upper):
    """The quantile table of a standard normal truncated to `[lower, upper]`
    (either may be infinite), laid out as `_NORMAL_TABLE` for each tail:
    entries `[0, n)` hold `Q(1 - v)`, entries `[n, 2n)` hold `Q(v)`, for
    `v = (r + 1/2) / 2**32` at `_NODES` and `Q` the truncated quantile,
    clamped to the bounds."""
    quantile = statistics.NormalDist().inv_cdf
    below, above, mass = gaussian.truncated_mass(lower, upper)

    def truncated_quantile(start, other, v, sign):
        # Q(v) = Phi^-1(below + v mass) = -Phi^-1(above + (1 - v) mass),
        # and Q(1 - v) likewise: from the first sum while it stays below
        # 1/2 (no cancellation), else from the other, where float64 keeps
        # the digits the first loses (Phi(9.5) rounds to 1).
        p = start + v * mass
        if p <= 0.5:
            return sign * quantile(p)
        return -sign * quantile(other + (1.0 - v) * mass)

    nodes = [(r + 0.5) / 2.0**32 for r in _NODES]
    upper_tail = [truncated_quantile(above, below, v, -1.0) for v in nodes]
    lower_tail = [truncated_quantile(below, above, v, 1.0) for v in nodes]
    table = _fixed(np.clip(upper_tail + lower_tail, lower, upper))
    # Interpolation multiplies a difference of neighbours by 13 bits of
    # fraction in int32: the differences stay far below 2**18 for any
    # bounds, since a segment is 1/512 of a binade of probability.
    for tail in np.split(table.astype(np.int64), 2):
        assert np.abs(np.diff(tail[_HEAD:])).max() < 2**18, (lower, upper)
    return table


def _to_float(fixed, xp):
    """A 24-fractional-bit integer (|x| < 2**31) as the nearest float32:
    two exact conversions and power-of-two scalings, one rounded sum."""
    high = xp.cast(xp.right_shift(fixed, 12), "float32") * 2.0**-12
    low = xp.cast(xp.bitwise_and(fixed, 0xFFF), "float32") * 2.0**-24
    return high + low


def _interpolate(table, index, fraction, bits, xp):
    """Linear interpolation in the fixed-point `table`, in int32:
    `table[index]` plus `fraction / 2**bits` of the step to
    `table[index + 1]`, rounded down."""
    table = xp.convert_to_tensor(table, dtype="int32")
    low = xp.take(table, index)
    high = xp.take(table, index + 1)
    return low + xp.right_shift((high - low) * fraction, bits)


def _signed(words, magnitude, xp):
    """`magnitude` (float32, >= 0) with the sign of the top bit of `words`:
    that bit set as the float's sign bit, the bits `where(words < 0,
    -magnitude, magnitude)` gives (-0.0 for 0 too) in a tenth of NumPy's
    time."""
    sign = xp.bitwise_and(words, -(2**31))
    return xp.view(xp.bitwise_or(xp.view(magnitude, "int32"), sign), "float32")


def _binade(r, xp):
    """`floor(log2(r))` of positive int32 `r`: the exponent of `float32(r)`,
    less one where the conversion rounded `r` up to a power of two."""
    exponent = (
        xp.right_shift(xp.view(xp.cast(r, "float32"), "int32"), 23) - 127
    )
    return exponent - xp.cast(xp.right_shift(r, exponent) == 0, "int32")


def _tail_position(words, xp):
    """The table index and 13-bit interpolation fraction of each word's
    31 low bits `r` in the `_NODES` layout."""
    r = xp.bitwise_and(words, 0x7FFFFFFF)
    exponent = _binade(xp.maximum(r, 1), xp)
    # r shifted so that its top bit is bit 30: 9 bits of segment, then 13
    # of fraction.
    top = xp.left_shift(r, 30 - exponent)
    segment = xp.right_shift(top, 30 - _SEGMENT_BITS) - _HEAD
    fraction = xp.bitwise_and(xp.right_shift(top, 8), 0x1FFF)
    in_tail = r >= _HEAD
    index = xp.where(
        in_tail, _HEAD + (exponent - _SEGMENT_BITS) * (_HEAD + 1) + segment, r
    )
    return index, fraction * xp.cast(in_tail, "int32")


def standard_normal(words, xp: native_ops.Ops = ops):
    """Standard normal float32 values, one per word."""
    index, fraction = _tail_position(words, xp)
    fixed = _interpolate(_NORMAL_TABLE, index, fraction, 13, xp)
    return _signed(words, _to_float(fixed, xp), xp)


@functools.lru_cache(maxsize=64)
def bounded_normal(lower, upper):
    """The transform to standard normal float32 values truncated to
    `[lower, upper]` (floats, either may be infinite), one per word: the
    upper tail for words `>= 0`, the lower one for the others. Cached, so
    that a compiled draw is compiled once per pair of bounds."""
    table = _bounded_table(lower, upper)

    def transform(words, xp: native_ops.Ops = ops):
        index, fraction = _tail_position(words, xp)
        index = index + xp.cast(words < 0, "int32") * len(_NODES)
        return _to_float(_interpolate(table, index, fraction, 13, xp), xp)

    transform.__name__ = f"bounded_normal({lower}, {upper})"
    return transform


def standard_truncated_normal(words, xp: native_ops.Ops = ops):
    """Standard normal float32 values truncated to [-2, 2], one per word."""
    r = xp.bitwise_and(words, 0x7FFFFFFF)
    index = xp.right_shift(r, 31 - _TRUNCATED_BITS)
    fraction = xp.bitwise_and(xp.right_shift(r, 4), 0x1FFF)
    fixed = _interpolate(_TRUNCATED_TABLE, index, fraction, 13, xp)
    return _signed(words, _to_float(fixed, xp), xp)


def symmetric_uniform(words, xp: native_ops.Ops = ops):
    """Float32 values uniform on (-1, 1), one per word: `(2k + 1) / 2**24`
    for the top 24 bits `k` read as a signed integer."""
    k = xp.right_shift(words, 8)
    return xp.cast(k * 2 + 1, "float32") * 2.0**-24


# The native samplers' table: words made float32 (`float32(w)`, rounded to
# 24 bits), whose bits give the node and the fraction. `(bits >> 14) &
# 0x3FFFF` is the sign (bit 17: which tail), the exponent (8 bits) and the
# top 9 bits of the mantissa: 512 segments per binade, as `_NODES`; the low
# 14 bits are the position in the segment.
NATIVE_KEY_SHIFT = 14
NATIVE_KEY_MASK = 0x3FFFF
NATIVE_FRACTION_MASK = 0x3FFF
# The exponents of float32(w) for 1 <= |w| <= 2**31 (w = 0 has exponent 0),
# and the keys they give in each tail (key 0 is w = 0).
_NATIVE_EXPONENTS = range(127, 159)
_NATIVE_STEPS = len(_NATIVE_EXPONENTS) * _HEAD
_NATIVE_FIRST = _NATIVE_EXPONENTS[0] * _HEAD
_NATIVE_TAILS = [
    slice(sign + _NATIVE_FIRST, sign + _NATIVE_FIRST + _NATIVE_STEPS)
    for sign in (0, 1 << 17)
]


@dataclasses.dataclass(frozen=True)
class NativeTable:
    """A truncated normal's quantiles indexed by the bits of `float32(w)`,
    `w` a random int32 word: `value(w) = start[k] + f * slope[k]` for `k`
    and `f` the key and the fraction of its bits (`NATIVE_KEY_*`). Words
    `>= 0` take the upper tail, `Q(1 - v)`, the others the lower one,
    `Q(v)`, for `v = |w| / 2**32` and `Q` the truncated quantile: one
    uniform position per word, mapped onto the truncated distribution
    within 3 float32 ulps of `max(1, |Q|)`. Float32 arrays of
    `NATIVE_KEY_MASK + 1` entries, zero but at the keys words give (the
    pages of the others are never touched)."""

    start: np.ndarray
    slope: np.ndarray


@functools.lru_cache(maxsize=16)
def native_truncated_table(lower: float, upper: float) -> NativeTable:
    """The `NativeTable` of a standard normal truncated to `[lower, upper]`
    (floats, either may be infinite), from float64 quantiles. Cached, like
    `bounded_normal`: a table is 2 MB of address space, 130 KB of it
    written."""
    below, above, mass = gaussian.truncated_mass(lower, upper)

    def truncated_quantile(start, other, v, sign):
        # As in `_bounded_table`: from the sum that stays below 1/2.
        p = start + v * mass
        with np.errstate(divide="ignore"):
            near = sign * special.ndtri(np.minimum(p, 0.5))
            far = -sign * special.ndtri(other + (1.0 - v) * mass)
        return np.clip(np.where(p <= 0.5, near, far), lower, upper)

    # The segment boundaries of one tail: |float32(w)| at each of 512
    # steps per binade, and v = |w| / 2**32 there.
    steps = np.arange(_NATIVE_STEPS + 1)
    v = np.ldexp(1.0 + (steps % _HEAD) / _HEAD, steps // _HEAD) * 2.0**-32
    start = np.zeros(NATIVE_KEY_MASK + 1, np.float32)
    slope = np.zeros(NATIVE_KEY_MASK + 1, np.float32)
    for keys, nodes in zip(
        _NATIVE_TAILS,
        (
            truncated_quantile(above, below, v, -1.0),
            truncated_quantile(below, above, v, 1.0),
        ),
    ):
        start[keys] = nodes[:-1]
        slope[keys] = np.diff(nodes) * 2.0**-NATIVE_KEY_SHIFT
    # w = 0, float32 0.0: the upper tail half a word from its end, finite
    # where the bound is infinite.
    start[0] = truncated_quantile(above, below, 2.0**-33, -1.0)
    return NativeTable(start, slope)
