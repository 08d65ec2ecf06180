"""keras_inits' generator: a draw of float32 values from Threefry-2x32
words, chunk by chunk or position by position.

`draw(transform, shape, key)` makes the values of one `PortableSeed` draw
(and, on JAX, of an ordinary seed's; see `_samplers`): the random 32-bit
words of Threefry-2x32 with 20 rounds (`_threefry`) under `key`, turned
into float32 values by fixed transforms (`_quantiles`) that use no
transcendental function at run time:

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
functions on those backends (`_internal.native_ops`), where `keras.ops`
converts and copies the operands of every call (benchmarks/portable.py
measures the difference). The operations are the same integer ones either
way, and tests/random/test_generator.py checks that every path gives the
same bits.
"""

import functools
import math
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_inits._internal import native_ops
from keras_inits.random._threefry import i32
from keras_inits.random._threefry import random_words
from keras_inits.random._threefry import words_at

# Blocks per chunk: the temporaries stay in the processor's cache,
# and the peak memory is the output plus one chunk's work (NumPy allocates
# each result, cheaper when small; PyTorch is slower below 2**18; XLA fuses
# a compiled chunk). A compiled chunk computes at least MIN_COMPILED_BLOCKS
# and smaller draws are cut from it, and the last chunk of a draw of
# several is computed whole: fewer sizes to compile.
CHUNK_BLOCKS = {"numpy": 2**14}
DEFAULT_CHUNK_BLOCKS = 2**18
MIN_COMPILED_BLOCKS = 2**8

# The most values one draw holds: the word counter is 32-bit. Ordinary
# seeds draw larger tensors with `keras.random` (see `_samplers`).
MAX_VALUES = 2**32 - 1


def chunk(
    transform,
    size,
    k0,
    k1,
    start,
    scale,
    shift=None,
    xp: native_ops.Ops = ops,
):
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
                    transform, size, k0, k1, start, scale, shift
                ),
                jit_compile=True,
            )

            def run(transform, size, k0, k1, start, scale, shift):
                # Compiling costs more than it saves on small draws.
                if size < 2**15:
                    return chunk(transform, size, k0, k1, start, scale, shift)
                return compiled(
                    *(tf.constant(v, "int32") for v in (k0, k1, start)),
                    tf.constant(scale, "float32"),
                    None if shift is None else tf.constant(shift, "float32"),
                    transform,
                    size,
                )

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
        positions: Any = ops.arange(shape[axis], dtype="int32")
        steps = positions * i32(stride)
        index = index + ops.reshape(
            steps, [-1 if a == axis else 1 for a in range(len(shape))]
        )
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
    if count > MAX_VALUES:
        raise ValueError(
            f"A PortableSeed draws at most 2**32 - 1 values per tensor (the "
            "generator's counter is 32-bit); split the tensor, or use an "
            "integer seed, which has no such limit. Received: "
            f"shape={tuple(shape)} of {count} values"
        )
    k0, k1 = (i32(k) if isinstance(k, int) else k for k in key)
    shift = float(np.float32(offset / scale)) if offset else None
    scale = float(np.float32(scale))
    if count == 0:
        return ops.zeros(shape, dtype="float32")
    if traced:
        values = transform(words_at((k0, k1), _position(shape), ops), ops)
        return (values if shift is None else values + shift) * scale
    blocks = (count + 1) // 2
    backend = keras.backend.backend()
    chunk_blocks = CHUNK_BLOCKS.get(backend, DEFAULT_CHUNK_BLOCKS)
    if backend in ("numpy", "torch"):
        # Filled in place: the peak is the output and one chunk's work.
        xp = (
            native_ops.numpy_ops()
            if backend == "numpy"
            else native_ops.torch_ops()
        )
        values = xp.empty((2 * blocks,), "float32")
        for start in range(0, blocks, chunk_blocks):
            size = min(chunk_blocks, blocks - start)
            values[2 * start : 2 * (start + size)] = chunk(
                transform, size, k0, k1, start, scale, shift, xp
            )
        return ops.reshape(values[:count] if count % 2 else values, shape)
    compiled = _compiled_chunk()
    starts = range(0, blocks, chunk_blocks)
    # On JAX each piece is written into the output in place (a donated
    # buffer): the peak is the output and a chunk, where a concatenation
    # would hold the pieces and the whole, and a reshape would copy it.
    in_place = backend == "jax" and len(starts) > 1
    values = ops.zeros(shape, "float32") if in_place else None
    pieces = []
    for start in starts:
        size = min(chunk_blocks, blocks - start)
        if len(starts) > 1:
            # Every chunk at the full size, the last one too: one
            # compilation for every chunk of every large draw.
            padded = chunk_blocks
        else:
            # One chunk: padded to a power of two (at least
            # MIN_COMPILED_BLOCKS), so that draws of many sizes share a
            # few compilations, and cut to its size below.
            padded = min(
                chunk_blocks,
                max(MIN_COMPILED_BLOCKS, 1 << (size - 1).bit_length()),
            )
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
        flat = jax.lax.dynamic_update_slice(
            values.reshape(-1), piece, (start,)
        )
        return flat.reshape(values.shape)

    return jax.jit(write, donate_argnums=0)
