"""Portable seeds: the same random values on every backend and device.

Each Keras backend draws from its own generator, so a seed gives different
weights on TensorFlow, JAX, PyTorch and NumPy. A `PortableSeed` instead
draws from keras_inits' own counter-based generator (`keras_inits.threefry`:
Threefry-2x32-20 in 32-bit integer operations, with fixed transforms to
float32), so its float32 values depend on the seed alone: not on the
backend, the device, or future changes to numpy's, TensorFlow's, JAX's or
PyTorch's own generators. Orthogonal initializers add a QR decomposition,
whose rounding differs by backend: their values agree to about 1e-5 (see
README).

The samplers here (`uniform`, `normal`, `truncated_normal`) take either
kind of seed: a PortableSeed draws from that generator, anything else from
`keras.random`.
"""

import math
import random
import threading

import keras
import numpy as np
from keras import ops

from keras_inits import base
from keras_inits import sharding
from keras_inits import threefry


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

    It is thread-safe: `next_key`, and every initializer draw from start to
    end, hold its re-entrant `lock`, so threads sharing it get each key once.

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
        self.lock = threading.RLock()

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

    # A lock cannot be copied or pickled: a copy (copy.deepcopy of a model,
    # say) gets a lock of its own, and continues the sequence from the same
    # count.
    def __getstate__(self):
        state = dict(self.__dict__)
        del state["lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.lock = threading.RLock()

    def next_key(self):
        """The Threefry key of the next draw, advancing the sequence."""
        # Reading the count and storing the next one is two steps: without
        # the lock, two threads could take the same key.
        with self.lock:
            if self.seed is None:
                return (random.getrandbits(32), 0)
            key = (self.seed, self.draws & 0xFFFFFFFF)
            self.draws += 1
            return key


# Seeds in initializer configs. keras_inits saves a seed as None, an int or
# a serialized PortableSeed (`serialize_seed`); Keras saves a SeedGenerator
# as its serialized form. `deserialize_seed` reads them all. It checks each
# field itself: Keras' deserializer would resolve whatever class a config
# names, through the registry or by importing its module.

_SAVED_SEEDS = (
    "None, an integer or a serialized keras.random.SeedGenerator or "
    "keras_inits.PortableSeed"
)


def serialize_seed(seed):
    """A PortableSeed in Keras' serialized form, as configs hold it:
    `{"module", "class_name", "config": {"seed": ...}, "registered_name"}`."""
    return keras.saving.serialize_keras_object(seed)


def deserialize_seed(owner, seed):
    """The seed that `seed`, saved in a config of initializer `owner`,
    stands for.

    None and integers are saved as they are (`base.check_seed` checks their
    range). Keras' serialized `keras.random.SeedGenerator` gives its initial
    integer seed, which replays its sequence. A serialized `PortableSeed`,
    with or without `module` and `registered_name`, gives a PortableSeed.
    Anything else is a ValueError naming `owner` and the value.
    """
    if seed is None or base._is_whole_number(seed):
        return seed
    if isinstance(seed, dict) and isinstance(seed.get("config"), dict):
        name, module = seed.get("class_name"), seed.get("module")
        registered, config = seed.get("registered_name"), seed["config"]
        if (name == "SeedGenerator" and module in (None, "keras.random")
                and registered is None
                and base._is_whole_number(config.get("seed"))):
            return int(config["seed"])
        ours = base.PACKAGE + ">PortableSeed"
        if (name in ("PortableSeed", ours) and registered in (None, ours)
                and (module is None
                     or str(module).split(".")[0] == base.PACKAGE)
                and set(config) <= {"seed"}
                and (config.get("seed") is None
                     or base._is_whole_number(config["seed"]))):
            return PortableSeed(config.get("seed"))
    raise ValueError(
        f"A `seed` in an initializer config must be {_SAVED_SEEDS}. "
        f"Received: {owner}(seed={seed!r})"
    )


def as_seed(owner, seed):
    """`seed` for the constructor of initializer `owner`: a saved
    PortableSeed (a dict) restored, and an int or None made portable while
    `set_portable(True)` is on; any other seed as it is, for
    `base.check_seed`."""
    if isinstance(seed, dict):
        # Keras' deserializer passes a config's seed on as it is, and the
        # only dict keras_inits saves is a PortableSeed (a SeedGenerator
        # is saved as its int seed). `serialization.deserialize` also reads
        # Keras' own SeedGenerator configs, before calling the constructor.
        refused = base.argument_error(owner, "seed", "a saved PortableSeed",
                                      seed)
        try:
            restored = deserialize_seed(owner, seed)
        except ValueError as error:
            raise refused from error
        if not isinstance(restored, PortableSeed):
            raise refused
        return restored
    if is_portable() and (seed is None or base._is_whole_number(seed)):
        if seed is None or 0 <= seed < 2**32:
            return PortableSeed(seed)
    return seed


def _draw(transform, shape, seed, scale, offset):
    """`scale * (t + offset / scale)` for `t` the values of `transform`
    (see `threefry.draw`) under the next key of `seed`."""
    return threefry.draw(transform, shape, seed.next_key(), scale, offset,
                         traced=sharding.is_tracing())


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
    values = _draw(threefry.symmetric_uniform, shape, seed,
                   (maxval - minval) / 2.0, (maxval + minval) / 2.0)
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
    values = _draw(threefry.standard_normal, shape, seed, stddev, mean)
    return ops.cast(values, dtype)


def truncated_normal(shape, mean, stddev, dtype, seed, lower=-2.0,
                     upper=2.0):
    """Normal values truncated to `[mean + lower * stddev, mean + upper *
    stddev]` (bounds in standard deviations, either may be infinite),
    portable only; the native sampler is `random_initializers.
    truncated_normal`. The default `[-2, 2]` has its own finer table."""
    if lower == -2.0 and upper == 2.0:
        values = _draw(threefry.standard_truncated_normal, shape, seed,
                       stddev, mean)
        return ops.cast(values, dtype)
    transform = threefry.bounded_normal(float(lower), float(upper))
    values = _draw(transform, shape, seed, stddev, mean)
    # Keep the rounding of the affine map inside the bounds.
    low = max(mean + stddev * lower, -3e38)
    high = min(mean + stddev * upper, 3e38)
    values = ops.clip(values, float(np.float32(low)), float(np.float32(high)))
    return ops.cast(values, dtype)
