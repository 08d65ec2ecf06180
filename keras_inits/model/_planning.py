"""The first pass of `reinitialize`: reseed each selected variable's
initializer, check its draw, and change nothing.

A shape-only trace (`keras_internals.trace_output_spec`) gives the shape
and dtype a draw would have. That trace is exact for Keras and keras_inits
initializers, which are pure functions of their config, seed, shape and
dtype: the second pass replays them one variable at a time. A class whose
calls can fail only in `check_call` (`fails_only_in_check_call`: the plain
random ones, the truncated normals, Zeros and Ones) is checked by its
`check` alone, which costs no trace. Any other
callable (a custom initializer, a closure) is run for real here and its
result kept until the second pass: that is the only extra memory beyond
one variable at a time, and the report gives its size as `kept_bytes`.
"""

import dataclasses
import json
import math
from collections.abc import Callable

import keras
from keras import ops

from keras_inits._internal import keras_internals
from keras_inits._internal import limits
from keras_inits._internal import sharding
from keras_inits._internal.naming import error_text
from keras_inits._internal.naming import initializer_name
from keras_inits._internal.variable_initializers import Found
from keras_inits._internal.variable_initializers import NotFound
from keras_inits._internal.variable_initializers import NotRebuilt
from keras_inits.initializers import RandomInitializer
from keras_inits.initializers import deserialize
from keras_inits.initializers import equivalent_class
from keras_inits.model._selection import Owner
from keras_inits.random import PortableSeed
from keras_inits.random import derive_seed
from keras_inits.random import read_seed
from keras_inits.random import seed_config


@dataclasses.dataclass(frozen=True)
class Plan:
    """One checked variable: `draw()` gives its new values, drawn from the
    initializer `initializer_name` names; `kept_bytes` is the memory of
    values computed in the first pass and kept for the second (0 for the
    initializers that are replayed). `fresh`: each draw's values are new
    and held by nothing else (keras_inits' random initializers draw them
    through its samplers), so the variable may take them without a copy."""

    path: str
    key: str
    variable: keras.Variable
    initializer_name: str
    draw: Callable[[], object]
    kept_bytes: int = 0
    fresh: bool = False


@dataclasses.dataclass(frozen=True)
class FirstPass:
    """The first pass's findings: a `Plan` per variable that passed its
    check (the second pass sets each entry to None once assigned, letting
    go of its kept value); path -> reason for the variables whose
    initializer was not found (`unattributed`) and for those whose draw
    failed (`failures`: raised, or gave the wrong shape or dtype); and the
    memory of the values kept between the two passes (`kept_bytes`)."""

    plans: list[Plan | None]
    unattributed: dict[str, str]
    failures: dict[str, str]
    kept_bytes: int


def plan_variables(
    owners: tuple[Owner, ...],
    root_seed: int | PortableSeed,
    paths: dict[int, str],
    chosen: dict[int, keras.initializers.Initializer],
) -> FirstPass:
    """Plans every variable of `owners`, each with a seed derived from
    `root_seed` and its key. `chosen` maps variable id -> the initializer a
    recipe gives it, which replaces its layer's own; `paths` names the
    variables."""
    plans = []
    unattributed = {}  # path -> why its initializer was not found
    failures = {}  # path -> why its draw failed
    # Keys of the replayable draws whose output was checked once by a
    # trace (see `_plan`).
    trace_cache = {}
    # Reseeding reads initializers' configs, and a wrapper's (DepthScaled's)
    # serializes what it wraps, which would import TensorFlow.
    with keras_internals.tensorflow_left_unimported():
        for owner in owners:
            variables = owner.variables
            # A layer whose variables a recipe all sets is not rebuilt.
            own = [v for _, v in variables if id(v) not in chosen]
            initializers = {}
            try:
                if own:
                    initializers = owner.find()
            except NotRebuilt as reason:
                unattributed.update((paths[id(v)], str(reason)) for v in own)
                variables = [(k, v) for k, v in variables if id(v) in chosen]
            for key, variable in variables:
                path = paths[id(variable)]
                found = (
                    Found(chosen[id(variable)])
                    if id(variable) in chosen
                    else initializers[id(variable)]
                )
                if isinstance(found, NotFound):
                    unattributed[path] = found.reason
                    continue
                try:
                    plans.append(
                        _plan(
                            path,
                            key,
                            variable,
                            found,
                            derive_seed(root_seed, key),
                            trace_cache,
                        )
                    )
                except Exception as error:  # any failure of a user's callable
                    failures[path] = error_text(error)
    kept_bytes = sum(plan.kept_bytes for plan in plans)
    return FirstPass(list(plans), unattributed, failures, kept_bytes)


