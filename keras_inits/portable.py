"""Portable seeds: the same random values on every backend and device.

Each Keras backend draws from its own generator, so a seed gives different
weights on TensorFlow, JAX, PyTorch and NumPy. A `PortableSeed` instead
draws from keras_inits' own counter-based generator, Threefry-2x32 with 20
rounds (Salmon et al., 2011; the generator behind `jax.random`), written
with 32-bit integer `keras.ops` only, and turns its bits into values by
fixed transforms that use no transcendental function at run time:

- integer arithmetic wraps modulo 2**32 on every backend and device, so the
  random words are identical everywhere;
- floats are made from integers below 2**24 (exact conversions), scaled by
  powers of two (exact), then rounded at most twice, by an addition and a
  final multiplication, each of which IEEE 754 fixes exactly. No rounded
  product ever feeds an addition, so a compiler that fuses `a * b + c` into
  one fused multiply-add (XLA and CUDA may) cannot change a value;
- normal and truncated-normal values come from the inverse normal CDF,
  tabulated once (in double precision, rounded to 24 fractional bits) and
  linearly interpolated in integer arithmetic.

So the float32 values depend on the seed alone: not on the backend, the
device, or future changes to numpy's, TensorFlow's, JAX's or PyTorch's own
generators. Orthogonal initializers add a QR decomposition, whose rounding
differs by backend: their values agree to about 1e-5 (see README).
"""

import math
import random
import statistics

import keras
import numpy as np
from keras import ops

from keras_inits import base

# Threefry-2x32 constants (Salmon et al., 2011, table 4; Skein's key parity).
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA
_MASK32 = 0xFFFFFFFF

_state = {"portable": False}


def set_portable(enabled):
    """Turns portable seeding on or off for initializers built afterwards.

    While it is on, a keras_inits random initializer built with an integer
    seed, or with `seed=None`, takes `PortableSeed(seed)` instead: its
    values are then the same on every backend, and its saved config keeps
    the `PortableSeed`, so a model saved now loads portable anywhere.
    Initializers built before the call, and `keras.random.SeedGenerator`
    seeds, are unaffected.

    Args:
        enabled: True or False.

    Examples:

    >>> import keras_inits
    >>> keras_inits.set_portable(True)
    >>> keras_inits.HeNormal(seed=1).seed
    PortableSeed(seed=1)
    >>> keras_inits.set_portable(False)
    """
    if not isinstance(enabled, bool):
        raise base.argument_error("set_portable", "enabled", "True or False",
                                  enabled)
    _state["portable"] = enabled


def is_portable():
    """Whether `set_portable(True)` is in effect."""
    return _state["portable"]


# base.PACKAGE: base may still be loading (it imports this module).
@keras.saving.register_keras_serializable(package="keras_inits")
class PortableSeed:
    """A seed whose random values are the same on every backend.

    Pass it as the `seed` of any keras_inits random initializer. Like a
    `keras.random.SeedGenerator`, it gives fresh values at every draw and
    replays the whole sequence from its initial seed: the `n`-th draw of
    `PortableSeed(s)` uses the Threefry key `(s, n)`, so an initializer
    built with it, or rebuilt from its config (which holds the
    `PortableSeed`), draws the same float32 values on TensorFlow, JAX,
    PyTorch and NumPy, on CPU or accelerator. `PortableSeed(None)` draws a
    fresh seed from Python's `random` at every draw, which
    `keras.utils.set_random_seed` seeds: reproducible across backends too.

    Args:
        seed: None, or an integer in [0, 2**32).

    Examples:

    >>> import keras_inits
    >>> init = keras_inits.GlorotUniform(seed=keras_inits.PortableSeed(7))
    >>> float(init((2, 2))[0, 0])  # on every backend and device
    -0.22417667508125305

    >>> layer = keras.layers.Dense(3, kernel_initializer=keras_inits.HeNormal(
    ...     seed=keras_inits.PortableSeed(7)))
    """

    def __init__(self, seed=None):
        if seed is not None and not (
            base._is_whole_number(seed) and 0 <= seed < 2**32
        ):
            raise base.argument_error(
                "PortableSeed", "seed", "None or an integer in [0, 2**32)", seed
            )
        self.seed = None if seed is None else int(seed)
        self.draws = 0

    def get_config(self):
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"PortableSeed(seed={self.seed!r})"

    def __eq__(self, other):
        return isinstance(other, PortableSeed) and other.seed == self.seed

    def __hash__(self):
        return hash((PortableSeed, self.seed))

    def next_key(self):
        """The Threefry key of the next draw, advancing the sequence."""
        if self.seed is None:
            return (random.getrandbits(32), 0)
        key = (self.seed, self.draws & _MASK32)
        self.draws += 1
        return key


