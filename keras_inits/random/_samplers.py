"""The samplers: every random draw of the package, for both kinds of seed.

A random initializer draws with the generator `_seeds.generator_for` gives
it and calls only the samplers here: `uniform`, `normal`,
`truncated_normal` (any bounds), `orthogonal_matrix`, each in the dtype
asked for. A `PortableSeed` draws from keras_inits' generator
(`_generator`), the same float32 values on every backend; a
`keras.random.SeedGenerator` from `keras.random`, or on PyTorch and NumPy
from the generator Keras seeds, in place (see `_native_uniform`, and
`_table_draw` for truncated normals), and on JAX (and for large normal
draws on TensorFlow) from keras_inits' generator (see `_generator_key`).
"""

import functools
import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_inits._internal import checks
from keras_inits._internal import gaussian
from keras_inits._internal import keras_internals
from keras_inits._internal import native_ops
from keras_inits._internal import sharding
from keras_inits._internal.arrays import Tensor
from keras_inits._internal.arrays import in_dtype
from keras_inits.random import _blocks
from keras_inits.random import _generator
from keras_inits.random import _householder
from keras_inits.random import _quantiles
from keras_inits.random._portable import PortableSeed

Generator = keras.random.SeedGenerator | PortableSeed
"""What a sampler draws with: the generator of a random initializer's seed
(`generator_for`)."""

# Normal samplers of float32 uniforms reach about 5.4 (inverse CDF) to 6.7
# (Box-Muller) standard deviations; 8 bounds both with a margin.
NORMAL_REACH = 8.0
"""How many standard deviations from the mean a normal sampler's values
can reach: truncation bounds beyond it truncate nothing."""


# Draws. Each sampler returns values of `dtype`: `keras.random` draws in
# it; keras_inits' generator computes float32, which is then converted.


def _generator_key(seed, dtype, shape, normal=True):
    """The key of the next draw from keras_inits' generator (`_generator`):
    a PortableSeed's next key; for a `SeedGenerator`, its next state (what
    `jax.random` would take as its key) on JAX, and on TensorFlow for
    `normal` draws (normal or truncated normal values) of more than
    `NATIVE_PIECE` values outside `tf.function`. The compiled, chunked
    draws of keras_inits' generator take about half the time of the
    native ones there; TensorFlow's uniform is as fast, and each transform
    costs a compilation per process (and smaller draws one per size). Not
    for float64, which the generator's float32 would round. Else None:
    `keras.random` draws. A state JAX traces (a sharded draw) gives a key
    of int32 tracers, for a draw computed position by position."""
    if isinstance(seed, PortableSeed):
        return seed.next_key()
    if (
        dtype == "float64"
        or not isinstance(seed, keras.random.SeedGenerator)
        or not _generates_natively(shape, normal)
    ):
        return None
    state = seed.next()
    if sharding.is_tracer(state):
        words: Tensor = ops.view(state, "int32")  # the same 32 bits
        return words[0], words[1]
    return tuple(int(word) for word in np.asarray(state))


def _generates_natively(shape, normal):
    """Whether a `SeedGenerator`'s draw of `shape` comes from keras_inits'
    generator (see `_generator_key`): never beyond its 32-bit counter,
    where `keras.random` draws instead."""
    if math.prod(shape) > _generator.MAX_VALUES:
        return False
    backend = keras.backend.backend()
    if backend == "tensorflow" and normal:
        import tensorflow as tf

        return math.prod(shape) > NATIVE_PIECE and tf.executing_eagerly()
    return backend == "jax"


def _generated(transform, shape, key, scale, offset):
    """`scale * (t + offset / scale)` for `t` the values of `transform`
    (see `_generator.draw`) under `key`."""
    traced = sharding.is_tracing() or sharding.is_tracer(key[0])
    return _generator.draw(transform, shape, key, scale, offset, traced=traced)


# Native draws: Keras' own draws from a `SeedGenerator`, except where they
# hold three tensors of the output's size at once: PyTorch's uniform
# (`rand`, then a scaled and a shifted copy) and NumPy's uniform and normal
# (a float64 draw and its float32 copy). There the generator Keras would
# seed from the same `SeedGenerator` fills one new tensor of the dtype,
# which is scaled and shifted in place: the draw's memory is its output's,
# and it is faster.


