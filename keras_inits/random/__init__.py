"""Randomness: seeds of both kinds, portable seeds, and the samplers every
random initializer draws with.

A random initializer takes a `Seed`: None (fresh values at every call), an
integer (a reproducible sequence of draws), a `keras.random.SeedGenerator`,
or a `PortableSeed`, whose values are the same on every backend and device
(`set_portable(True)` makes every new int seed portable). The samplers
(`uniform`, `normal`, `truncated_normal` with any bounds,
`orthogonal_matrix`) draw with either kind; an initializer of your own that
draws through them takes a `PortableSeed` too. The seed functions
(`check_seed`, `seed_config`, `read_seed`, `derive_seed`, `generator_for`,
`draw_lock`) are the protocol `keras_inits.RandomInitializer` follows, for
initializers that need it directly.

keras_inits' own generator (Threefry-2x32 and its quantile tables) and the
Householder product behind `orthogonal_matrix` are private to this folder.

Examples:

    >>> from keras_inits import random
    >>> seed = random.PortableSeed(7)
    >>> float(random.normal((1,), 0.0, 1.0, "float32", seed)[0])  # everywhere
    -0.23145616054534912
"""

from keras_inits.random._portable import PortableSeed
from keras_inits.random._portable import is_portable
from keras_inits.random._portable import set_portable
from keras_inits.random._samplers import MAX_SIGMAS
from keras_inits.random._samplers import NORMAL_REACH
from keras_inits.random._samplers import Generator
from keras_inits.random._samplers import check_sigma_bounds
from keras_inits.random._samplers import normal
from keras_inits.random._samplers import orthogonal_matrix
from keras_inits.random._samplers import truncated_normal
from keras_inits.random._samplers import uniform
from keras_inits.random._seeds import Seed
from keras_inits.random._seeds import check_seed
from keras_inits.random._seeds import derive_seed
from keras_inits.random._seeds import draw_lock
from keras_inits.random._seeds import generator_for
from keras_inits.random._seeds import read_seed
from keras_inits.random._seeds import seed_config

__all__ = [
    "MAX_SIGMAS",
    "NORMAL_REACH",
    "Generator",
    "PortableSeed",
    "Seed",
    "check_seed",
    "check_sigma_bounds",
    "derive_seed",
    "draw_lock",
    "generator_for",
    "is_portable",
    "normal",
    "orthogonal_matrix",
    "read_seed",
    "seed_config",
    "set_portable",
    "truncated_normal",
    "uniform",
]