# Seeds in initializer configs: a PortableSeed is saved as its Keras
# serialization (a dict), which JSON and .keras files keep.


def as_seed(owner, seed):
    """`seed` with a saved PortableSeed (a dict) restored, and int or None
    made portable while `set_portable(True)` is on; else `seed` itself."""
    if isinstance(seed, dict):
        restored = keras.saving.deserialize_keras_object(seed)
        if not isinstance(restored, PortableSeed):
            raise base.argument_error(owner, "seed", "a saved PortableSeed",
                                      seed)
        return restored
    if is_portable() and (seed is None or base._is_whole_number(seed)):
        if seed is None or 0 <= seed < 2**32:
            return PortableSeed(seed)
    return seed


def serialize_seed(seed):
    return keras.saving.serialize_keras_object(seed)


# The generator.


def _i32(value):
    """A Python int as the int32 with the same 32 bits."""
    value &= _MASK32
    return value - 2**32 if value >= 2**31 else value


def _shift_right(x, n):
    # Logical shift: int32 shifts are arithmetic, so clear the sign copies.
    return ops.bitwise_and(ops.right_shift(x, n), (1 << (32 - n)) - 1)


def _rotate_left(x, n):
    return ops.bitwise_or(ops.left_shift(x, n), _shift_right(x, 32 - n))


def threefry2x32(key, x0, x1):
    """Threefry-2x32-20 of the counter words `(x0, x1)` (int32 tensors
    holding uint32 bits) under `key`, a pair of Python ints or of int32
    scalars (a tensor key lets a compiled draw serve every key)."""
    k0, k1 = (ops.convert_to_tensor(_i32(k) if isinstance(k, int) else k,
                                    dtype="int32") for k in key)
    keys = (k0, k1, ops.bitwise_xor(ops.bitwise_xor(k0, k1), _PARITY))
    x0 = ops.add(x0, keys[0])
    x1 = ops.add(x1, keys[1])
    for block in range(5):
        for rotation in _ROTATIONS[block % 2]:
            x0 = ops.add(x0, x1)
            x1 = ops.bitwise_xor(_rotate_left(x1, rotation), x0)
        x0 = ops.add(x0, keys[(block + 1) % 3])
        x1 = ops.add(x1, keys[(block + 2) % 3] + (block + 1))
    return x0, x1


def random_words(key, start, stop):
    """The random 32-bit words (int32) of `key` in blocks `[start, stop)`:
    block `i` is the counter `(i, 0)` and gives words `2i` and `2i + 1`."""
    return _words(key, start, stop - start)


def _words(key, start, size):
    x0 = ops.add(ops.arange(size, dtype="int32"), start)
    y0, y1 = threefry2x32(key, x0, ops.zeros((), dtype="int32"))
    return ops.reshape(ops.stack([y0, y1], axis=-1), (-1,))


# Transforms from words to float32 values.

_FRACTION_BITS = 24  # fixed point of the quantile tables
_SEGMENT_BITS = 9  # 512 interpolation segments per binade of the tail
_TRUNCATED_BITS = 14  # 16384 segments over the truncated normal's range
_LOWER_TAIL = statistics.NormalDist().cdf(-2.0)


def _fixed(values):
    return np.round(np.asarray(values) * 2.0**_FRACTION_BITS).astype("int32")


def _build_tables():
    """The quantile tables, as int32 with 24 fractional bits: `-Phi^-1(p)`.

    Normal: a 31-bit `r` stands for `p = (r + 1/2) / 2**32`; `r < 512` has
    its own entry, larger `r` interpolate between 513 nodes per binade
    `[2**e, 2**(e+1))`, which bounds the interpolation error by about 4e-7
    in every binade. Truncated normal: `r` maps linearly onto
    `p in [Phi(-2), 1/2]`, 16385 nodes (error below 1e-7).
    """
    quantile = statistics.NormalDist().inv_cdf
    head = 2**_SEGMENT_BITS
    nodes = list(range(head))
    for e in range(_SEGMENT_BITS, 31):
        step = 2 ** (e - _SEGMENT_BITS)
        nodes += [2**e + j * step for j in range(head + 1)]
    normal = _fixed([-quantile((r + 0.5) / 2.0**32) for r in nodes])
    size = 2**_TRUNCATED_BITS
    truncated = _fixed([
        -quantile(_LOWER_TAIL + (0.5 - _LOWER_TAIL) * i / size)
        for i in range(size + 1)
    ])
    return normal, truncated


