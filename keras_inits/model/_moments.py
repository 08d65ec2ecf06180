"""The mean and standard deviation of a variable, measured where its values
live, for `reinitialize`'s report.

Values in the host's memory (every backend on CPU; a sharded variable shard
by shard) are read in place through a NumPy view, in chunks that stay in
the processor's cache: no copy of the variable, four passes over each chunk
while it is in cache, the variable split among the cores the process may
use (NumPy releases the GIL in its loops). Values on an accelerator are
summed with the backend's own operations on the device, a chunk at a time,
compiled into one pass on JAX. Either way the sums are of the values less
the first one, which keeps the subtraction exact enough when the mean
dwarfs the spread; float32 sums (float64 for float64 values) run over at
most a chunk or a row, and the host adds those in float64: a float32 sum of
2**24 values in one run loses most of its digits.
"""

import functools
import math

import keras
import numpy as np
from keras import ops

from keras_inits._internal import sharding
from keras_inits._internal import threads
from keras_inits._internal.arrays import to_numpy

# Values per step on the host: two float32 buffers of this size stay in the
# processor's cache.
HOST_CHUNK = 2**16
# Host values per thread at least: below this, starting threads costs more
# than it saves. More than four threads gain little: the passes are bound
# by the memory's speed.
THREAD_SHARE = 2**20
MAX_THREADS = 4
# Values per step on the device, summed as rows of ROW values.
DEVICE_CHUNK = 2**20
ROW = 2**10


def moments(variable, cores=None):
    """Mean and standard deviation (population) of `variable`'s values, as
    Python floats; NaN for an empty variable. A sharded variable is read
    one shard at a time. Values on the host are read by up to `cores`
    threads (default: as many as the cores this process may run on).

    Examples:

        >>> from keras_inits.model._moments import moments
        >>> moments(keras.Variable([1.0, 2.0, 3.0, 4.0]))
        (2.5, 1.118033988749895)
    """
    dtype = "float64" if variable.dtype == "float64" else "float32"
    shift = None  # the first value, subtracted from every value
    total = 0.0  # sum of the values less `shift`
    squares = 0.0  # sum of their squares
    size = 0  # values summed
    for values in sharding.device_pieces(variable):
        length = math.prod(values.shape)
        if not length:
            continue
        host = _host_view(values)
        if host is not None:
            host = host.reshape(-1)  # a view: the values are contiguous
        else:
            values = ops.reshape(values, (-1,))
        if shift is None:  # a number: shards live on different devices
            # Read in float32: NumPy has no float8 or bfloat16 of its own,
            # and PyTorch converts neither to NumPy.
            first = (
                host
                if host is not None
                else to_numpy(ops.cast(ops.slice(values, [0], [1]), "float32"))
            )
            shift = float(first[0])
        if host is not None:
            sums = _host_sums(host, shift, dtype, cores or threads.cores())
        else:
            sums = _device_sums(values, shift, dtype)
        total, squares = total + sums[0], squares + sums[1]
        size += length
    if size == 0:
        return math.nan, math.nan
    assert shift is not None  # set at the first value
    mean = total / size
    return shift + mean, math.sqrt(max(squares / size - mean**2, 0.0))


def _host_view(values):
    """A NumPy array sharing the memory of the tensor `values`, or None
    where the values are not in the host's memory."""
    backend = keras.backend.backend()
    if backend == "numpy":
        return values
    if backend == "tensorflow" and values.device.endswith("CPU:0"):
        # A view of an eager CPU tensor. A variable's value is the variable
        # itself, which NumPy would copy: a reshape reads it into a tensor
        # that shares its memory.
        return np.asarray(ops.reshape(values, (-1,)))
    if backend == "torch" and values.device.type == "cpu":
        try:
            return values.detach().numpy()
        except TypeError:  # bfloat16 and float8, which NumPy lacks
            return None
    if backend == "jax" and all(d.platform == "cpu" for d in values.devices()):
        return np.asarray(values)
    return None


def _host_sums(values, shift, dtype, cores):
    """`(sum(values - shift), sum((values - shift)**2))` of a flat NumPy
    array, in float64: `_chunk_sums` of consecutive parts, one per thread
    (up to `cores`) where the array is large enough."""
    threads = min(MAX_THREADS, cores, values.size // THREAD_SHARE)
    if threads <= 1:
        return _chunk_sums(values, shift, dtype)
    bounds = [values.size * i // threads for i in range(threads + 1)]
    parts = [values[a:b] for a, b in zip(bounds, bounds[1:])]
    sums = list(
        _pool().map(_chunk_sums, parts, [shift] * threads, [dtype] * threads)
    )
    return math.fsum(s[0] for s in sums), math.fsum(s[1] for s in sums)


def _chunk_sums(values, shift, dtype):
    """`_host_sums` of `values` in one thread, from float32 (or float64)
    sums of `HOST_CHUNK` values added in float64. NumPy sums pairwise,
    exact enough; BLAS's float32 dot product accumulates in runs long
    enough to lose 3e-6 of the squares of values on a coarse grid (float16
    weights)."""
    shifted = np.empty(min(HOST_CHUNK, values.size), dtype)
    squared = np.empty_like(shifted)
    total = squares = 0.0
    for start in range(0, values.size, HOST_CHUNK):
        part = values[start : start + HOST_CHUNK]
        d, d2 = shifted[: part.size], squared[: part.size]
        np.subtract(part, shift, out=d, casting="unsafe")
        np.square(d, out=d2)
        total += float(d.sum())
        squares += float(d2.sum())
    return total, squares


def spare_cores():
    """The cores left to measure beside a draw that takes one: every core
    this process may run on but one, and at least one."""
    return max(1, threads.cores() - 1)


def _pool():
    """The threads that measure large host arrays."""
    return threads.pool(MAX_THREADS, "keras_inits.moments")


def _device_sums(values, shift, dtype):
    """`_host_sums` of a flat tensor, computed by the backend where the
    tensor lives, `DEVICE_CHUNK` values at a time as rows of `ROW`."""
    row_sums = _row_sums()
    partials = []  # (row sums, row sums of squares), tensors
    length = values.shape[0]
    for start in range(0, length, DEVICE_CHUNK):
        count = min(DEVICE_CHUNK, length - start)
        head = count - count % ROW
        for begin, end, row in (
            (start, start + head, ROW),
            (start + head, start + count, None),
        ):
            if end > begin:
                part = ops.slice(values, [begin], [end - begin])
                part = ops.reshape(part, (-1, row or end - begin))
                partials.append(row_sums(part, shift, dtype))
    total = squares = 0.0
    for sums, sums_of_squares in partials:
        total += float(np.sum(to_numpy(sums), dtype=np.float64))
        squares += float(np.sum(to_numpy(sums_of_squares), dtype=np.float64))
    return total, squares


def _shifted_row_sums(rows, shift, dtype):
    """The sums along each row of `rows - shift` and of its squares, in
    `dtype`."""
    if keras.backend.standardize_dtype(rows.dtype) != dtype:
        rows = ops.cast(rows, dtype)
    rows = rows - shift
    return ops.sum(rows, axis=1), ops.sum(rows * rows, axis=1)


@functools.cache
def _row_sums():
    """`_shifted_row_sums`, compiled with XLA on JAX: there each eager
    operation is a dispatch and a temporary of its own, and compiled they
    fuse into one pass (one compilation per chunk shape)."""
    if keras.backend.backend() != "jax":
        return _shifted_row_sums
    import jax

    return jax.jit(_shifted_row_sums, static_argnums=2)
