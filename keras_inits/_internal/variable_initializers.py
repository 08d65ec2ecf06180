"""The initializer each of a layer's (or an optimizer's) variables was
made with.

Keras does not keep a variable's initializer once the variable holds a
value. Two things do keep it:

- the layer itself, for most of Keras' layers: `Dense` holds
  `kernel_initializer` and `bias_initializer`, `BatchNormalization`
  `gamma_initializer` ... `moving_variance_initializer`; in general the
  variable named `w` is made by `build` with the initializer the layer
  holds as `{w}_initializer` (or `_{w}_initializer`), a
  `keras.initializers.Initializer` (the "held" initializer);
- Keras' record of the layer, its config and build shapes, from which
  `.keras` files are loaded. A throwaway twin rebuilt from it
  (`keras_internals.layer_twin`) runs the layer's own `build`, whose
  `add_weight(initializer=...)` calls allocate nothing inside a
  `ScratchScope`: each twin variable then holds the exact initializer
  `build` passed, closures such as LSTM's `unit_forget_bias` bias
  included.

The package promises that each variable is re-drawn from exactly what its
layer used, so the rule is:

1. A layer whose class is one that `keras.layers` exports (the class
   itself, not a subclass, whose `build` may differ), not in
   `_HELD_EXCEPTIONS` and not quantized (a quantized `build` makes other
   variables), is read from its held initializers when it holds one for
   every variable it owns: no twin, no `get_config`.
   `tests/_internal/test_variable_initializers.py` builds every
   `keras.layers` export it can from a small input and checks, variable
   by variable, that the held initializer is of the class and config the
   twin's `build` passes, with seeded and with default initializers; the
   exceptions are the layers where it is not: `LSTMCell`, whose bias with
   `unit_forget_bias=True` is a closure made in `build` (as is that of
   `ConvLSTMCell`, which is not exported), and `EinsumDense`, whose
   `build` gives a variance-scaling kernel initializer the kernel's axes
   (and so the attention layers made of it). Layers that name a
   variable's initializer otherwise (`recurrent_initializer` for
   `recurrent_kernel`, `depthwise_initializer` for `kernel`) hold none by
   this rule and keep the twin.
2. Any other layer (a subclass, keras-hub's, a user's), or a Keras layer
   without a held initializer for some variable, is rebuilt: first from
   its config; when that fails (a `get_config` that writes arguments its
   constructor refuses, as keras-hub's `ViTPatchingAndEmbedding`, or none
   at all, as its `MixtralMoeExperts`), from its constructor called with
   the arguments its attributes of the same names hold
   (`keras_internals.layer_twin_from_attributes`), which must give
   variables of the same names and shapes. Either way the initializers
   are those `build` passes.
3. When neither twin can be built, the held initializers are used for the
   variables that have one; a variable without one is `NotFound`, and a
   layer with none raises `NotRebuilt`, in a short message that names the
   layer and the first line of the error.

A held initializer is the layer's own object: `Found` hands it out as it
is, and the planning of `reinitialize` only reads its config to draw from
a reseeded copy (`model._planning._reseeded`), never changing it. Building
a twin calls `get_config`, which would import TensorFlow under JAX or
PyTorch: it runs within `keras_internals.tensorflow_left_unimported`.

`reinitialize` re-draws variables from what this finds, and `describe`
and `lsuv` show and use it.
"""