def _native_uniform(shape, minval, maxval, dtype, seed):
    """`uniform` from a `SeedGenerator` `seed`, natively where
    `_fills_natively`, elsewhere `keras.random.uniform`."""
    if not _fills_natively(dtype):
        return keras.random.uniform(
            shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed
        )
    values = _filled(
        shape,
        dtype,
        seed,
        # `uniform_` reads the same 32-bit words as `torch.rand`, and
        # scales them in float64 before rounding once.
        lambda block, generator: block.uniform_(
            minval, maxval, generator=generator
        ),
        lambda block, generator: generator.random(out=block, dtype=dtype),
    )
    if isinstance(values, np.ndarray):
        values *= maxval - minval
        values += minval
    return values


def _native_normal(shape, mean, stddev, dtype, seed):
    """`normal` from a `SeedGenerator` `seed`, natively where
    `_fills_natively` (`torch.normal` is `normal_` of a new tensor),
    elsewhere `keras.random.normal`."""
    if not _fills_natively(dtype):
        return keras.random.normal(
            shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed
        )
    values = _filled(
        shape,
        dtype,
        seed,
        lambda block, generator: block.normal_(
            mean, stddev, generator=generator
        ),
        lambda block, generator: generator.standard_normal(
            out=block, dtype=dtype
        ),
    )
    if isinstance(values, np.ndarray):
        values *= stddev
        if mean:
            values += mean
    return values


def _fills_natively(dtype):
    """Whether the generator Keras seeds fills new tensors of `dtype` in
    place, here: on PyTorch, and on NumPy in float32 and float64."""
    backend = keras.backend.backend()
    return backend == "torch" or (
        backend == "numpy" and dtype in _NUMPY_FILLED
    )


def _filled(shape, dtype, seed, torch_fill, numpy_fill):
    """A new tensor of `shape` and `dtype`, filled by the generator Keras
    seeds from `seed`, by blocks on every core beyond `_blocks.BLOCK`
    values: `torch_fill(block, generator)` on PyTorch, `numpy_fill(block,
    generator)` on NumPy."""
    if keras.backend.backend() == "torch":
        values = native_ops.torch_ops().empty(
            tuple(shape), keras.backend.standardize_dtype(dtype)
        )
        generator = keras_internals.torch_generator(seed)
        return _blocks.fill_torch(values, generator, torch_fill)
    generator = keras_internals.numpy_generator(seed)
    return _blocks.fill_numpy(
        np.empty(tuple(shape), dtype), generator, numpy_fill
    )


# The dtypes NumPy's generators draw in directly.
_NUMPY_FILLED = ("float32", "float64")


def uniform(
    shape: Sequence[int],
    minval: float,
    maxval: float,
    dtype: str,
    seed: Generator,
) -> Tensor:
    """Uniform values in `[minval, maxval)`, of `shape` and `dtype`.

    Args:
        shape: the tensor's shape.
        minval: the lower bound, a finite number below `maxval`.
        maxval: the upper bound (excluded), a finite number.
        dtype: a floating-point dtype's name.
        seed: what draws: a random initializer's `seed_generator` (a
            `keras.random.SeedGenerator`, whose state advances, or a
            `PortableSeed`, which gives the same values on every backend).

    Returns:
        A tensor of the active backend.

    Examples:

        >>> from keras_inits import random
        >>> values = random.uniform((2, 3), -1.0, 1.0, "float32",
        ...                         random.PortableSeed(1))
        >>> tuple(values.shape)
        (2, 3)
    """
    key = _generator_key(seed, dtype, shape, normal=False)
    if key is None:
        return _native_uniform(shape, minval, maxval, dtype, seed)
    values = _generated(
        _quantiles.symmetric_uniform,
        shape,
        key,
        (maxval - minval) / 2.0,
        (maxval + minval) / 2.0,
    )
    if minval + maxval:  # the rounded offset may step outside by an ulp
        values = ops.clip(
            values, float(np.float32(minval)), float(np.float32(maxval))
        )
    return in_dtype(values, dtype)


