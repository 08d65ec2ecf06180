"""The samplers: every random draw of the package, for both kinds of seed.

A random initializer keeps its `seed` as `check_seed` returns it, draws
from `generator(seed)` while holding `draw_lock(generator)`, and calls only
the samplers here: `uniform`, `normal`, `truncated_normal` (any bounds),
`orthogonal_matrix`, each in the dtype asked for. A `PortableSeed` draws
from keras_inits' generator (threefry.py), the same float32 values on every
backend; a `keras.random.SeedGenerator` from `keras.random` (on JAX, see
`_generator_key`). Only this module tells seeds apart; it also reads,
writes and derives them (`seed_config`, `read_seed`, `derive_seed`).
"""

import hashlib
import math
import threading
import weakref

import keras
import numpy as np
from keras import ops

from keras_inits import checks
from keras_inits import gaussian
from keras_inits import sharding
from keras_inits import threefry
from keras_inits.portable import PortableSeed
from keras_inits.portable import is_portable

# Normal samplers of float32 uniforms reach about 5.4 (inverse CDF) to 6.7
# (Box-Muller) standard deviations; 8 bounds both with a margin.
NORMAL_REACH = 8.0


def is_portable_seed(seed):
    """Whether `seed` draws from keras_inits' portable generator."""
    return isinstance(seed, PortableSeed)


def check_seed(owner, seed):
    """Returns the seed an initializer `owner` keeps: None, an int in
    [0, 2**32), a `keras.random.SeedGenerator` or a `PortableSeed`. A saved
    PortableSeed (a dict) is restored, and an int or None becomes a
    PortableSeed while `set_portable(True)` is on."""
    if isinstance(seed, dict):
        # Keras' deserializer passes a config's seed on as it is, and the
        # only dict keras_inits saves is a PortableSeed (a SeedGenerator
        # is saved as its int seed). `serialization.deserialize` also reads
        # Keras' own SeedGenerator configs, before calling the constructor.
        refused = checks.argument_error(owner, "seed", "a saved PortableSeed",
                                        seed)
        try:
            restored = read_seed(owner, seed)
        except ValueError as error:
            raise refused from error
        if not is_portable_seed(restored):
            raise refused
        return restored
    if seed is None or isinstance(
            seed, (keras.random.SeedGenerator, PortableSeed)):
        return PortableSeed(seed) if seed is None and is_portable() else seed
    # Seed generators hold their state as 32-bit integers.
    if checks.is_whole_number(seed) and 0 <= seed < 2**32:
        return PortableSeed(seed) if is_portable() else int(seed)
    raise checks.keras_wording(
        "`seed` argument should be an instance of "
        "`keras.random.SeedGenerator()` or an integer.",
        checks.argument_error(
            owner,
            "seed",
            "None, an integer in [0, 2**32), a keras.random.SeedGenerator or "
            "a keras_inits.PortableSeed",
            seed,
        ),
    )


def seed_config(seed):
    """A kept seed as an initializer's config holds it: None and ints as
    they are, a `SeedGenerator` as its initial seed (which replays its
    sequence), a PortableSeed in Keras' serialized form
    (`{"module", "class_name", "config": {"seed": ...}, "registered_name"}`)."""
    if isinstance(seed, keras.random.SeedGenerator):
        return seed.get_config()["seed"]
    if is_portable_seed(seed):
        return keras.saving.serialize_keras_object(seed)
    return seed


_SAVED_SEEDS = (
    "None, an integer or a serialized keras.random.SeedGenerator or "
    "keras_inits.PortableSeed"
)


