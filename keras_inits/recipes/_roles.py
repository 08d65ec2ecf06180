"""The role of each of a model's variables, as an init recipe sees it.

A recipe gives a variable its initializer by role (`ROLES`), finer role
(`SUBROLES`) and by the block it belongs to. This module finds them:

- from what the model computes (`_dataflow`): its call traced on symbolic
  inputs, every layer's `call` expanded, so a block of any library reads
  the same: residual branches, attention's query, key, value and output
  projections, the MLP's (gate, up, experts, router), embeddings, class
  tokens, the head, blocks and towers, each kernel's fans;
- by layer type, at any depth, for what the trace does not show (a layer
  whose call cannot run on symbolic tensors, a weight the call does not
  read): `MultiHeadAttention`'s kernels, `Embedding` tables and an untied
  `ReversibleEmbedding`'s output table (`head`), keras-hub's named
  sublayers (`_HUB_SUBLAYERS`), the bias of a layer with a kernel; and
  always the scale and offset of normalization layers (`norm_scale`,
  `norm_bias`); when the whole call cannot be traced, also the graph of a
  functional model (`_by_graph`);
- from `roles={"mlp_out": r"block_(?P<block>\\d+)/ffn_out/kernel", ...}`:
  regular expressions matched on variable paths (`re.fullmatch`), which
  take precedence; a group named `block` gives the block's index. They
  are checked when given (`_patterns`): a `str`, a `block` group of
  digits that cannot be skipped, and no form that backtracks
  catastrophically.

Statistics (a layer's non-trainable variables: moving means, adapted
state) never get a role.
"""

import collections
import dataclasses
import math

import keras

from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal import keras_trace
from keras_inits.recipes import _dataflow
from keras_inits.recipes import _patterns
from keras_inits.recipes._dataflow import NORM_SCALES
from keras_inits.recipes._dataflow import is_norm

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
    "projection",
)
"""The roles a variable can have. `projection` is a kernel outside the
residual branches that is neither an embedding nor the head (a ResNet's
projected shortcut, a pooler)."""

SUBROLES: dict[str, str] = {
    "query": "attention_qkv",
    "key": "attention_qkv",
    "value": "attention_qkv",
    "fused_qkv": "attention_qkv",
    "mlp_gate": "mlp_in",
    "mlp_up": "mlp_in",
    "router": "mlp_in",
    "expert_gate": "mlp_in",
    "expert_up": "mlp_in",
    "expert_in": "mlp_in",
    "expert_out": "mlp_out",
    "token": "embedding",
    "position": "embedding",
    "patch": "embedding",
    "class_token": "embedding",
    "mask_token": "embedding",
    "mlp_bias": "bias",
    "recurrent_bias": "bias",
}
"""Finer role -> its role: where published recipes tell apart what a role
holds (a gated MLP's gate and up projections, a fused query-key-value
kernel, experts and the router, kinds of embedding, MLP biases, a
recurrent layer's bias). `roles=` accepts these names too."""

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
_NORM_OFFSETS = ("beta", "offset", "bias")
_ATTENTION = ("attention_qkv", "attention_output")
_BRANCH_ENDS = ("attention_output", "mlp_out")
_IN_BLOCKS = _ATTENTION + ("mlp_in", "mlp_out", "bias")


