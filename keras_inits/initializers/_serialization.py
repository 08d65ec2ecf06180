"""The serialization layer: `get`, `serialize` and `deserialize`.

These mirror `keras.initializers.get/serialize/deserialize` with three
differences. Names resolve to keras_inits' classes first (`"he_normal"` is
`keras_inits.HeNormal`), and an unknown name says which ones are close.
Configs resolve through an allow-list (keras_inits' registered classes,
Keras' own initializers, classes registered with Keras and the caller's
`custom_objects`); a `module` named in a config is never imported, so a
config from someone else's file cannot run code. And a number or an array
becomes a serializable initializer instead of an unsaveable closure.
"""

from typing import Any
from typing import TypeAlias

import keras
import numpy as np

from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal.limits import SEED_LIMIT
from keras_inits.initializers import _base
from keras_inits.initializers import _names
from keras_inits.initializers._constant import Constant
from keras_inits.initializers._constant import ConstantArray
from keras_inits.initializers._registration import PACKAGE
from keras_inits.initializers._registration import constructor_arguments
from keras_inits.random import PortableSeed
from keras_inits.random import read_seed

InitializerLike: TypeAlias = (
    keras.initializers.Initializer
    | type
    | str
    | dict[str, Any]
    | float
    | np.ndarray
    | None
)
"""What `get` takes for an initializer: an instance or class, None, a
name, a config dict, a number, or an array (or a backend's tensor, which
has no type of its own)."""

_ACCEPTED = (
    "an initializer instance or class, None, a name ('keras_inits>HeNormal', "
    "'HeNormal', 'he_normal', or one of Keras' own), a config dict "
    "({'class_name': ..., 'config': {...}}), a number or an array"
)


def get(identifier: InitializerLike) -> keras.initializers.Initializer | None:
    """Returns the initializer an identifier stands for.

    Accepts what a layer's `kernel_initializer` argument does, resolved
    safely:

    - an initializer instance (returned as it is) or class (instantiated
      with its defaults);
    - `None` (returned as it is);
    - a name: `"keras_inits>HeNormal"`, `"HeNormal"` or `"he_normal"`
      resolve to keras_inits' class; Keras' own names that keras_inits does
      not define resolve to Keras' class; `"package>Name"` resolves to a
      class registered with Keras;
    - a config dict, as `deserialize` takes;
    - a number (a `Constant`, for any shape) or an array or tensor (a
      `ConstantArray`, for the array's shape only, as Keras' `get` does).

    Raises:
        ValueError: for anything else, starting with Keras' "Could not
            interpret initializer identifier"; for an unknown name (naming
            the closest valid ones); and for a number or array `Constant`
            refuses (NaN, `2**64`), naming `value`.

    Examples:

        >>> import keras_inits
        >>> keras_inits.get("he_normal")
        HeNormal()
        >>> keras_inits.get(0.5)
        Constant(value=0.5)

        >>> layer = keras.layers.Dense(3, kernel_initializer=keras_inits.get(
        ...     {"class_name": "GlorotUniform", "config": {"seed": 1}}))
    """
    if identifier is None or isinstance(
        identifier, keras.initializers.Initializer
    ):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, keras.initializers.Initializer):
            return identifier()
    elif checks.is_real_number(identifier):
        return Constant(identifier)
    elif isinstance(identifier, np.ndarray) or keras.ops.is_tensor(identifier):
        # Each checks the values, naming `value`: a 0-d array is a number.
        if keras.ops.ndim(identifier) == 0:
            return Constant(identifier)
        return ConstantArray(identifier)
    raise ValueError(
        f"Could not interpret initializer identifier: {identifier!r}. "
        f"keras_inits.get accepts {_ACCEPTED}."
    )


def serialize(initializer: InitializerLike) -> dict[str, Any] | None:
    """Returns an initializer's config in Keras' serialized form.

    The dict holds `module`, `class_name`, `config` (exactly the constructor
    arguments; a seed is None, an int or a serialized `PortableSeed`) and
    `registered_name`
    (`"keras_inits>HeNormal"`), and is JSON as it is. Accepts anything `get`
    does; `None` gives `None`.

    Examples:

        >>> import keras_inits
        >>> config = keras_inits.serialize(keras_inits.HeNormal(seed=1))
        >>> config["registered_name"], config["config"]["seed"]
        ('keras_inits>HeNormal', 1)

        >>> layer = keras.layers.Dense(3, kernel_initializer=keras_inits.deserialize(
        ...     keras_inits.serialize("glorot_uniform")))
    """
    initializer = get(initializer)
    if initializer is None:
        return None
    config: Any = keras.saving.serialize_keras_object(initializer)  # a dict
    return config