def normal(
    shape: Sequence[int],
    mean: float,
    stddev: float,
    dtype: str,
    seed: Generator,
) -> Tensor:
    """Normal values `N(mean, stddev**2)`, of `shape` and `dtype`.

    Args:
        shape: the tensor's shape.
        mean: the mean, a finite number.
        stddev: the standard deviation, a positive number.
        dtype: a floating-point dtype's name.
        seed: what draws: a random initializer's `seed_generator` (a
            `keras.random.SeedGenerator`, whose state advances, or a
            `PortableSeed`, which gives the same values on every backend).

    Returns:
        A tensor of the active backend.

    Examples:

        >>> import keras_inits
        >>> from keras_inits import random
        >>> class Halved(keras_inits.RandomInitializer):
        ...     def draw(self, shape, dtype):
        ...         return 0.5 * random.normal(shape, 0.0, 1.0, dtype,
        ...                                    self.seed_generator)
        >>> tuple(Halved(seed=1)((4, 4)).shape)
        (4, 4)
    """
    key = _generator_key(seed, dtype, shape)
    if key is None:
        return _native_normal(shape, mean, stddev, dtype, seed)
    values = _generated(_quantiles.standard_normal, shape, key, stddev, mean)
    return in_dtype(values, dtype)


# Beyond it, float32 erfc and the tail probabilities underflow.
MAX_SIGMAS = 10.0
"""How many standard deviations of the mean a truncated normal's bounds
must come within (`check_sigma_bounds`)."""
# Absolute bounds past float32's range are clipped here instead.
_HUGE = 3.0e38


def check_sigma_bounds(owner: str, lower: float, upper: float) -> None:
    """Raises a ValueError naming `owner` unless `lower < upper` and the
    interval `[lower, upper]` (in standard deviations, possibly infinite)
    reaches within `MAX_SIGMAS`: the bounds `truncated_normal` takes."""
    checks.check_ordered(owner, "lower", lower, "upper", upper)
    if lower >= MAX_SIGMAS or upper <= -MAX_SIGMAS:
        raise ValueError(
            f"{owner} needs bounds that reach within {MAX_SIGMAS:g} standard "
            "deviations of the mean (beyond, a normal has no mass float32 "
            f"can sample). Received: lower={lower!r}, upper={upper!r} "
            "standard deviations"
        )


def truncated_normal(
    shape: Sequence[int],
    mean: float,
    stddev: float,
    dtype: str,
    seed: Generator,
    lower: float = -2.0,
    upper: float = 2.0,
) -> Tensor:
    """Normal values `N(mean, stddev**2)` truncated to `[mean + lower *
    stddev, mean + upper * stddev]` (bounds in standard deviations, JAX's
    convention; either may be infinite, and the interval must reach within
    `MAX_SIGMAS` of 0).

    One uniform position per element, put through the inverse CDF, is
    exactly the truncated distribution; `keras.random.truncated_normal`
    instead redraws values outside `[-2, 2]` on TensorFlow and PyTorch,
    several candidates per element. keras_inits' generator (see
    `_generator_key`) interpolates its quantile tables for the bounds. On
    PyTorch and NumPy (float32) one random 32-bit word per element from the
    generator Keras seeds is looked up in a float32 table of the quantiles
    (`_table_draw`), accurate to 3 float32 ulps for any bounds, one-sided
    and far-tail intervals (`[3, inf]`, `[-inf, -8]`) included, where
    `erfinv` of a uniform near 1 would round most values away. Otherwise
    `[-2, 2]` is `mean + stddev * sqrt(2) * erfinv(u)`, `u` uniform in
    `(-erf(sqrt(2)), erf(sqrt(2)))` (JAX's own sampler already is an
    inverse-CDF draw), and other bounds go through the backend's `ndtri`
    (`gaussian.standard_normal_quantile`) of the tail probability below
    1/2.

    Args:
        shape: the tensor's shape.
        mean: the mean of the untruncated normal, a finite number.
        stddev: its standard deviation, a positive number.
        dtype: a floating-point dtype's name.
        seed: what draws: a random initializer's `seed_generator`.
        lower: the lower bound, in standard deviations from the mean.
        upper: the upper bound, in standard deviations from the mean.

    Returns:
        A tensor of the active backend.

    Examples:

        >>> from keras_inits import random
        >>> values = random.truncated_normal((1000,), 0.0, 1.0, "float32",
        ...                                  random.PortableSeed(1), 0.0, 1.0)
        >>> bool(keras.ops.min(values) >= 0.0 and keras.ops.max(values) <= 1.0)
        True
    """
    check_sigma_bounds("truncated_normal", lower, upper)
    two_sigma = lower == -2.0 and upper == 2.0
    key = _generator_key(seed, dtype, shape)
    if key is not None:
        transform = (
            _quantiles.standard_truncated_normal
            if two_sigma
            # One table and one compiled transform for every pair of
            # bounds with the same mass.
            else _quantiles.bounded_normal(
                *gaussian.effective_bounds(float(lower), float(upper))
            )
        )
        values = _generated(transform, shape, key, stddev, mean)
        if not two_sigma:  # keep the affine map's rounding inside the bounds
            values = _clip_to(values, mean, stddev, lower, upper)
        return in_dtype(values, dtype)
    xp = _native_namespace() if dtype != "float64" else None
    if xp is not None:
        values = _table_draw(shape, mean, stddev, lower, upper, seed, xp)
        if values is not None:
            return in_dtype(values, dtype)
    if two_sigma and keras.backend.backend() == "jax":
        return keras.random.truncated_normal(
            shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed
        )
    if two_sigma:
        values = _two_sigma_draw(shape, stddev * math.sqrt(2.0), dtype, seed)
        return values + mean if mean else values
    # With u uniform, the truncated value is Phi^-1(p) for
    # p = Phi(lower) + u * mass, and also -Phi^-1(q) for its complement
    # q = 1 - p = Phi(-upper) + (1 - u) * mass. Both are sums of
    # non-negative terms (no cancellation), and the smaller of the two is
    # always below 1/2, where the quantile is well conditioned in float32.
    below, above, mass = gaussian.truncated_mass(lower, upper)
    u = uniform(shape, 0.0, 1.0, dtype, seed)
    # keras.random.uniform may return exactly 0: a half-step floor keeps
    # both tails finite.
    floor = float(np.finfo(dtype).eps) / 4.0
    low, high = _clip_bounds(mean, stddev, lower, upper)
    constants = [floor, below, above, mass, mean, stddev, low, high]
    constants = [ops.convert_to_tensor(c, dtype) for c in constants]
    return _quantile_transform()(u, *constants)


