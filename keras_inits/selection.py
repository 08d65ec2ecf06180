"""Which variables `reinitialize` re-draws, their keys, and where each
variable's initializer is found.

Keras does not keep a variable's initializer once the variable holds a
value. What it does keep is each layer's config and build shapes, the
record `.keras` files are loaded from. So the initializers of a layer's
variables are found on a throwaway twin rebuilt from that record
(`keras_internals.layer_twin`): its `build` runs the layer's own
`add_weight(initializer=...)` calls, nothing is allocated, and each twin
variable then holds the exact initializer, closures such as LSTM's
`unit_forget_bias` bias included. No list of layer types is kept here.

A variable's key is its place in the model below the root, written with
the names the user gave layers and, for a layer Keras named (`dense_7`),
its class and position among its siblings (`dense#2`). Keys are computed
for the whole model, whatever is selected, so a variable's key (and the
seed derived from it) does not depend on the selection.
"""

import re

import keras

from keras_inits import checks
from keras_inits import keras_internals


class Unattributed(Exception):
    """The initializer of some variables cannot be found; the message says
    why."""


def select_variables(root, layers, skip_frozen, reset_adapted):
    """The weight owners of `root` selected by `layers` (see
    `reinitialize`), as three lists:

    - `[(capture, [(key, variable)])]`, one item per selected layer that
      owns variables: `capture()` returns `{id(variable): found}` for that
      layer's variables, where `found` is `(initializer, owned)` (`owned`:
      the ids of the twin's layers, which a closure initializer may hold) or
      a string saying why none was found; it raises `Unattributed` when the
      layer cannot be rebuilt at all;
    - `[(variable, reason)]`, the state a layer's `adapt()` computed, left
      alone (unless `reset_adapted`);
    - the layers whose adapted state is reset (`reset_adapted=True`).

    Raises a ValueError naming the argument when `layers` is not a valid
    selection of `root`'s layers.

    Examples:

    >>> from keras_inits import selection
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(3, name="out")], name="mlp")
    >>> targets, adapted, reset = selection.select_variables(
    ...     model, None, skip_frozen=False, reset_adapted=False)
    >>> [key for _, variables in targets for key, _ in variables]
    ['out/kernel', 'out/bias']
    >>> found = targets[0][0]()
    >>> type(found[id(model.layers[0].kernel)][0]).__name__
    'GlorotUniform'
    """
    wanted = _selector(root, layers)
    targets, adapted, reset = [], [], []
    seen_layers, seen_variables = set(), set()

    def visit(layer, prefix, selected, frozen):
        if id(layer) in seen_layers:
            return
        seen_layers.add(id(layer))
        selected = selected or wanted(layer)
        frozen = frozen or (skip_frozen and not layer.trainable)
        variables = keras_internals.own_variables(layer)
        own = [(prefix + segment, v) for segment, v in zip(
            _segments(variables), variables) if id(v) not in seen_variables]
        seen_variables.update(id(v) for _, v in own)
        if own and selected and not frozen:
            is_adapted = callable(getattr(layer, "adapt", None))
            if is_adapted and not reset_adapted:
                reason = (f"{type(layer).__name__}.adapt() computes it from "
                          "data: it is not an initial weight (pass "
                          "`reset_adapted=True` to reset it)")
                adapted.extend((v, reason) for _, v in own)
            else:
                targets.append((lambda: capture_layer(layer), own))
                if is_adapted:
                    reset.append(layer)
        children = keras_internals.sublayers(layer)
        for segment, child in zip(_segments(children), children):
            visit(child, prefix + segment + "/", selected, frozen)

    visit(root, "", False, False)
    return targets, adapted, reset


