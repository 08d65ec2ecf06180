"""The role of each of a model's variables, as an init recipe sees it.

A recipe gives a variable its initializer by role
(`ROLES`) and by the block it belongs to. This module finds both:

- by layer type, at any depth: `MultiHeadAttention`'s query, key and value
  kernels (`attention_qkv`) and output kernel (`attention_output`);
  `Embedding` tables (`embedding`), and the output table of an untied
  `ReversibleEmbedding` (`head`); the scale and offset of normalization
  layers (`norm_scale`, `norm_bias`); the bias of every projection
  (`bias`); in keras-hub's transformer layers, the sublayers by the names
  keras-hub gives them (`_HUB_SUBLAYERS`);
- from the graph of a functional model (or Sequential): a kernel whose
  output reaches an `Add` with no other kernel in between (through
  dropout, activations, reshapes and normalization) projects a residual
  branch (`attention_output` for attention, else `mlp_out`), and the
  kernels feeding it are `mlp_in`; the kernel that makes a model output is
  the `head`;
- from `roles={"mlp_out": r"block_(?P<block>\\d+)/ffn_out/kernel", ...}`:
  regular expressions matched on variable paths (`re.fullmatch`), which
  take precedence; a group named `block` gives the block's index.

Blocks are counted in the model's variable order: each attention layer
opens a block, and so does a residual branch after the last one closed.
"""

import collections
import dataclasses
import math
import re

import keras

from keras_inits._internal import checks
from keras_inits._internal import keras_internals

ROLES: tuple[str, ...] = (
    "embedding",
    "attention_qkv",
    "attention_output",
    "mlp_in",
    "mlp_out",
    "norm_scale",
    "norm_bias",
    "bias",
    "head",
)

# Names keras-hub gives the sublayers of its transformer layers.
_HUB_SUBLAYERS = {
    "query": "attention_qkv",
    "key": "attention_qkv",
    "value": "attention_qkv",
    "attention_output": "attention_output",
    "feedforward_intermediate_dense": "mlp_in",
    "feedforward_gate_dense": "mlp_in",
    "feedforward_output_dense": "mlp_out",
}
_NORM_SCALES = ("gamma", "scale")
_NORM_OFFSETS = ("beta", "offset", "bias")
_ATTENTION = ("attention_qkv", "attention_output")
_BRANCH_ENDS = ("attention_output", "mlp_out")


@dataclasses.dataclass(frozen=True)
class Slot:
    """One variable as a recipe sees it.

    Attributes:
        path: the variable's path, as `reinitialize`'s report gives it.
        role: one of `ROLES`, or None when it matched none.
        block: the 0-based index of the block of an `attention_qkv`,
            `attention_output`, `mlp_in` or `mlp_out` variable; else None.
        depth: L, the model's number of blocks (None without any).
        width: d, the width of the residual stream (None when unknown).
        shape: the variable's shape.
        fan_in, fan_out: the inputs and outputs of the projection, counted
            flat: a `(d, heads, head_dim)` query kernel has fan_in d and
            fan_out heads * head_dim, its `(heads, head_dim, d)` output
            kernel the reverse; a convolution's include its window; a
            vector's are its size.
        ends_branch: whether zeros here silence a residual branch: the
            scale of a normalization that ends the branch, else the
            branch's output projection.
    """

    path: str
    role: str | None
    block: int | None
    depth: int | None
    width: int | None
    shape: tuple[int, ...]
    fan_in: int
    fan_out: int
    ends_branch: bool