def read_seed(owner, seed):
    """The seed that `seed`, saved in a config of initializer `owner`,
    stands for.

    None and integers are saved as they are (`check_seed` checks their
    range). Keras' serialized `keras.random.SeedGenerator` gives its initial
    integer seed, which replays its sequence. A serialized `PortableSeed`,
    with or without `module` and `registered_name`, gives a PortableSeed.
    Each field is checked here: Keras' deserializer would resolve whatever
    class a config names, through the registry or by importing its module.
    Anything else is a ValueError naming `owner` and the value.
    """
    if seed is None or checks.is_whole_number(seed):
        return seed
    if isinstance(seed, dict) and isinstance(seed.get("config"), dict):
        name, module = seed.get("class_name"), seed.get("module")
        registered, config = seed.get("registered_name"), seed["config"]
        if (name == "SeedGenerator" and module in (None, "keras.random")
                and registered is None
                and checks.is_whole_number(config.get("seed"))):
            return int(config["seed"])
        ours = keras.saving.get_registered_name(PortableSeed)
        package = ours.split(">")[0]
        if (name in ("PortableSeed", ours) and registered in (None, ours)
                and (module is None or str(module).split(".")[0] == package)
                and set(config) <= {"seed"}
                and (config.get("seed") is None
                     or checks.is_whole_number(config["seed"]))):
            return PortableSeed(config.get("seed"))
    raise ValueError(
        f"A `seed` in an initializer config must be {_SAVED_SEEDS}. "
        f"Received: {owner}(seed={seed!r})"
    )


# Integer seeds below 2**31 are taken by every backend's seed handling
# (PyTorch's holds int32) and by NumPy: derived seeds, and the seeds of
# `reinitialize` and the experiments, stay below it.
SEED_LIMIT = 2**31


def derive_seed(seed, key):
    """The seed of the part `key` (a string) of something seeded with
    `seed`, of the same kind: an int for an int, a PortableSeed for a
    PortableSeed. Stable across runs and processes (Python's own `hash` of
    a string is salted per process)."""
    if is_portable_seed(seed):
        return PortableSeed(derive_seed(seed.seed, key))
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % SEED_LIMIT


def reseed(owner, saved, seed):
    """The seed to put in place of `saved`, a seed as the config of
    initializer `owner` holds it: `seed` (an int or a PortableSeed), made
    portable if `saved` was. A `saved` that is no seed raises, as in
    `read_seed`."""
    if is_portable_seed(read_seed(owner, saved)) and not is_portable_seed(
            seed):
        return PortableSeed(seed)
    return seed


def _native_seed(seed):
    """An integer seed in [0, 2**32) as Keras' SeedGenerator takes it on
    this backend: PyTorch's holds its state as int32 and refuses seeds from
    2**31 ("value cannot be converted to type int32"), so those become the
    negative int32 of the same bits there, a distinct seed for each."""
    if seed is not None and seed >= 2**31 and (
            keras.backend.backend() == "torch"):
        return seed - 2**32
    return seed


def generator(seed):
    """What draws with a kept seed: the `SeedGenerator` or `PortableSeed`
    itself, or a new `keras.random.SeedGenerator` of an int or None."""
    if isinstance(seed, (keras.random.SeedGenerator, PortableSeed)):
        return seed
    return keras.random.SeedGenerator(_native_seed(seed))


# One re-entrant lock per keras.random.SeedGenerator, held for a whole draw:
# `SeedGenerator.next()` reads its state, then assigns the next one, so two
# threads could draw the same values; held for the whole draw, it also
# keeps one draw's pieces (`native_draw`, BlockOrthogonal's blocks)
# contiguous whatever the threads do. Weak keys, not an attribute of Keras'
# object: an entry goes with its generator. A PortableSeed holds its own
# lock. Re-entrant: its next_key takes it inside the draw, and a draw may
# call another initializer on the same generator.
_generator_locks = weakref.WeakKeyDictionary()
# Guards that dictionary: a lookup then insertion is not atomic.
_locks_guard = threading.Lock()


def draw_lock(generator):
    """The re-entrant lock that a draw from `generator` (a
    `keras.random.SeedGenerator` or a `PortableSeed`) holds throughout, so
    that it advances the generator atomically."""
    if is_portable_seed(generator):
        return generator.lock
    with _locks_guard:
        lock = _generator_locks.get(generator)
        if lock is None:
            lock = threading.RLock()
            _generator_locks[generator] = lock
    return lock


