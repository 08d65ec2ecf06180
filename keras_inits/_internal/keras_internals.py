"""Every use of Keras' private API in keras_inits, one small function each.

Keras exports no way to find the initializer a variable was created with,
to list a layer's own variables or direct sublayers, to trace a function
for its output shape only, to read its safe-mode flag, or to make a
`SeedGenerator` whose variable comes later. The package needs each of
these, so they are here and nowhere else: when Keras changes one, this is
the only module to fix. Each function names the Keras attributes it relies
on, and `tests/_internal/test_keras_internals.py` checks each against the
installed Keras.

Checked against Keras 3.15.1 (`keras.src` layout of the 3.x series).

This module imports only `sharding` of keras_inits.
"""

import contextlib
import inspect
import sys
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

# None is exported by Keras: the shape-only trace of a function, the
# global state where a StatelessScope registers the variables it defers and
# where the safe-mode flag of deserialization is kept, and a SeedGenerator's
# state dtype and the seed it takes when given none.
from keras.src.backend import compute_output_spec as _compute_output_spec
from keras.src.backend import random_seed_dtype as _random_seed_dtype
from keras.src.backend.common import global_state as _global_state
from keras.src.random.seed_generator import (
    make_default_seed as _make_default_seed,
)
from keras.src.saving import serialization_lib as _serialization_lib
from keras.src.utils import module_utils as _module_utils
from keras.src.utils.naming import to_snake_case as _to_snake_case

from keras_inits._internal import sharding

# Layers and variables.


def own_variables(layer):
    """The variables `layer` created itself, trainable first, without those
    of its sublayers (Keras' `Layer._trainable_variables` and
    `Layer._non_trainable_variables`, the two lists `Layer.weights` is
    built from)."""
    return layer._trainable_variables + layer._non_trainable_variables


def sublayers(layer):
    """The direct sublayers of `layer`, in the order Keras tracked them
    (`Layer._layers`)."""
    return layer._layers


def all_layers(layer):
    """`layer` and every layer nested in it, at any depth, each once
    (`Layer._flatten_layers(include_self=True, recursive=True)`)."""
    return layer._flatten_layers(include_self=True, recursive=True)


def generic_name(obj):
    """The stem Keras auto-names an object of `obj`'s class with: `dense`
    for a Dense, which Keras names `dense`, `dense_1`, ...
    (`keras.src.utils.naming.to_snake_case`, as `auto_name` uses it)."""
    return _to_snake_case(type(obj).__name__)


def inbound_node_count(layer):
    """How many times `layer` was called in a functional model's graph:
    one inbound node per call (`Operation._inbound_nodes`; 0 for an object
    without it). Keras has no public count of a layer's calls."""
    return len(getattr(layer, "_inbound_nodes", ()))


def functional_graph(layer):
    """`(operations, outputs)` of the functional graph `layer` runs, or
    None: a functional model's own, or a `Sequential`'s, which Keras keeps
    as a functional model once it knows its input (`Sequential._functional`;
    `Functional.operations` and `.outputs` are public)."""
    graph = (
        getattr(layer, "_functional", None)
        if isinstance(layer, keras.Sequential)
        else layer
    )
    if not isinstance(graph, keras.Model) or not hasattr(graph, "operations"):
        return None
    try:
        return graph.operations, list(graph.outputs)
    except (AttributeError, ValueError):  # a subclassed model
        return None


def node_inputs(operation):
    """The input tensors of each call of `operation` in functional graphs,
    one list per call (`Operation._inbound_nodes`, `Node.input_tensors`)."""
    return [
        list(node.input_tensors)
        for node in getattr(operation, "_inbound_nodes", ())
    ]


