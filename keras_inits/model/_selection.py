"""Which variables `reinitialize` re-draws, and their keys.

A variable's key is its place in the model below the root, written with
the names the user gave layers and, for a layer Keras named (`dense_7`),
its class and position among its siblings (`dense#2`). Keys are computed
for the whole model, whatever is selected, so a variable's key (and the
seed derived from it) does not depend on the selection. Where each
variable's initializer comes from is `_internal.variable_initializers`'.
"""

import dataclasses
import re
from collections.abc import Callable
from collections.abc import Iterable

import keras

from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal import variable_initializers
from keras_inits._internal.variable_initializers import Found
from keras_inits._internal.variable_initializers import NotFound

LayerSelection = (
    None
    | str
    | keras.layers.Layer
    | Iterable[str | keras.layers.Layer]
    | Callable[[keras.layers.Layer], bool]
)
"""What `reinitialize`'s `layers` takes: None (every layer), a layer or a
layer's name, an iterable of them, or a predicate `layer -> bool`."""


@dataclasses.dataclass(frozen=True)
class Owner:
    """A layer (or the optimizer) whose variables are re-drawn: its own
    variables, each with its key, and `find()`, which gives
    `{id(variable): Found or NotFound}` for them (or raises
    `variable_initializers.NotRebuilt`)."""

    variables: tuple[tuple[str, keras.Variable], ...]
    find: Callable[[], dict[int, Found | NotFound]]


@dataclasses.dataclass(frozen=True)
class Selection:
    """What `select_variables` chose: the `owners` whose variables are
    re-drawn; the state layers' `adapt()` computed, kept, each variable
    with the reason (`adapted`); and the layers whose adapted state is
    reset (`reset`, with `reset_adapted=True`)."""

    owners: tuple[Owner, ...]
    adapted: tuple[tuple[keras.Variable, str], ...]
    reset: tuple[keras.layers.Layer, ...]


def select_variables(
    root: keras.layers.Layer,
    layers: LayerSelection,
    skip_frozen: bool,
    reset_adapted: bool,
) -> Selection:
    """The variables of `root` that `layers` selects (see `reinitialize`).

    Raises a ValueError naming the argument when `layers` is not a valid
    selection of `root`'s layers.

    Examples:

        >>> from keras_inits.model._selection import select_variables
        >>> model = keras.Sequential(
        ...     [keras.Input((4,)), keras.layers.Dense(3, name="out")], name="mlp")
        >>> selection = select_variables(
        ...     model, None, skip_frozen=False, reset_adapted=False)
        >>> [key for owner in selection.owners for key, _ in owner.variables]
        ['out/kernel', 'out/bias']
        >>> found = selection.owners[0].find()
        >>> type(found[id(model.layers[0].kernel)].initializer).__name__
        'GlorotUniform'
    """
    wanted = _selector(root, layers)
    owners = []
    adapted = []
    reset = []
    seen_layers = set()  # ids of the layers visited
    seen_variables = set()  # ids of the variables given a key

    def visit(layer, prefix, selected, frozen):
        if id(layer) in seen_layers:
            return
        seen_layers.add(id(layer))
        selected = selected or wanted(layer)
        frozen = frozen or (skip_frozen and not layer.trainable)
        variables = keras_internals.own_variables(layer)
        own = tuple(
            (prefix + segment, v)
            for segment, v in zip(_segments(variables), variables)
            if id(v) not in seen_variables
        )
        seen_variables.update(id(v) for _, v in own)
        if own and selected and not frozen:
            is_adapted = callable(getattr(layer, "adapt", None))
            if is_adapted and not reset_adapted:
                reason = (
                    f"{type(layer).__name__}.adapt() computes it from "
                    "data: it is not an initial weight (pass "
                    "`reset_adapted=True` to reset it)"
                )
                adapted.extend((v, reason) for _, v in own)
            else:
                owners.append(
                    Owner(
                        own,
                        lambda: variable_initializers.layer_initializers(
                            layer
                        ),
                    )
                )
                if is_adapted:
                    reset.append(layer)
        children = keras_internals.sublayers(layer)
        for segment, child in zip(_segments(children), children):
            visit(child, prefix + segment + "/", selected, frozen)

    visit(root, "", False, False)
    return Selection(tuple(owners), tuple(adapted), tuple(reset))


def optimizer_variables(model: keras.Model) -> Owner:
    """The compiled optimizer of `model` as an `Owner`, its variables keyed
    `optimizer/...` (their initial values are constants: the keys only
    label them). Raises a ValueError when `model` has no optimizer."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
            "reset_optimizer=True needs a compiled model. "
            f"{model.name} has no optimizer."
        )
    variables = optimizer.variables
    return Owner(
        tuple(
            ("optimizer/" + segment, v)
            for segment, v in zip(_segments(variables), variables)
        ),
        lambda: variable_initializers.optimizer_initializers(optimizer),
    )


def _segments(siblings):
    """The key segment of each of `siblings` (layers of one parent, or one
    layer's variables): the name the user gave it, or for a name Keras
    generated (`dense_7`, from a global counter that differs between two
    builds of the same model) its class's (`dense`); a segment that an
    earlier sibling already has gets `#2`, `#3`, in order."""
    segments = []
    counts = {}  # segment -> siblings so far that have it
    for item in siblings:
        generic = keras_internals.generic_name(item)
        name = item.name
        if re.fullmatch(re.escape(generic) + r"(_\d+)?", name):
            name = generic
        counts[name] = counts.get(name, 0) + 1
        segments.append(
            name if counts[name] == 1 else f"{name}#{counts[name]}"
        )
    return segments


def _selector(root, layers):
    """A predicate `layer -> bool` for the `layers` argument of
    `reinitialize`; raises a ValueError naming it when it is not valid."""
    if layers is None:
        return lambda layer: True
    requirement = (
        "None, a layer or layer name, a list of layers and names, "
        "or a predicate `layer -> bool`"
    )
    if isinstance(layers, type):  # a class is callable, but no predicate
        raise ValueError(
            f"Argument `layers` of reinitialize must be {requirement}; to "
            "select by class, pass `lambda layer: isinstance(layer, "
            f"{layers.__name__})`. Received: layers={checks.shown(layers)}"
        )
    if callable(layers) and not isinstance(layers, keras.layers.Layer):
        return lambda layer: bool(layers(layer))
    if isinstance(layers, (str, keras.layers.Layer)):
        layers = [layers]
    # A generator is read once; bytes iterate as integers.
    items = (
        None
        if isinstance(layers, (bytes, bytearray))
        or not hasattr(layers, "__iter__")
        else list(layers)
    )
    if items is None or not all(
        isinstance(item, (str, keras.layers.Layer)) for item in items
    ):
        raise checks.argument_error(
            "reinitialize", "layers", requirement, layers
        )
    layers = items
    everything = keras_internals.all_layers(root)
    names = {layer.name for layer in everything}
    ids = {id(layer) for layer in everything}
    missing = [
        item if isinstance(item, str) else getattr(item, "name", item)
        for item in layers
        if (isinstance(item, str) and item not in names)
        or (not isinstance(item, str) and id(item) not in ids)
    ]
    if missing:
        raise ValueError(
            f"Argument `layers` of reinitialize names layers that are not in "
            f"{root.name}: {missing}. Received: layers={checks.shown(layers)}"
        )
    chosen = {item for item in layers if isinstance(item, str)}
    chosen_ids = {id(item) for item in layers if not isinstance(item, str)}
    return lambda layer: layer.name in chosen or id(layer) in chosen_ids