def _tail_quantiles(u, floor, below, above, mass, mean, stddev, low, high):
    """`truncated_normal`'s values for its uniform values `u`, through
    the quantile of the smaller tail probability."""
    p: Tensor = ops.maximum(u, floor)
    p = below + p * mass
    q: Tensor = ops.maximum(1.0 - u, floor)
    q = above + q * mass
    z = gaussian.standard_normal_quantile(ops.minimum(p, q))
    x: Tensor = ops.where(p <= q, z, -z)
    return ops.clip(x * stddev + mean, low, high)


@functools.cache
def _quantile_transform():
    """`_tail_quantiles`, on TensorFlow as one `tf.function` (traced once
    per dtype and rank): its dozen eager operations cost more than a
    small draw's arithmetic."""
    if keras.backend.backend() != "tensorflow":
        return _tail_quantiles
    import tensorflow as tf

    return tf.function(_tail_quantiles, reduce_retracing=True, autograph=False)


# Native truncated normals on PyTorch and NumPy: one random int32 word per
# value, from the generator Keras seeds, looked up in the float32 quantile
# table of the bounds (`_quantiles.native_truncated_table`): any bounds in
# about ten passes over the values (PyTorch's `erfinv`, which the two-sigma
# draw used, costs twice its `normal`, and the quantile function of other
# bounds some thirty passes). The passes are made `TABLE_CHUNK` values at a
# time, written into the output: its memory is the draw's, each chunk stays
# in cache, and PyTorch runs each pass on the calling thread
# (`native_ops.SERIAL_CHUNK`), never waiting for a descheduled thread.
TABLE_CHUNK = native_ops.SERIAL_CHUNK


def _native_namespace():
    """PyTorch's or NumPy's own functions (`native_ops`), or None on the
    other backends."""
    backend = keras.backend.backend()
    if backend == "torch":
        return native_ops.torch_ops()
    return native_ops.numpy_ops() if backend == "numpy" else None