def find_slots(
    model: keras.layers.Layer,
    paths: dict[int, str],
    *,
    roles: dict[str, str] | None = None,
    depth: int | None = None,
    width: int | None = None,
    owner: str,
) -> list[tuple[keras.Variable, Slot]]:
    """A `Slot` for every variable of `model` (each once, in `model.weights`
    order), as `[(variable, slot)]`. `paths` names the variables;
    `roles`, `depth` and `width` are the arguments of `owner` (the function
    the user called), checked here: a bad one raises a ValueError naming
    it."""
    patterns = check_roles(owner, roles)
    for name, value in (("depth", depth), ("width", width)):
        if value is not None and not (
            checks.is_whole_number(value) and value > 0
        ):
            raise checks.argument_error(
                owner, name, "None or a positive integer", value
            )
    variables = list({id(v): v for v in model.weights}.values())
    named = [(paths[id(v)], v) for v in variables]
    found = _Found()
    for layer in keras_internals.all_layers(model):
        _by_type(layer, found)
    for layer in keras_internals.all_layers(model):
        _by_graph(layer, found, found.head_graph is None)
    given = _by_pattern(named, patterns, found)
    blocks = _blocks(named, found, given)
    depth = depth or (max(blocks.values()) + 1 if blocks else None)
    width = width or _width(named, found)
    slots = []
    for path, variable in named:
        role = found.roles.get(id(variable))
        shape = tuple(variable.shape)
        slots.append(
            (
                variable,
                Slot(
                    path,
                    role,
                    blocks.get(id(variable)),
                    depth,
                    width,
                    shape,
                    *_fans(role, shape),
                    id(variable) in found.ends,
                ),
            )
        )
    return slots


def check_roles(owner, roles):
    """`roles`, an argument of `owner`, as `[(role, compiled pattern)]`; a
    ValueError naming what is wrong otherwise."""
    if roles is None:
        return []
    if not isinstance(roles, dict):
        raise checks.argument_error(
            owner,
            "roles",
            "None or a dict of role -> regular expression",
            roles,
        )
    patterns = []
    for role, pattern in roles.items():
        if role not in ROLES:
            raise ValueError(
                f"Unknown role {role!r} in `roles`: the roles are "
                f"{', '.join(ROLES)}."
            )
        try:
            patterns.append((role, re.compile(pattern)))
        except (TypeError, re.error) as error:
            raise ValueError(
                f"`roles[{role!r}]` is not a valid regular expression "
                f"({error}). Received: {pattern!r}"
            ) from None
    return patterns


class _Found:
    """What the layer and graph passes found: variable id -> role, the
    variables that end a branch, and each attention variable's layer."""

    def __init__(self):
        self.roles = {}  # variable id -> role
        # variable id -> its attention layer (the layer's id, or the path
        # prefix a `roles=` pattern matched)
        self.units = {}
        self.ends = set()  # ids of the variables that end a branch
        self.head_graph = None

    def set(self, variable, role, unit=None):
        if variable is not None:
            self.roles[id(variable)] = role
            if unit is not None:
                self.units[id(variable)] = unit


def _by_type(layer, found):
    """Records in `found` the roles `layer`'s type gives: a
    `MultiHeadAttention`'s kernels (the layer's id their unit), keras-hub's
    named sublayers (and the kernels that end their branches), embedding
    tables and an untied `ReversibleEmbedding`'s output table (`head`), a
    normalization's scale and offset, and the bias of a layer with a
    kernel."""
    if isinstance(layer, keras.layers.MultiHeadAttention):
        for dense in (layer.query_dense, layer.key_dense, layer.value_dense):
            found.set(_variable(dense, "kernel"), "attention_qkv", id(layer))
        found.set(
            _variable(layer.output_dense, "kernel"),
            "attention_output",
            id(layer),
        )
    if type(layer).__module__.startswith("keras_hub"):
        for sublayer in keras_internals.sublayers(layer):
            if isinstance(sublayer, keras.layers.MultiHeadAttention):
                # keras-hub's blocks add its output to their input.
                found.ends.add(id(_variable(sublayer.output_dense, "kernel")))
            role = _HUB_SUBLAYERS.get(sublayer.name)
            if role is not None:
                kernel = _variable(sublayer, "kernel")
                found.set(
                    kernel, role, id(layer) if role in _ATTENTION else None
                )
                if kernel is not None and role in _BRANCH_ENDS:
                    found.ends.add(id(kernel))
        found.set(_variable(layer, "embeddings"), "embedding")
    if isinstance(layer, keras.layers.Embedding):
        found.set(_variable(layer, "embeddings"), "embedding")
        found.set(_variable(layer, "reverse_embeddings"), "head")
    if _is_norm(layer):
        for variable in keras_internals.own_variables(layer):
            if variable.name in _NORM_SCALES:
                found.set(variable, "norm_scale")
            elif variable.name in _NORM_OFFSETS:
                found.set(variable, "norm_bias")
    elif _variable(layer, "kernel") is not None:
        found.set(_variable(layer, "bias"), "bias")


