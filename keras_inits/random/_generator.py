"""keras_inits' generator: a draw of float32 values from Threefry-2x32
words, chunk by chunk, step by step in place, or position by position.

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

A draw is computed one of three ways. On JAX and TensorFlow, chunk by
chunk with `keras.ops`, compiled with XLA (which fuses the rounds), or,
while JAX traces a sharded draw, position by position. On NumPy, and
PyTorch on the CPU, in host memory, step by step: each step's words are
updated in place by NumPy's uint32 operations while they fit in the
processor's cache, then transformed into the output (`_fill_in_place`).
PyTorch on an accelerator runs its own operations chunk by chunk
(`_internal.native_ops`: `keras.ops` would convert and copy the operands of
every call). The operations are the same integer ones every way, and
tests/random/test_generator.py checks that every path gives the same bits.
"""

import functools
import math
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_inits._internal import native_ops
from keras_inits.random import _blocks
from keras_inits.random._threefry import i32
from keras_inits.random._threefry import random_words
from keras_inits.random._threefry import threefry2x32_in_place
from keras_inits.random._threefry import words_at

# Blocks per chunk of a draw made with functional operations (XLA fuses a
# compiled chunk; PyTorch on an accelerator, eager, is slower below 2**18);
# the peak memory is the output plus one chunk's work. A compiled chunk
# computes at least MIN_COMPILED_BLOCKS and smaller draws are cut from it,
# and the last chunk of a draw of several is computed whole: fewer sizes
# to compile.
CHUNK_BLOCKS = 2**18
MIN_COMPILED_BLOCKS = 2**8

# Blocks per step of a draw filled in place in host memory (NumPy, and
# PyTorch on the CPU): the step's two counter words and scratch word
# (3 x 256 KiB) stay in the processor's L2 cache (1 MiB per core on the
# machine measured, 512 KiB to 2 MiB on current x86 and ARM cores), where
# each of the ~110 passes of the rounds costs about what an addition does
# (benchmarks/portable.py). 2**15 blocks measure the same; 2**14 spend more
# in the ~1 us each NumPy call costs, 2**17 spill from the cache.
IN_PLACE_BLOCKS = 2**16

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
    apart. XLA computes the same bits (tests/random/test_generator.py)."""
    backend = keras.backend.backend()
    if backend not in _compiled:
        if backend == "jax":
            import jax

            _compiled[backend] = jax.jit(chunk, static_argnums=(0, 1))
        elif backend == "tensorflow":
            import tensorflow as tf

            # Without AutoGraph: `chunk` has no Python control flow on
            # tensors to convert, and converting its source cost 2.5-4 s
            # on the first large draw of every process.
            compiled = tf.function(
                lambda k0, k1, start, scale, shift, transform, size: chunk(
                    transform, size, k0, k1, start, scale, shift
                ),
                jit_compile=True,
                autograph=False,
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
    by chunk, or step by step (see the module's docstring). All give the
    same values.
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
    if backend in ("numpy", "torch"):
        values: Any = ops.empty((2 * blocks,), "float32")
        host = _host_array(values)
        if host is not None:
            _fill_in_place(host, transform, k0, k1, scale, shift)
        else:  # PyTorch on an accelerator: its own operations, chunk by chunk
            xp = native_ops.torch_ops()
            for start in range(0, blocks, CHUNK_BLOCKS):
                size = min(CHUNK_BLOCKS, blocks - start)
                values[2 * start : 2 * (start + size)] = chunk(
                    transform, size, k0, k1, start, scale, shift, xp
                )
        return ops.reshape(values[:count] if count % 2 else values, shape)
    compiled = _compiled_chunk()
    starts = range(0, blocks, CHUNK_BLOCKS)
    # On JAX each piece is written into the output in place (a donated
    # buffer): the peak is the output and a chunk, where a concatenation
    # would hold the pieces and the whole, and a reshape would copy it.
    in_place = backend == "jax" and len(starts) > 1
    values = ops.zeros(shape, "float32") if in_place else None
    pieces = []
    for start in starts:
        size = min(CHUNK_BLOCKS, blocks - start)
        if len(starts) > 1:
            # Every chunk at the full size, the last one too: one
            # compilation for every chunk of every large draw.
            padded = CHUNK_BLOCKS
        else:
            # One chunk: padded to a power of two (at least
            # MIN_COMPILED_BLOCKS), so that draws of many sizes share a
            # few compilations, and cut to its size below.
            padded = min(
                CHUNK_BLOCKS,
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


def _host_array(values):
    """`values` (a tensor of NumPy or PyTorch) as a NumPy array sharing its
    memory, or None on an accelerator."""
    if isinstance(values, np.ndarray):
        return values
    if values.device.type == "cpu":
        return values.numpy()
    return None


def _fill_in_place(values, transform, k0, k1, scale, shift):
    """Writes `scale * (transform(words) + shift)` of the words `0, 1, ...`
    of the key `(k0, k1)` into `values`, a float32 NumPy array of even
    size, `IN_PLACE_BLOCKS` counter blocks per step: the rounds update
    their words in place (`threefry2x32_in_place`), so a step allocates
    only the transform's temporaries, and the peak is `values` and one
    step's work. PyTorch on the CPU fills its tensor's memory this way too:
    its int32 shifts need a mask that NumPy's uint32 ones do not, its calls
    cost more, and its threads slow passes this short when the processors
    are busy."""
    blocks = values.size // 2
    pairs = values.reshape(-1, 2)
    # Each counter block is computed alone: ranges of blocks are filled on
    # every core (`_blocks`), with the values of one pass.
    share = _blocks.BLOCK // 2

    def fill_range(index):
        first = index * share
        _fill_range(
            pairs,
            first,
            min(first + share, blocks),
            transform,
            k0,
            k1,
            scale,
            shift,
        )

    _blocks.for_each_block(-(-blocks // share), fill_range)


def _fill_range(pairs, first, end, transform, k0, k1, scale, shift):
    """`_fill_in_place` of the counter blocks `[first, end)`, rows of
    `pairs`, with buffers of its own."""
    numpy_ops = native_ops.numpy_ops()
    step = min(IN_PLACE_BLOCKS, end - first)
    counters = np.arange(step, dtype=np.uint32)
    words = np.empty((2, step), dtype=np.uint32)
    scratch = np.empty(step, dtype=np.uint32)
    for start in range(first, end, step):
        size = min(step, end - start)
        x0, x1 = words[0, :size], words[1, :size]
        # The counter `(i, 0)` plus the key, as Threefry starts.
        np.add(counters[:size], (start + k0) & 0xFFFFFFFF, out=x0)
        x1.fill(k1 & 0xFFFFFFFF)
        threefry2x32_in_place((k0, k1), x0, x1, scratch[:size])
        # Block `i` gives words `2i` (from `x0`) and `2i + 1` (from `x1`).
        for column, half in enumerate((x0, x1)):
            # The transforms read words as int32 (the top bit is a sign).
            half_values = transform(half.view(np.int32), numpy_ops)
            if shift is not None:  # a new array: updated in place
                np.add(half_values, shift, out=half_values)
            np.multiply(
                half_values, scale, out=pairs[start : start + size, column]
            )


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
