"""The first pass of `reinitialize`: reseed each selected variable's
initializer, check its draw, and change nothing.

A shape-only trace (`keras_internals.trace_output_spec`) gives the shape
and dtype a draw would have. That trace is exact for Keras and keras_inits
initializers, which are pure functions of their config, seed, shape and
dtype: the second pass replays them one variable at a time. Any other
callable (a custom initializer, a closure) is run for real here and its
result kept until the second pass: that is the only extra memory beyond
one variable at a time, and the report gives its size as `kept_bytes`.
"""

import collections
import json
import math
import re

import keras
from keras import ops

from keras_inits import keras_internals
from keras_inits import seeds
from keras_inits import selection
from keras_inits import names
from keras_inits import serialization
from keras_inits import sharding

Plan = collections.namedtuple(
    "Plan", ["path", "key", "variable", "description", "draw"])
Plan.__doc__ = """One checked variable: `draw()` gives its new values, and
`draw.kept_bytes`, when present, the memory a value kept for it holds."""


def plan_variables(targets, root_seed, paths, chosen=None):
    """Plans every variable of `targets` (`selection.select_variables`'
    first list), each with a seed derived from `root_seed` and its key.
    `chosen` maps variable id -> the initializer a recipe gives it, which
    replaces its layer's own.

    Returns `(plans, unattributed, failures)`: a `Plan` per variable that
    passed its check, and path -> reason for the variables whose
    initializer was not found and for those whose draw failed (raised, or
    gave the wrong shape or dtype). `paths` names the variables
    (`reinitialize_report.VariablePaths`)."""
    plans, unattributed, failures, trace_cache = [], {}, {}, {}
    chosen = chosen or {}
    for capture, variables in targets:
        # A layer whose variables a recipe all sets is not rebuilt.
        own = [v for _, v in variables if id(v) not in chosen]
        initializers = {}
        try:
            if own:
                initializers = capture()
        except selection.Unattributed as reason:
            unattributed.update((paths(v), str(reason)) for v in own)
            variables = [(k, v) for k, v in variables if id(v) in chosen]
        for key, variable in variables:
            path = paths(variable)
            found = ((chosen[id(variable)], ()) if id(variable) in chosen
                     else initializers.get(id(variable)))
            if isinstance(found, str):
                unattributed[path] = found
                continue
            try:
                plans.append(Plan(path, key, *_plan(
                    variable, found, seeds.derive_seed(root_seed, key),
                    trace_cache)))
            except Exception as error:  # any failure of a user's callable
                failures[path] = f"{type(error).__name__}: {error}"
    return plans, unattributed, failures


def kept_bytes(plans):
    """The memory the values kept between the two passes hold."""
    return sum(getattr(plan.draw, "kept_bytes", 0) for plan in plans)


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
            spec = keras_internals.trace_output_spec(
                lambda: make()(shape, dtype=dtype))
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


def _reseeded(initializer, seed):
    """Returns `(make, description)`: a zero-argument factory of fresh
    copies of `initializer` with `seed`, and how the report names it.

    The initializer is rebuilt from its config with the seed replaced, and
    so is every initializer nested in that config (as `DepthScaled` and
    `ICNR` save the one they wrap), with a seed derived from `seed` and the
    argument that holds it, at any depth: otherwise a wrapped initializer
    would replay its original values. A new copy replays the same draw. A
    portable seed (a `PortableSeed`, or a saved one in the config) gives a
    `PortableSeed`. A seeded Keras initializer becomes keras_inits' class
    of its name, whose arguments and distribution match it: its draw then
    goes through keras_inits' samplers (a PortableSeed needs them; on JAX
    they take half the time).
    """
    config, cls, parts = dict(initializer.get_config()), type(initializer), []
    if "seed" in config:
        seed = seeds.reseed(cls.__name__, config["seed"], seed)
        parts.append(f"seed={seed}")
        cls = names.keras_inits_class(cls)
        config["seed"] = seeds.seed_config(seed)
    for name, value in config.items():
        nested = _nested_initializer(value)
        if nested is not None:
            make, description = _reseeded(
                nested, seeds.derive_seed(seed, name))
            config[name] = keras.saving.serialize_keras_object(make())
            parts.append(description)
    description = f"{cls.__name__}({', '.join(parts)})" if parts else (
        cls.__name__)
    return (lambda: cls.from_config(config)), description


def _nested_initializer(value):
    """The initializer a config value holds in Keras' serialized form, else
    None. A dict that does not resolve is left to the wrapper's own
    `from_config`, whose error the first pass then reports."""
    if not (isinstance(value, dict)
            and isinstance(value.get("class_name"), str)
            and isinstance(value.get("config"), dict)):
        return None
    try:
        return serialization.deserialize(value)
    except ValueError:
        return None


def _reseed_closure(function, seed, owned):
    """Reseeds the initializers a closure (LSTM's `unit_forget_bias` bias)
    reaches: held in its cells, or as attributes of the twin layers it holds.
    Only twin objects are changed, never the user's."""
    reached = 0
    for cell in function.__closure__ or ():
        content = cell.cell_contents
        if isinstance(content, keras.initializers.Initializer):
            cell.cell_contents = _reseeded(
                content, seeds.derive_seed(seed, reached))[0]()
            reached += 1
        elif id(content) in owned:
            for attribute in sorted(vars(content)):
                value = getattr(content, attribute)
                if isinstance(value, keras.initializers.Initializer):
                    setattr(content, attribute, _reseeded(
                        value, seeds.derive_seed(seed, reached))[0]())
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