_NORMAL_TABLE, _TRUNCATED_TABLE = _build_tables()


def _to_float(fixed):
    """A 24-fractional-bit integer (|x| < 2**31) as the nearest float32:
    two exact conversions and power-of-two scalings, one rounded sum."""
    high = ops.cast(ops.right_shift(fixed, 12), "float32") * 2.0**-12
    low = ops.cast(ops.bitwise_and(fixed, 0xFFF), "float32") * 2.0**-24
    return high + low


def _interpolate(table, index, fraction, bits):
    table = ops.convert_to_tensor(table, dtype="int32")
    low = ops.take(table, index)
    high = ops.take(table, index + 1)
    return low + ops.right_shift((high - low) * fraction, bits)


def _signed(words, magnitude):
    """`magnitude` (float32, >= 0) with the sign of the top bit of `words`."""
    return ops.where(words < 0, -magnitude, magnitude)


def _binade(r):
    """`floor(log2(r))` of positive int32 `r`, by binary search."""
    exponent = ops.zeros_like(r)
    for step in (16, 8, 4, 2, 1):
        above = r >= (1 << step)
        r = ops.where(above, ops.right_shift(r, step), r)
        exponent = exponent + ops.cast(above, "int32") * step
    return exponent


def standard_normal(words):
    """Standard normal float32 values, one per word."""
    r = ops.bitwise_and(words, 0x7FFFFFFF)
    head = 2**_SEGMENT_BITS
    exponent = _binade(ops.maximum(r, 1))
    # r shifted so that its top bit is bit 30: 9 bits of segment, then 13
    # of fraction.
    top = ops.left_shift(r, 30 - exponent)
    segment = ops.right_shift(top, 30 - _SEGMENT_BITS) - head
    fraction = ops.bitwise_and(ops.right_shift(top, 8), 0x1FFF)
    in_tail = r >= head
    index = ops.where(
        in_tail, head + (exponent - _SEGMENT_BITS) * (head + 1) + segment, r
    )
    fraction = fraction * ops.cast(in_tail, "int32")
    fixed = _interpolate(_NORMAL_TABLE, index, fraction, 13)
    return _signed(words, _to_float(fixed))


def standard_truncated_normal(words):
    """Standard normal float32 values truncated to [-2, 2], one per word."""
    r = ops.bitwise_and(words, 0x7FFFFFFF)
    index = ops.right_shift(r, 31 - _TRUNCATED_BITS)
    fraction = ops.bitwise_and(ops.right_shift(r, 4), 0x1FFF)
    fixed = _interpolate(_TRUNCATED_TABLE, index, fraction, 13)
    return _signed(words, _to_float(fixed))


def symmetric_uniform(words):
    """Float32 values uniform on (-1, 1), one per word: `(2k + 1) / 2**24`
    for the top 24 bits `k` read as a signed integer."""
    k = ops.right_shift(words, 8)
    return ops.cast(k * 2 + 1, "float32") * 2.0**-24


def _affine(values, scale, offset):
    """`scale * (values + offset / scale)`: the product is the last step,
    so no rounded product feeds an addition (see the module docstring)."""
    if offset:
        values = values + float(np.float32(offset / scale))
    return values * float(np.float32(scale))


# Blocks per chunk: the generator's dozens of temporaries then stay in the
# processor's cache, which makes eager backends several times faster, and
# the peak memory is the output plus one chunk's work.
_CHUNK_BLOCKS = 2**18


def _chunk(transform, size, k0, k1, start):
    return transform(_words((k0, k1), start, size))


_compiled = {}


def _chunk_function():
    """`_chunk`, compiled with XLA on JAX and (for large draws) TensorFlow,
    whose eager modes dispatch each of the generator's ~250 operations
    apart. XLA computes the same bits (tests/test_portable.py runs both
    paths); PyTorch and NumPy run eagerly."""
    backend = keras.backend.backend()
    if backend not in _compiled:
        if backend == "jax":
            import jax

            _compiled[backend] = jax.jit(_chunk, static_argnums=(0, 1))
        elif backend == "tensorflow":
            import tensorflow as tf

            compiled = tf.function(
                lambda k0, k1, start, transform, size: _chunk(
                    transform, size, k0, k1, start), jit_compile=True)
            # Compiling costs more than it saves on small draws.
            _compiled[backend] = lambda transform, size, k0, k1, start: (
                _chunk(transform, size, k0, k1, start) if size < 2**15 else
                compiled(tf.constant(k0, "int32"), tf.constant(k1, "int32"),
                         tf.constant(start, "int32"), transform, size))
        else:
            _compiled[backend] = _chunk
    return _compiled[backend]