import dataclasses
import functools
import inspect
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
    (those of its sublayers are theirs), by the rule of this module's
    docstring. Raises `NotRebuilt` when `layer` holds no initializer and
    cannot be rebuilt."""
    variables = keras_internals.own_variables(layer)
    held = {id(v): held_initializer(layer, v) for v in variables}
    if is_verified(layer) and all(h is not None for h in held.values()):
        return {id(v): Found(held[id(v)]) for v in variables}
    name = type(layer).__name__
    try:
        return _from_twin(layer, keras_internals.layer_twin(layer), False)
    except Exception as error:
        reason = _brief(error)
    try:
        twin = keras_internals.layer_twin_from_attributes(layer)
        return _from_twin(layer, twin, True)
    except Exception:
        pass
    # A few lines at most, where Keras' message repeats its example code.
    message = (
        f"{name} cannot be rebuilt from its config to find its "
        f"initializers (layer {_cut(layer.name, 60)!r}: {reason})"
    )
    if all(h is None for h in held.values()):
        raise NotRebuilt(
            message + "; give it a `get_config` that `from_config` accepts"
        )
    return {
        id(v): NotFound(message) if h is None else Found(h)
        for v, h in zip(variables, held.values())
    }


def held_initializer(
    layer: keras.layers.Layer, variable: keras.Variable
) -> keras.initializers.Initializer | None:
    """The initializer `layer` holds for its variable named `w`: its
    attribute `{w}_initializer`, else `_{w}_initializer`, when that is a
    `keras.initializers.Initializer` (the object itself) or a name or
    config `keras.initializers.get` resolves to one; else None. A plain
    function is not taken: a closure's cells would be changed to reseed
    it."""
    for attribute in (
        f"{variable.name}_initializer",
        f"_{variable.name}_initializer",
    ):
        value = vars(layer).get(attribute)
        if isinstance(value, keras.initializers.Initializer):
            return value
        if isinstance(value, (str, dict)):
            try:
                with keras_internals.tensorflow_left_unimported():
                    resolved = keras.initializers.get(value)
            except Exception:  # a name or config Keras does not resolve
                continue
            if isinstance(resolved, keras.initializers.Initializer):
                return resolved
    return None


def is_verified(layer: keras.layers.Layer) -> bool:
    """Whether `layer`'s held initializers are verified to be those its
    `build` passes: its class is exported by `keras.layers` (itself, not
    a subclass) and not one of `_HELD_EXCEPTIONS`, and it is not
    quantized."""
    cls = type(layer)
    return (
        cls in _keras_layer_classes()
        and cls not in _HELD_EXCEPTIONS
        # A quantized layer's `build` makes other variables.
        and getattr(layer.dtype_policy, "quantization_mode", None) is None
    )


# Exported Keras layers whose held initializer is not always what `build`
# passes (found by tests/_internal/test_variable_initializers.py):
# - LSTMCell: with `unit_forget_bias=True`, its bias is a closure made in
#   `build` that concatenates `bias_initializer`'s draws with ones;
# - EinsumDense: for a variance-scaling `kernel_initializer` without axes
#   (the default GlorotUniform), `build` passes a copy that knows the
#   kernel's input and output axes, which set its fans.
_HELD_EXCEPTIONS = frozenset({keras.layers.LSTMCell, keras.layers.EinsumDense})


@functools.cache
def _keras_layer_classes() -> frozenset[type]:
    """The layer classes `keras.layers` exports, defined by Keras."""
    return frozenset(
        value
        for value in vars(keras.layers).values()
        if inspect.isclass(value)
        and issubclass(value, keras.layers.Layer)
        and value.__module__.startswith("keras.")
    )


def _from_twin(layer, built, strict):
    """`{id(variable): Found or NotFound}` for `layer`'s own variables from
    its twin, `built` being `(twin, assigned)` of `keras_internals.
    layer_twin`. `strict`: raise a ValueError unless the twin's variables
    have the same names and shapes, in the same order."""
    twin, assigned = built
    name = type(layer).__name__
    originals = keras_internals.own_variables(layer)
    twins = keras_internals.own_variables(twin)
    if strict and [(v.name, tuple(v.shape)) for v in originals] != [
        (v.name, tuple(v.shape)) for v in twins
    ]:
        raise ValueError(f"{name} rebuilt has other weights")
    owned = frozenset(id(x) for x in keras_internals.all_layers(twin))

    def found(variable):
        if id(variable) in assigned:
            return NotFound(f"{name}.build assigns its value by hand")
        return Found(keras_internals.deferred_initializer(variable), owned)

    return _match(originals, twins, name, found)


def _cut(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters (ending with "...")."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _brief(error: Exception, limit: int = 200) -> str:
    """`error`'s class and the first line of its message, cut to `limit`
    characters. Keras' deserialization error starts with the whole
    config; what it caught follows "Exception encountered: "."""
    text = str(error)
    marker = "Exception encountered: "
    if marker in text:
        text = text[text.index(marker) + len(marker) :]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = _cut(lines[0], limit) if lines else ""
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


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
