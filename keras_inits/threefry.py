"""keras_inits' generator: Threefry-2x32 words and their float32 values.

`draw(transform, shape, key)` makes the values of one `PortableSeed` draw
(and, on JAX, of an ordinary seed's; see samplers.py): the random 32-bit
words of Threefry-2x32 with 20 rounds (Salmon et al., 2011; the generator
behind `jax.random`) under `key`, turned into float32 values by fixed
transforms that use no transcendental function at run time:

- integer arithmetic wraps modulo 2**32 on every backend and device, so the
  words are identical everywhere;
- floats are made from integers below 2**24 (exact conversions), scaled by
  powers of two (exact), then rounded at most twice, by an addition and a
  final multiplication, each of which IEEE 754 fixes exactly. No rounded
  product ever feeds an addition, so a compiler that fuses `a * b + c` into
  one fused multiply-add (XLA and CUDA may) cannot change a value;
- normal and truncated-normal values come from quantile tables, computed
  once in double precision on the host, rounded to 24 fractional bits and
  linearly interpolated in integer arithmetic.

Every function here takes `xp`, the operations to run with: `keras.ops`
(compiled with XLA on JAX and TensorFlow), or NumPy's or PyTorch's own
functions on those backends (native_ops.py), where `keras.ops` converts
and copies the operands of every call (benchmarks/portable.py measures the
difference). The operations are the same integer ones either way, and
tests/test_threefry.py checks that every path gives the same bits.
"""

import functools
import math
import statistics

import keras
import numpy as np
from keras import ops

from keras_inits import gaussian
from keras_inits import native_ops

# Threefry-2x32 constants (Salmon et al., 2011, table 4; Skein's key parity).
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA
_MASK32 = 0xFFFFFFFF


def i32(value):
    """A Python int as the int32 with the same 32 bits."""
    value &= _MASK32
    return value - 2**32 if value >= 2**31 else value


def _shift_right(x, n, xp):
    # Logical shift: int32 shifts are arithmetic, so clear the sign copies.
    return xp.bitwise_and(xp.right_shift(x, n), (1 << (32 - n)) - 1)


def _rotate_left(x, n, xp):
    return xp.bitwise_or(xp.left_shift(x, n), _shift_right(x, 32 - n, xp))


def threefry2x32(key, x0, x1, xp=ops):
    """Threefry-2x32-20 of the counter words `(x0, x1)` (int32 tensors
    holding uint32 bits) under `key`, a pair of Python ints or of int32
    scalars (a tensor key lets a compiled draw serve every key)."""
    k0, k1 = (xp.convert_to_tensor(i32(k) if isinstance(k, int) else k,
                                   dtype="int32") for k in key)
    keys = (k0, k1, xp.bitwise_xor(xp.bitwise_xor(k0, k1), _PARITY))
    x0 = xp.add(x0, keys[0])
    x1 = xp.add(x1, keys[1])
    for block in range(5):
        for rotation in _ROTATIONS[block % 2]:
            x0 = xp.add(x0, x1)
            x1 = xp.bitwise_xor(_rotate_left(x1, rotation, xp), x0)
        x0 = xp.add(x0, keys[(block + 1) % 3])
        x1 = xp.add(x1, xp.add(keys[(block + 2) % 3], block + 1))
    return x0, x1


def random_words(key, start, size, xp=ops):
    """The `2 * size` random 32-bit words (int32) of `key` in the blocks
    `[start, start + size)`: block `i` is the counter `(i, 0)` and gives
    words `2i` and `2i + 1`. `size` is static and `start` may be a tensor,
    so one compiled chunk serves every start."""
    x0 = xp.add(xp.arange(size, dtype="int32"), start)
    y0, y1 = threefry2x32(key, x0, xp.zeros((), dtype="int32"), xp)
    return xp.reshape(xp.stack([y0, y1], axis=-1), (-1,))


def _words_at(key, index, xp):
    """Word `index` (an int32 tensor of any shape, the uint32 bits of the
    position) of `key`: each element computes its own block, so a sharded
    computation computes only its shard."""
    y0, y1 = threefry2x32(key, _shift_right(index, 1, xp),
                          xp.zeros((), dtype="int32"), xp)
    return xp.where(xp.bitwise_and(index, 1) == 0, y0, y1)


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
    for e in range(_SEGMENT_BITS, 31) for j in range(_HEAD + 1)
]