def _by_graph(layer, found, is_root):
    """Records in `found` the roles the graph of `layer`, a functional
    model or Sequential, shows: each input of an `Add` that comes from a
    kernel (`_trace`) and is a residual branch (`_is_branch`) is marked
    (`_mark_branch`). With `is_root`, `layer` becomes `found.head_graph`
    and a kernel that makes one of its outputs, without a role yet, is the
    `head`."""
    graph = keras_internals.functional_graph(layer)
    if graph is None:
        return
    operations, outputs = graph
    for operation in operations:
        if not isinstance(operation, keras.layers.Add):
            continue
        for inputs in keras_internals.node_inputs(operation):
            for i, tensor in enumerate(inputs):
                kernel_layer, norm = _trace(tensor)
                if kernel_layer is not None and _is_branch(
                    tensor, inputs[:i] + inputs[i + 1 :]
                ):
                    _mark_branch(kernel_layer, norm, found)
    if is_root:
        found.head_graph = layer
        for tensor in outputs:
            kernel_layer = _trace(tensor)[0]
            kernel = _variable(kernel_layer, "kernel")
            if kernel is not None and id(kernel) not in found.roles:
                found.set(kernel, "head")


def _mark_branch(kernel_layer, norm, found):
    """Marks the residual branch `kernel_layer` projects: for an attention
    layer its output kernel, else its kernel as `mlp_out` and the kernels
    feeding its input (`_trace_all`) as `mlp_in`. The variable that ends
    the branch (`found.ends`) is the scale of `norm`, the normalization on
    the way to the `Add`, where there is one, else that projection."""
    if isinstance(kernel_layer, keras.layers.MultiHeadAttention):
        projection = _variable(kernel_layer.output_dense, "kernel")
    else:
        projection = _variable(kernel_layer, "kernel")
        found.set(projection, "mlp_out")
        for feeding in _trace_all(
            keras_internals.node_inputs(kernel_layer)[0][0]
        ):
            found.set(_variable(feeding, "kernel"), "mlp_in")
    scale = None
    if norm is not None:
        scale = next(
            (
                v
                for v in keras_internals.own_variables(norm)
                if v.name in _NORM_SCALES
            ),
            None,
        )
    found.ends.add(id(scale if scale is not None else projection))


def _trace(tensor):
    """`(kernel_layer, norm)`: the first layer with a kernel (or an
    attention layer) that `tensor` comes from through layers without
    weights of one input and normalizations, and the normalization nearest
    to it on the way; `(None, None)` when something else comes first."""
    norm = None
    while True:
        made = keras_internals.producer(tensor)
        if made is None:
            return None, None
        operation, inputs = made
        if _is_kernel_layer(operation):
            return operation, norm
        if _is_norm(operation) and len(inputs) == 1:
            norm = norm or operation
        elif _weights(operation) or len(inputs) != 1:
            return None, None
        tensor = inputs[0]


def _trace_all(tensor):
    """The kernel layers that feed `tensor` through layers without weights,
    normalizations, and elementwise products (a gated unit's)."""
    made = keras_internals.producer(tensor)
    if made is None:
        return []
    operation, inputs = made
    if _is_kernel_layer(operation):
        return (
            []
            if isinstance(operation, keras.layers.MultiHeadAttention)
            else [operation]
        )
    if isinstance(operation, keras.layers.Multiply) or (
        len(inputs) == 1 and (_is_norm(operation) or not _weights(operation))
    ):
        return [k for t in inputs for k in _trace_all(t)]
    return []


def _is_branch(tensor, others):
    """Whether `tensor`, added to `others`, is a residual branch: computed
    from the stream another input carries (that input, or the input of its
    projection: a ResNet's projected shortcut). A learned position
    embedding added to patch projections is not."""
    starts = set()
    for other in others:
        starts |= _skip_path(other)
    seen = set()  # ids of the tensors visited
    stack = [tensor]  # tensors to visit
    while stack:
        tensor = stack.pop()
        if id(tensor) in starts:
            return True
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        made = keras_internals.producer(tensor)
        stack.extend(made[1] if made else ())
    return False


