"""Seeds: how a random initializer checks, keeps, saves, reads, derives and
locks its seed, of either kind: a `keras.random.SeedGenerator` (or an int
or None, which become one) or a `keras_inits.PortableSeed`. A random
initializer keeps its `seed` as `check_seed` returns it and draws from
`generator(seed)` while holding `draw_lock(generator)`; the samplers
(samplers.py) make the draws.
"""

import hashlib
import threading
import weakref

import keras

from keras_inits import checks
from keras_inits import keras_internals
from keras_inits import sharding
from keras_inits.portable import PortableSeed
from keras_inits.portable import is_portable


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
    itself, or a new `DeferredSeedGenerator` of an int or None."""
    if isinstance(seed, (keras.random.SeedGenerator, PortableSeed)):
        return seed
    return DeferredSeedGenerator(_native_seed(seed))


class DeferredSeedGenerator(keras.random.SeedGenerator):
    """`keras.random.SeedGenerator(seed)`, whose state variable is made only
    when something needs it.

    A `SeedGenerator` hands out the states `[seed, 0]`, `[seed, 1]`, ...
    from a backend variable, whose making and updating cost more than a
    small draw: building a model made one per layer. This one counts the
    same states in Python while nothing else can see them, eagerly (a
    trace for shapes only reads the state); the variable is made, holding
    the state reached, when a trace or a Keras scope draws (where a count
    in Python would be baked into a traced function, or would outlive a
    stateless scope), or when any attribute of Keras' generator is read
    (`state`, `name`...). The values drawn are those of
    `keras.random.SeedGenerator(seed)`.
    """

    def __init__(self, seed=None):
        # Keras' __init__ (which makes the variable) runs in `_make`.
        if seed is None:
            seed = keras_internals.default_seed()
        self._deferred_seed = seed
        self._count = 0
        self._made = False

    def __getattr__(self, name):
        # Only for attributes not yet set: those Keras' __init__ sets.
        if name.startswith("__") or self.__dict__.get("_made", True):
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}")
        self._make()
        return getattr(self, name)

    def _make(self):
        self._made = True
        # Eagerly: made inside a JAX trace, the state would be a tracer.
        with sharding.eagerly():
            super().__init__(self._deferred_seed)
            if self._count:
                self.state.assign([self._deferred_seed, self._count])

    def next(self, ordered=True):
        if self._made or not ordered:
            return super().next(ordered)
        state = keras_internals.seed_state(self._deferred_seed, self._count)
        if keras_internals.in_shape_trace():
            # No value is computed, and no state change would outlive the
            # trace: the state is read, not advanced.
            return state
        if not _counts_in_python():
            return super().next(ordered)
        self._count += 1
        return state


def _counts_in_python():
    """Whether a draw's seed state may be counted in Python: eagerly, and
    outside Keras' stateless and symbolic scopes."""
    if keras_internals.in_keras_scope() or sharding.is_tracing():
        return False
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly()
    return True


# One re-entrant lock per keras.random.SeedGenerator, held for a whole draw:
# `SeedGenerator.next()` reads its state, then assigns the next one, so two
# threads could draw the same values; held for the whole draw, it also
# keeps one draw's pieces (`samplers._in_pieces`, BlockOrthogonal's blocks)
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