def _draw(transform, shape, seed):
    count = math.prod(shape)
    k0, k1 = (_i32(k) for k in seed.next_key())
    blocks = (count + 1) // 2
    chunk = _chunk_function()
    chunks = [
        chunk(transform, min(_CHUNK_BLOCKS, blocks - start), k0, k1, start)
        for start in range(0, blocks, _CHUNK_BLOCKS)
    ]
    if not chunks:
        return ops.zeros(shape, dtype="float32")
    values = chunks[0] if len(chunks) == 1 else ops.concatenate(chunks)
    return ops.reshape(values[:count] if count % 2 else values, shape)


# Native draws above this many elements (8 MB of float32) are made piece by
# piece on TensorFlow and NumPy. There every eager operation writes a new
# tensor: TensorFlow's `uniform` and `normal` make three passes (draw, scale,
# shift), each a new tensor of the output's size, page-faulted in and then
# read from memory, with up to three alive at once; NumPy draws float64 and
# copies to float32 (three output sizes). In pieces the passes stay in cache
# and the peak is the pieces plus their concatenation: twice the output.
# Measured (4096x4096 float32, 2 busy cores) for the truncated normal's
# uniform draw + erfinv against Keras' truncated normal: TensorFlow 1.1x in
# one piece, 1.6x in pieces of 2**20 to 2**21 (1.3x at 2**19, 0.65x at 2**16,
# where the cost per call dominates); NumPy 2.1x either way; PyTorch 2.8x in
# one piece but slower in pieces (and already at twice the output), JAX
# compiles each draw as one fused kernel: both draw in one piece. A plain
# uniform or normal draw gains less: at 3x3x512x512 (2.4M values) it was
# 0.6-0.95x of Keras' in two pieces, so it is split only above two pieces.
NATIVE_PIECE = 2**21


def native_draw(sample, shape, seed, threshold=None):
    """`sample(shape)`, a draw from `keras.random` with `seed`, made piece
    by piece (`sample` of flat shapes) on TensorFlow and NumPy when it has
    more than `threshold` values (default: two pieces' worth). Only a
    `SeedGenerator` gives each piece new values: an int or tensor seed
    draws in one piece."""
    if threshold is None:
        threshold = 2 * NATIVE_PIECE
    size = math.prod(shape)
    if (size <= threshold
            or not isinstance(seed, keras.random.SeedGenerator)
            or keras.backend.backend() not in ("tensorflow", "numpy")):
        return sample(shape)
    pieces = [sample((min(NATIVE_PIECE, size - start),))
              for start in range(0, size, NATIVE_PIECE)]
    return ops.reshape(ops.concatenate(pieces, axis=0), shape)


# Samplers that take any seed: a PortableSeed draws from the generator
# above, anything else from `keras.random`. Values are drawn in float32 and
# then cast, so every dtype holds the float32 values.


def uniform(shape, minval, maxval, dtype, seed):
    """Uniform values in [minval, maxval)."""
    if not isinstance(seed, PortableSeed):
        return native_draw(lambda piece: keras.random.uniform(
            piece, minval=minval, maxval=maxval, dtype=dtype, seed=seed),
            shape, seed)
    half = (maxval - minval) / 2.0
    values = _affine(_draw(symmetric_uniform, shape, seed), half,
                     (maxval + minval) / 2.0)
    if minval + maxval:  # the rounded offset may step outside by an ulp
        values = ops.clip(values, float(np.float32(minval)),
                          float(np.float32(maxval)))
    return ops.cast(values, dtype)


def normal(shape, mean, stddev, dtype, seed):
    """Normal values `N(mean, stddev**2)`."""
    if not isinstance(seed, PortableSeed):
        return native_draw(lambda piece: keras.random.normal(
            piece, mean=mean, stddev=stddev, dtype=dtype, seed=seed),
            shape, seed)
    values = _affine(_draw(standard_normal, shape, seed), stddev, mean)
    return ops.cast(values, dtype)


def truncated_normal(shape, mean, stddev, dtype, seed):
    """Normal values truncated to `mean +- 2 * stddev`, portable only; the
    native sampler is `random_initializers.truncated_normal`."""
    values = _affine(_draw(standard_truncated_normal, shape, seed), stddev,
                     mean)
    return ops.cast(values, dtype)