def producer(tensor):
    """`(operation, input_tensors)` of the call that made `tensor` in a
    functional graph, or None for a graph's input (`KerasTensor.
    _keras_history`, the operation and node index that made it, and that
    node's `input_tensors`)."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return None
    operation, node_index = history[0], history[1]
    node = operation._inbound_nodes[node_index]
    if not node.input_tensors:  # an InputLayer
        return None
    return operation, list(node.input_tensors)


def deferred_initializer(variable):
    """The initializer of a variable whose initialization a StatelessScope
    deferred, else None (`Variable._initializer`, which Keras clears once
    the variable holds a value)."""
    return variable._initializer


def optimizer_trainable_variables(optimizer):
    """The model variables a built optimizer was built for, the argument
    its `build` took (`Optimizer._trainable_variables`)."""
    return optimizer._trainable_variables


# Twins: a copy rebuilt from Keras' own record, allocating nothing.


class ScratchScope(keras.StatelessScope):
    """A StatelessScope whose deferred variables are never initialized:
    Keras lists the variables a scope defers in the global attribute
    `"uninitialized_variables"` and would otherwise fill them later.

    Examples:

        >>> from keras_inits._internal import keras_internals
        >>> with keras_internals.ScratchScope():
        ...     v = keras.Variable(keras.initializers.Ones(), shape=(2,))
        >>> initializer = keras_internals.deferred_initializer(v)
        >>> isinstance(initializer, keras.initializers.Ones)
        True
    """

    def __init__(self):
        super().__init__(initialize_variables=False)

    def __enter__(self):
        pending = _global_state.get_global_attribute("uninitialized_variables")
        self._pending = {id(v) for v in pending or ()}
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        pending = _global_state.get_global_attribute("uninitialized_variables")
        if pending:  # forget the twin's variables, or Keras would fill them
            pending[:] = [v for v in pending if id(v) in self._pending]


def layer_twin(layer):
    """Rebuilds `layer` from its config and build config inside a
    `ScratchScope`: its `build` runs its own `add_weight(initializer=...)`
    calls and allocates nothing, so each of the twin's own variables holds
    its initializer (`deferred_initializer`).

    Returns `(twin, assigned)`: `assigned` holds the ids of the twin's own
    variables that `build` gave a value by hand (`variable.assign`), whose
    initializer says nothing of their value. Raises whatever `get_config`,
    `from_config` or `build_from_config` raises.
    """
    with tensorflow_left_unimported():
        config = layer.get_config()
        return _built_twin(layer, lambda: type(layer).from_config(config))


def layer_twin_from_attributes(layer):
    """`layer_twin`, for a layer whose config cannot be read or is refused:
    the twin is `type(layer)(**arguments)`, each named argument of its
    constructor taken from `layer`'s attribute of the same name (the
    convention Keras' and keras-hub's layers follow), with `name`, `dtype`
    (its dtype policy) and `trainable` from `layer`; an argument `layer`
    has no attribute for keeps its default. Raises a ValueError when a
    required argument has no attribute, or an attribute holds a layer, a
    variable or a seed generator (the twin would share it, and its build
    could change it); else whatever the constructor or
    `build_from_config` raises."""
    cls = type(layer)
    arguments = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or parameter.kind in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        ):
            continue
        if name in ("name", "dtype", "trainable"):
            continue
        if name in vars(layer):
            value = vars(layer)[name]
        elif parameter.default is parameter.empty:
            raise ValueError(f"no attribute holds its argument `{name}`")
        else:
            continue
        if _is_shared_state(value):
            raise ValueError(f"its attribute `{name}` holds shared state")
        arguments[name] = value
    arguments.update(
        name=layer.name, dtype=layer.dtype_policy, trainable=layer.trainable
    )
    with tensorflow_left_unimported():
        return _built_twin(layer, lambda: cls(**arguments))


def _is_shared_state(value):
    """Whether `value` holds (at any depth of lists, tuples and dicts) an
    object a twin must not share with its original: a layer, a variable
    or a seed generator."""
    if isinstance(value, (list, tuple)):
        return any(_is_shared_state(v) for v in value)
    if isinstance(value, dict):
        return any(_is_shared_state(v) for v in value.values())
    return isinstance(
        value,
        (keras.layers.Layer, keras.Variable, keras.random.SeedGenerator),
    )


def _built_twin(layer, make):
    """`(twin, assigned)` of `layer_twin`, the twin made by `make()`."""
    build_config = layer.get_build_config()
    with ScratchScope() as scope:
        twin = make()
        if build_config:
            twin.build_from_config(build_config)
        assigned = {
            id(v)
            for v in own_variables(twin)
            if scope.get_current_value(v) is not None
        }
    return twin, assigned


# The lazy `tensorflow` module of Keras' serialization: `_available` caches
# whether it can be imported, which the first `available` read finds out by
# importing it (`keras.src.utils.module_utils.LazyModule`).
_lazy_tensorflow = _module_utils.tensorflow
# Guards `_tensorflow_state`: how many `tensorflow_left_unimported` blocks
# are open, in any thread, and the `_available` the first one found.
_tensorflow_lock = threading.Lock()
_tensorflow_state = {"open": 0, "saved": None}


@contextlib.contextmanager
def tensorflow_left_unimported() -> Iterator[None]:
    """Within it, Keras' serialization does not import TensorFlow unless
    it was imported already.

    Every `keras.saving.serialize_keras_object` of an object (a layer's
    `get_config` serializes its dtype policy; `DepthScaled`'s, the
    initializer it wraps) asks `tf.available` of Keras' lazy module
    (`keras.src.utils.module_utils.tensorflow`) before testing for a
    `tf.TensorShape`, a `tf.DType` or a `tf.TypeSpec`. Under JAX or PyTorch
    that first question imports TensorFlow when it is installed: 4.4 to
    4.9 s and about 480 MB, for an answer that cannot matter, since no
    TensorFlow object exists while TensorFlow is not imported. So while
    "tensorflow" is not in `sys.modules`, the lazy module's cached answer
    (`_available`) is False inside this block, and restored when the last
    open block (of any thread) ends; the lock keeps the count, not the
    block, so threads do not wait for each other. If TensorFlow is
    imported meanwhile, Keras' own import sets `_available` and it stays.
    """
    if "tensorflow" in sys.modules:
        yield
        return
    with _tensorflow_lock:
        if _tensorflow_state["open"] == 0:
            _tensorflow_state["saved"] = _lazy_tensorflow._available
            _lazy_tensorflow._available = False
        _tensorflow_state["open"] += 1
    try:
        yield
    finally:
        with _tensorflow_lock:
            _tensorflow_state["open"] -= 1
            if (
                _tensorflow_state["open"] == 0
                and _lazy_tensorflow._available is False
            ):
                _lazy_tensorflow._available = _tensorflow_state["saved"]


def optimizer_twin(optimizer):
    """Rebuilds `optimizer` from its config, built for the same variables
    when it is built (`optimizer_trainable_variables`). Its iterations and
    learning rate are created with values, which a StatelessScope refuses:
    the twin makes them eagerly (scalars), and its slot variables (one per
    weight) inside a `ScratchScope`, holding their initializers. Raises
    whatever `from_config` or `build` raises."""
    with tensorflow_left_unimported():
        twin = type(optimizer).from_config(optimizer.get_config())
        if optimizer.built:
            with ScratchScope():
                twin.build(optimizer_trainable_variables(optimizer))
    return twin


# Tracing.


def trace_output_spec(function: Callable[[], Any]) -> keras.KerasTensor:
    """The `keras.KerasTensor` (shape and dtype) that calling `function`
    with no arguments would return, found without computing any value
    (`keras.src.backend.compute_output_spec`)."""
    spec: Any = _compute_output_spec(function)
    return spec


def in_shape_trace():
    """Whether Keras is tracing for shapes only, as `trace_output_spec`
    does: inside both a `keras.SymbolicScope` and a `keras.StatelessScope`
    (the `symbolic_scope` and `stateless_scope` attributes of Keras' global
    state), where no value is computed and no variable's change outlives
    the trace."""
    return (
        _global_state.get_global_attribute("symbolic_scope") is not None
        and _global_state.get_global_attribute("stateless_scope") is not None
    )


def in_keras_scope():
    """Whether a `keras.SymbolicScope` or a `keras.StatelessScope` is
    active (the `symbolic_scope` and `stateless_scope` attributes of Keras'
    global state): no value may then be computed, or no variable's change
    outlive the scope."""
    return (
        _global_state.get_global_attribute("symbolic_scope") is not None
        or _global_state.get_global_attribute("stateless_scope") is not None
    )


def default_seed():
    """The int seed Keras gives a `keras.random.SeedGenerator` made without
    one (`keras.src.random.seed_generator.make_default_seed`)."""
    return _make_default_seed()


def seed_state(seed, count):
    """The state `[seed, count]` of a `keras.random.SeedGenerator(seed)`
    after `count` draws, as a tensor of the dtype its variable holds
    (`keras.src.backend.random_seed_dtype`)."""
    return keras.ops.convert_to_tensor(
        [seed, count], dtype=_random_seed_dtype()
    )


# Deserialization's safe mode.


def in_safe_mode():
    """The safe-mode flag in effect for deserialization: True or False
    inside `keras.saving.load_model` or a `safe_mode_scope`, or after
    `keras.config.enable_unsafe_deserialization()`; None when nothing set it
    (`keras.src.saving.serialization_lib.in_safe_mode`, reading the global
    attribute `"safe_mode_saving"`)."""
    return _serialization_lib.in_safe_mode()


def safe_mode_scope(safe_mode):
    """A context manager that passes `safe_mode` on to every nested
    deserialization, as `load_model` does
    (`keras.src.saving.serialization_lib.SafeModeScope`).

    Examples:

        >>> from keras_inits._internal import keras_internals
        >>> with keras_internals.safe_mode_scope(False):
        ...     keras_internals.in_safe_mode()
        False
    """
    return _serialization_lib.SafeModeScope(safe_mode)


def assign(variable, values, fresh=False):
    """`variable.assign(values)`, except:

    - on the NumPy backend, where Keras' assignment copies the values into
      a new array (`np.array(value)` in
      `keras.src.backend.numpy.core.Variable._direct_assign`): there they
      are written into the variable's own array (`_value`) when its shape
      and dtype match, so that the old values, the new ones and their copy
      are not all held at once;
    - on the PyTorch backend, with `fresh` values (new, and held by nothing
      else) of the variable's shape, dtype and device: Keras' assignment
      copies them into the variable's tensor (`copy_`, 0.3 s for a
      191M-parameter model); they become its storage instead
      (`Parameter.data`), and the Parameter, which Keras' layers and
      optimizers hold, stays the same object."""
    current = getattr(variable, "_value", None)
    backend = keras.backend.backend()
    if (
        backend == "numpy"
        and isinstance(current, np.ndarray)
        and current.flags.writeable
        and current.shape == tuple(values.shape)
        and current.dtype == values.dtype
    ):
        np.copyto(current, values)
    elif not (
        fresh and backend == "torch" and _took_as_storage(current, values)
    ):
        variable.assign(values)


def _took_as_storage(current, values):
    """Makes the PyTorch tensor `values` the storage of the variable's
    tensor `current` if it can be, as it is; says whether it was."""
    import torch

    if not (
        isinstance(current, torch.Tensor)
        and isinstance(values, torch.Tensor)
        and current.shape == values.shape
        and current.dtype == values.dtype
        and current.device == values.device
        and values.is_contiguous()
        and not values.requires_grad
    ):
        return False
    current.data = values
    return True


# Backends.


def torch_device():
    """The name of the device Keras' PyTorch backend places new tensors on
    (`"cuda"`, `"cpu"`, ...): the one a `keras.device` scope set, else its
    default (`keras.src.backend.torch.core.get_device`). Imports PyTorch:
    call it only with the PyTorch backend."""
    from keras.src.backend.torch.core import get_device

    return get_device()


def torch_generator(seed):
    """The `torch.Generator` that Keras' PyTorch draws with `seed` (a
    `SeedGenerator`, whose state it advances, or an int) would use
    (`keras.src.backend.torch.random.torch_seed_generator`); None on the
    "meta" device of symbolic execution. Imports PyTorch: call it only
    with the PyTorch backend."""
    from keras.src.backend.torch.random import torch_seed_generator

    return torch_seed_generator(seed)


def numpy_generator(seed):
    """The `numpy.random.Generator` that Keras' NumPy draws with `seed` (a
    `SeedGenerator`, whose state it advances, or an int) would use:
    `np.random.default_rng` of `keras.src.random.seed_generator.draw_seed`,
    as in `keras.src.backend.numpy.random`."""
    from keras.src.random.seed_generator import draw_seed

    state: Any = draw_seed(seed)  # a tensor of two integers
    return np.random.default_rng(state)


# Seeding.


def set_random_seed(seed):
    """`keras.utils.set_random_seed(seed)`, but on a backend other than
    TensorFlow without seeding TensorFlow: Keras seeds it whenever it is
    installed, which imports it (seconds, and its log lines) for shuffling
    only a TensorFlow backend does with `tf.data`. Elsewhere this does
    what Keras' does otherwise: its global seed (`"global_random_seed"`)
    set, its global SeedGenerator (`"global_seed_generator"`) dropped to
    be remade from it, and Python's, NumPy's and PyTorch's seeds set."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    import random

    _global_state.set_global_attribute("global_random_seed", seed)
    _global_state.set_global_attribute("global_seed_generator", None)
    random.seed(seed)
    np.random.seed(seed)
    if backend == "torch":
        import torch

        torch.manual_seed(seed)


# A SeedGenerator whose state variable is made when it is needed.

# The attributes `keras.random.SeedGenerator.__init__` sets, all of them:
# `DeferredSeedGenerator` skips that constructor and makes them on first
# access. Keras 3.15.1 sets these four, and keeps the state as the variable
# `[seed, count]` that `next()` reads and advances by one.
SEED_GENERATOR_ATTRIBUTES = ("name", "backend", "_initial_seed", "state")


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
    stateless scope), or when any attribute that Keras' constructor sets
    is read (`SEED_GENERATOR_ATTRIBUTES`: `state`, `name`...). The values
    drawn are those of `keras.random.SeedGenerator(seed)`.
    """

    def __init__(self, seed=None):
        # Keras' __init__ (which makes the variable) runs in `_make`.
        if seed is None:
            seed = default_seed()
        self._deferred_seed = seed
        self._count = 0
        self._made = False

    def __getattr__(self, name):
        # Only for attributes not yet set: those Keras' __init__ sets.
        if name.startswith("__") or self.__dict__.get("_made", True):
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            )
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
        state = seed_state(self._deferred_seed, self._count)
        if in_shape_trace():
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
    if in_keras_scope() or sharding.is_tracing():
        return False
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly()
    return True