@dataclasses.dataclass(frozen=True)
class Slot:
    """One variable as a recipe sees it.

    Attributes:
        path: the variable's path, as `reinitialize`'s report gives it.
        role: one of `ROLES`, or None when it matched none.
        block: the 0-based index of the block of an `attention_qkv`,
            `attention_output`, `mlp_in` or `mlp_out` variable, or of the
            bias of one; else None.
        depth: L, the model's number of blocks (None without any).
        width: d, the width of the residual stream (None when unknown).
        shape: the variable's shape.
        fan_in: the inputs of the projection, counted flat: a
            `(d, heads, head_dim)` query kernel has fan_in d and fan_out
            heads * head_dim, its `(heads, head_dim, d)` output kernel the
            reverse; a convolution's include its window; a vector's is
            its size.
        fan_out: the outputs of the projection, counted the same way.
        ends_branch: whether zeros here silence a residual branch: the
            scale of a normalization that ends the branch, else the
            branch's output projection.
        subrole: one of `SUBROLES` (of `role`), or None.
        adds_one: whether the layer uses `1 + value` (a Gemma RMSNorm
            scale, whose identity is 0).
        reason: why a variable has no role (None when it has one).
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
    subrole: str | None = None
    adds_one: bool = False
    reason: str | None = None


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
    depth = check_size(owner, "depth", depth)
    width = check_size(owner, "width", width)
    variables = list({id(v): v for v in model.weights}.values())
    named = [(paths[id(v)], v) for v in variables]
    statistics = _statistics(model)
    found = _Found()
    for layer in keras_internals.all_layers(model):
        _by_type(layer, found)
    flow, unseen = _flow(model)
    if flow is None:
        for layer in keras_internals.all_layers(model):
            _by_graph(layer, found, found.head_graph is None)
    else:
        found.take_flow(flow)
    given = _by_pattern(named, patterns, found, statistics, owner)
    blocks, depths, widths = _blocks_and_towers(named, found, flow, given)
    default_depth = max(depths.values(), default=None)
    default_width = _most_common(widths)
    slots = []
    for path, variable in named:
        key = id(variable)
        role = found.roles.get(key)
        reason = None
        if key in statistics:
            role, reason = None, statistics[key]
        elif role is None:
            reason = found.reasons.get(key) or unseen
        # A variable of no tower (an embedding, the head) gets the deepest
        # tower's depth and the most common width.
        tower = found.towers.get(key, -1)
        shape = tuple(variable.shape)
        fan_in, fan_out = found.fans.get(key) or _fans(role, shape)
        slot = Slot(
            path=path,
            role=role,
            block=blocks.get(key) if role in _IN_BLOCKS else None,
            depth=depth or depths.get(tower, default_depth),
            width=width or widths.get(tower, default_width),
            shape=shape,
            fan_in=fan_in,
            fan_out=fan_out,
            ends_branch=key in found.ends and role is not None,
            subrole=found.subroles.get(key) if role is not None else None,
            adds_one=key in found.adds_one,
            reason=reason,
        )
        slots.append((variable, slot))
    return slots


def _flow(model):
    """`(flow, unseen)`: the `_dataflow.Flow` of `model`, or None when its
    call cannot be traced, and the reason a variable the flow does not
    show has no role."""
    try:
        flow = _dataflow.analyse(model)
    except keras_trace.TraceError as error:
        return None, f"the model's call could not be traced ({error})"
    return flow, "the model's traced call does not read it"


def _statistics(model):
    """variable id -> why recipes leave it, for the variables a layer
    keeps as statistics or state (`Layer._non_trainable_variables`: moving
    means and variances, adapted means, counters), as opposed to a frozen
    layer's weights."""
    statistics = {}
    for layer in keras_internals.all_layers(model):
        if is_adapted(layer):
            reason = (
                f"adapted state ({type(layer).__name__}.adapt() computes "
                "it), which reinitialize keeps unless reset_adapted=True"
            )
        else:
            reason = "statistics, which recipes leave to their layer"
        for v in layer._non_trainable_variables:
            statistics[id(v)] = reason
    return statistics


def adapted_state(model: keras.layers.Layer) -> set[int]:
    """The ids of the variables of `model`'s layers that compute their
    state from data (`is_adapted`)."""
    return {
        id(v)
        for layer in keras_internals.all_layers(model)
        if is_adapted(layer)
        for v in layer._non_trainable_variables
    }


def is_adapted(layer: keras.layers.Layer) -> bool:
    """Whether `layer` computes its state from data (`adapt()`), which
    `reinitialize` keeps unless asked to reset it."""
    return callable(getattr(layer, "adapt", None))


