"""Roles from what a model computes: the data flow of its traced call.

`keras_internals`'s trace (`_internal.keras_trace.trace_call`) gives the
`keras.ops` calls a model's call makes, each layer's `call` expanded, so a
block written in any library reads the same: a kernel is a weight operand
of a `matmul`, `einsum` or convolution (a *projection*), a residual branch
is what an `add` joins to the stream it was computed from. From that:

- **residual adds**: an `add` of two tensors, one of which (the branch) is
  computed from the other (the stream): the stream, back through
  operations that keep its shape (of one computed input, or one of its
  shape among several: a stream times a mask), views, at most one
  projection (a ResNet's projected shortcut) and earlier residual adds'
  streams; with a projection of the stream (its input computed from the
  stream with no projection between) on the way after the last residual
  add. A layer whose call could not be traced counts as a projection
  here, and alone in a branch takes attention's place;
- **a branch's region**: the operations from the stream to the add;
- **attention** in a region: a product of two computed tensors (the
  scores) whose result, through a softmax, multiplies a third (the
  values), or `dot_product_attention`; the nearest projection behind each
  operand is the query, key or value projection (one projection behind
  several operands: fused; several behind one operand: attention
  projections whose subrole cannot be told), the projections after it
  the output projection, a table multiplied with the queries or keys a
  relative position embedding. A key computed from another stream (an
  encoder's output) makes the attention cross-attention;
- **the MLP**: the region's other projections of the stream: those with no
  projection after them in the region are `mlp_out`, the others `mlp_in`;
  of two multiplied together, the one through a nonlinearity is the gate
  (`mlp_gate`), the other `mlp_up`; one a `top_k` reads is the `router`;
  a kernel with a leading axis of the router's size holds the experts;
- **blocks**: residual adds chained by their streams form a tower (an
  encoder, a decoder); along it, a self-attention branch opens a block
  unless the open one is empty, an MLP branch opens one when the open one
  has its MLP, cross-attention joins the open one;
- **outside branches**: a table indexed by a model input is a token
  embedding, a table (or slice of one) added to the stream a position
  embedding, a variable concatenated to it a class token, one selected
  by a mask a mask token, and a transformer's first projection of its
  input the patch embedding; a projection that makes a model output with
  no projection after it is the head; other projections are
  `projection`;
- **biases** are variables added to a projection's output; normalization
  scales and offsets are found by their layer's type by the caller, and
  here whether a layer applies `1 + scale` (Gemma's RMSNorm), whose
  identity is then 0, and which scale ends a branch.

Fans are the projection's own: the contracted axes of an einsum are its
fan_in, the weight's axes the output keeps its fan_out, axes shared with
the data (a batch of experts) neither; a depthwise kernel's are its window
(times the multiplier for fan_out), a grouped convolution's its window
times the channels of one group.
"""

import dataclasses
import math

import keras

from keras_inits._internal import keras_internals
from keras_inits._internal import keras_trace

# Operations through which a weight keeps its values (a reshaped kernel,
# a bias cast to the compute dtype).
_VIEWS = frozenset(
    {
        "Cast",
        "ConvertToTensor",
        "Reshape",
        "Transpose",
        "ExpandDims",
        "Squeeze",
        "Moveaxis",
        "Swapaxes",
        "Copy",
        "BroadcastTo",
        "Identity",
    }
)
_PROJECTIONS = frozenset(
    {
        "Matmul",
        "Einsum",
        "Dot",
        "Tensordot",
        "Conv",
        "DepthwiseConv",
        "SeparableConv",
        "ConvTranspose",
    }
)
# Operations whose other operands only give sizes or offsets.
_SHAPING = frozenset(
    {"Slice", "BroadcastTo", "Reshape", "Tile", "SliceUpdate", "Pad"}
)
# The names of a normalization's scale.
NORM_SCALES = ("gamma", "scale")
_KERAS_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_KERAS_PROJECTIONS = _KERAS_DEPTHWISE + (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)
_CONVOLUTIONS = frozenset({"Conv", "DepthwiseConv", "ConvTranspose"})
_ATTENTION_OPS = frozenset({"DotProductAttention"})


