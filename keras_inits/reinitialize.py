"""`reinitialize`: re-draws every weight of a Keras model from its initializers.

Keras does not keep a variable's initializer once the variable holds a value
(`Variable._initializer` is set only while initialization is deferred inside
a `StatelessScope`). What it does keep is each layer's config and build
shapes, the record `.keras` files are loaded from. So for every layer that
owns weights, `reinitialize` rebuilds a throwaway twin from that record
inside a `StatelessScope`: the twin's `build` runs the layer's own
`add_weight(initializer=...)` calls, nothing is allocated, and each twin
variable then holds the exact initializer, closures such as LSTM's
`unit_forget_bias` bias included. No list of layer types is kept here.

Two passes make the reset all-or-nothing without a copy of the model. The
first pass checks every variable: its initializer was found, and a shape-only
trace (`compute_output_spec`) gives the variable's shape and dtype. That
trace is exact for Keras and keras_inits initializers, which are pure
functions of their config, seed, shape and dtype: the second pass replays
them one variable at a time. Any other callable (a custom initializer, a
closure) is run for real in the first pass and its result kept until the
second: that is the only extra memory beyond one variable at a time, and the
report gives its size as `kept_bytes`.
"""

import dataclasses
import hashlib
import json
import math
import random
import re

import keras
import numpy as np
from keras import ops

# Neither is exported by Keras: the shape-only trace of a function, and the
# list where a StatelessScope registers the variables it defers.
from keras.src.backend import compute_output_spec
from keras.src.backend.common import global_state

from keras_inits import portable as portable_seeds
from keras_inits import sharding

_SEED_LIMIT = 2**31  # accepted by every backend's seed handling


class ReinitializeError(ValueError):
    """Raised before any weight changes. `problems` maps path to reason."""

    def __init__(self, message, problems):
        super().__init__(message)
        self.problems = dict(problems)


@dataclasses.dataclass(frozen=True)
class ReinitializedVariable:
    """One re-drawn variable: where, from what, and its values' moments."""

    path: str
    initializer: str
    shape: tuple
    mean_before: float
    std_before: float
    mean_after: float
    std_after: float


class _RowTable:
    """Rows that each have a `path`, kept in order: `len`, iteration, lookup
    by path (KeyError if absent) and a plain-text table. The base of
    ReinitializeReport and of diagnostics' ModelDescription; a subclass sets
    `self.rows`."""

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, path):
        for row in self.rows:
            if row.path == path:
                return row
        raise KeyError(path)

    @staticmethod
    def _aligned(table, left):
        """The lines of `table` (a header, then one tuple of strings per
        row), columns two spaces apart: the first `left` left-aligned, the
        rest (numbers) right-aligned."""
        widths = [max(len(line[i]) for line in table)
                  for i in range(len(table[0]))]
        return [
            "  ".join(
                cell.ljust(w) if i < left else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths))
            ).rstrip()
            for line in table
        ]


class ReinitializeReport(_RowTable):
    """What `reinitialize` did. Prints as a table; indexable by path.

    Attributes:
        rows: one `ReinitializedVariable` per re-drawn variable.
        skipped: path -> reason, for variables left as they were because
            their initializer could not be found (`skip_unattributed=True`).
        seed: the seed every per-variable seed was derived from; pass it
            back as `seed=` to draw the same values again.
        kept_bytes: memory held between the two passes for initializers that
            cannot be replayed (0 for Keras and keras_inits initializers).
    """

    def __init__(self, rows, skipped, seed, kept_bytes):
        self.rows = list(rows)
        self.skipped = dict(skipped)
        self.seed = seed
        self.kept_bytes = kept_bytes

    def __repr__(self):
        return (
            f"<ReinitializeReport: {len(self.rows)} variables re-drawn, "
            f"{len(self.skipped)} skipped, seed={self.seed}>"
        )

    def __str__(self):
        header = ("path", "initializer", "shape", "mean before", "mean after",
                  "std before", "std after")
        table = [header] + [
            (r.path, r.initializer, str(r.shape), *(f"{x:.4g}" for x in (
                r.mean_before, r.mean_after, r.std_before, r.std_after)))
            for r in self.rows
        ]
        lines = self._aligned(table, left=3)
        lines.append(
            f"{len(self.rows)} variables re-drawn "
            f"({sum(math.prod(r.shape) for r in self.rows):,} values), "
            f"seed={self.seed}, {self.kept_bytes:,} bytes kept between passes."
        )
        for path, reason in self.skipped.items():
            lines.append(f"skipped {path}: {reason}")
        return "\n".join(lines)