def _most_common(values):
    """The most common of a dict's values, or None when it is empty."""
    counts = collections.Counter(values.values())
    return counts.most_common(1)[0][0] if counts else None


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
        if role not in ROLES and role not in SUBROLES:
            raise ValueError(
                f"Unknown role {role!r} in `roles`: the roles are "
                f"{', '.join(ROLES)}, and the finer roles "
                f"{', '.join(SUBROLES)}."
            )
        patterns.append((role, _patterns.check_pattern(owner, role, pattern)))
    return patterns


def check_size(owner: str, name: str, value: object) -> int | None:
    """`value`, argument `depth` or `width` of `owner`, as a Python int
    (NumPy integers too), or None; a ValueError naming it unless it is
    None or an integer from 1 to 2**31 - 1, which keeps every std a
    recipe derives from it (`0.02 / sqrt(2 * depth)`, `width**-0.5`) a
    normal float32."""
    if value is None:
        return None
    return checks.check_count(
        owner, name, value, requirement="None or a positive integer"
    )


class _Found:
    """What the passes found, by variable id: roles and finer roles, the
    variables that end a branch, each attention variable's layer; and
    from the data flow, towers, blocks, fans, scales used as `1 + scale`
    and why a variable it shows has no role."""

    def __init__(self):
        self.roles = {}  # variable id -> role
        self.subroles = {}  # variable id -> finer role
        self.ends = set()  # ids of the variables that end a branch
        self.head_graph = None
        self.towers = {}  # variable id -> tower (data flow)
        self.blocks = {}  # variable id -> block in its tower (data flow)
        self.fans = {}  # variable id -> (fan_in, fan_out) (data flow)
        self.adds_one = set()  # ids of scales used as 1 + scale
        self.reasons = {}  # variable id -> why it has no role

    def set(self, variable, role, subrole=None):
        if variable is not None:
            self.roles[id(variable)] = role
            self.subroles.pop(id(variable), None)
            if subrole is not None:
                self.subroles[id(variable)] = subrole

    def take_flow(self, flow):
        """Takes what the data flow found over what the types did: its
        roles (the types' stay where it has none), blocks, fans and the
        branch ends, which are its alone (but in a layer whose call it
        could not trace)."""
        opaque = {id(v) for layer, _ in flow.opaque for v in layer.weights}
        self.ends &= opaque
        for key, use in flow.uses.items():
            if use.role is not None:
                self.roles[key] = use.role
                self.subroles.pop(key, None)
                if use.subrole is not None:
                    self.subroles[key] = use.subrole
            elif use.reason is not None and key not in self.roles:
                self.reasons[key] = use.reason
            if use.tower is not None:
                self.towers[key] = use.tower
            if use.block is not None:
                self.blocks[key] = use.block
            if use.fans is not None:
                self.fans[key] = use.fans
            if use.ends_branch:
                self.ends.add(key)
            if use.adds_one:
                self.adds_one.add(key)
        for layer, reason in flow.opaque:
            for variable in layer.weights:
                self.reasons.setdefault(
                    id(variable),
                    f"in {layer.name}, whose call does not run on symbolic "
                    f"tensors ({reason})",
                )


