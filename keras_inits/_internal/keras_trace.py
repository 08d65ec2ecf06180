"""A model's call as the graph of the `keras.ops` calls it makes.

Keras records a node for every operation called on symbolic tensors
(`KerasTensor`): a functional model's graph is made of such nodes. A layer
called on symbolic tensors is one node, though: Keras runs its `call` in
the backend's own shape-only tracing, which records nothing. `trace_call`
records the operations inside instead. While it runs, `Layer.__call__`
(for the tracing thread only) runs each layer's `call` itself on the
symbolic tensors, on a shallow copy of the layer whose variable attributes
are symbolic reads (a `Read` node each): so a kernel used in a matmul, a
bias reshaped before it is added, a scale cast to float32 or a position
table sliced all show where they go. A layer whose `call` cannot run on
symbolic tensors (it calls a backend's own function, or loops over a
tensor's values) is recorded as Keras records it, one node holding all its
variables ("opaque").

Nothing of the model changes: the layers are not called on it, nor built,
and the nodes the trace adds to its layers' and operations' lists are
removed afterwards.

This is Keras' private API, as `keras_internals` is: `Layer.__call__` and
`.call`, `Operation._inbound_nodes` and `_outbound_nodes`, `Node.arguments`
and `KerasTensor._keras_history`, a functional model's `_inputs_struct`
and `operations`, a layer's `_build_shapes_dict`, and on JAX
`KerasTensor.__jax_array__`. Checked against Keras 3.15.1;
`tests/_internal/test_keras_trace.py` checks them.
"""

import contextlib
import dataclasses
import threading
import warnings
from typing import Any

import keras

from keras_inits._internal import keras_internals

# Operands of a traced node: a tensor's index (an int), a variable, a
# Python number (as a float, so that it is never taken for an index), or
# None for anything else (an array, a string, None).
Operand = int | keras.Variable | float | None

# The sizes tried for a dimension the model leaves open (None), in turn,
# until the call traces: small first (a sequence model's position table may
# be as short as 4), then enough for an image model's strided stages.
_OPEN_SIZES = (4, 64, 224, 8, 16, 32)
_BATCH = 2


class TraceError(Exception):
    """The model's call could not be traced; the message says why."""


@dataclasses.dataclass(frozen=True, eq=False)
class Node:
    """One operation of the trace.

    Attributes:
        kind: the operation's class name (`Matmul`, `Einsum`, `Add`,
            `Softmax`, ...), `Read` for a variable's read, or an opaque
            layer's class name.
        operation: the operation (a layer when opaque).
        operands: its positional then keyword arguments, flattened: a
            tensor's index (an int), a variable (passed as it is), a
            Python number (a float), or None.
        outputs: the indices of the tensors it made.
        variables: the variables it reads: a `Read` node's one, the
            variables among `operands`, or all of an opaque layer's.
        opaque: whether it is a layer whose call could not be traced.
    """

    kind: str
    operation: Any
    operands: tuple[Operand, ...]
    outputs: tuple[int, ...]
    variables: tuple[keras.Variable, ...]
    opaque: bool