class _Unattributed(Exception):
    """Internal: the initializer of these variables cannot be found."""


def reinitialize(model_or_layer, seed=None, *, layers=None, skip_frozen=False,
                 skip_unattributed=False, reset_optimizer=False,
                 portable=None):
    """Re-draws every weight of a model or layer from its own initializers.

    Each variable gets new values from the initializer its layer created it
    with: kernels, biases (LSTM's `unit_forget_bias` included), embeddings,
    normalization scales, offsets and moving statistics, in any layer,
    nested model or custom layer that creates weights with
    `add_weight(initializer=...)`. Keras initializers fix their seed when
    built, so calling them again gives the original values back; here each
    initializer is rebuilt with a new seed, derived from `seed` and the
    variable's path. Unlike `keras.models.clone_model`, it works on
    subclassed models, keeps the model object (and its compiled state), and
    needs no second copy of the weights.

    The reset is all-or-nothing: if any selected variable's initializer
    cannot be found, raises, or gives the wrong shape or dtype, it raises
    `ReinitializeError` (a `ValueError`) naming every such variable by path
    before any weight changes.

    Args:
        model_or_layer: a built `keras.Model` or `keras.layers.Layer`.
        seed: None for fresh values at every call (drawn from Python's
            `random`, which `keras.utils.set_random_seed` seeds), or an
            integer in [0, 2**31). With an integer, a variable's values
            depend only on the seed and its path, so reinitializing one
            layer alone gives it the values a full reinitialize would.
        layers: None for every layer, or layer instances and names, or a
            predicate `layer -> bool`. A variable is re-drawn when its layer
            or any layer containing it is selected.
        skip_frozen: leave layers with `trainable=False` (or inside one)
            as they are, as for a frozen pretrained base.
        skip_unattributed: leave variables whose initializer cannot be
            found as they are, listed in the report's `skipped`, instead of
            raising.
        reset_optimizer: also return the compiled optimizer's iterations
            and slot variables (moments, accumulators) to their initial
            values, so training restarts as from a fresh model.
        portable: True to re-draw every random initializer with a
            `keras_inits.PortableSeed` derived from `seed`, so the weights
            are the same on every backend (Keras' own random initializers
            are replaced by keras_inits' class of the same name and
            arguments); None (the default) to follow
            `keras_inits.set_portable`. Either way, an initializer whose
            seed is a `PortableSeed` stays portable.

    Returns:
        A `ReinitializeReport`: path, initializer and before/after mean and
        standard deviation of every re-drawn variable.

    Examples:

    >>> import keras_inits
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(3, name="out")], name="mlp")
    >>> report = keras_inits.reinitialize(model, seed=1)
    >>> [row.path for row in report]
    ['mlp/out/kernel', 'mlp/out/bias']

    One layer alone, with the same seed, gets the same values again:

    >>> kernel = keras.ops.convert_to_numpy(model.get_layer("out").kernel)
    >>> _ = keras_inits.reinitialize(model.get_layer("out"), seed=1)
    >>> after = keras.ops.convert_to_numpy(model.get_layer("out").kernel)
    >>> bool((after == kernel).all())
    True
    """
    root = _check_root(model_or_layer)
    if seed is None:
        seed = random.randrange(_SEED_LIMIT)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not (
            0 <= seed < _SEED_LIMIT):
        raise ValueError(
            "Argument `seed` of reinitialize must be None or an integer in "
            f"[0, 2**31). Received: seed={seed!r}"
        )
    if portable is None:
        portable = portable_seeds.is_portable()
    elif not isinstance(portable, bool):
        raise ValueError(
            "Argument `portable` of reinitialize must be None, True or False. "
            f"Received: portable={portable!r}"
        )
    root_seed = portable_seeds.PortableSeed(seed) if portable else seed
    targets = _select(root, layers, skip_frozen)
    if reset_optimizer:
        targets.append(_optimizer_target(root))

    # First pass: find and check every initializer; change nothing.
    plans, unattributed, failures, trace_cache = [], {}, {}, {}
    keys = _Keys()
    for capture, variables in targets:
        try:
            initializers = capture()
        except _Unattributed as reason:
            unattributed.update((keys(v), str(reason)) for v in variables)
            continue
        for variable in variables:
            key, found = keys(variable), initializers.get(id(variable))
            if isinstance(found, str):
                unattributed[key] = found
                continue
            try:
                plans.append((key, *_plan(variable, found, _child_seed(
                    root_seed, key), trace_cache)))
            except Exception as error:  # any failure of a user's callable
                failures[key] = f"{type(error).__name__}: {error}"
    if failures or (unattributed and not skip_unattributed):
        problems = {**failures, **unattributed}
        advice = (" Pass `skip_unattributed=True` to leave variables without "
                  "a known initializer as they are." if unattributed else "")
        raise ReinitializeError(
            "reinitialize changed no weight: it cannot re-draw " + "; ".join(
                f"{p}: {r}" for p, r in problems.items()) + "." + advice,
            problems,
        )

    # Second pass: one variable at a time, replaying the checked draws and
    # dropping each kept value once assigned.
    rows, kept = [], sum(getattr(plan[-1], "kept_bytes", 0) for plan in plans)
    try:
        for i, (key, variable, description, draw) in enumerate(plans):
            plans[i] = None
            before = _moments(variable)
            variable.assign(ops.cast(draw(), variable.dtype))
            rows.append(ReinitializedVariable(
                key, description, tuple(variable.shape),
                *before, *_moments(variable)))
    except BaseException as error:  # out of memory, Ctrl-C: say what changed
        if rows and hasattr(error, "add_note"):
            error.add_note(
                f"reinitialize was stopped after re-drawing {len(rows)} of "
                f"{len(plans)} variables: {[row.path for row in rows]}")
        raise
    return ReinitializeReport(rows, unattributed, seed, kept)