@dataclasses.dataclass(frozen=True)
class Use:
    """What the data flow shows of one variable.

    Attributes:
        role: a role of `ROLES`, or None.
        subrole: the finer role (`query`, `mlp_gate`, `position`, ...), or
            None.
        tower: the index of its tower (an encoder, a decoder), or None.
        block: its block's 0-based index in the tower, or None.
        fans: `(fan_in, fan_out)` of a projection's kernel, else None.
        ends_branch: whether zeros here silence a residual branch.
        adds_one: whether its layer uses `1 + value` (a scale whose
            identity is 0).
        reason: why a variable the flow shows has no role, or None.
    """

    role: str | None
    subrole: str | None = None
    tower: int | None = None
    block: int | None = None
    fans: tuple[int, int] | None = None
    ends_branch: bool = False
    adds_one: bool = False
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Flow:
    """The roles of a traced model.

    Attributes:
        uses: variable id -> `Use`, for each variable the trace reads
            outside an opaque layer.
        depths: tower -> its number of blocks.
        widths: tower -> the width of its residual stream.
        opaque: `(layer, reason)` for each layer whose call could not be
            traced (its variables are not in `uses`).
    """

    uses: dict[int, Use]
    depths: dict[int, int]
    widths: dict[int, int]
    opaque: tuple[tuple[keras.layers.Layer, str], ...]


def analyse(model: keras.layers.Layer) -> Flow:
    """The `Flow` of `model`; raises `keras_trace.TraceError` when its call
    cannot be traced."""
    norms = {
        id(v): layer
        for layer in keras_internals.all_layers(model)
        if is_norm(layer)
        for v in keras_internals.own_variables(layer)
    }
    return _Analysis(keras_trace.trace_call(model), norms).flow()


@dataclasses.dataclass
class _Projection:
    """A kernel multiplying data: where, what, its fans and the role found
    for it."""

    node: int  # index of its node
    variable: keras.Variable
    data: int  # the tensor it projects
    output: int
    fans: tuple[int, int]
    operand: int  # the kernel's place among the node's operands
    role: str | None = None
    subrole: str | None = None
    branch: "_Branch | None" = None


@dataclasses.dataclass
class _Branch:
    """A residual branch: its add, the stream and branch tensors it joins,
    the operations between them (its region), and what they hold."""

    add: int  # node index of the residual add
    stream: int  # tensor
    branch: int  # tensor
    skip: frozenset[int]  # the stream's tensors (`_skip`)
    nodes: set[int] = dataclasses.field(default_factory=set)
    projections: list[_Projection] = dataclasses.field(default_factory=list)
    attention: bool = False
    cross: bool = False
    mlp: bool = False
    # Opaque layers with weights in the region (their call did not trace).
    opaque: list[int] = dataclasses.field(default_factory=list)
    tower: int = -1
    block: int | None = None


