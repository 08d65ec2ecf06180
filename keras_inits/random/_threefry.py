"""Threefry-2x32 with 20 rounds (Salmon et al., 2011: "Parallel random
numbers: as easy as 1, 2, 3"; the generator behind `jax.random`): the
random 32-bit words of keras_inits' generator, computed in 32-bit integer
tensors whose arithmetic wraps modulo 2**32 on every backend and device,
so the words are identical everywhere.

The rounds are written once (`_rounds`) and run two ways:

- as functions of int32 tensors (`threefry2x32`), with `xp` the operations
  to run with: `keras.ops` (which XLA compiles, fusing the rounds into one
  pass on JAX and TensorFlow), or NumPy's or PyTorch's own functions
  (`_internal.native_ops`);
- in place, on NumPy uint32 arrays the caller keeps small enough for the
  processor's cache (`threefry2x32_in_place`): eager NumPy makes one pass
  over its operands per operation, about 110 per word pair, and each pass
  over a cached block costs a fraction of one over main memory.
"""

import operator

import numpy as np
from keras import ops

from keras_inits._internal import native_ops

# Threefry-2x32 constants (Salmon et al., 2011, table 4; Skein's key parity).
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA
_MASK32 = 0xFFFFFFFF


def i32(value):
    """A Python int as the int32 with the same 32 bits."""
    value &= _MASK32
    return value - 2**32 if value >= 2**31 else value


def _shift_right(x, n, xp):
    """The logical shift right of `x` (int32) by `n` bits, 0 < n < 32:
    int32 shifts are arithmetic, so the copies of the sign bit are
    cleared."""
    return xp.bitwise_and(xp.right_shift(x, n), (1 << (32 - n)) - 1)


def _rotate_left(x, n, xp):
    """The 32 bits of `x` (int32) rotated left by `n`, 0 < n < 32."""
    return xp.bitwise_or(xp.left_shift(x, n), _shift_right(x, 32 - n, xp))


def _key_schedule(k0, k1, xor, add):
    """The key words Threefry adds to `(x0, x1)` after each of its five
    groups of four rounds (the key itself is added before them). `xor` and
    `add` are those of the keys' kind (Python ints, or int32 tensors)."""
    keys = (k0, k1, xor(xor(k0, k1), _PARITY))
    return [
        (keys[(block + 1) % 3], add(keys[(block + 2) % 3], block + 1))
        for block in range(5)
    ]


def _rounds(x0, x1, schedule, add, xor, rotate):
    """Threefry-2x32's 20 rounds of `(x0, x1)`, the counter words plus the
    key, with the key words of `_key_schedule`; `add(x, y)`, `xor(x, y)`
    and `rotate(x, n)` either return new tensors or update `x` in place."""
    for block in range(5):
        for rotation in _ROTATIONS[block % 2]:
            x0 = add(x0, x1)
            x1 = xor(rotate(x1, rotation), x0)
        x0 = add(x0, schedule[block][0])
        x1 = add(x1, schedule[block][1])
    return x0, x1


def threefry2x32(key, x0, x1, xp: native_ops.Ops = ops):
    """Threefry-2x32-20 of the counter words `(x0, x1)` (int32 tensors
    holding uint32 bits) under `key`, a pair of Python ints or of int32
    scalars (a tensor key lets a compiled draw serve every key)."""
    k0, k1 = (
        xp.convert_to_tensor(
            i32(k) if isinstance(k, int) else k, dtype="int32"
        )
        for k in key
    )
    return _rounds(
        xp.add(x0, k0),
        xp.add(x1, k1),
        _key_schedule(k0, k1, xp.bitwise_xor, xp.add),
        xp.add,
        xp.bitwise_xor,
        lambda x, n: _rotate_left(x, n, xp),
    )


def threefry2x32_in_place(key, x0, x1, scratch):
    """`threefry2x32` of NumPy uint32 arrays `(x0, x1)` that hold the
    counter words plus the key `(k0, k1)` (the caller adds it while it
    fills them), written over them; `key` is a pair of Python ints,
    `scratch` a uint32 array of their size. Every operation writes into
    one of the three (`out=`), so the rounds allocate nothing, and uint32
    shifts are logical: a rotation is three operations, where int32 needs a
    fourth to clear the copies of the sign bit."""
    k0, k1 = key
    schedule = [
        (np.uint32(a & _MASK32), np.uint32(b & _MASK32))
        for a, b in _key_schedule(k0, k1, operator.xor, operator.add)
    ]

    def rotate(x, n):
        np.left_shift(x, n, out=scratch)
        np.right_shift(x, 32 - n, out=x)
        return np.bitwise_or(x, scratch, out=x)

    _rounds(
        x0,
        x1,
        schedule,
        lambda x, y: np.add(x, y, out=x),
        lambda x, y: np.bitwise_xor(x, y, out=x),
        rotate,
    )


def random_words(key, start, size, xp: native_ops.Ops = ops):
    """The `2 * size` random 32-bit words (int32) of `key` in the blocks
    `[start, start + size)`: block `i` is the counter `(i, 0)` and gives
    words `2i` and `2i + 1`. `size` is static and `start` may be a tensor,
    so one compiled chunk serves every start."""
    x0 = xp.add(xp.arange(size, dtype="int32"), start)
    y0, y1 = threefry2x32(key, x0, xp.zeros((), dtype="int32"), xp)
    return xp.reshape(xp.stack([y0, y1], axis=-1), (-1,))


def words_at(key, index, xp: native_ops.Ops = ops):
    """Word `index` (an int32 tensor of any shape, the uint32 bits of the
    position) of `key`: each element computes its own block, so a sharded
    computation computes only its shard."""
    y0, y1 = threefry2x32(
        key, _shift_right(index, 1, xp), xp.zeros((), dtype="int32"), xp
    )
    return xp.where(xp.bitwise_and(index, 1) == 0, y0, y1)