def _fixed(values):
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
    truncated = _fixed([
        -quantile(_LOWER_TAIL + (0.5 - _LOWER_TAIL) * i / size)
        for i in range(size + 1)
    ])
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
    upper_tail = [truncated_quantile(above, below, v, -1.0)
                  for v in nodes]
    lower_tail = [truncated_quantile(below, above, v, 1.0)
                  for v in nodes]
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
    table = xp.convert_to_tensor(table, dtype="int32")
    low = xp.take(table, index)
    high = xp.take(table, index + 1)
    return low + xp.right_shift((high - low) * fraction, bits)


def _signed(words, magnitude, xp):
    """`magnitude` (float32, >= 0) with the sign of the top bit of `words`."""
    return xp.where(words < 0, -magnitude, magnitude)


def _binade(r, xp):
    """`floor(log2(r))` of positive int32 `r`: the exponent of `float32(r)`,
    less one where the conversion rounded `r` up to a power of two."""
    exponent = xp.right_shift(xp.view(xp.cast(r, "float32"), "int32"),
                              23) - 127
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


def standard_normal(words, xp=ops):
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

    def transform(words, xp=ops):
        index, fraction = _tail_position(words, xp)
        index = index + xp.cast(words < 0, "int32") * len(_NODES)
        return _to_float(_interpolate(table, index, fraction, 13, xp), xp)

    transform.__name__ = f"bounded_normal({lower}, {upper})"
    return transform


def standard_truncated_normal(words, xp=ops):
    """Standard normal float32 values truncated to [-2, 2], one per word."""
    r = xp.bitwise_and(words, 0x7FFFFFFF)
    index = xp.right_shift(r, 31 - _TRUNCATED_BITS)
    fraction = xp.bitwise_and(xp.right_shift(r, 4), 0x1FFF)
    fixed = _interpolate(_TRUNCATED_TABLE, index, fraction, 13, xp)
    return _signed(words, _to_float(fixed, xp), xp)


def symmetric_uniform(words, xp=ops):
    """Float32 values uniform on (-1, 1), one per word: `(2k + 1) / 2**24`
    for the top 24 bits `k` read as a signed integer."""
    k = xp.right_shift(words, 8)
    return xp.cast(k * 2 + 1, "float32") * 2.0**-24


# Drawing. Blocks per chunk: the temporaries stay in the processor's cache,
# and the peak memory is the output plus one chunk's work (NumPy allocates
# each result, cheaper when small; PyTorch is slower below 2**18; XLA fuses
# a compiled chunk). A compiled chunk computes at least MIN_COMPILED_BLOCKS
# and smaller draws are cut from it, and the last chunk of a draw of
# several is computed whole: fewer sizes to compile.
CHUNK_BLOCKS = {"numpy": 2**14}
DEFAULT_CHUNK_BLOCKS = 2**18
MIN_COMPILED_BLOCKS = 2**8


def chunk(transform, size, k0, k1, start, scale, shift=None, xp=ops):
    """`scale * (transform(words) + shift)` of the words of blocks
    `[start, start + size)`; `scale` and `shift` are float32 values (or
    `shift=None`). The product is the last step, so no rounded product
    feeds an addition, which a fused multiply-add would round differently.
    Applied chunk by chunk, the affine map needs no second output-sized
    tensor."""
    values = transform(random_words((k0, k1), start, size, xp), xp)
    if shift is not None:
        values = values + shift
    return values * scale


_compiled = {}


def _compiled_chunk():
    """`chunk`, compiled with XLA on JAX and (for large draws) TensorFlow,
    whose eager modes dispatch each of the generator's ~150 operations
    apart. XLA computes the same bits (tests/test_threefry.py)."""
    backend = keras.backend.backend()
    if backend not in _compiled:
        if backend == "jax":
            import jax

            _compiled[backend] = jax.jit(chunk, static_argnums=(0, 1))
        elif backend == "tensorflow":
            import tensorflow as tf

            compiled = tf.function(
                lambda k0, k1, start, scale, shift, transform, size: chunk(
                    transform, size, k0, k1, start, scale, shift),
                jit_compile=True)

            def run(transform, size, k0, k1, start, scale, shift):
                # Compiling costs more than it saves on small draws.
                if size < 2**15:
                    return chunk(transform, size, k0, k1, start, scale, shift)
                return compiled(*(tf.constant(v, "int32")
                                  for v in (k0, k1, start)),
                                tf.constant(scale, "float32"),
                                None if shift is None else tf.constant(
                                    shift, "float32"), transform, size)

            _compiled[backend] = run
        else:
            _compiled[backend] = chunk
    return _compiled[backend]