@dataclasses.dataclass(frozen=True)
class Trace:
    """A model's call as its operations, in an order where each node comes
    after the nodes that made its inputs.

    Attributes:
        nodes: the `Node`s that the outputs depend on.
        shapes: each tensor's shape, by index.
        inputs: the indices of the model's input tensors.
        outputs: the indices of its output tensors.
        opaque: `(layer, reason)` for each layer recorded as one node.
    """

    nodes: tuple[Node, ...]
    shapes: tuple[tuple[int | None, ...], ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    opaque: tuple[tuple[keras.layers.Layer, str], ...]


class _Read(keras.Operation):
    """The read of a variable, as a node whose one argument is the
    variable."""

    def compute_output_spec(self, variable):
        return keras.KerasTensor(variable.shape, dtype=variable.dtype)


_local = threading.local()
# The patch of `Layer.__call__` is global: one trace at a time.
_lock = threading.Lock()
_keras_call = keras.layers.Layer.__call__


def trace_call(model: keras.layers.Layer) -> Trace:
    """The trace of `model`'s call on symbolic inputs of the shapes it was
    built for. An open dimension is given each size of `_OPEN_SIZES` in
    turn, until a trace has no opaque layer with weights (a layer's code
    may need an image of some size); else the trace with the fewest
    opaque weights is kept. Raises `TraceError` when the inputs are not
    known or no size traces."""
    specs, by_name = _input_specs(model)
    errors = []
    best, best_opaque = None, 0
    for size in _OPEN_SIZES:
        inputs = keras.tree.map_structure(
            lambda spec, size=size: _sized(spec, size), specs
        )
        try:
            trace = _trace_once(model, inputs, by_name)
        except Exception as error:  # any failure of the model's own code
            errors.append(f"{type(error).__name__}: {_first_line(error)}")
            continue
        opaque = sum(len(layer.weights) for layer, _ in trace.opaque)
        if best is None or opaque < best_opaque:
            best, best_opaque = trace, opaque
        if not opaque:
            break
    if best is None:
        raise TraceError(
            f"the call of {model.name} did not run on symbolic inputs "
            f"({errors[0]})"
        )
    return best


def _sized(spec, size):
    """A `KerasTensor` like `spec` with its open dimensions given a size:
    `_BATCH` for the first, `size` for the others."""
    return keras.KerasTensor(
        [
            (_BATCH if axis == 0 else size) if dim is None else dim
            for axis, dim in enumerate(spec.shape)
        ],
        dtype=spec.dtype,
    )


def _input_specs(model):
    """`(specs, by_name)`: the structure of `KerasTensor`s `model` is
    called with, and whether it is a dict of the call's arguments by name.
    A functional model's inputs; else the shapes it was built with (Keras'
    record of a layer's first call, `Layer._build_shapes_dict`, one entry
    per argument), as float32."""
    if keras_internals.functional_graph(model) is not None:
        functional = getattr(model, "_functional", model)  # a Sequential's
        return functional._inputs_struct, False
    shapes = getattr(model, "_build_shapes_dict", None)
    if not shapes:
        raise TraceError(
            f"{model.name} is not a functional model and records no input "
            "shape: call it on data once"
        )
    specs = {
        name.removesuffix("_shape"): keras.tree.map_shape_structure(
            lambda s: keras.KerasTensor(s, dtype="float32"), shape
        )
        for name, shape in shapes.items()
    }
    if len(specs) == 1:  # `build(input_shape)` names no argument
        return next(iter(specs.values())), False
    return specs, True


def _trace_once(model, inputs, by_name):
    """Traces `model`'s call on the symbolic `inputs` (its arguments by
    name when `by_name`); raises what the call raises."""
    lengths = [
        (op, len(op._inbound_nodes), len(op._outbound_nodes))
        for op in _operations(model)
    ]
    built = [(x, x.built) for x in keras_internals.all_layers(model)]
    state = _State()
    with _lock, _tracing(state), warnings.catch_warnings():
        # Warnings of the model's code about the symbolic sizes chosen here
        # (a softmax over an axis of size 1) are not the user's concern.
        warnings.simplefilter("ignore")
        try:
            call = type(model).call
            copy = _reading_copy(model, state)
            outputs = call(copy, **inputs) if by_name else call(copy, inputs)
            return _graph(inputs, outputs, state)
        finally:
            for op, inbound, outbound in lengths:
                del op._inbound_nodes[inbound:]
                del op._outbound_nodes[outbound:]
            for layer, was_built in built:
                layer.built = was_built


class _State:
    """What a trace gathers: each variable's read, and the layers recorded
    opaque with the reason."""

    def __init__(self):
        self.reads = {}  # variable id -> its read, a KerasTensor
        self.opaque = []  # (layer, reason)
        # Whether Keras' own call of an opaque layer is running: the layers
        # it calls run as Keras runs them.
        self.in_keras_call = False


@contextlib.contextmanager
def _tracing(state):
    """Replaces `Layer.__call__` (for this thread: `_traced_call`) and on
    JAX lets a JAX array meet a KerasTensor in an arithmetic operator
    (Keras' `__jax_array__` makes JAX refuse it; without it, Python asks
    the KerasTensor, which records the operation)."""
    jax_array = keras.KerasTensor.__dict__.get("__jax_array__")
    _local.state = state
    keras.layers.Layer.__call__ = _traced_call  # pyright: ignore[reportAttributeAccessIssue]
    if jax_array is not None:
        del keras.KerasTensor.__jax_array__
    try:
        yield
    finally:
        keras.layers.Layer.__call__ = _keras_call
        if jax_array is not None:
            keras.KerasTensor.__jax_array__ = jax_array
        _local.state = None


def _traced_call(layer, *args, **kwargs):
    """`Layer.__call__` while a trace runs: in the tracing thread, runs
    `layer`'s call on a copy of it whose variables are symbolic reads, when
    it has symbolic arguments or variables; falls back to Keras' own call
    (one opaque node) when that fails."""
    state = getattr(_local, "state", None)
    if state is None or state.in_keras_call:
        return _keras_call(layer, *args, **kwargs)
    symbolic = [
        x
        for x in keras.tree.flatten((args, kwargs))
        if isinstance(x, keras.KerasTensor)
    ]
    if not layer.weights and (not symbolic or not layer.built):
        # A constant is computed as such; a layer without weights that
        # Keras has not built (a merge layer `build` sets up, inside a
        # block that is called as a whole) is built and called by Keras,
        # one node, which is all its roles need.
        return _keras_call(layer, *args, **kwargs)
    for tensor in symbolic:
        # Keras marks `tensor * 2.0` sparse when a KerasTensor meets a
        # Python number on some backends; nothing here is sparse.
        tensor._sparse = False
    # Keras passes a call context argument (`training`) to every layer and
    # gives it to those whose call takes it; so does the trace.
    for name in layer._call_context_args:
        if not layer._call_has_context_arg.get(name, False):
            kwargs.pop(name, None)
    try:
        return type(layer).call(_reading_copy(layer, state), *args, **kwargs)
    except Exception as error:  # any failure of the layer's own code
        reason = f"{type(error).__name__}: {_first_line(error)}"
    if not layer.built:
        raise TraceError(f"{layer.name} is not built ({reason})")
    state.opaque.append((layer, reason))
    state.in_keras_call = True
    try:
        return _keras_call(layer, *args, **kwargs)
    finally:
        state.in_keras_call = False


def _reading_copy(layer, state):
    """A shallow copy of `layer` whose attributes that hold one of its own
    variables hold that variable's symbolic read instead. The layer itself
    is left as it is, so another thread may use it meanwhile."""
    own = {id(v) for v in keras_internals.own_variables(layer)}
    copy = object.__new__(type(layer))
    attributes = dict(vars(layer))
    for name, value in attributes.items():
        if isinstance(value, keras.Variable) and id(value) in own:
            attributes[name] = _read(value, state)
    copy.__dict__.update(attributes)
    return copy


def _read(variable, state):
    """The symbolic read of `variable`, made once per trace."""
    read = state.reads.get(id(variable))
    if read is None:
        read = _Read().symbolic_call(variable)
        state.reads[id(variable)] = read
    return read


def _operations(model):
    """Every operation whose node lists a trace may append to: the layers,
    and the operations of every functional graph among them."""
    operations = {}
    for layer in keras_internals.all_layers(model):
        operations[id(layer)] = layer
        graph = keras_internals.functional_graph(layer)
        if graph is not None:
            for op in graph[0]:
                operations[id(op)] = op
    return list(operations.values())


def _graph(inputs, outputs, state):
    """The `Trace` of the nodes `outputs` depend on, back to `inputs`."""
    index = {}  # id(KerasTensor) -> index
    tensors = []  # index -> KerasTensor (kept alive while indexing)

    def tensor_index(tensor):
        if id(tensor) not in index:
            index[id(tensor)] = len(tensors)
            tensors.append(tensor)
        return index[id(tensor)]

    input_indices = tuple(
        tensor_index(t)
        for t in keras.tree.flatten(inputs)
        if isinstance(t, keras.KerasTensor)
    )
    output_tensors = [
        t
        for t in keras.tree.flatten(outputs)
        if isinstance(t, keras.KerasTensor)
    ]
    opaque = {id(layer) for layer, _ in state.opaque}
    order = []  # Keras nodes, each after the nodes of its inputs
    seen = set()  # ids of Keras nodes visited
    stack = [(t, False) for t in reversed(output_tensors)]
    while stack:
        tensor, expanded = stack.pop()
        history = getattr(tensor, "_keras_history", None)
        if history is None or history.operation is None:
            continue
        node = history.operation._inbound_nodes[history.node_index]
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((tensor, True))
        stack.extend(
            (t, False) for t in reversed(node.arguments.keras_tensors)
        )
    nodes = []
    for node in order:
        operation = node.operation
        flat = keras.tree.flatten((node.arguments.args, node.arguments.kwargs))
        operands = tuple(_operand(x, tensor_index) for x in flat)
        is_opaque = id(operation) in opaque and isinstance(
            operation, keras.layers.Layer
        )
        if isinstance(operation, _Read):
            kind, variables = "Read", (node.arguments.args[0],)
        elif is_opaque:
            kind, variables = (
                type(operation).__name__,
                tuple(operation.weights),
            )
        else:
            kind = type(operation).__name__
            variables = tuple(
                x for x in operands if isinstance(x, keras.Variable)
            )
        nodes.append(
            Node(
                kind,
                operation,
                operands,
                tuple(tensor_index(t) for t in node.outputs),
                variables,
                is_opaque,
            )
        )
    output_indices = tuple(tensor_index(t) for t in output_tensors)
    return Trace(
        tuple(nodes),
        tuple(tuple(t.shape) for t in tensors),
        input_indices,
        output_indices,
        tuple(state.opaque),
    )


def _operand(value, tensor_index):
    """A node's argument as an `Operand`."""
    if isinstance(value, keras.KerasTensor):
        return tensor_index(value)
    if isinstance(value, keras.Variable):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _first_line(error):
    """The first line of an error's message, without Keras' decoration."""
    text = str(error).strip().split("\n")[0]
    return text.replace("\x1b[1m", "").replace("\x1b[0m", "")[:200]
