"""The networks the diagnostics and experiments build, and the bounds of
their arguments.

`signal_propagation` (diagnostics) and `compare` (experiments) both measure
or train a plain MLP of `Dense` layers whose kernels come from one
initializer, each layer with a seeded copy of it: `mlp` builds it for both,
and the checks here refuse a size or seed before anything is built. The
callers resolve what the user named (`keras_inits.get`) first: this module
takes initializer instances.
"""

import keras

from keras_inits._internal import checks
from keras_inits._internal import defaults
from keras_inits._internal.before_keras import mlp_size_problem
from keras_inits._internal.limits import SEED_LIMIT

# Bounds of the experiments' arguments (`signal_propagation`, and the
# `compare` command): far beyond what the measurements need, and low enough
# that a mistyped size is refused before anything is built.
MAX_DEPTH = defaults.MAX_DEPTH
MAX_WIDTH = defaults.MAX_WIDTH
MAX_BATCH_SIZE = 65_536


def check_int_seed(owner, seed):
    """Returns `seed` as an int; it must be a whole number in [0, 2**31),
    the seeds of the experiments (a layer's seed is derived from it)."""
    if not (checks.is_whole_number(seed) and 0 <= seed < SEED_LIMIT):
        raise checks.argument_error(
            owner, "seed", "an integer in [0, 2**31)", seed
        )
    return int(seed)


def check_activation(owner, activation):
    """Raises naming `owner` unless Keras knows `activation` (a name, a
    function, or None for linear)."""
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise checks.argument_error(
            owner,
            "activation",
            "None, a function or the name of a Keras activation (relu, "
            "tanh, ...)",
            activation,
        ) from None


def check_mlp_size(owner, depth, width, inputs, batch_size):
    """Raises naming `owner` when an MLP of `depth` Dense(`width`) layers on
    `inputs` features, or a batch of `batch_size` through it, would hold
    more than `MAX_VALUES` values."""
    problem = mlp_size_problem(owner, depth, width, inputs, batch_size)
    if problem is not None:
        raise ValueError(problem)


def seeded(initializer, seed):
    """A copy of `initializer` (an instance) with `seed`, when it takes one
    and has none: identical weights for the same seed."""
    config = initializer.get_config()
    if "seed" in config and config["seed"] is None:
        config["seed"] = int(seed)
    return type(initializer).from_config(config)


def mlp(
    initializer,
    *,
    inputs,
    depth,
    width,
    activation,
    first_seed,
    prefix,
    classes=None,
    name,
):
    """A Sequential model `name`: `inputs` features, `depth` layers
    `Dense(width, activation)` named `{prefix}_1`, `{prefix}_2`, ..., and
    with `classes` a linear `Dense(classes)` named `output`; zero biases.

    Every kernel comes from its own copy of `initializer` (see `seeded`):
    layer `i`, counted from 0 with the output layer last, gets the seed
    `(first_seed + i) % 2**31`, a seed every backend takes (PyTorch's seed
    generators hold int32). The seeds and names are part of what the
    experiments report: the same arguments give the same weights.
    """
    layers = [keras.Input((inputs,))]
    for i in range(depth):
        layers.append(
            keras.layers.Dense(
                width,
                activation=activation,
                name=f"{prefix}_{i + 1}",
                kernel_initializer=seeded(
                    initializer, (first_seed + i) % SEED_LIMIT
                ),
            )
        )
    if classes is not None:
        layers.append(
            keras.layers.Dense(
                classes,
                name="output",
                kernel_initializer=seeded(
                    initializer, (first_seed + depth) % SEED_LIMIT
                ),
            )
        )
    return keras.Sequential(layers, name=name)