def optimizer_variables(model):
    """The compiled optimizer's variables of `model`, as one item of
    `select_variables`' first list: `(capture, [(key, variable)])`, keyed
    `optimizer/...`. Raises a ValueError when `model` has no optimizer."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
            "reset_optimizer=True needs a compiled model. "
            f"{model.name} has no optimizer."
        )

    def capture():
        try:
            twin = keras_internals.optimizer_twin(optimizer)
        except Exception as error:
            raise Unattributed(
                f"{type(optimizer).__name__} cannot be rebuilt to find its "
                f"initial state ({type(error).__name__}: {error})") from None
        # Iterations and learning rate hold their initial values; slot
        # variables their initializers.
        return _match(optimizer.variables, twin.variables, optimizer.name,
                      lambda v: (keras_internals.deferred_initializer(v)
                                 or v.value, ()))

    # Their initial values are constants: the keys only label them.
    variables = optimizer.variables
    return capture, [("optimizer/" + segment, v) for segment, v in zip(
        _segments(variables), variables)]


def capture_layer(layer):
    """Returns `{id(variable): found}` for `layer`'s own variables (see
    `select_variables`); raises `Unattributed` when `layer` cannot be
    rebuilt from its config."""
    name = type(layer).__name__
    try:
        twin, assigned = keras_internals.layer_twin(layer)
    except Exception as error:
        raise Unattributed(
            f"{name} cannot be rebuilt from its config to find its "
            f"initializers ({type(error).__name__}: {error}). Give it a "
            "`get_config` that `from_config` accepts."
        ) from None
    owned = {id(x) for x in keras_internals.all_layers(twin)}
    return _match(
        keras_internals.own_variables(layer),
        keras_internals.own_variables(twin), name,
        lambda v: (keras_internals.deferred_initializer(v), owned)
        if id(v) not in assigned
        else f"{name}.build assigns its value by hand")


def _match(originals, twins, name, initializer_of):
    """Pairs variables in order when both lists have the same shapes (a
    weight left unnamed is auto-named differently in the twin), else by
    (name, occurrence): a weight added outside `build` then has no twin and
    is reported instead of shifting the others."""
    if [tuple(v.shape) for v in originals] == [tuple(v.shape) for v in twins]:
        return {id(v): initializer_of(t) for v, t in zip(originals, twins)}
    by_key, counts = {}, {}
    for v in twins:
        counts[v.name] = counts.get(v.name, 0) + 1
        by_key[(v.name, counts[v.name])] = v
    found, counts = {}, {}
    for v in originals:
        counts[v.name] = counts.get(v.name, 0) + 1
        twin = by_key.get((v.name, counts[v.name]))
        if twin is None or tuple(twin.shape) != tuple(v.shape):
            found[id(v)] = f"{name} rebuilt from its config has no such weight"
        else:
            found[id(v)] = initializer_of(twin)
    return found


def _segments(siblings):
    """The key segment of each of `siblings` (layers of one parent, or one
    layer's variables): the name the user gave it, or for a name Keras
    generated (`dense_7`, from a global counter that differs between two
    builds of the same model) its class's (`dense`); a segment that an
    earlier sibling already has gets `#2`, `#3`, in order."""
    segments, counts = [], {}
    for item in siblings:
        generic = keras_internals.generic_name(item)
        name = item.name
        if re.fullmatch(re.escape(generic) + r"(_\d+)?", name):
            name = generic
        counts[name] = counts.get(name, 0) + 1
        segments.append(name if counts[name] == 1
                        else f"{name}#{counts[name]}")
    return segments


def _selector(root, layers):
    """A predicate `layer -> bool` for the `layers` argument of
    `reinitialize`; raises a ValueError naming it when it is not valid."""
    if layers is None:
        return lambda layer: True
    requirement = ("None, a layer or layer name, a list of layers and names, "
                   "or a predicate `layer -> bool`")
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
    items = (None if isinstance(layers, (bytes, bytearray))
             or not hasattr(layers, "__iter__") else list(layers))
    if items is None or not all(isinstance(item, (str, keras.layers.Layer))
                                for item in items):
        raise checks.argument_error("reinitialize", "layers", requirement,
                                    layers)
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
