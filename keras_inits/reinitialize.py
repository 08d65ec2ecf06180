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
import numbers
import random
import re
import signal
import threading

import keras
import numpy as np
from keras import ops

# Neither is exported by Keras: the shape-only trace of a function, and the
# list where a StatelessScope registers the variables it defers.
from keras.src.backend import compute_output_spec
from keras.src.backend.common import global_state
# How Keras names an object it was given no name for (`auto_name`).
from keras.src.utils.naming import to_snake_case as _snake_case

from keras_inits import base
from keras_inits import portable as portable_seeds
from keras_inits import serialization
from keras_inits import sharding

_SEED_LIMIT = 2**31  # accepted by every backend's seed handling


class ReinitializeError(ValueError):
    """Raised before any weight changes. `problems` maps path to reason."""

    def __init__(self, message, problems):
        super().__init__(message)
        self.problems = dict(problems)


@dataclasses.dataclass(frozen=True)
class ReinitializedVariable:
    """One re-drawn variable: where, from what, and its values' moments.

    `path` is Keras' path of the variable (`variable.path`, with `#2`, `#3`
    for later variables of the same path); `key` is its place in the model
    that its seed is derived from (see `reinitialize`)."""

    path: str
    key: str
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
        skipped: path -> reason, for variables left as they were: state
            a layer's `adapt()` computed (unless `reset_adapted=True`), and
            variables whose initializer could not be found
            (`skip_unattributed=True`).
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
        header = ("path", "key", "initializer", "shape", "mean before",
                  "mean after", "std before", "std after")
        table = [header] + [
            (r.path, r.key, r.initializer, str(r.shape), *(
                f"{x:.4g}" for x in (r.mean_before, r.mean_after,
                                     r.std_before, r.std_after)))
            for r in self.rows
        ]
        lines = self._aligned(table, left=4)
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
                 portable=None, reset_adapted=False, backup=False):
    """Re-draws every weight of a model or layer from its own initializers.

    Each variable gets new values from the initializer its layer created it
    with: kernels, biases (LSTM's `unit_forget_bias` included), embeddings,
    normalization scales, offsets and moving statistics, in any layer,
    nested model or custom layer that creates weights with
    `add_weight(initializer=...)`. Keras initializers fix their seed when
    built, so calling them again gives the original values back; here each
    initializer is rebuilt with a new seed, and so is every initializer
    nested in it (the one a `DepthScaled` or `ICNR` wraps), at any depth.
    Unlike `keras.models.clone_model`, it works on subclassed models, keeps
    the model object (and its compiled state), and needs no second copy of
    the weights.

    A variable's seed is derived from `seed` and the variable's key: its
    place in the model below `model_or_layer`, written with the names you
    gave layers and, for a layer Keras named (`dense_7`), its class and
    position among its siblings (`dense#2`, the second such Dense). So the
    same architecture built twice, a model and its reload from a `.keras`
    file, and a model built under a distribution get the same weights for
    the same seed, and a layer selected with `layers=` gets what a full
    reinitialize gives it.

    State that a preprocessing layer's `adapt()` computed from data
    (`Normalization`'s mean and variance; any layer with an `adapt` method)
    is data, not initial weights: it is left as it is and listed in the
    report's `skipped`, unless `reset_adapted=True`.

    The reset is all-or-nothing. A first pass checks every selected
    variable, changing nothing: if any initializer cannot be found, raises,
    or gives the wrong shape or dtype, it raises `ReinitializeError` (a
    `ValueError`) naming every such variable by path. The second pass
    assigns the checked draws; Ctrl-C during it is held until it ends, and
    if an assignment raises, the remaining ones are still made (the draws
    are checked and replayable) before the error is re-raised with a note
    that the model is wholly reinitialized. Only if that fails too is the
    model left part-changed, and the note names what changed; with
    `backup=True` the model is then restored and left untouched.

    Args:
        model_or_layer: a built `keras.Model` or `keras.layers.Layer`.
        seed: None for fresh values at every call (drawn from Python's
            `random`, which `keras.utils.set_random_seed` seeds), or an
            integer in [0, 2**31). With an integer, a variable's values
            depend only on the seed and its key.
        layers: None for every layer, or a layer instance or name, or a
            list (any iterable) of them, or a predicate `layer -> bool`. A
            variable is re-drawn when its layer or any layer containing it
            is selected.
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
        reset_adapted: also reset the state of layers with an `adapt`
            method to their initial values (`Normalization` to mean 0,
            variance 1).
        backup: keep a host copy of every selected variable while the
            second pass runs, so that a failure it cannot finish through
            restores them all. Costs host memory of the selected weights;
            without it, extra memory stays about one variable.

    The flags `skip_frozen`, `skip_unattributed`, `reset_optimizer`,
    `reset_adapted` and `backup` are True or False (and `portable` None,
    True or False): anything else, like a bad `seed` or `layers`, raises a
    ValueError naming the argument before anything is read or changed.

    Returns:
        A `ReinitializeReport`: path, key, initializer and before/after
        mean and standard deviation of every re-drawn variable.

    Examples:

    >>> import keras_inits
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(3, name="out")], name="mlp")
    >>> report = keras_inits.reinitialize(model, seed=1)
    >>> [(row.path, row.key) for row in report]
    [('mlp/out/kernel', 'out/kernel'), ('mlp/out/bias', 'out/bias')]

    One layer selected alone, with the same seed, gets the same values:

    >>> kernel = keras.ops.convert_to_numpy(model.get_layer("out").kernel)
    >>> _ = keras_inits.reinitialize(model, seed=1, layers=["out"])
    >>> after = keras.ops.convert_to_numpy(model.get_layer("out").kernel)
    >>> bool((after == kernel).all())
    True
    """
    # Every argument is checked before anything is read or drawn (even
    # Python's random state is left alone when one is wrong).
    root = _check_root(model_or_layer)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(
                seed, numbers.Integral) or not 0 <= seed < _SEED_LIMIT:
            raise ValueError(
                "Argument `seed` of reinitialize must be None or an integer "
                f"in [0, 2**31). Received: seed={base.shown(seed)}"
            )
        seed = int(seed)  # NumPy integers too
    if portable is not None and not isinstance(portable, bool):
        raise ValueError(
            "Argument `portable` of reinitialize must be None, True or False. "
            f"Received: portable={base.shown(portable)}"
        )
    for name, value in (("skip_frozen", skip_frozen),
                        ("skip_unattributed", skip_unattributed),
                        ("reset_optimizer", reset_optimizer),
                        ("reset_adapted", reset_adapted), ("backup", backup)):
        if not isinstance(value, bool):
            raise ValueError(
                f"Argument `{name}` of reinitialize must be True or False. "
                f"Received: {name}={base.shown(value)}"
            )
    targets, adapted, reset = _select(root, layers, skip_frozen,
                                      reset_adapted)
    if reset_optimizer:
        targets.append(_optimizer_target(root))
    if seed is None:
        seed = random.randrange(_SEED_LIMIT)
    if portable is None:
        portable = portable_seeds.is_portable()
    root_seed = portable_seeds.PortableSeed(seed) if portable else seed

    # First pass: find and check every initializer; change nothing.
    plans, unattributed, failures, trace_cache = [], {}, {}, {}
    paths = _Paths()
    skipped = {paths(v): reason for v, reason in adapted}
    for capture, variables in targets:
        try:
            initializers = capture()
        except _Unattributed as reason:
            unattributed.update((paths(v), str(reason)) for _, v in variables)
            continue
        for key, variable in variables:
            path, found = paths(variable), initializers.get(id(variable))
            if isinstance(found, str):
                unattributed[path] = found
                continue
            try:
                plans.append((path, key, *_plan(variable, found, _child_seed(
                    root_seed, key), trace_cache)))
            except Exception as error:  # any failure of a user's callable
                failures[path] = f"{type(error).__name__}: {error}"
    if failures or (unattributed and not skip_unattributed):
        problems = {**failures, **unattributed}
        advice = (" Pass `skip_unattributed=True` to leave variables without "
                  "a known initializer as they are." if unattributed else "")
        raise ReinitializeError(
            "reinitialize changed no weight: it cannot re-draw " + "; ".join(
                f"{p}: {r}" for p, r in problems.items()) + "." + advice,
            problems,
        )
    kept = sum(getattr(plan[-1], "kept_bytes", 0) for plan in plans)
    rows = _apply(plans, backup)
    for layer in reset:
        # Preprocessing layers compute from their state once (Normalization
        # its mean and scale): recompute, or they would use the old state.
        if callable(getattr(layer, "finalize_state", None)):
            layer.finalize_state()
    return ReinitializeReport(rows, {**skipped, **unattributed}, seed, kept)