class _Analysis:
    """One pass over a trace; `flow()` gives the result."""

    def __init__(self, trace, norms):
        self.trace = trace
        self.norms = norms  # variable id -> its normalization layer
        self.nodes = trace.nodes
        count = len(trace.shapes)
        self.producer: list[int | None] = [None] * count  # tensor -> node
        self.consumers = [[] for _ in range(count)]  # tensor -> node indices
        for i, node in enumerate(self.nodes):
            for t in node.outputs:
                self.producer[t] = i
            for t in self._tensors(node):
                self.consumers[t].append(i)
        self.owner = {}  # variable id -> its layer
        self.data = [False] * count  # whether a model input reaches it
        self.ancestors = [0] * count  # bitset of the tensors it comes from
        self.weight = [None] * count  # tensor -> the variable it views
        self.plus_one = [False] * count  # weight tensor holding 1 + it
        for t in trace.inputs:
            self.data[t] = True
        for node in self.nodes:
            self._propagate(node)

    # Tensors and weights -------------------------------------------------

    def _tensors(self, node):
        """The indices of the tensors among `node`'s operands: for an
        operation that slices or shapes its first operand, that one (the
        others give sizes and offsets, which may be read off the input)."""
        if node.kind in _SHAPING and node.operands:
            return [x for x in node.operands[:1] if _is_tensor(x)]
        return [x for x in node.operands if _is_tensor(x)]

    def _propagate(self, node):
        """Sets data, ancestors and weight of `node`'s outputs."""
        tensors = self._tensors(node)
        ancestors = 0
        for t in tensors:
            ancestors |= self.ancestors[t] | (1 << t)
        data = any(self.data[t] for t in tensors)
        weight, plus_one = None, False
        if node.kind == "Read":
            weight = node.variables[0]
        elif not data and not node.opaque:
            viewed = [
                self.weight[t] for t in tensors if self.weight[t] is not None
            ]
            viewed += [x for x in node.operands if _is_variable(x)]
            if len(viewed) == 1 and len(tensors) <= 2:
                weight = viewed[0]
                plus_one = any(self.plus_one[t] for t in tensors) or (
                    node.kind == "Add" and 1 in _numbers(node)
                )
        for t in node.outputs:
            self.ancestors[t] = ancestors
            self.data[t] = data
            self.weight[t] = weight
            self.plus_one[t] = plus_one

    def _weight_operand(self, x):
        """The variable operand `x` is (or views), or None."""
        if _is_variable(x):
            return x
        if _is_tensor(x) and not self.data[x]:
            return self.weight[x]
        return None

    def _shape(self, x):
        return tuple(x.shape) if _is_variable(x) else self.trace.shapes[x]

    # Projections ----------------------------------------------------------

    def _projections(self):
        """`_Projection`s of every node that multiplies data by a kernel."""
        found = []
        for i, node in enumerate(self.nodes):
            if node.opaque:
                found.extend(self._opaque_projection(i, node))
                continue
            if node.kind not in _PROJECTIONS:
                continue
            weights = [
                (k, self._weight_operand(x))
                for k, x in enumerate(node.operands)
            ]
            weights = [(k, v) for k, v in weights if v is not None]
            data = [x for x in node.operands if _is_tensor(x) and self.data[x]]
            if not data or not node.outputs:
                continue
            for k, variable in weights:
                if len(variable.shape) < 2:
                    continue
                fans = self._fans(node, k, variable)
                found.append(
                    _Projection(i, variable, data[0], node.outputs[0], fans, k)
                )
        return found

    def _opaque_projection(self, i, node):
        """A Keras convolution or `Dense` whose call did not trace (a
        grouped convolution, which `keras.ops.conv` cannot run on symbolic
        tensors) is a projection all the same: `[_Projection]`, or `[]`
        for any other opaque layer."""
        layer = node.operation
        data = [x for x in node.operands if _is_tensor(x) and self.data[x]]
        kernel = getattr(layer, "kernel", None)
        if (
            not isinstance(layer, _KERAS_PROJECTIONS)
            or not isinstance(kernel, keras.Variable)
            or len(data) != 1
            or len(node.outputs) != 1
        ):
            return []
        shape = tuple(kernel.shape)
        window = math.prod(shape[:-2])
        if isinstance(layer, _KERAS_DEPTHWISE):
            fans = window, window * shape[-1]
        else:
            groups = getattr(layer, "groups", 1)
            fans = window * shape[-2], window * shape[-1] // groups
        return [_Projection(i, kernel, data[0], node.outputs[0], fans, -1)]

    def _fans(self, node, k, variable, experts=False):
        """`(fan_in, fan_out)` of `variable`, operand `k` of `node`; with
        `experts`, its first axis (the experts) counted in neither."""
        shape = self._shape(node.operands[k])
        if experts:
            shape = shape[1:]
        if node.kind == "Einsum":
            shapes = [
                self._shape(x) if (_is_tensor(x) or _is_variable(x)) else ()
                for x in node.operands
            ]
            fans = _einsum_fans(node.operation, k, shapes, experts)
            if fans is not None:
                return fans
        if node.kind in _CONVOLUTIONS or node.kind == "SeparableConv":
            window = math.prod(shape[:-2])
            if node.kind == "DepthwiseConv" or (
                node.kind == "SeparableConv" and k == 1
            ):
                return window, window * shape[-1]
            if node.kind == "ConvTranspose":
                return window * shape[-1], window * shape[-2]
            return window * shape[-2], window * shape[-1]
        if len(shape) >= 2:
            if k == 0:  # kernel @ data
                return shape[-1], shape[-2]
            return shape[-2], shape[-1]
        size = math.prod(variable.shape)
        return size, size

    # The analysis ---------------------------------------------------------

    def flow(self):
        projections = self._projections()
        self.by_output = {}  # tensor -> projection making it
        for p in projections:
            self.by_output[p.output] = p
        self.by_node = {p.node: p for p in projections}
        # Opaque layers with weights that are not projections: a layer
        # whose call does not trace (its own attention, say) still makes
        # its branch a branch.
        self.opaque_nodes = {
            i
            for i, node in enumerate(self.nodes)
            if node.opaque and node.variables and i not in self.by_node
        }
        self.opaque_units = []
        for i in sorted(self.opaque_nodes):
            node = self.nodes[i]
            data = [x for x in node.operands if _is_tensor(x) and self.data[x]]
            if data and node.outputs:
                self.opaque_units.append((data[0], node.outputs[0]))
        self.claimed = set()  # opaque nodes a branch holds
        # tensor -> bitset of the tensors it comes from with no projection
        # (or opaque layer) between them.
        self.near = [0] * len(self.trace.shapes)
        for i, node in enumerate(self.nodes):
            near = 0
            if i not in self.by_node and i not in self.opaque_nodes:
                for t in self._tensors(node):
                    near |= self.near[t] | (1 << t)
            for t in node.outputs:
                self.near[t] = near
        branches = self._residual_adds()
        for branch in branches:
            self._region(branch, branches)
        for branch in branches:
            self._roles_in(branch)
        branches = [b for b in branches if b.projections or b.opaque]
        self._blocks(branches)
        uses = {}
        for b in branches:
            for i in b.opaque:
                for variable in self.nodes[i].variables:
                    uses[id(variable)] = Use(None, None, b.tower, b.block)
        self._biases(projections, uses)
        self._outside(projections, branches, uses)
        for p in projections:
            if id(p.variable) in uses and p.role is None:
                continue
            block = p.branch.block if p.branch else None
            tower = p.branch.tower if p.branch else None
            reason = None
            if p.role is None:
                # In a branch, but neither attention's nor of the stream.
                reason = (
                    "a projection in a residual branch of a tensor other "
                    "than the stream (a conditioning input)"
                )
            uses.setdefault(
                id(p.variable),
                Use(p.role, p.subrole, tower, block, p.fans, reason=reason),
            )
        self._ends(branches, uses)
        self._norm_offsets(uses)
        depths, widths = {}, {}
        for b in branches:
            if b.block is not None:
                depths[b.tower] = max(depths.get(b.tower, 0), b.block + 1)
            widths.setdefault(b.tower, self.trace.shapes[b.stream][-1])
        return Flow(uses, depths, widths, self.trace.opaque)

    def _skip(self, tensor, residual):
        """The tensors the stream `tensor` carries: it, back through
        operations of one computed input (or one of its own shape among
        several: a stream times a mask) that keep its shape, at most one
        projection (a projected shortcut) and views, and through the
        streams of the residual adds found so far. An operation that
        changes the shape otherwise (attention's scores from a query)
        does not carry a stream."""
        shapes = self.trace.shapes
        path = []
        projected = False
        while tensor is not None:
            path.append(tensor)
            i = self.producer[tensor]
            if i is None:
                break
            if i in residual:
                tensor = residual[i].stream
                continue
            node = self.nodes[i]
            inputs = [t for t in self._tensors(node) if self.data[t]]
            if len(inputs) == 2 and node.kind == "Add":
                # x + f(x) with no projection in f (FNet's Fourier mixing):
                # the stream is x.
                first, second = inputs
                if self.ancestors[second] & (1 << first):
                    inputs = [first]
                elif self.ancestors[first] & (1 << second):
                    inputs = [second]
            if len(inputs) > 1:
                inputs = [t for t in inputs if shapes[t] == shapes[tensor]]
            if len(inputs) != 1 or node.opaque:
                break
            if i in self.by_node:
                if projected:
                    break
                projected = True
            elif (
                node.kind not in _VIEWS and shapes[inputs[0]] != shapes[tensor]
            ):
                break
            tensor = inputs[0]
        return path

    def _residual_adds(self):
        """The residual adds, in the trace's order, as `_Branch`es."""
        residual = {}  # node index -> _Branch
        for i, node in enumerate(self.nodes):
            if node.kind != "Add":
                continue
            inputs = [t for t in self._tensors(node) if self.data[t]]
            if len(inputs) != 2:
                continue
            for stream, branch in (inputs, inputs[::-1]):
                skip = self._skip(stream, residual)
                mask = 0
                for t in skip:
                    mask |= 1 << t
                if self.ancestors[branch] & mask and self._projects(
                    branch, skip, mask, residual
                ):
                    residual[i] = _Branch(i, stream, branch, frozenset(skip))
                    break
        return list(residual.values())

    def _projects(self, branch, skip, mask, residual):
        """Whether a projection of the stream (`skip`, as a bit `mask`)
        lies on the way to `branch` after the residual adds found so far
        (`residual`): its input computed from the stream with no
        projection between. A rotary embedding adds two products of the
        same projection, and T5 adds attention scores to a position bias
        that holds the padding mask earlier blocks saw: neither is a
        residual branch."""
        before = [
            t
            for i in residual
            for t in self.nodes[i].outputs
            if t == branch or self.ancestors[branch] & (1 << t)
        ]
        units = [(p.data, p.output) for p in self.by_node.values()]
        units += self.opaque_units
        for data, output in units:
            on_way = output == branch or self.ancestors[branch] & (1 << output)
            from_stream = data in skip or self.near[data] & mask
            behind = any(self.ancestors[t] & (1 << output) for t in before)
            if on_way and from_stream and output not in skip and not behind:
                return True
        return False

    def _region(self, branch, branches):
        """Fills `branch.nodes` and `branch.projections`: the operations
        between its stream and its add."""
        stops = {b.add for b in branches}
        stack = [branch.branch]
        seen = set()
        while stack:
            t = stack.pop()
            if t in seen or t in branch.skip:
                continue
            seen.add(t)
            i = self.producer[t]
            if i is None or i in stops:
                continue
            branch.nodes.add(i)
            stack.extend(self._tensors(self.nodes[i]))
        for i in sorted(branch.nodes):
            p = self.by_node.get(i)
            if p is not None and p.branch is None:
                p.branch = branch
                branch.projections.append(p)
            elif i in self.opaque_nodes and i not in self.claimed:
                self.claimed.add(i)
                branch.opaque.append(i)
        branch.projections = [
            p for p in branch.projections if p.branch is branch
        ]

    def _from_stream(self, branch, tensor):
        """Whether `tensor` is computed from `branch`'s stream."""
        mask = 0
        for t in branch.skip:
            mask |= 1 << t
        return tensor in branch.skip or bool(self.ancestors[tensor] & mask)

    def _behind(self, branch, tensor):
        """The projections of `branch` nearest behind `tensor`, and
        whether the way from one of them passes an operation that is not a
        view (a nonlinearity)."""
        found, shaped = [], False
        stack = [(tensor, False)]
        seen = set()
        while stack:
            t, changed = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            p = self.by_output.get(t)
            if p is not None and p.branch is branch:
                found.append(p)
                shaped = shaped or changed
                continue
            i = self.producer[t]
            if i is None or i not in branch.nodes:
                continue
            node = self.nodes[i]
            if self._mixes(node):
                continue
            changed = changed or node.kind not in _VIEWS
            stack.extend(
                (x, changed) for x in self._tensors(node) if self.data[x]
            )
        return found, shaped

    def _mixes(self, node):
        """Whether `node` multiplies two computed tensors (attention's
        scores or its weighted values) or is an attention operation."""
        if node.kind in _ATTENTION_OPS:
            return True
        if node.kind not in ("Matmul", "Einsum") or node.opaque:
            return False
        data = [x for x in node.operands if _is_tensor(x) and self.data[x]]
        weights = [
            x for x in node.operands if self._weight_operand(x) is not None
        ]
        return len(data) >= 2 and not weights

    def _roles_in(self, branch):
        """Gives the projections of `branch` their roles."""
        mixing = [
            i for i in sorted(branch.nodes) if self._mixes(self.nodes[i])
        ]
        qkv = {"query": [], "key": [], "value": []}
        outputs = []  # tensors attention makes
        for i in mixing:
            node = self.nodes[i]
            data = [x for x in node.operands if _is_tensor(x) and self.data[x]]
            if node.kind in _ATTENTION_OPS:
                for name, t in zip(("query", "key", "value"), data):
                    qkv[name].append(t)
                outputs.extend(node.outputs)
                continue
            earlier = [
                j
                for j in mixing
                if j < i
                and any(
                    self.ancestors[x] & (1 << self.nodes[j].outputs[0])
                    or x == self.nodes[j].outputs[0]
                    for x in data
                )
            ]
            if not earlier:
                continue
            scores = self.nodes[earlier[-1]]
            probs = scores.outputs[0]
            values = [
                x
                for x in data
                if not (x == probs or self.ancestors[x] & (1 << probs))
            ]
            score_data = [
                x for x in scores.operands if _is_tensor(x) and self.data[x]
            ]
            if len(score_data) < 2 or not values:
                continue
            query, key = score_data[0], score_data[1]
            if _key_first(scores):
                query, key = key, query
            qkv["query"].append(query)
            qkv["key"].append(key)
            qkv["value"].append(values[0])
            outputs.extend(node.outputs)
        # id(projection) -> the subroles of the operands it alone is
        # behind. Several projections behind one operand (a rotary
        # embedding written over the query and key together) are attention
        # projections whose subrole cannot be told.
        taken = {}
        for name, tensors in qkv.items():
            for t in tensors:
                behind = self._behind(branch, t)[0]
                for p in behind:
                    names = taken.setdefault(id(p), set())
                    if len(behind) == 1:
                        names.add(name)
                    if name == "key" and not self._from_stream(branch, p.data):
                        branch.cross = True
        branch.attention = bool(taken) and not branch.cross
        out_mask = 0
        for t in outputs:
            out_mask |= 1 << t
        qkv_mask = 0  # the outputs of the query, key and value projections
        for p in branch.projections:
            if id(p) in taken:
                qkv_mask |= 1 << p.output
        rest = []
        for p in branch.projections:
            names = taken.get(id(p))
            if names is not None:
                p.role = "attention_qkv"
                if len(names) > 1:
                    p.subrole = "fused_qkv"
                elif names:
                    p.subrole = names.pop()
            elif outputs and (
                self.ancestors[p.data] & out_mask or p.data in outputs
            ):
                p.role = "attention_output"
            elif (self.near[p.data] | 1 << p.data) & qkv_mask:
                # A table multiplied with the queries or keys: a relative
                # position embedding (ViTDet's, SAM's).
                p.role, p.subrole = "embedding", "position"
            elif self._from_stream(branch, p.data):
                rest.append(p)
        self._mlp(branch, rest)

    def _mlp(self, branch, mlp):
        """Gives the MLP projections of `branch` their roles."""
        if not mlp:
            return
        branch.mlp = True
        experts = None
        for i in sorted(branch.nodes):
            if self.nodes[i].kind != "TopK":
                continue
            read = self._tensors(self.nodes[i])[0]
            for p in mlp:
                if p.output == read or self.ancestors[read] & (1 << p.output):
                    p.role, p.subrole = "mlp_in", "router"
                    experts = self.trace.shapes[read][-1]
        mlp = [p for p in mlp if p.subrole != "router"]
        for p in mlp:
            later = [
                q
                for q in mlp
                if q is not p and self.ancestors[q.output] & (1 << p.output)
            ]
            p.role = "mlp_in" if later else "mlp_out"
        for i in sorted(branch.nodes):
            node = self.nodes[i]
            if node.kind != "Multiply":
                continue
            data = [x for x in node.operands if _is_tensor(x) and self.data[x]]
            if len(data) != 2:
                continue
            sides = [self._behind(branch, t) for t in data]
            if any(len(found) != 1 for found, _ in sides):
                continue
            (a,), a_changed = sides[0]
            (b,), b_changed = sides[1]
            if a is b or a_changed == b_changed:
                continue
            gate, up = (a, b) if a_changed else (b, a)
            if gate.role == up.role == "mlp_in":
                gate.subrole, up.subrole = "mlp_gate", "mlp_up"
        if experts is None:
            return
        for p in mlp:
            shape = tuple(p.variable.shape)
            if len(shape) >= 3 and shape[0] == experts:
                p.subrole = {
                    "mlp_gate": "expert_gate",
                    "mlp_up": "expert_up",
                    None: "expert_in" if p.role == "mlp_in" else "expert_out",
                }[p.subrole]
                if p.operand >= 0:  # a traced operation's operand
                    p.fans = self._fans(
                        self.nodes[p.node], p.operand, p.variable, True
                    )

    def _blocks(self, branches):
        """Sets each branch's tower and block."""
        tower_of = {}  # add node -> tower
        by_add = {b.add: b for b in branches}
        towers = 0
        for b in branches:
            # The nearest earlier residual add the stream comes through.
            pred = max(
                (
                    self.producer[t]
                    for t in b.skip
                    if self.producer[t] in by_add
                ),
                default=None,
            )
            if pred is None:
                tower_of[b.add] = towers
                towers += 1
            else:
                tower_of[b.add] = tower_of[pred]
        state = {}  # tower -> (block, has attention, has mlp)
        for b in branches:
            b.tower = tower_of[b.add]
            block, attention, mlp = state.get(b.tower, (-1, False, False))
            # An opaque layer alone in a branch takes attention's place
            # (DeBERTa's disentangled attention, RWKV's time mixing).
            if b.attention or (b.opaque and not b.mlp and not b.cross):
                if block < 0 or attention or mlp:
                    block, attention, mlp = block + 1, False, False
                attention = True
                mlp = mlp or b.mlp
            elif b.cross:
                if block < 0:
                    block = 0
            elif b.mlp:
                if block < 0 or mlp:
                    block, attention, mlp = block + 1, False, False
                mlp = True
            b.block = block
            state[b.tower] = (block, attention, mlp)

    def _outside(self, projections, branches, uses):
        """Roles of what no branch holds: embeddings, class tokens, the
        patch embedding, the head and other projections."""
        attention = any(b.attention or b.cross for b in branches)
        for node in self.nodes:
            operands = node.operands
            data = [x for x in operands if _is_tensor(x) and self.data[x]]
            tables = [
                v for v in map(self._weight_operand, operands) if v is not None
            ]
            if not tables or node.opaque:
                continue
            if node.kind == "Take":
                indices = operands[1] if len(operands) > 1 else None
                by_input = isinstance(indices, int) and self.data[indices]
                subrole = "token" if by_input else "position"
                uses.setdefault(id(tables[0]), Use("embedding", subrole))
            elif node.kind in ("Add",) and data:
                variable = tables[0]
                if len(variable.shape) >= 2:
                    uses.setdefault(id(variable), Use("embedding", "position"))
            elif node.kind == "Concatenate" and data:
                for variable in tables:
                    uses.setdefault(
                        id(variable), Use("embedding", "class_token")
                    )
            elif node.kind in ("Where", "Select") and data:
                for variable in tables:
                    uses.setdefault(
                        id(variable), Use("embedding", "mask_token")
                    )
        for p in projections:
            if p.branch is not None or id(p.variable) in uses:
                continue
            first = not any(
                self.ancestors[p.data] & (1 << q.output) for q in projections
            )
            if not self._projection_after(p, projections) and (
                self._reaches_output(p.output)
            ):
                p.role = "head"
            elif first and attention:
                # A transformer's first projection of its input: patches
                # of an image, frames of a sound.
                p.role, p.subrole = "embedding", "patch"
            else:
                p.role = "projection"

    def _projection_after(self, p, projections):
        """Whether a projection or a residual add comes after `p` on the
        way to an output."""
        bit = 1 << p.output
        return any(
            self.ancestors[q.output] & bit for q in projections if q is not p
        )

    def _reaches_output(self, tensor):
        """Whether `tensor` is, or leads to, a model output."""
        for t in self.trace.outputs:
            if t == tensor or self.ancestors[t] & (1 << tensor):
                return True
        return False

    def _biases(self, projections, uses):
        """Vectors added to a projection's output are its biases."""
        for p in projections:
            outputs = [p.output]
            while outputs:
                t = outputs.pop()
                for i in self.consumers[t]:
                    node = self.nodes[i]
                    if node.kind in _VIEWS:
                        outputs.extend(node.outputs)
                        continue
                    if node.kind != "Add":
                        continue
                    for x in node.operands:
                        variable = self._weight_operand(x)
                        if variable is None or variable is p.variable:
                            continue
                        if math.prod(variable.shape) > p.fans[1]:
                            continue
                        mlp = p.role in ("mlp_in", "mlp_out")
                        block = p.branch.block if p.branch else None
                        tower = p.branch.tower if p.branch else None
                        uses.setdefault(
                            id(variable),
                            Use(
                                "bias",
                                "mlp_bias" if mlp else None,
                                tower,
                                block,
                            ),
                        )

    def _ends(self, branches, uses):
        """Marks the variable that ends each branch: the scale of the
        normalization nearest its add, else its last projections."""
        for b in branches:
            stack = [b.branch]
            seen = set()
            while stack:
                t = stack.pop()
                if t in seen:
                    continue
                seen.add(t)
                p = self.by_output.get(t)
                if p is not None and p.branch is b:
                    if p.subrole != "router":
                        self._mark_end(uses, p.variable)
                    continue
                i = self.producer[t]
                if i is None or i not in b.nodes:
                    continue
                node = self.nodes[i]
                if self._mixes(node):
                    continue
                scale = self._norm_scale(node)
                if scale is not None:
                    self._mark_end(uses, scale)
                    continue
                stack.extend(x for x in self._tensors(node) if self.data[x])

    def _norm_scale(self, node):
        """The scale of the normalization layer whose variable `node`
        reads, or None."""
        for x in node.operands:
            variable = self._weight_operand(x)
            layer = None if variable is None else self.norms.get(id(variable))
            if layer is None:
                continue
            for v in keras_internals.own_variables(layer):
                if v.name in NORM_SCALES:
                    return v
        return None

    def _mark_end(self, uses, variable):
        use = uses.get(id(variable))
        if use is None:
            uses[id(variable)] = Use(None, ends_branch=True)
        else:
            uses[id(variable)] = dataclasses.replace(use, ends_branch=True)

    def _norm_offsets(self, uses):
        """Marks scales used as `1 + scale`."""
        for node in self.nodes:
            if node.kind != "Add" or 1 not in _numbers(node):
                continue
            for x in node.operands:
                v = self._weight_operand(x)
                if v is not None and len(v.shape) == 1:
                    use = uses.get(id(v), Use(None))
                    uses[id(v)] = dataclasses.replace(use, adds_one=True)


