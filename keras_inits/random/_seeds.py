"""Seeds: how a random initializer checks, keeps, saves, reads, derives and
locks its seed, of either kind: a `keras.random.SeedGenerator` (or an int
or None, which become one) or a `keras_inits.PortableSeed`. A random
initializer keeps its `seed` as `check_seed` returns it and draws from
`generator_for(seed)` while holding `draw_lock(generator)`; the samplers
(`_samplers`) make the draws.
"""

import hashlib
import threading
import weakref
from typing import Any

import keras
import numpy as np

from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal.limits import SEED_LIMIT
from keras_inits.random._portable import PortableSeed
from keras_inits.random._portable import is_portable

Seed = int | keras.random.SeedGenerator | PortableSeed | None
"""What a random initializer takes as `seed`: None (fresh values at every
call), an integer in [0, 2**32), a `keras.random.SeedGenerator` or a
`keras_inits.PortableSeed`."""


def check_seed(owner: str, seed: object) -> Seed:
    """Returns the seed an initializer `owner` keeps: None, an int in
    [0, 2**32), a `keras.random.SeedGenerator` or a `PortableSeed`. A saved
    PortableSeed (a dict) is restored, a saved SeedGenerator gives its
    initial seed (in [0, 2**32)), and an int or None becomes a
    PortableSeed while `set_portable(True)` is on."""
    if isinstance(seed, dict):
        # Keras' deserializer passes a config's seed on as it is: a saved
        # PortableSeed, or Keras' saved SeedGenerator, which gives its
        # initial int seed here as in `serialization.deserialize` (each
        # checked field by field, its seed's range included).
        if _generator_seed(seed) is not None:
            return check_seed(owner, read_seed(owner, seed, limit=2**32))
        refused = checks.argument_error(
            owner, "seed", "a saved PortableSeed", seed
        )
        try:
            restored = read_seed(owner, seed)
        except ValueError as error:
            raise refused from error
        if not isinstance(restored, PortableSeed):
            raise refused
        return restored
    if seed is None or isinstance(
        seed, (keras.random.SeedGenerator, PortableSeed)
    ):
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


def seed_config(seed: Seed) -> int | dict | None:
    """A kept seed as an initializer's config holds it: None and ints as
    they are, a `SeedGenerator` as its initial seed (which replays its
    sequence), a PortableSeed in Keras' serialized form
    (`{"module", "class_name", "config": {"seed": ...}, "registered_name"}`)."""
    if isinstance(seed, keras.random.SeedGenerator):
        return seed.get_config()["seed"]
    if isinstance(seed, PortableSeed):
        serialized: Any = keras.saving.serialize_keras_object(seed)  # a dict
        return serialized
    return seed


_SAVED_SEEDS = (
    "None, an integer or a serialized keras.random.SeedGenerator or "
    "keras_inits.PortableSeed"
)


def _limit_text(limit: int) -> str:
    """`limit` as the error messages write it: `2**31` for a power of 2."""
    power = limit.bit_length() - 1
    return f"2**{power}" if limit == 2**power else f"{limit:,}"


def _range_reason(limit: int) -> str:
    """Why seeds stop at `limit`, for an error message."""
    if limit == SEED_LIMIT:
        return " (the seeds Keras' SeedGenerator takes on every backend)"
    return ""


def _generator_seed(seed: object) -> int | None:
    """The initial seed of `seed`, Keras' serialized
    `keras.random.SeedGenerator` (`{"module": "keras.random", "class_name":
    "SeedGenerator", "config": {"seed": ...}, "registered_name": None}`,
    `module` optional) holding an integer seed, read field by field; None
    for anything else."""
    if not (isinstance(seed, dict) and isinstance(seed.get("config"), dict)):
        return None
    value = seed["config"].get("seed")
    if (
        seed.get("class_name") == "SeedGenerator"
        and seed.get("module") in (None, "keras.random")
        and seed.get("registered_name") is None
        and checks.is_whole_number(value)
    ):
        return int(value)
    return None