def _apply(plans, backup):
    """The second pass: assigns each plan's draw, one variable at a time,
    dropping each kept value once assigned. Returns the report's rows.

    Never leaves a mixture of old and new weights when it can help it:
    Ctrl-C is held until the pass ends; an assignment that raises is
    retried once the others are made, and the error re-raised after; only
    when a variable cannot be assigned at all are the changed ones restored
    from the backup (`backup=True`), or named in the error's note."""
    variables = [plan[2] for plan in plans]
    saved = ([ops.convert_to_numpy(v).copy() for v in variables]
             if backup else None)
    rows, failed, first_error = [None] * len(plans), [], None
    with _HeldInterrupts() as interrupts:
        for attempt in range(2):
            pending = failed if attempt else range(len(plans))
            failed = []
            for i in pending:
                try:
                    rows[i] = _assign(*plans[i])
                    plans[i] = None  # its kept value, if any, is not needed
                except BaseException as error:  # Ctrl-C, out of memory
                    first_error = first_error or error
                    failed.append(i)
            if not failed:
                break
        if failed and backup:
            for variable, row, values in zip(variables, rows, saved):
                if row is not None:
                    variable.assign(values)
    error = first_error or interrupts.error()
    if error is None:
        return rows
    if not failed:
        state = (f"the model is wholly reinitialized: all {len(rows)} "
                 "selected variables were re-drawn before the error was "
                 "re-raised")
    elif backup:
        state = ("the model is untouched: the variables already re-drawn "
                 "were restored from the backup")
    else:
        changed = [row.path for row in rows if row is not None]
        state = (f"the model is PART-CHANGED: {len(changed)} of {len(rows)} "
                 f"variables were re-drawn ({changed}) and the others could "
                 "not be; pass `backup=True` to have them restored")
    if hasattr(error, "add_note"):
        error.add_note(f"reinitialize: {state}.")
    raise error