def _skip_path(tensor):
    """The ids of the tensors a skip path carries: `tensor`, back through
    layers without weights of one input, normalizations, and one
    projection."""
    path = set()
    projected = False  # whether the path went through its one projection
    while True:
        path.add(id(tensor))
        made = keras_internals.producer(tensor)
        if made is None or len(made[1]) != 1:
            return path
        operation, (tensor,) = made
        if _is_kernel_layer(operation) and not projected:
            projected = True
        elif _weights(operation) and not _is_norm(operation):
            return path


def _blocks(named, found, given):
    """variable id -> block index: an attention layer opens a block unless
    the open block has no attention yet; a residual branch after the last
    one closed opens one. Indices given by a pattern's `block` group win."""
    blocks = {}
    block = -1  # the open block's index; -1 before the first
    unit = None  # the open block's attention layer, None before one
    closed = True  # no block is open, or the open one has its mlp_out
    for _, variable in named:
        role = found.roles.get(id(variable))
        if role in _ATTENTION:
            this = found.units.get(id(variable))
            if this != unit and (closed or unit is not None):
                block += 1
                closed = False
            unit = this
        elif role in ("mlp_in", "mlp_out"):
            if closed:
                block += 1
                unit = None
                closed = False
        else:
            continue
        blocks[id(variable)] = given.get(id(variable), block)
        closed = closed or role == "mlp_out"
    return blocks


def _by_pattern(named, patterns, found):
    """Applies `roles=` patterns; returns variable id -> given block."""
    given = {}
    matched = set()  # roles whose pattern matched a path
    for path, variable in named:
        for role, pattern in patterns:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            matched.add(role)
            found.set(variable, role, path.rsplit("/", 2)[0])
            if "block" in pattern.groupindex:
                given[id(variable)] = int(match["block"])
            break
    for role, pattern in patterns:
        if role not in matched:
            raise ValueError(
                f"`roles[{role!r}]` matches no variable path (matched with "
                f"re.fullmatch). Received: {pattern.pattern!r}; paths look "
                f"like {named[0][0]!r}."
            )
    return given


def _width(named, found):
    """The most common output size of the residual projections, else the
    width of the first embedding."""
    outputs = collections.Counter(
        variable.shape[-1]
        for _, variable in named
        if found.roles.get(id(variable)) in _BRANCH_ENDS
    )
    if outputs:
        return int(outputs.most_common(1)[0][0])
    for _, variable in named:
        if found.roles.get(id(variable)) == "embedding":
            return int(variable.shape[-1])
    return None


def _fans(role, shape):
    """`(fan_in, fan_out)` of a variable of `shape` in `role`, as `Slot`
    counts them: 1 for a scalar, its size for a vector, the first axis
    against the rest for `attention_qkv`, the last axis against the rest
    for `attention_output`, else Keras' rule (the window times each of the
    last two axes)."""
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if role == "attention_qkv":
        return shape[0], math.prod(shape[1:])
    if role == "attention_output":
        return math.prod(shape[:-1]), shape[-1]
    window = math.prod(shape[:-2])
    return window * shape[-2], window * shape[-1]


def _variable(layer, name):
    """The variable named `name` among `layer`'s own, or None (also for
    `layer=None`)."""
    if layer is None:
        return None
    for variable in keras_internals.own_variables(layer):
        if variable.name == name:
            return variable
    return None


def _weights(operation):
    """Whether `operation`, an operation of a graph, is a layer with
    weights."""
    return isinstance(operation, keras.layers.Layer) and bool(
        operation.weights
    )


def _is_kernel_layer(operation):
    """Whether `operation` is a `MultiHeadAttention`, whose kernels are its
    sublayers', or a layer with a `kernel` of its own."""
    return isinstance(operation, keras.layers.MultiHeadAttention) or (
        isinstance(operation, keras.layers.Layer)
        and _variable(operation, "kernel") is not None
    )


def _is_norm(layer):
    """Whether `layer` is a normalization layer, by its class name
    (`...Normalization`, `...Norm`), so that a normalization from any
    library counts."""
    name = type(layer).__name__
    return isinstance(layer, keras.layers.Layer) and (
        name.endswith("Normalization") or name.endswith("Norm")
    )