def nested_initializer(owner, value):
    """Returns the initializer `value` names (an instance, a name or a
    config), for initializers that wrap another (DepthScaled, ICNR); None
    or anything `get` refuses raises an argument error naming `owner`, and
    so does a `value` nested `_base.MAX_NESTING` or more deep, before it is
    resolved, since the wrapper would nest deeper than that. A config
    refused at any depth names the level and the path to the initializer
    that refused it, followed by that initializer's message
    (`_nested_error`)."""
    limit = _base.MAX_NESTING
    if _base.nesting(value, limit - 1) >= limit:
        kind = "config" if isinstance(value, dict) else type(value).__name__
        raise ValueError(
            f"Argument `initializer` of {owner} must be nested at most "
            f"{limit - 1} initializers deep, so that {owner} nests at most "
            f"{limit} (deeper nesting exceeds Python's recursion limit when "
            "it is saved, loaded or called). Received: "
            f"initializer=<{kind} nested more than {limit - 1} deep>"
        )
    requirement = "an initializer, its name or its config"
    try:
        resolved = get(value)
    except ValueError as error:
        if isinstance(value, dict):
            raise _nested_error(owner, value, error) from error
        raise checks.argument_error(
            owner, "initializer", requirement, value
        ) from error
    if resolved is None:
        raise checks.argument_error(owner, "initializer", requirement, value)
    return resolved


def _nested_error(owner, config, error):
    """The ValueError of wrapper `owner` whose `initializer`, the config
    `config`, raised `error`: it names the initializer that refused its
    config, its nesting level (`owner` is level 1) and the path to it, and
    ends with that initializer's own message, so the cause is in the text
    (Keras' `load_model` keeps only `str(error)`). A wrapper nested in
    another passes its path up to the one that holds it, in the error's
    `keras_inits_nesting` attribute: the class names from the wrapper down
    to the initializer that refused its config, and that initializer's
    message. (A plain ValueError: a traceback shows `ValueError`.)"""
    nesting = getattr(error, "keras_inits_nesting", None)
    if nesting is not None:
        path, cause = nesting
    else:
        name = config.get("class_name")
        failing = name.split(">")[-1] if isinstance(name, str) else "config"
        path, cause = [failing], str(error)
    path = [owner, *path]
    nested = ValueError(
        f"Argument `initializer` of {owner} holds an invalid config at "
        f"nesting level {len(path)} ({' > '.join(path)}): {cause}"
    )
    nested.keras_inits_nesting = (path, cause)  # pyright: ignore[reportAttributeAccessIssue]
    return nested


