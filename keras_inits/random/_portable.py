"""Portable seeds: the same random values on every backend and device.

Each Keras backend draws from its own generator, so a seed gives different
weights on TensorFlow, JAX, PyTorch and NumPy. A `PortableSeed` instead
draws from keras_inits' own counter-based generator (`_generator`:
Threefry-2x32-20 in 32-bit integer operations, with fixed transforms to
float32), so its float32 values depend on the seed alone: not on the
backend, the device, or future changes to numpy's, TensorFlow's, JAX's or
PyTorch's own generators. Orthogonal initializers add a QR decomposition,
whose rounding differs by backend: their values agree to about 1e-5 (see
docs/portable-seeds.md).

This module holds the seed and the switch (`set_portable`); the samplers
(`_samplers`) draw with it.
"""

import random
import threading

import keras
import numpy as np

from keras_inits._internal import checks

_state = {"portable": False}


def set_portable(enabled: bool) -> None:
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
        raise checks.argument_error(
            "set_portable", "enabled", "True or False", enabled
        )
    _state["portable"] = enabled


def is_portable() -> bool:
    """Whether `set_portable(True)` is in effect."""
    return _state["portable"]


# Registered as Keras registers any object, under keras_inits' package:
# `keras_inits.register` is for initializers, a layer above this one.
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

    def __init__(self, seed: int | np.integer | None = None):
        if seed is not None and not (
            checks.is_whole_number(seed) and 0 <= seed < 2**32
        ):
            raise checks.argument_error(
                "PortableSeed",
                "seed",
                "None or an integer in [0, 2**32)",
                seed,
            )
        self.seed = None if seed is None else int(seed)
        self.draws = 0
        self.lock = threading.RLock()

    def get_config(self) -> dict:
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

    def next_key(self) -> tuple[int, int]:
        """The Threefry key of the next draw, advancing the sequence."""
        # Reading the count and storing the next one is two steps: without
        # the lock, two threads could take the same key.
        with self.lock:
            if self.seed is None:
                return (random.getrandbits(32), 0)
            key = (self.seed, self.draws & 0xFFFFFFFF)
            self.draws += 1
            return key