def _native_words(generator, xp):
    """`fill(n)`, the next `n` random int32 words of `generator`: a NumPy
    `Generator` on NumPy, else a `torch.Generator` (CPU or CUDA); `xp` is
    `_native_namespace()`."""
    if keras.backend.backend() == "numpy":
        bits = generator.bit_generator

        def fill_numpy(n):
            return bits.random_raw((n + 1) // 2).view(np.int32)[:n]

        return fill_numpy
    pairs = xp.empty(((TABLE_CHUNK + 1) // 2,), "int64")

    def fill_torch(n):
        pair_count = (n + 1) // 2
        drawn = (  # CUDA draws in one chunk, larger than `pairs`
            pairs[:pair_count]
            if pair_count <= pairs.shape[0]
            else xp.empty((pair_count,), "int64")
        )
        # The whole 64-bit range: two full words per draw of the generator.
        drawn.random_(-(2**63), None, generator=generator)
        return xp.view(drawn, "int32")[:n]

    return fill_torch


def _table_draw(shape, mean, stddev, lower, upper, seed, xp) -> Tensor:
    """`truncated_normal` in float32 on PyTorch or NumPy (`xp`'s
    functions): the words of the generator Keras seeds from `seed`, by
    blocks on every core (`_blocks`), looked up in the table of `[lower,
    upper]`; None on PyTorch's "meta" device, which has no generator."""
    table = _quantiles.native_truncated_table(float(lower), float(upper))
    start = xp.convert_to_tensor(table.start, "float32")
    slope = xp.convert_to_tensor(table.slope, "float32")
    low, high = _clip_bounds(mean, stddev, lower, upper)

    def fill(block, generator):
        words = _native_words(generator, xp)
        size = block.shape[0]
        # CUDA runs each pass at once, without threads of the host.
        chunk = TABLE_CHUNK if _on_host(block) else max(size, 1)
        floats = xp.empty((min(chunk, size),), "float32")
        keys = xp.empty((min(chunk, size),), "int32")
        fractions = xp.empty((min(chunk, size),), "int32")
        steps = xp.empty((min(chunk, size),), "float32")
        for begin in range(0, size, chunk):
            n = min(chunk, size - begin)
            f, k, i, d = floats[:n], keys[:n], fractions[:n], steps[:n]
            out = block[begin : begin + n]
            f[...] = words(n)  # float32(w), rounded to 24 bits
            bits = xp.view(f, "int32")
            xp.right_shift(bits, _quantiles.NATIVE_KEY_SHIFT, out=k)
            xp.bitwise_and(k, _quantiles.NATIVE_KEY_MASK, out=k)
            xp.bitwise_and(bits, _quantiles.NATIVE_FRACTION_MASK, out=i)
            f[...] = i  # the position in the segment, as a float
            xp.take_into(start, k, out)
            xp.take_into(slope, k, d)
            d *= f
            out += d
            out *= stddev
            if mean:
                out += mean
            xp.clip(out, low, high, out=out)

    values = xp.empty((math.prod(shape),), "float32")
    if keras.backend.backend() == "numpy":
        generator = keras_internals.numpy_generator(seed)
        return xp.reshape(
            _blocks.fill_numpy(values, generator, fill), tuple(shape)
        )
    generator = keras_internals.torch_generator(seed)
    if generator is None:
        return None
    return xp.reshape(
        _blocks.fill_torch(values, generator, fill), tuple(shape)
    )


def _on_host(values):
    """Whether `values` (a NumPy array or a PyTorch tensor) is in host
    memory."""
    device = getattr(values, "device", None)
    return getattr(device, "type", "cpu") == "cpu"


def _clip_bounds(mean, stddev, lower, upper):
    """`(low, high)`: `[mean + lower * stddev, mean + upper * stddev]` as
    float32 rounds those bounds, within float32's range."""
    low = max(mean + stddev * lower, -_HUGE)
    high = min(mean + stddev * upper, _HUGE)
    return float(np.float32(low)), float(np.float32(high))


def _clip_to(values, mean, stddev, lower, upper):
    """`values` clipped to `[mean + lower * stddev, mean + upper * stddev]`,
    as float32 rounds those bounds, within float32's range."""
    return ops.clip(values, *_clip_bounds(mean, stddev, lower, upper))


def _two_sigma_draw(shape, scale, dtype, seed) -> Tensor:
    """`scale * erfinv(u)`, `u` uniform in `(-erf(sqrt(2)), erf(sqrt(2)))`:
    a normal with standard deviation `scale / sqrt(2)` truncated at two."""

    def sample(piece_shape):
        u = _native_uniform(
            piece_shape,
            -gaussian.TWO_SIGMA_MASS,
            gaussian.TWO_SIGMA_MASS,
            dtype,
            seed,
        )
        values = ops.erfinv(u)
        values *= scale  # in place where the backend can (NumPy, PyTorch)
        return values

    return _in_pieces(sample, shape, seed)


# Native truncated normals of more than this many elements (8 MB of
# float32) are drawn piece by piece on TensorFlow (in float64, or inside
# tf.function: see `_generator_key`) and NumPy, which make a pass per
# operation (uniform, erfinv, scale): in pieces the passes stay in cache,
# and on NumPy, written into the output, the peak is the output and a
# piece's work. On PyTorch the freed 8 MB temporaries of pieces were kept
# by the C allocator's heap, and the resident memory grew.
NATIVE_PIECE = 2**21
TRUNCATED_PIECES = ("tensorflow", "numpy")


def _in_pieces(sample, shape, seed) -> Tensor:
    """`sample(shape)`, a native draw with `seed`, made piece by piece
    (`sample` of flat shapes) on `TRUNCATED_PIECES` when it has more than
    `NATIVE_PIECE` values. Only a `SeedGenerator` gives each piece new
    values: an int or tensor seed draws in one piece."""
    size = math.prod(shape)
    backend = keras.backend.backend()
    if (
        size <= NATIVE_PIECE
        or not isinstance(seed, keras.random.SeedGenerator)
        or backend not in TRUNCATED_PIECES
    ):
        return sample(shape)
    starts = range(0, size, NATIVE_PIECE)
    if backend != "numpy":
        pieces = [
            sample((min(NATIVE_PIECE, size - start),)) for start in starts
        ]
        return ops.reshape(ops.concatenate(pieces, axis=0), shape)
    values: Tensor | None = None
    for start in starts:
        piece = sample((min(NATIVE_PIECE, size - start),))
        if values is None:  # the dtype the pieces have
            values = ops.empty((size,), dtype=piece.dtype)
        values[start : start + piece.shape[0]] = piece
    return ops.reshape(values, shape)


def orthogonal_matrix(
    rows: int,
    cols: int,
    dtype: str,
    seed: Generator,
) -> Tensor:
    """A `(rows, cols)` matrix with orthonormal rows or columns, whichever
    are fewer, drawn uniformly (Haar): Q of the QR decomposition of a
    Gaussian matrix, with the signs of R's diagonal folded into it. On JAX,
    PyTorch and NumPy an ordinary seed forms Q from the Gaussian matrix's
    Householder reflections directly (`_householder`): the same
    distribution, without the decomposition's half of the work. A
    `PortableSeed` decomposes everywhere, for the same values on every
    backend; TensorFlow, which has no `orgqr`, always does.

    Examples:

        >>> from keras_inits import random
        >>> q = random.orthogonal_matrix(4, 3, "float32", random.PortableSeed(1))
        >>> product = keras.ops.matmul(keras.ops.transpose(q), q)
        >>> bool(keras.ops.all(keras.ops.abs(product - keras.ops.eye(3)) < 1e-5))
        True
    """
    if rows == 0 or cols == 0:
        return ops.zeros((rows, cols), dtype=dtype)
    tall = (max(rows, cols), min(rows, cols))
    backend = keras.backend.backend()
    if not isinstance(seed, PortableSeed) and backend != "tensorflow":
        # The draw is passed on, not kept here: `reflections` lets it go,
        # and at most two matrices are held at once.
        reflectors, taus, signs = _householder.compiled_reflections(backend)(
            normal(tall, 0.0, 1.0, dtype, seed)
        )
        q = _householder.product(reflectors, taus)
        del reflectors
        q = q * signs
    else:
        decomposition: Tensor = ops.qr(normal(tall, 0.0, 1.0, dtype, seed))
        q, r = decomposition
        # sign(0) is 0; a zero diagonal has probability 0 but must not
        # zero a column, so it counts as positive.
        diagonal: Tensor = ops.diagonal(r)
        signs = ops.where(diagonal < 0, -1.0, 1.0)
        q = q * ops.cast(signs, dtype)
    return ops.transpose(q) if rows < cols else q