def deserialize(
    config: str | dict[str, Any] | None,
    custom_objects: dict[str, Any] | None = None,
    safe_mode: bool | None = None,
) -> keras.initializers.Initializer | None:
    """Returns the initializer a config (or a name) describes.

    `config` is Keras' serialized form, `{"class_name": ..., "config":
    {...}}` with or without `module` and `registered_name`, or a name as
    `get` takes. The class resolves, in this order, through `custom_objects`
    and `keras.saving.custom_object_scope`, the classes registered with
    Keras (`registered_name`), then the name: Keras' own class if `module`
    names Keras, keras_inits' otherwise. Only classes that are
    `keras.initializers.Initializer`s resolve, and a `module` is never
    imported: a config that points at anything else (`os.system`,
    `builtins.eval`, `subprocess.run`) is refused before anything runs.

    A seed saved as a `PortableSeed` config loads as a `PortableSeed`, and
    one Keras saved as a `SeedGenerator` config as its initial integer seed,
    which replays the same sequence, for a keras_inits class (see
    `read_seed`: seed dicts are read field by field; the seed must be in
    [0, 2**32)). Keras' own classes take no `PortableSeed`, and their
    seeds, int or SeedGenerator, must be in [0, 2**31), which Keras'
    SeedGenerator takes on every backend.

    Every config this refuses raises a ValueError that ends with the
    cause, including a config nested in a wrapper (which names the level
    and the path to the initializer that refused it) and the errors of
    Keras' own classes (their enumerated arguments, a Constant's `value`
    that is not an array, and what their constructors raise otherwise).

    Args:
        config: A config dict or a name.
        custom_objects: Optional dict of names to your initializer classes,
            looked up by `registered_name` and `class_name`.
        safe_mode: Whether to refuse a serialized Python lambda, which
            would run its bytecode. None follows Keras: safe unless
            `keras.config.enable_unsafe_deserialization()` was called or a
            `load_model(..., safe_mode=False)` is loading.

    Examples:

        >>> import keras_inits
        >>> keras_inits.deserialize(
        ...     {"class_name": "keras_inits>HeUniform", "config": {"seed": 3}})
        HeUniform(seed=3)

        >>> layer = keras.layers.Dense(3, kernel_initializer=keras_inits.deserialize(
        ...     {"class_name": "Orthogonal", "config": {"gain": 2.0}}))
    """
    if safe_mode is None:
        scoped = keras_internals.in_safe_mode()
        safe_mode = True if scoped is None else scoped
    custom_objects = dict(custom_objects or {})
    if config is None:
        return None
    if isinstance(config, str):
        cls = _resolve_class(config, None, None, config, custom_objects)
        return _instantiate(cls, {}, config, custom_objects, safe_mode)
    if not isinstance(config, dict) or not isinstance(
        config.get("class_name"), str
    ):
        raise ValueError(
            "An initializer config is a dict with a string `class_name` and "
            f"a dict `config`. Received: {config!r}"
        )
    class_name = config["class_name"]
    if class_name == "__lambda__":
        if safe_mode:
            raise ValueError(
                "Refusing to deserialize a Python lambda: loading it could "
                "run arbitrary code. If you trust the file it came from, "
                "pass `safe_mode=False`."
            )
        return keras.saving.deserialize_keras_object(config, safe_mode=False)
    if class_name == "function" or class_name.startswith("__"):
        raise ValueError(
            f"Refusing to deserialize {class_name!r}: keras_inits resolves "
            "initializer classes only, never functions or other serialized "
            f"Python objects. Received: {config!r}"
        )
    inner = config.get("config")
    inner = {} if inner is None else inner
    if not isinstance(inner, dict):
        raise ValueError(
            f"The `config` of initializer {class_name!r} must be a dict. "
            f"Received: {config!r}"
        )
    cls = _resolve_class(
        class_name,
        config.get("registered_name"),
        config.get("module"),
        config,
        custom_objects,
    )
    return _instantiate(cls, inner, config, custom_objects, safe_mode)


def _resolve_class(
    class_name, registered_name, module, config, custom_objects
):
    """The initializer class a config names: `registered_name`, then
    `class_name`, in `custom_objects` and Keras' registry, which hold only
    classes that code running in this process chose to register (safe to
    resolve); else `class_name` among keras_inits' names (no `module`, or
    one of keras_inits) or Keras' own (a Keras `module`). Raises a
    ValueError for a registered object that is not an initializer class,
    any other `module` (never imported) and an unknown name."""
    for key in (registered_name, class_name):
        if isinstance(key, str):
            obj = keras.saving.get_registered_object(key, custom_objects)
            if obj is not None:
                if not _names.is_initializer_class(obj):
                    raise ValueError(
                        f"{key!r} resolves to {obj!r}, which is not a "
                        "keras.initializers.Initializer subclass. Received: "
                        f"{config!r}"
                    )
                return obj
    if module is None or _names.within(module, PACKAGE):
        table = _names.name_table()
    elif _names.within(module, "keras"):
        table = {
            name: (cls, name) for name, cls in _names.keras_classes().items()
        }
    else:
        raise ValueError(
            f"Refusing to load initializer {class_name!r} from module "
            f"{module!r}: keras_inits never imports a module named in a "
            "config. Only keras_inits' initializers, Keras' own, classes "
            "registered with keras.saving.register_keras_serializable and "
            f"`custom_objects` resolve. Received: {config!r}"
        )
    if class_name in table:
        return table[class_name][0]
    raise ValueError(_names.unknown_name_message(class_name, table, config))


# The arguments of Keras' VarianceScaling that take one of a few strings
# (it lowercases `distribution` first). Keras raises a ValueError listing
# them for a string that is none of them, but TypeError ("unhashable type:
# 'dict'") or AttributeError ("'list' object has no attribute 'lower'")
# for a value that is no string: those are refused before it runs.
_KERAS_CHOICES = {
    "mode": ("fan_in", "fan_out", "fan_avg"),
    "distribution": (
        "truncated_normal",
        "untruncated_normal",
        "uniform",
        "normal",
    ),
}

# Keras' saved form of an array, which its Constant's from_config reads.
_SAVED_ARRAYS = ("__numpy__", "__tensor__")