# Draws. Each sampler returns values of `dtype`: `keras.random` draws in
# it; keras_inits' generator computes float32, which is then converted.


def _generator_key(seed, dtype):
    """The key of the next draw from keras_inits' generator (threefry.py):
    a PortableSeed's next key; on JAX, a `SeedGenerator`'s next state too
    (what `jax.random` would take as its key), since the compiled, chunked
    draws of keras_inits' generator take half the time of `jax.random`'s,
    except while JAX traces (the state is then no number) and for float64
    (the generator's float32 would round it). Else None: `keras.random`
    draws."""
    if is_portable_seed(seed):
        return seed.next_key()
    if (keras.backend.backend() == "jax" and dtype != "float64"
            and isinstance(seed, keras.random.SeedGenerator)
            and not sharding.is_tracer(seed.state.value)):
        return tuple(int(word) for word in np.asarray(seed.next()))
    return None


def _generated(transform, shape, key, scale, offset):
    """`scale * (t + offset / scale)` for `t` the values of `transform`
    (see `threefry.draw`) under `key`."""
    return threefry.draw(transform, shape, key, scale, offset,
                         traced=sharding.is_tracing())


# Native draws above this many elements (8 MB of float32) are made piece by
# piece where that bounds their memory or saves time. NumPy draws float64
# and copies to float32: three output sizes at its peak in one piece, two
# in pieces. TensorFlow's truncated normal makes a pass per operation
# (uniform, erfinv, scale): in pieces they stay in cache. Its plain uniform
# and normal draws and PyTorch's are faster in one piece.
NATIVE_PIECE = 2**21
PLAIN_PIECES = ("numpy",)
TRUNCATED_PIECES = ("tensorflow", "numpy")


def native_draw(sample, shape, seed, backends, threshold=None):
    """`sample(shape)`, a draw from `keras.random` with `seed`, made piece
    by piece (`sample` of flat shapes) on the `backends` named when it has
    more than `threshold` values (default: two pieces' worth). Only a
    `SeedGenerator` gives each piece new values: an int or tensor seed
    draws in one piece."""
    if threshold is None:
        threshold = 2 * NATIVE_PIECE
    size = math.prod(shape)
    if (size <= threshold
            or not isinstance(seed, keras.random.SeedGenerator)
            or keras.backend.backend() not in backends):
        return sample(shape)
    pieces = [sample((min(NATIVE_PIECE, size - start),))
              for start in range(0, size, NATIVE_PIECE)]
    return ops.reshape(ops.concatenate(pieces, axis=0), shape)


def uniform(shape, minval, maxval, dtype, seed):
    """Uniform values in [minval, maxval)."""
    key = _generator_key(seed, dtype)
    if key is None:
        return native_draw(lambda piece: keras.random.uniform(
            piece, minval=minval, maxval=maxval, dtype=dtype, seed=seed),
            shape, seed, PLAIN_PIECES)
    values = _generated(threefry.symmetric_uniform, shape, key,
                        (maxval - minval) / 2.0, (maxval + minval) / 2.0)
    if minval + maxval:  # the rounded offset may step outside by an ulp
        values = ops.clip(values, float(np.float32(minval)),
                          float(np.float32(maxval)))
    return ops.cast(values, dtype)


def normal(shape, mean, stddev, dtype, seed):
    """Normal values `N(mean, stddev**2)`."""
    key = _generator_key(seed, dtype)
    if key is None:
        return native_draw(lambda piece: keras.random.normal(
            piece, mean=mean, stddev=stddev, dtype=dtype, seed=seed),
            shape, seed, PLAIN_PIECES)
    values = _generated(threefry.standard_normal, shape, key, stddev, mean)
    return ops.cast(values, dtype)


# Bounds must come within this many standard deviations of the mean: beyond
# it, float32 erfc and the tail probabilities underflow.
MAX_SIGMAS = 10.0
_CLIP = 40.0  # finite stand-in for infinite bounds in ops.clip
# Absolute bounds past float32's range are clipped here instead.
_HUGE = 3.0e38