def _check_root(model_or_layer):
    if not isinstance(model_or_layer, keras.layers.Layer):
        raise ValueError(
            "reinitialize needs a keras.Model or keras.layers.Layer. "
            f"Received: {type(model_or_layer).__name__}"
        )
    if not model_or_layer.weights:
        raise ValueError(
            f"{model_or_layer.name} has no weights to reinitialize: build it "
            "first (call it on data, or `build(input_shape)`)."
        )
    return model_or_layer


# Selection. Keras keeps a layer's own variables and its direct sublayers in
# private lists; `Layer.weights` is built from the same two.


def _own_variables(layer):
    return layer._trainable_variables + layer._non_trainable_variables


def _select(root, layers, skip_frozen):
    """Returns `[(capture, variables)]` for every selected weight owner."""
    wanted = _selector(root, layers)
    targets, seen_layers, seen_variables = [], set(), set()

    def visit(layer, selected, frozen):
        if id(layer) in seen_layers:
            return
        seen_layers.add(id(layer))
        selected = selected or wanted(layer)
        frozen = frozen or (skip_frozen and not layer.trainable)
        own = [v for v in _own_variables(layer)
               if id(v) not in seen_variables]
        seen_variables.update(id(v) for v in own)
        if own and selected and not frozen:
            targets.append((lambda: _capture_layer(layer), own))
        for child in layer._layers:
            visit(child, selected, frozen)

    visit(root, False, False)
    return targets


def _selector(root, layers):
    if layers is None:
        return lambda layer: True
    if callable(layers) and not isinstance(layers, keras.layers.Layer):
        return lambda layer: bool(layers(layer))
    if isinstance(layers, (str, keras.layers.Layer)):
        layers = [layers]
    everything = root._flatten_layers(include_self=True, recursive=True)
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
            f"{root.name}: {missing}. Received: layers={layers!r}"
        )
    chosen = {item for item in layers if isinstance(item, str)}
    chosen_ids = {id(item) for item in layers if not isinstance(item, str)}
    return lambda layer: layer.name in chosen or id(layer) in chosen_ids


# Capture: a twin built from Keras' own record, inside a StatelessScope.


class _Scratch(keras.StatelessScope):
    """A StatelessScope whose deferred variables are never initialized."""

    def __init__(self):
        super().__init__(initialize_variables=False)

    def __enter__(self):
        pending = global_state.get_global_attribute("uninitialized_variables")
        self._pending = {id(v) for v in pending or ()}
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        pending = global_state.get_global_attribute("uninitialized_variables")
        if pending:  # forget the twin's variables, or Keras would fill them
            pending[:] = [v for v in pending if id(v) in self._pending]