# What `_instantiate` turns into a ValueError when a class's from_config
# raises it: how Keras' constructors and backends fail on a bad config
# value (TypeError, AttributeError, OverflowError on JAX and NumPy,
# RuntimeError on PyTorch, KeyError).
_CONFIG_FAILURES = (
    TypeError,
    AttributeError,
    LookupError,
    ArithmeticError,
    RuntimeError,
)


def _check_keras_config(cls, inner):
    """Checks the arguments of Keras' own class `cls` in its config
    `inner` that Keras' constructor fails on with another error than a
    ValueError, or would deserialize with Keras' deserializer: the
    enumerated arguments of VarianceScaling that are no string, and a
    Constant's `value` that is a dict but not Keras' saved form of an array
    (a serialized `os.system` would be resolved, or fail with Keras' "Could
    not locate class")."""
    if issubclass(cls, keras.initializers.VarianceScaling):
        for name, choices in _KERAS_CHOICES.items():
            if name in inner and not isinstance(inner[name], str):
                raise checks.choice_error(
                    cls.__name__, name, inner[name], choices
                )
    value = inner.get("value")
    if issubclass(cls, keras.initializers.Constant) and isinstance(
        value, dict
    ):
        saved = value.get("config")
        if not (
            value.get("class_name") in _SAVED_ARRAYS
            and isinstance(saved, dict)
            and set(saved) == {"value", "dtype"}
            and isinstance(saved["dtype"], str)
        ):
            raise checks.argument_error(
                cls.__name__,
                "value",
                "a number, nested lists, or Keras' saved form of an array "
                "({'class_name': '__numpy__', 'config': {'value': [...], "
                "'dtype': ...}})",
                value,
            )


def _instantiate(cls, inner, config, custom_objects, safe_mode):
    """`cls.from_config(inner)`, with `custom_objects` in scope and Keras'
    safe mode set to `safe_mode` for what the class deserializes itself.
    For a keras_inits class, a key of `inner` that is no constructor
    argument raises a ValueError naming it, and a seed dict is read with
    `read_seed`; a Keras class keeps its seed dict (checked by `read_seed`)
    and refuses a `PortableSeed`. A seed Keras' SeedGenerator will hold
    (a SeedGenerator's, or an int seed of Keras' own initializers) must be
    in [0, SEED_LIMIT), which every backend takes; one of keras_inits'
    initializers, in [0, 2**32). Keras' own classes have their enumerated
    and array arguments checked first (`_check_keras_config`), and any
    error a class raises on its config is a ValueError that ends with the
    cause. `config`, the whole config, is shown in the errors."""
    inner = dict(inner)
    ours = issubclass(cls, _base.Initializer)
    keras_own = not ours and cls in set(_names.keras_classes().values())
    if ours:
        # Config keys are constructor arguments: name the stray one rather
        # than let Python's "unexpected keyword argument" surface.
        expected = constructor_arguments(cls)
        unknown = sorted(set(inner) - set(expected))
        if unknown:
            raise ValueError(
                f"Unknown config key(s) {unknown} for "
                f"{keras.saving.get_registered_name(cls)}. Expected a subset "
                f"of {expected}. Received: {config!r}"
            )
    if keras_own:
        _check_keras_config(cls, inner)
        if not isinstance(inner.get("seed"), dict):
            # Keras keeps an int seed and draws with it at every call.
            read_seed(cls.__name__, inner.get("seed"), limit=SEED_LIMIT)
    if isinstance(inner.get("seed"), dict):
        limit = 2**32 if ours else SEED_LIMIT
        seed = read_seed(cls.__name__, inner["seed"], limit=limit)
        if ours:
            inner["seed"] = seed
        elif isinstance(seed, PortableSeed):
            raise ValueError(
                f"{cls.__name__} is not a keras_inits initializer: only "
                "keras_inits' initializers take a keras_inits.PortableSeed "
                f"as `seed`. Received: {config!r}"
            )
        # Else Keras' serialized SeedGenerator, checked field by field, for
        # the class's own from_config to restore.
    # Keras' own from_config deserializes nested values (a Constant's array,
    # a seed): pass the caller's objects and safe mode on to it.
    with (
        keras.saving.custom_object_scope(custom_objects),
        keras_internals.safe_mode_scope(safe_mode),
    ):
        try:
            return cls.from_config(inner)
        except _CONFIG_FAILURES as error:
            raise ValueError(
                f"{cls.__name__} cannot be built from its config: "
                f"{type(error).__name__}: {error}. Received: "
                f"{checks.shown(config)}"
            ) from error