def _position(shape):
    """The int32 flat index of every element of `shape` (wrapping above
    2**31, as the uint32 bits of the index)."""
    index = ops.zeros(shape, dtype="int32")
    stride = 1
    for axis in reversed(range(len(shape))):
        steps = ops.arange(shape[axis], dtype="int32") * i32(stride)
        index = index + ops.reshape(
            steps, [-1 if a == axis else 1 for a in range(len(shape))])
        stride *= shape[axis]
    return index


def draw(transform, shape, key, scale=1.0, offset=0.0, traced=False):
    """Float32 values of `shape`: `scale * (t + offset / scale)` for `t` the
    `transform` of the words `0, 1, ...` of `key`, in row-major order.

    `key` is a pair of Python ints, or of int32 scalars while JAX traces.
    `traced=True` (inside `jax.jit`, where the caller may ask for a sharded
    result) computes every word from its own position, so XLA partitions
    the draw and each device computes only its shard; eager draws go chunk
    by chunk. Both give the same values.
    """
    count = math.prod(shape)
    if count >= 2**32:
        raise ValueError(
            "A portable draw holds at most 2**32 - 1 values (its counter is "
            f"32-bit). Received: shape={tuple(shape)} of {count} values")
    k0, k1 = (i32(k) if isinstance(k, int) else k for k in key)
    shift = float(np.float32(offset / scale)) if offset else None
    scale = float(np.float32(scale))
    if count == 0:
        return ops.zeros(shape, dtype="float32")
    if traced:
        values = transform(_words_at((k0, k1), _position(shape), ops), ops)
        return (values if shift is None else values + shift) * scale
    blocks = (count + 1) // 2
    backend = keras.backend.backend()
    chunk_blocks = CHUNK_BLOCKS.get(backend, DEFAULT_CHUNK_BLOCKS)
    if backend in ("numpy", "torch"):
        # Filled in place: the peak is the output and one chunk's work.
        xp = (native_ops.numpy_ops() if backend == "numpy"
              else native_ops.torch_ops())
        values = xp.empty((2 * blocks,), "float32")
        for start in range(0, blocks, chunk_blocks):
            size = min(chunk_blocks, blocks - start)
            values[2 * start:2 * (start + size)] = chunk(
                transform, size, k0, k1, start, scale, shift, xp)
        return ops.reshape(values[:count] if count % 2 else values, shape)
    compiled, starts = _compiled_chunk(), range(0, blocks, chunk_blocks)
    # On JAX each piece is written into the output in place (a donated
    # buffer): the peak is the output and a chunk, where a concatenation
    # would hold the pieces and the whole, and a reshape would copy it.
    in_place = backend == "jax" and len(starts) > 1
    values = ops.zeros(shape, "float32") if in_place else None
    pieces = []
    for start in starts:
        size = min(chunk_blocks, blocks - start)
        padded = chunk_blocks if len(starts) > 1 else min(  # see CHUNK_BLOCKS
            chunk_blocks,
            max(MIN_COMPILED_BLOCKS, 1 << (size - 1).bit_length()))
        piece = compiled(transform, padded, k0, k1, start, scale, shift)
        length = min(2 * padded, count - 2 * start)
        piece = piece if length == 2 * padded else piece[:length]
        if in_place:
            values = _jax_writer()(values, piece, 2 * start)
        else:
            pieces.append(piece)
    if in_place:
        return values
    values = pieces[0] if len(pieces) == 1 else ops.concatenate(pieces)
    return ops.reshape(values, shape)


@functools.cache
def _jax_writer():
    """`values` with the flat `piece` written from flat index `start`, in
    place: `values` is donated to XLA, which updates its buffer."""
    import jax

    def write(values, piece, start):
        flat = jax.lax.dynamic_update_slice(values.reshape(-1), piece,
                                            (start,))
        return flat.reshape(values.shape)

    return jax.jit(write, donate_argnums=0)