def _plan(path, key, variable, found, own_seed, trace_cache):
    """The `Plan` of one variable; raises what its draw would."""
    initializer = found.initializer
    shape = tuple(variable.shape)
    dtype = keras.backend.standardize_dtype(variable.dtype)
    if not callable(initializer):  # an optimizer's scalar, made by its twin
        return _kept(
            path,
            key,
            variable,
            initializer,
            ops.convert_to_tensor(initializer),
            shape,
            dtype,
        )
    make = None
    if isinstance(initializer, keras.initializers.Initializer):
        make = _reseeded(initializer, own_seed)
    if make is not None and _is_replayable(initializer):
        # A sharded variable is re-drawn shard by shard, on its devices.
        layout = sharding.placement(variable)
        made = make()
        if getattr(made, "fails_only_in_check_call", False):
            made.check(shape, dtype, layout)
        else:
            _trace_once(made, make, shape, dtype, trace_cache)
        return Plan(
            path,
            key,
            variable,
            initializer_name(made),
            lambda: sharding.call(make(), shape, dtype, layout),
            fresh=isinstance(made, RandomInitializer),
        )
    if make is not None:
        initializer = make()
    elif hasattr(initializer, "__closure__"):
        initializer = _reseed_closure(initializer, own_seed, found.owned)
    value = ops.convert_to_tensor(
        sharding.call(initializer, shape, dtype, sharding.placement(variable))
    )
    return _kept(path, key, variable, initializer, value, shape, dtype)


def _trace_once(made, make, shape, dtype, trace_cache):
    """Checks the draw `make()(shape, dtype)` by a trace for shapes, once
    per class, config (less the seed, which changes no shape), shape and
    dtype: `trace_cache` holds the keys already traced."""
    config = {k: v for k, v in made.get_config().items() if k != "seed"}
    cache_key = (
        type(made),
        json.dumps(config, sort_keys=True, default=repr),
        shape,
        dtype,
    )
    if cache_key not in trace_cache:
        spec = keras_internals.trace_output_spec(
            lambda: make()(shape, dtype=dtype)
        )
        _check_output(spec.shape, spec.dtype, shape, dtype)
        trace_cache[cache_key] = True


def _reseeded(initializer, seed):
    """A zero-argument factory of fresh copies of `initializer` with `seed`.

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
    config, cls = dict(initializer.get_config()), type(initializer)
    if "seed" in config:
        saved = read_seed(cls.__name__, config["seed"])
        if isinstance(saved, PortableSeed) and not isinstance(
            seed, PortableSeed
        ):
            seed = PortableSeed(seed)
        cls = equivalent_class(cls)
        config["seed"] = seed_config(seed)
    for name, value in config.items():
        nested = _nested_initializer(value)
        if nested is not None:
            make = _reseeded(nested, derive_seed(seed, name))
            config[name] = keras.saving.serialize_keras_object(make())
    return lambda: cls.from_config(config)


def _nested_initializer(value):
    """The initializer a config value holds in Keras' serialized form, else
    None. A dict that does not resolve is left to the wrapper's own
    `from_config`, whose error the first pass then reports."""
    if not (
        isinstance(value, dict)
        and isinstance(value.get("class_name"), str)
        and isinstance(value.get("config"), dict)
    ):
        return None
    try:
        return deserialize(value)
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
                content, derive_seed(seed, str(reached))
            )()
            reached += 1
        elif id(content) in owned:
            for attribute in sorted(vars(content)):
                value = getattr(content, attribute)
                if isinstance(value, keras.initializers.Initializer):
                    setattr(
                        content,
                        attribute,
                        _reseeded(value, derive_seed(seed, str(reached)))(),
                    )
                    reached += 1
    return function


def _is_replayable(initializer):
    """Keras' and keras_inits' initializers, and wrappers of them only, are
    pure functions of config, seed, shape and dtype."""
    if not (
        isinstance(initializer, keras.initializers.Initializer)
        and type(initializer).__module__.split(".")[0]
        in ("keras", "keras_inits")
    ):
        return False
    nested = map(_nested_initializer, initializer.get_config().values())
    return all(_is_replayable(n) for n in nested if n is not None)


def _kept(path, key, variable, initializer, value, shape, dtype):
    """The `Plan` of a value computed now and kept for the second pass."""
    _check_output(value.shape, value.dtype, shape, dtype)
    size = math.prod(shape) * limits.bytes_per_value(dtype)
    return Plan(
        path, key, variable, initializer_name(initializer), lambda: value, size
    )


def _check_output(got_shape, got_dtype, shape, dtype):
    """Raises a ValueError unless an initializer's output of `got_shape`
    and `got_dtype` fits a weight of `shape` and `dtype`: the same shape,
    and the same dtype or two floating-point ones (the draw is cast when
    assigned). In a failure's reason the message follows the error's class
    name, so it starts lowercase."""
    got_shape = tuple(got_shape)
    got_dtype = keras.backend.standardize_dtype(got_dtype)
    if got_shape != shape:
        raise ValueError(
            f"the initializer returns shape {got_shape} for a weight of "
            f"shape {shape}"
        )
    floats = keras.backend.is_float_dtype
    if got_dtype != dtype and not (floats(got_dtype) and floats(dtype)):
        raise ValueError(
            f"the initializer returns {got_dtype} values for a {dtype} weight"
        )