def _by_type(layer, found):
    """Records in `found` the roles `layer`'s type gives: a
    `MultiHeadAttention`'s kernels (and which is the query, key or
    value), keras-hub's
    named sublayers (and the kernels that end their branches), embedding
    tables and an untied `ReversibleEmbedding`'s output table (`head`), a
    normalization's scale and offset, and the bias of a layer with a
    kernel."""
    if isinstance(layer, keras.layers.MultiHeadAttention):
        for subrole, dense in (
            ("query", layer.query_dense),
            ("key", layer.key_dense),
            ("value", layer.value_dense),
        ):
            found.set(_variable(dense, "kernel"), "attention_qkv", subrole)
        found.set(_variable(layer.output_dense, "kernel"), "attention_output")
    if type(layer).__module__.startswith("keras_hub"):
        for sublayer in keras_internals.sublayers(layer):
            if isinstance(sublayer, keras.layers.MultiHeadAttention):
                # keras-hub's blocks add its output to their input.
                found.ends.add(id(_variable(sublayer.output_dense, "kernel")))
            role = _HUB_SUBLAYERS.get(sublayer.name)
            if role is not None:
                kernel = _variable(sublayer, "kernel")
                # keras-hub names the query, key and value sublayers so.
                subrole = sublayer.name if role == "attention_qkv" else None
                found.set(kernel, role, subrole)
                if kernel is not None and role in _BRANCH_ENDS:
                    found.ends.add(id(kernel))
        found.set(_variable(layer, "embeddings"), "embedding")
    if isinstance(layer, keras.layers.Embedding):
        found.set(_variable(layer, "embeddings"), "embedding")
        found.set(_variable(layer, "reverse_embeddings"), "head")
    if is_norm(layer):
        for variable in keras_internals.own_variables(layer):
            if variable.name in NORM_SCALES:
                found.set(variable, "norm_scale")
            elif variable.name in _NORM_OFFSETS:
                found.set(variable, "norm_bias")
    elif _variable(layer, "recurrent_kernel") is not None:
        # An RNN cell's bias holds its gates' (LSTM's forget gate starts
        # at 1 with `unit_forget_bias`).
        found.set(_variable(layer, "bias"), "bias", subrole="recurrent_bias")
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
                if v.name in NORM_SCALES
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
        if is_norm(operation) and len(inputs) == 1:
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
        len(inputs) == 1 and (is_norm(operation) or not _weights(operation))
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
        elif _weights(operation) and not is_norm(operation):
            return path


def _blocks_and_towers(named, found, flow, given):
    """`(blocks, depths, widths)`: variable id -> block index, and tower ->
    number of blocks and width of its stream. The data flow's where it
    found blocks; else counted in variable order (`_count_blocks`).
    Indices given by a pattern's `block` group win."""
    if flow is not None and flow.depths:
        blocks = {**found.blocks, **given}
        depths = dict(flow.depths)
        for key, block in given.items():
            tower = found.towers.get(key, 0)
            depths[tower] = max(depths.get(tower, 0), block + 1)
        return blocks, depths, dict(flow.widths)
    blocks = _count_blocks(named, found, given)
    depths = {0: max(blocks.values()) + 1} if blocks else {}
    width = _width(named, found)
    return blocks, depths, {0: width} if width else {}


def _count_blocks(named, found, given):
    """variable id -> block index, counted in variable order: a block
    holds an attention (its query, key and value kernels, then its output)
    and an MLP (its inputs, then its output); a variable that would repeat
    what the open block has opens the next one. A pattern's `block` group
    sets the index, and those after it count on from there."""
    blocks = {}
    block = -1  # the open block's index; -1 before the first
    has = set()  # the roles the open block holds
    for _, variable in named:
        key = id(variable)
        role = found.roles.get(key)
        if role not in _ATTENTION + ("mlp_in", "mlp_out"):
            continue
        if key in given:
            if given[key] != block:
                block, has = given[key], set()
        else:
            if role == "attention_qkv":
                later = {"attention_output", "mlp_in", "mlp_out"}
            elif role == "attention_output":
                later = {"attention_output", "mlp_in", "mlp_out"}
            else:
                later = {"mlp_out"}
            if block < 0 or has & later:
                block, has = block + 1, set()
        has.add(role)
        blocks[key] = block
    return blocks


def _by_pattern(named, patterns, found, statistics, owner):
    """Applies `roles=` patterns (of `owner`'s argument); returns variable
    id -> given block. A pattern matching statistics (`statistics`: ids),
    or whose `block` group captures no index, is a ValueError."""
    given = {}
    matched = set()  # roles whose pattern matched a path
    for path, variable in named:
        for role, pattern in patterns:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if id(variable) in statistics:
                raise ValueError(
                    f"`roles[{role!r}]` matches {path!r}, a statistic its "
                    "layer keeps (a moving mean or variance, adapted "
                    "state), not a weight: recipes leave statistics as "
                    f"they are. Received: {pattern.pattern!r}"
                )
            matched.add(role)
            subrole = role if role in SUBROLES else None
            found.set(variable, SUBROLES.get(role, role), subrole)
            if "block" in pattern.groupindex:
                given[id(variable)] = _patterns.block_index(
                    owner, role, pattern, match, path
                )
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
