"""The initializer each of a layer's (or an optimizer's) variables was
made with.

Keras does not keep a variable's initializer once the variable holds a
value. What it does keep is each layer's config and build shapes, the
record `.keras` files are loaded from. So the initializers of a layer's
variables are found on a throwaway twin rebuilt from that record
(`keras_internals.layer_twin`): its `build` runs the layer's own
`add_weight(initializer=...)` calls, nothing is allocated, and each twin
variable then holds the exact initializer, closures such as LSTM's
`unit_forget_bias` bias included. No list of layer types is kept here.

`reinitialize` re-draws variables from what this finds, and `describe`
shows it.
"""

import dataclasses
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import keras

from keras_inits._internal import keras_internals


@dataclasses.dataclass(frozen=True)
class Found:
    """What made a variable: a `keras.initializers.Initializer`, another
    callable (a closure such as LSTM's forget-gate bias), or a value (an
    optimizer's initial iteration count or learning rate). `owned` holds
    the ids of the twin's layers, which a closure may reach: those, and
    only those, may be changed to reseed it."""

    initializer: object
    owned: frozenset[int] = frozenset()


@dataclasses.dataclass(frozen=True)
class NotFound:
    """Why a variable's initializer is not known (one sentence)."""

    reason: str


class NotRebuilt(Exception):
    """A layer or optimizer cannot be rebuilt to find its initializers; the
    message says why."""


def layer_initializers(
    layer: keras.layers.Layer,
) -> dict[int, Found | NotFound]:
    """`{id(variable): Found or NotFound}` for `layer`'s own variables
    (those of its sublayers are theirs). Raises `NotRebuilt` when `layer`
    cannot be rebuilt from its config."""
    name = type(layer).__name__
    try:
        twin, assigned = keras_internals.layer_twin(layer)
    except Exception as error:
        raise NotRebuilt(
            f"{name} cannot be rebuilt from its config to find its "
            f"initializers ({type(error).__name__}: {error}). Give it a "
            "`get_config` that `from_config` accepts."
        ) from None
    owned = frozenset(id(x) for x in keras_internals.all_layers(twin))

    def found(variable):
        if id(variable) in assigned:
            return NotFound(f"{name}.build assigns its value by hand")
        return Found(keras_internals.deferred_initializer(variable), owned)

    return _match(
        keras_internals.own_variables(layer),
        keras_internals.own_variables(twin),
        name,
        found,
    )


def optimizer_initializers(
    optimizer: keras.optimizers.Optimizer,
) -> dict[int, Found | NotFound]:
    """`{id(variable): Found or NotFound}` for a compiled optimizer's
    variables: its iterations and learning rate hold their initial values,
    its slot variables their initializers. Raises `NotRebuilt` when the
    optimizer cannot be rebuilt from its config."""
    try:
        twin = keras_internals.optimizer_twin(optimizer)
    except Exception as error:
        raise NotRebuilt(
            f"{type(optimizer).__name__} cannot be rebuilt to find its "
            f"initial state ({type(error).__name__}: {error})"
        ) from None

    def found(variable):
        return Found(
            keras_internals.deferred_initializer(variable) or variable.value
        )

    return _match(optimizer.variables, twin.variables, optimizer.name, found)


def _match(
    originals: Sequence[Any],
    twins: Sequence[Any],
    name: str,
    found: Callable[[Any], Found | NotFound],
) -> dict[int, Found | NotFound]:
    """Pairs variables in order when both lists have the same shapes (a
    weight left unnamed is auto-named differently in the twin), else by
    (name, occurrence): a weight added outside `build` then has no twin and
    is reported instead of shifting the others."""
    if [tuple(v.shape) for v in originals] == [tuple(v.shape) for v in twins]:
        return {id(v): found(t) for v, t in zip(originals, twins)}
    by_key = {}  # (name, occurrence) -> twin
    counts = {}  # name -> twins so far that have it
    for v in twins:
        counts[v.name] = counts.get(v.name, 0) + 1
        by_key[(v.name, counts[v.name])] = v
    matched = {}
    counts = {}  # name -> originals so far that have it
    for v in originals:
        counts[v.name] = counts.get(v.name, 0) + 1
        twin = by_key.get((v.name, counts[v.name]))
        if twin is None or tuple(twin.shape) != tuple(v.shape):
            matched[id(v)] = NotFound(
                f"{name} rebuilt from its config has no such weight"
            )
        else:
            matched[id(v)] = found(twin)
    return matched