def _assign(path, key, variable, description, draw):
    before = _moments(variable)
    variable.assign(ops.cast(draw(), variable.dtype))
    return ReinitializedVariable(path, key, description,
                                 tuple(variable.shape), *before,
                                 *_moments(variable))


class _HeldInterrupts:
    """Holds Ctrl-C (SIGINT) until the block ends, when Python's default
    handler is in place in the main thread (a notebook's or a script's);
    `error()` then gives the KeyboardInterrupt it held, if any."""

    def __enter__(self):
        self.received, self.previous = False, None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT)
                is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame):
        self.received = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def error(self):
        return KeyboardInterrupt() if self.received else None


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


def _select(root, layers, skip_frozen, reset_adapted):
    """Returns `[(capture, [(key, variable)])]` for every selected weight
    owner, `[(variable, reason)]` for the adapted state left alone, and the
    layers whose adapted state is reset (`reset_adapted=True`).

    Keys are computed for the whole model, whatever is selected, so a
    variable's key, and with it its seed, does not depend on the selection.
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
        variables = _own_variables(layer)
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
                targets.append((lambda: _capture_layer(layer), own))
                if is_adapted:
                    reset.append(layer)
        for segment, child in zip(_segments(layer._layers), layer._layers):
            visit(child, prefix + segment + "/", selected, frozen)

    visit(root, "", False, False)
    return targets, adapted, reset


def _segments(siblings):
    """The key segment of each of `siblings` (layers of one parent, or one
    layer's variables): the name the user gave it, or for a name Keras
    generated (`dense_7`, from a global counter that differs between two
    builds of the same model) its class's (`dense`); a segment that an
    earlier sibling already has gets `#2`, `#3`, in order."""
    segments, counts = [], {}
    for item in siblings:
        generic = _snake_case(type(item).__name__)
        name = item.name
        if re.fullmatch(re.escape(generic) + r"(_\d+)?", name):
            name = generic
        counts[name] = counts.get(name, 0) + 1
        segments.append(name if counts[name] == 1
                        else f"{name}#{counts[name]}")
    return segments


def _selector(root, layers):
    if layers is None:
        return lambda layer: True
    requirement = ("None, a layer or layer name, a list of layers and names, "
                   "or a predicate `layer -> bool`")
    if isinstance(layers, type):  # a class is callable, but no predicate
        raise ValueError(
            f"Argument `layers` of reinitialize must be {requirement}; to "
            "select by class, pass `lambda layer: isinstance(layer, "
            f"{layers.__name__})`. Received: layers={base.shown(layers)}"
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
        raise ValueError(
            f"Argument `layers` of reinitialize must be {requirement}. "
            f"Received: layers={base.shown(layers)}"
        )
    layers = items
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
            f"{root.name}: {missing}. Received: layers={base.shown(layers)}"
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

    # Their initial values are constants: the keys only label them.
    variables = optimizer.variables
    return capture, [("optimizer/" + segment, v) for segment, v in zip(
        _segments(variables), variables)]


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


def _derive_seed(seed, key):
    """The seed of the variable (or nested initializer) at `key`: stable
    across runs and processes (Python's own `hash` of a string is salted per
    process)."""
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % _SEED_LIMIT


def _child_seed(seed, key):
    """`_derive_seed`, keeping a `PortableSeed` portable."""
    if isinstance(seed, portable_seeds.PortableSeed):
        return portable_seeds.PortableSeed(_derive_seed(seed.seed, key))
    return _derive_seed(seed, key)


def _reseeded(initializer, seed):
    """Returns `(make, description)`: a zero-argument factory of fresh
    copies of `initializer` with `seed`, and how the report names it.

    The initializer is rebuilt from its config with the seed replaced, and
    so is every initializer nested in that config (as `DepthScaled` and
    `ICNR` save the one they wrap), with a seed derived from `seed` and the
    argument that holds it, at any depth: otherwise a wrapped initializer
    would replay its original values. A new copy replays the same draw. A
    portable seed (a `PortableSeed`, or a saved one in the config) gives a
    `PortableSeed`, and a Keras initializer then becomes keras_inits' class
    of its name.
    """
    config, cls, parts = dict(initializer.get_config()), type(initializer), []
    if "seed" in config:
        saved = portable_seeds.deserialize_seed(cls.__name__, config["seed"])
        if isinstance(saved, portable_seeds.PortableSeed) and not isinstance(
                seed, portable_seeds.PortableSeed):
            seed = portable_seeds.PortableSeed(seed)
        parts.append(f"seed={seed}")
        if isinstance(seed, portable_seeds.PortableSeed):
            cls = _portable_class(cls)
            config["seed"] = portable_seeds.serialize_seed(seed)
        else:
            config["seed"] = seed
    for name, value in config.items():
        nested = _nested_initializer(value)
        if nested is not None:
            make, description = _reseeded(nested, _child_seed(seed, name))
            config[name] = keras.saving.serialize_keras_object(make())
            parts.append(description)
    description = f"{cls.__name__}({', '.join(parts)})" if parts else (
        cls.__name__)
    return (lambda: cls.from_config(config)), description


def _nested_initializer(value):
    """The initializer a config value holds in Keras' serialized form, else
    None. A dict that does not resolve is left to the wrapper's own
    `from_config`, whose error the first pass then reports."""
    if not (isinstance(value, dict) and isinstance(value.get("class_name"), str)
            and isinstance(value.get("config"), dict)):
        return None
    try:
        return serialization.deserialize(value)
    except ValueError:
        return None


def _portable_class(cls):
    """keras_inits' class of the name Keras exports a Keras initializer
    under (`keras.initializers.Orthogonal` is `OrthogonalInitializer`),
    whose arguments match it; other classes are kept (and draw natively)."""
    if cls.__module__.split(".")[0] != "keras":
        return cls
    import keras_inits  # the package, which imports this module

    for name, exported in vars(keras.initializers).items():
        found = getattr(keras_inits, name, None)
        if exported is cls and isinstance(found, type) and issubclass(
                found, keras.initializers.Initializer):
            return found
    return cls


def _reseed_closure(function, seed, owned):
    """Reseeds the initializers a closure (LSTM's `unit_forget_bias` bias)
    reaches: held in its cells, or as attributes of the twin layers it holds.
    Only twin objects are changed, never the user's."""
    reached = 0
    for cell in function.__closure__ or ():
        content = cell.cell_contents
        if isinstance(content, keras.initializers.Initializer):
            cell.cell_contents = _reseeded(
                content, _child_seed(seed, reached))[0]()
            reached += 1
        elif id(content) in owned:
            for attribute in sorted(vars(content)):
                value = getattr(content, attribute)
                if isinstance(value, keras.initializers.Initializer):
                    setattr(content, attribute, _reseeded(
                        value, _child_seed(seed, reached))[0]())
                    reached += 1
    return function


def _is_replayable(initializer):
    """Keras' and keras_inits' initializers, and wrappers of them only, are
    pure functions of config, seed, shape and dtype."""
    if not (isinstance(initializer, keras.initializers.Initializer) and type(
            initializer).__module__.split(".")[0] in ("keras", "keras_inits")):
        return False
    nested = map(_nested_initializer, initializer.get_config().values())
    return all(_is_replayable(n) for n in nested if n is not None)


def _describe(initializer):
    """How the report names an initializer that `_reseeded` does not."""
    if not callable(initializer):
        return "initial value"
    return getattr(initializer, "__qualname__", type(initializer).__name__)


class _Paths:
    """The report's paths: Keras' `variable.path`. Keras gives two
    variables the same path when same-named layers sit in separately built
    sub-models; later ones get `#2`, `#3`, in model order."""

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
    if not callable(initializer):  # an optimizer's scalar, made by its twin
        value = ops.convert_to_tensor(initializer)
        return variable, _describe(initializer), _kept(value, shape, dtype)
    if isinstance(initializer, keras.initializers.Initializer):
        make, description = _reseeded(initializer, own_seed)
    else:
        description = _describe(initializer)
    if _is_replayable(initializer):
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
        initializer = make()
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