def _capture_layer(layer):
    """Returns `{id(variable): initializer or reason}` for `layer`'s own."""
    name = type(layer).__name__
    try:
        config, build_config = layer.get_config(), layer.get_build_config()
        with _Scratch() as scope:
            twin = type(layer).from_config(config)
            if build_config:
                twin.build_from_config(build_config)
            assigned = {id(v) for v in _own_variables(twin)
                        if scope.get_current_value(v) is not None}
    except Exception as error:
        raise _Unattributed(
            f"{name} cannot be rebuilt from its config to find its "
            f"initializers ({type(error).__name__}: {error}). Give it a "
            "`get_config` that `from_config` accepts."
        ) from None
    owned = {id(x) for x in twin._flatten_layers(include_self=True)}
    return _match(_own_variables(layer), _own_variables(twin), name,
                  lambda v: (v._initializer, owned) if id(v) not in assigned
                  else f"{name}.build assigns its value by hand")


def _optimizer_target(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
            "reset_optimizer=True needs a compiled model. "
            f"{model.name} has no optimizer."
        )

    def capture():
        # Iterations and learning rate are created with values, which a
        # StatelessScope refuses: the twin makes them eagerly (scalars), and
        # its slot variables (one per weight) inside the scope.
        try:
            twin = type(optimizer).from_config(optimizer.get_config())
            if optimizer.built:
                with _Scratch():
                    twin.build(optimizer._trainable_variables)
        except Exception as error:
            raise _Unattributed(
                f"{type(optimizer).__name__} cannot be rebuilt to find its "
                f"initial state ({type(error).__name__}: {error})") from None
        return _match(optimizer.variables, twin.variables, optimizer.name,
                      lambda v: (v._initializer or v.value, ()))

    return capture, optimizer.variables


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


# Planning: reseed, check, and keep a value only where replay is not exact.