def is_norm(layer: object) -> bool:
    """Whether `layer` is a normalization layer, by its class name
    (`...Normalization`, `...Norm`), so that one of any library counts."""
    name = type(layer).__name__
    return isinstance(layer, keras.layers.Layer) and (
        name.endswith("Normalization") or name.endswith("Norm")
    )


def _is_tensor(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _is_variable(x):
    return isinstance(x, keras.Variable)


def _numbers(node):
    """The Python numbers among `node`'s operands."""
    return [x for x in node.operands if isinstance(x, float)]


def _key_first(node):
    """Whether the first operand of a scores product `node` is the key:
    the operand that gives the scores' last axis (the one the softmax
    normalizes) is the key."""
    if node.kind == "Einsum":
        inputs, output = _einsum_letters(node.operation)
        if output and len(inputs) >= 2:
            last = output[-1]
            return last in inputs[0] and last not in inputs[1]
    return False


def _einsum_letters(operation):
    subscripts = getattr(operation, "subscripts", "")
    subscripts = subscripts.replace(" ", "").replace("...", "")
    if "->" not in subscripts:
        return [], ""
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _einsum_fans(operation, k, shapes, experts=False):
    """`(fan_in, fan_out)` of operand `k` of an einsum: its contracted axes
    against those the output keeps; axes the data shares are neither, nor
    with `experts` the first."""
    inputs, output = _einsum_letters(operation)
    if k >= len(inputs) or len(inputs[k]) != len(shapes[k]):
        return None
    others = set("".join(x for j, x in enumerate(inputs) if j != k))
    fan_in = fan_out = 1
    for axis, (letter, size) in enumerate(zip(inputs[k], shapes[k])):
        if size is None:
            return None
        if (letter in output and letter in others) or (experts and axis == 0):
            continue
        if letter in output:
            fan_out *= size
        else:
            fan_in *= size
    return fan_in, fan_out
