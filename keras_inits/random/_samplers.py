"""The samplers: every random draw of the package, for both kinds of seed.

A random initializer draws with the generator `_seeds.generator_for` gives
it and calls only the samplers here: `uniform`, `normal`,
`truncated_normal` (any bounds), `orthogonal_matrix`, each in the dtype
asked for. A `PortableSeed` draws from keras_inits' generator
(`_generator`), the same float32 values on every backend; a
`keras.random.SeedGenerator` from `keras.random`, or on PyTorch and NumPy
from the generator Keras seeds, in place (see `_native_uniform`), and on
JAX (and for large normal draws on TensorFlow) from keras_inits' generator
(see `_generator_key`).
"""

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
from keras_inits.random import _generator
from keras_inits.random import _householder
from keras_inits.random import _quantiles
from keras_inits.random._portable import PortableSeed

# What a sampler draws with: the generator of a random initializer's seed
# (`generator_for`).
Generator = keras.random.SeedGenerator | PortableSeed

# Normal samplers of float32 uniforms reach about 5.4 (inverse CDF) to 6.7
# (Box-Muller) standard deviations; 8 bounds both with a margin.
NORMAL_REACH = 8.0


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
    """`uniform` from a `SeedGenerator` `seed`, natively: on PyTorch, and
    on NumPy in float32 and float64, the generator Keras seeds from `seed`
    fills one new tensor in place; elsewhere `keras.random.uniform`."""
    backend = keras.backend.backend()
    if backend == "torch":
        values = native_ops.torch_ops().empty(
            tuple(shape), keras.backend.standardize_dtype(dtype)
        )
        # `uniform_` reads the same 32-bit words as `torch.rand`, and
        # scales them in float64 before rounding once.
        return values.uniform_(
            minval, maxval, generator=keras_internals.torch_generator(seed)
        )
    if backend == "numpy" and dtype in _NUMPY_FILLED:
        generator = keras_internals.numpy_generator(seed)
        values = generator.random(tuple(shape), dtype=dtype)
        values *= maxval - minval
        values += minval
        return values
    return keras.random.uniform(
        shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed
    )


def _native_normal(shape, mean, stddev, dtype, seed):
    """`normal` from a `SeedGenerator` `seed`, natively: on NumPy in float32
    and float64, the generator Keras seeds from `seed` fills one new array,
    scaled and shifted in place; elsewhere `keras.random.normal`."""
    if keras.backend.backend() == "numpy" and dtype in _NUMPY_FILLED:
        generator = keras_internals.numpy_generator(seed)
        values = generator.standard_normal(tuple(shape), dtype=dtype)
        values *= stddev
        if mean:
            values += mean
        return values
    return keras.random.normal(
        shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed
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
        minval, maxval: the bounds, finite numbers, `minval < maxval`.
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


# Bounds must come within this many standard deviations of the mean: beyond
# it, float32 erfc and the tail probabilities underflow.
MAX_SIGMAS = 10.0
_CLIP = 40.0  # finite stand-in for infinite bounds in ops.clip
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

    One uniform sample per element, put through the inverse CDF, is
    exactly the truncated distribution; `keras.random.truncated_normal`
    instead redraws values outside `[-2, 2]` on TensorFlow and PyTorch,
    several candidates per element. keras_inits' generator (see
    `_generator_key`) interpolates its quantile tables for the bounds.
    Otherwise `[-2, 2]` is `mean + stddev * sqrt(2) * erfinv(u)`, `u`
    uniform in `(-erf(sqrt(2)), erf(sqrt(2)))` (JAX's own sampler already
    is an inverse-CDF draw), and other bounds go through
    `gaussian.standard_normal_quantile`, accurate in float32 for one-sided
    and far-tail intervals (`[3, inf]`, `[-inf, -8]`) where `erfinv` of a
    uniform near 1 would round most values away.

    Args:
        shape: the tensor's shape.
        mean: the mean of the untruncated normal, a finite number.
        stddev: its standard deviation, a positive number.
        dtype: a floating-point dtype's name.
        seed: what draws: a random initializer's `seed_generator`.
        lower, upper: the bounds, in standard deviations from the mean.

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
            else _quantiles.bounded_normal(float(lower), float(upper))
        )
        values = _generated(transform, shape, key, stddev, mean)
        if not two_sigma:  # keep the affine map's rounding inside the bounds
            values = _clip_to(values, mean, stddev, lower, upper)
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
    floor = ops.cast(float(np.finfo(dtype).eps) / 4.0, dtype)
    p: Tensor = ops.maximum(u, floor)
    p = below + p * mass
    q: Tensor = ops.maximum(1.0 - u, floor)
    q = above + q * mass
    z = gaussian.standard_normal_quantile(ops.minimum(p, q))
    x: Tensor = ops.where(p <= q, z, -z)
    x = ops.clip(x, max(lower, -_CLIP), min(upper, _CLIP))
    values = x * stddev + mean if mean else x * stddev
    return _clip_to(values, mean, stddev, lower, upper)


def _clip_to(values, mean, stddev, lower, upper):
    """`values` clipped to `[mean + lower * stddev, mean + upper * stddev]`,
    as float32 rounds those bounds, within float32's range."""
    low = max(mean + stddev * lower, -_HUGE)
    high = min(mean + stddev * upper, _HUGE)
    return ops.clip(values, float(np.float32(low)), float(np.float32(high)))


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