def check_sigma_bounds(owner, lower, upper):
    """Raises unless `lower < upper` and the interval `[lower, upper]` (in
    standard deviations, possibly infinite) reaches within `MAX_SIGMAS`."""
    checks.check_ordered(owner, "lower", lower, "upper", upper)
    if lower >= MAX_SIGMAS or upper <= -MAX_SIGMAS:
        raise ValueError(
            f"{owner} needs bounds that reach within {MAX_SIGMAS:g} standard "
            "deviations of the mean (beyond, a normal has no mass float32 "
            f"can sample). Received: lower={lower!r}, upper={upper!r} "
            "standard deviations"
        )


def truncated_normal(shape, mean, stddev, dtype, seed, lower=-2.0,
                     upper=2.0):
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
    """
    check_sigma_bounds("truncated_normal", lower, upper)
    two_sigma = lower == -2.0 and upper == 2.0
    key = _generator_key(seed, dtype)
    if key is not None:
        transform = (threefry.standard_truncated_normal if two_sigma
                     else threefry.bounded_normal(float(lower), float(upper)))
        values = _generated(transform, shape, key, stddev, mean)
        if not two_sigma:  # keep the affine map's rounding inside the bounds
            values = _clip_to(values, mean, stddev, lower, upper)
        return ops.cast(values, dtype)
    if two_sigma and keras.backend.backend() == "jax":
        return keras.random.truncated_normal(
            shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed)
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
    p = below + ops.maximum(u, floor) * mass
    q = above + ops.maximum(1.0 - u, floor) * mass
    z = gaussian.standard_normal_quantile(ops.minimum(p, q))
    x = ops.where(p <= q, z, -z)
    x = ops.clip(x, max(lower, -_CLIP), min(upper, _CLIP))
    values = x * stddev + mean if mean else x * stddev
    return _clip_to(values, mean, stddev, lower, upper)


def _clip_to(values, mean, stddev, lower, upper):
    """`values` clipped to `[mean + lower * stddev, mean + upper * stddev]`,
    as float32 rounds those bounds, within float32's range."""
    low = max(mean + stddev * lower, -_HUGE)
    high = min(mean + stddev * upper, _HUGE)
    return ops.clip(values, float(np.float32(low)), float(np.float32(high)))


def _two_sigma_draw(shape, scale, dtype, seed):
    """`scale * erfinv(u)`, `u` uniform in `(-erf(sqrt(2)), erf(sqrt(2)))`:
    a normal with standard deviation `scale / sqrt(2)` truncated at two.
    With its erfinv pass this draw gains from pieces already at two pieces'
    size (see `native_draw`)."""

    def piece(piece_shape):
        u = keras.random.uniform(
            piece_shape, minval=-gaussian.TWO_SIGMA_MASS,
            maxval=gaussian.TWO_SIGMA_MASS, dtype=dtype, seed=seed,
        )
        return ops.erfinv(u) * scale

    return native_draw(piece, shape, seed, TRUNCATED_PIECES,
                       threshold=NATIVE_PIECE)


def orthogonal_matrix(rows, cols, dtype, seed):
    """A `(rows, cols)` matrix with orthonormal rows or columns, whichever
    are fewer, drawn uniformly (Haar) by the QR decomposition of a Gaussian
    matrix with the signs of R's diagonal folded into Q."""
    if rows == 0 or cols == 0:
        return ops.zeros((rows, cols), dtype=dtype)
    tall = (max(rows, cols), min(rows, cols))
    q, r = ops.qr(normal(tall, 0.0, 1.0, dtype, seed))
    # sign(0) is 0; a zero diagonal has probability 0 but must not zero a
    # column, so it counts as positive.
    signs = ops.where(ops.diagonal(r) < 0, -1.0, 1.0)
    q = q * ops.cast(signs, dtype)
    return ops.transpose(q) if rows < cols else q