def _derive_seed(seed, path):
    """The seed of the variable at `path`: stable across runs and processes
    (Python's own `hash` of a string is salted per process)."""
    digest = hashlib.sha256(f"{seed}/{path}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % _SEED_LIMIT


def _child_seed(seed, path):
    """`_derive_seed`, keeping a `PortableSeed` portable."""
    if isinstance(seed, portable_seeds.PortableSeed):
        return portable_seeds.PortableSeed(_derive_seed(seed.seed, path))
    return _derive_seed(seed, path)


def _reseeded(initializer, seed):
    """A zero-argument factory of fresh copies of `initializer` with `seed`.

    Keras' and keras_inits' initializers are rebuilt from their config with
    the seed replaced; a new copy replays the same draw. A portable seed (a
    `PortableSeed`, or a saved one in the config) gives a `PortableSeed`,
    and a Keras initializer then becomes keras_inits' class of its name.
    """
    config, cls = initializer.get_config(), type(initializer)
    if "seed" in config:
        if isinstance(config["seed"], dict) and not isinstance(
                seed, portable_seeds.PortableSeed):
            seed = portable_seeds.PortableSeed(seed)
        if isinstance(seed, portable_seeds.PortableSeed):
            cls = _portable_class(cls)
            seed = portable_seeds.serialize_seed(seed)
        config = {**config, "seed": seed}
    return lambda: cls.from_config(config)


def _portable_class(cls):
    """keras_inits' class of the same name as a Keras initializer, whose
    arguments match it; other classes are kept (and draw natively)."""
    if cls.__module__.split(".")[0] != "keras":
        return cls
    import keras_inits  # the package, which imports this module

    found = getattr(keras_inits, cls.__name__, None)
    return found if isinstance(found, type) and issubclass(
        found, keras.initializers.Initializer) else cls


def _reseed_closure(function, seed, owned):
    """Reseeds the initializers a closure (LSTM's `unit_forget_bias` bias)
    reaches: held in its cells, or as attributes of the twin layers it holds.
    Only twin objects are changed, never the user's."""
    reached = 0
    for cell in function.__closure__ or ():
        content = cell.cell_contents
        if isinstance(content, keras.initializers.Initializer):
            cell.cell_contents = _reseeded(content, _child_seed(seed, reached))()
            reached += 1
        elif id(content) in owned:
            for attribute in sorted(vars(content)):
                value = getattr(content, attribute)
                if isinstance(value, keras.initializers.Initializer):
                    setattr(content, attribute, _reseeded(
                        value, _child_seed(seed, reached))())
                    reached += 1
    return function


def _is_replayable(initializer):
    return isinstance(initializer, keras.initializers.Initializer) and (
        type(initializer).__module__.split(".")[0] in ("keras", "keras_inits"))


def _describe(initializer, seed):
    if isinstance(initializer, keras.initializers.Initializer):
        seeded = "seed" in initializer.get_config()
        return f"{type(initializer).__name__}" + (
            f"(seed={seed})" if seeded else "")
    if not callable(initializer):
        return "initial value"
    return getattr(initializer, "__qualname__", type(initializer).__name__)


class _Keys:
    """Seed keys: the variable's path. Keras gives two variables the same
    path when same-named layers sit in separately built sub-models; later
    ones get `#2`, `#3`, in model order."""

    def __init__(self):
        self.counts = {}

    def __call__(self, variable):
        count = self.counts[variable.path] = self.counts.get(
            variable.path, 0) + 1
        return variable.path if count == 1 else f"{variable.path}#{count}"


def _plan(variable, found, own_seed, trace_cache):
    """Returns `(variable, description, draw)`; raises what the draw would."""
    initializer, owned = found
    shape = tuple(variable.shape)
    dtype = keras.backend.standardize_dtype(variable.dtype)
    description = _describe(initializer, own_seed)
    if not callable(initializer):  # an optimizer's scalar, made by its twin
        value = ops.convert_to_tensor(initializer)
        return variable, description, _kept(value, shape, dtype)
    if _is_replayable(initializer):
        make = _reseeded(initializer, own_seed)
        config = {k: v for k, v in initializer.get_config().items()
                  if k != "seed"}
        key = (type(initializer), json.dumps(config, sort_keys=True,
                                             default=repr), shape, dtype)
        if key not in trace_cache:  # the trace does not depend on the seed
            spec = compute_output_spec(lambda: make()(shape, dtype=dtype))
            _check_output(spec.shape, spec.dtype, shape, dtype)
            trace_cache[key] = True
        # A sharded variable is re-drawn shard by shard, on its devices.
        layout = sharding.placement(variable)
        return variable, description, lambda: sharding.call(
            make(), shape, dtype, layout)
    if isinstance(initializer, keras.initializers.Initializer):
        initializer = _reseeded(initializer, own_seed)()
    elif hasattr(initializer, "__closure__"):
        initializer = _reseed_closure(initializer, own_seed, owned)
    value = ops.convert_to_tensor(sharding.call(
        initializer, shape, dtype, sharding.placement(variable)))
    return variable, description, _kept(value, shape, dtype)


def _kept(value, shape, dtype):
    _check_output(value.shape, value.dtype, shape, dtype)

    def draw():
        return value

    bits = re.search(r"\d+$", dtype)  # "bool" is stored in one byte
    draw.kept_bytes = math.prod(shape) * (int(bits[0]) // 8 if bits else 1)
    return draw


def _check_output(got_shape, got_dtype, shape, dtype):
    got_shape = tuple(got_shape)
    got_dtype = keras.backend.standardize_dtype(got_dtype)
    if got_shape != shape:
        raise ValueError(
            f"the initializer returns shape {got_shape} for a weight of "
            f"shape {shape}")
    floats = keras.backend.is_float_dtype
    if got_dtype != dtype and not (floats(got_dtype) and floats(dtype)):
        raise ValueError(
            f"the initializer returns {got_dtype} values for a {dtype} weight")


def _moments(variable, chunk=2**20):
    """Mean and standard deviation in float64, on the host (no backend then
    compiles a reduction per shape, as JAX would), in one pass of chunks:
    sums of values and squares shifted by the first value, which keeps the
    subtraction exact enough when the mean dwarfs the spread. A sharded
    variable is read one shard at a time."""
    shift, total, squares, size = None, 0.0, 0.0, 0
    for values in sharding.host_pieces(variable):
        if shift is None and values.size:
            shift = float(values[0])
        size += values.size
        for start in range(0, values.size, chunk):
            part = values[start:start + chunk].astype(np.float64) - shift
            total += float(np.sum(part))
            squares += float(np.dot(part, part))
    if size == 0:
        return float("nan"), float("nan")
    mean = total / size
    return shift + mean, math.sqrt(max(squares / size - mean**2, 0.0))