def read_seed(
    owner: str, seed: object, limit: int | None = None
) -> int | np.integer | PortableSeed | None:
    """The seed that `seed`, saved in a config of initializer `owner`,
    stands for.

    None and integers are saved as they are (`check_seed` checks their
    range). Keras' serialized `keras.random.SeedGenerator` gives its initial
    integer seed, which replays its sequence. A serialized `PortableSeed`,
    with or without `module` and `registered_name`, gives a PortableSeed.
    Each field is checked here: Keras' deserializer would resolve whatever
    class a config names, through the registry or by importing its module.
    Anything else is a ValueError naming `owner` and the value.

    With `limit`, an integer seed, bare or a SeedGenerator's, must be in
    `[0, limit)`, else a ValueError names `owner`, the seed and the range:
    `2**32` for keras_inits' initializers, `limits.SEED_LIMIT` (2**31) for
    a Keras initializer or a SeedGenerator that Keras rebuilds, the seeds
    that Keras' SeedGenerator takes on every backend (PyTorch's holds its
    state as int32, JAX's and NumPy's as uint32).
    """
    generator_seed = _generator_seed(seed)
    if seed is None or checks.is_whole_number(seed):
        if seed is not None and limit is not None and not 0 <= seed < limit:
            raise checks.argument_error(
                owner,
                "seed",
                f"None or an integer in [0, {_limit_text(limit)})"
                f"{_range_reason(limit)}",
                seed,
            )
        return seed
    if generator_seed is not None:
        if limit is not None and not 0 <= generator_seed < limit:
            raise checks.argument_error(
                owner,
                "seed",
                "a saved keras.random.SeedGenerator whose seed is an "
                f"integer in [0, {_limit_text(limit)})"
                f"{_range_reason(limit)}",
                seed,
            )
        return generator_seed
    if isinstance(seed, dict) and isinstance(seed.get("config"), dict):
        name, module = seed.get("class_name"), seed.get("module")
        registered, config = seed.get("registered_name"), seed["config"]
        ours = keras.saving.get_registered_name(PortableSeed)
        package = ours.split(">")[0]
        if (
            name in ("PortableSeed", ours)
            and registered in (None, ours)
            and (module is None or str(module).split(".")[0] == package)
            and set(config) <= {"seed"}
            and (
                config.get("seed") is None
                or checks.is_whole_number(config["seed"])
            )
        ):
            return PortableSeed(config.get("seed"))
    raise ValueError(
        f"A `seed` in an initializer config must be {_SAVED_SEEDS}. "
        f"Received: {owner}(seed={seed!r})"
    )


def derive_seed(seed: int | PortableSeed, key: str) -> int | PortableSeed:
    """The seed of the part `key` (a string) of something seeded with
    `seed`, of the same kind: an int below 2**31 for an int, a
    PortableSeed for a PortableSeed (and for `PortableSeed(None)`, which
    draws anew every time, `PortableSeed(None)`). Stable across runs and
    processes (Python's own `hash` of a string is salted per process).

    Examples:

        >>> from keras_inits.random import derive_seed
        >>> derive_seed(0, "dense/kernel") == derive_seed(0, "dense/kernel")
        True
    """
    if isinstance(seed, PortableSeed):
        if seed.seed is None:
            return PortableSeed(None)
        return PortableSeed(_derived_int(seed.seed, key))
    return _derived_int(seed, key)


def _derived_int(seed: int, key: str) -> int:
    """`derive_seed` of an int seed."""
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % SEED_LIMIT


def _native_seed(seed):
    """An integer seed in [0, 2**32) as Keras' SeedGenerator takes it on
    this backend: PyTorch's holds its state as int32 and refuses seeds from
    2**31 ("value cannot be converted to type int32"), so those become the
    negative int32 of the same bits there, a distinct seed for each."""
    if (
        seed is not None
        and seed >= 2**31
        and (keras.backend.backend() == "torch")
    ):
        return seed - 2**32
    return seed


def generator_for(seed: Seed) -> keras.random.SeedGenerator | PortableSeed:
    """What draws with a kept seed: the `SeedGenerator` or `PortableSeed`
    itself, or for an int or None a new `keras.random.SeedGenerator` of
    that seed whose state variable is made only when something needs it
    (`keras_internals.DeferredSeedGenerator`: a variable per layer made
    building a model slow)."""
    if isinstance(seed, (keras.random.SeedGenerator, PortableSeed)):
        return seed
    return keras_internals.DeferredSeedGenerator(_native_seed(seed))


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


def draw_lock(
    generator: keras.random.SeedGenerator | PortableSeed,
) -> threading.RLock:
    """The re-entrant lock that a draw from `generator` (a
    `keras.random.SeedGenerator` or a `PortableSeed`) holds throughout, so
    that it advances the generator atomically."""
    if isinstance(generator, PortableSeed):
        return generator.lock
    with _locks_guard:
        lock = _generator_locks.get(generator)
        if lock is None:
            lock = threading.RLock()
            _generator_locks[generator] = lock
    return lock
