"""Registration: every initializer class of keras_inits, and your own, go
through `register`.

The registered name `package>ClassName` is part of every saved model's file
format.
"""

import inspect
from collections.abc import Callable
from typing import TypeVar
from typing import overload

import keras

from keras_inits._internal import checks

PACKAGE = "keras_inits"

Class = TypeVar("Class", bound=type)


@overload
def register(cls: Class, *, package: str = PACKAGE) -> Class: ...


@overload
def register(
    cls: str | None = None, *, package: str = PACKAGE
) -> Callable[[Class], Class]: ...


def register(
    cls: type | str | None = None, *, package: str = PACKAGE
) -> type | Callable[..., type]:
    """Registers an initializer class for serialization as `package>ClassName`.

    keras_inits' own classes use `@register` (package `keras_inits`). Your
    own use `@keras_inits.register(package="my_project")` (or
    `@keras_inits.register("my_project")`): the same registration as
    `keras.saving.register_keras_serializable`, plus three checks Keras does
    not make, because each of them otherwise surfaces only when a saved
    model fails to load:

    - the class is a `keras.initializers.Initializer`;
    - the name is not already held by another class (a second registration
      would silently change what every saved model with that name loads);
    - with keras_inits' automatic `get_config`, the constructor names every
      argument (`*args` and `**kwargs` cannot be saved).

    The package `keras_inits` is reserved for keras_inits' own classes.

    Examples:

        >>> import keras_inits
        >>> @keras_inits.register(package="my_project")
        ... class Halves(keras_inits.Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return keras.ops.full(shape, 0.5, dtype=dtype)
        >>> keras.saving.get_registered_name(Halves)
        'my_project>Halves'

        >>> layer = keras.layers.Dense(3, bias_initializer="my_project>Halves")
    """
    if isinstance(cls, str):
        cls, package = None, cls
    if cls is None:
        return lambda cls: register(cls, package=package)
    if not isinstance(package, str) or not package or ">" in package:
        raise checks.argument_error(
            "register", "package", "a non-empty string without '>'", package
        )
    ours = isinstance(cls, type) and cls.__module__.startswith(PACKAGE + ".")
    if not (
        isinstance(cls, type)
        and issubclass(cls, keras.initializers.Initializer)
    ):
        raise ValueError(
            "keras_inits.register takes a subclass of "
            f"keras.initializers.Initializer. Received: {cls!r}"
        )
    if package == PACKAGE and not ours:
        raise ValueError(
            f"The package {PACKAGE!r} is reserved for keras_inits' own "
            f"initializers: register {cls.__name__} under your project's "
            f"name. Received: package={package!r}"
        )
    name = f"{package}>{cls.__name__}"
    holder = keras.saving.get_registered_object(name)
    # Re-running a notebook cell or reloading a module defines a new class
    # of the same module and name: that replaces it, anything else clashes.
    if holder is not None and (holder.__module__, holder.__qualname__) != (
        cls.__module__,
        cls.__qualname__,
    ):
        raise ValueError(
            f"{name!r} is already registered by "
            f"{holder.__module__}.{holder.__qualname__}; registering "
            f"{cls.__module__}.{cls.__qualname__} under it would change what "
            "saved models load. Choose another package or class name."
        )
    # A class without its own constructor (Zeros) has object's, which takes
    # *args and **kwargs but nothing to save.
    if cls.__init__ is not object.__init__ and getattr(
        cls.get_config, "saves_constructor_arguments", False
    ):
        parameters = inspect.signature(cls.__init__).parameters.values()
        unsaved = [
            p.name
            for p in parameters
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY)
            and p.name != "self"
        ]
        if unsaved:
            raise ValueError(
                f"{cls.__name__} cannot use the automatic get_config: its "
                f"constructor takes {unsaved}, which it cannot save. Name "
                "each argument, or write get_config yourself."
            )
    return keras.saving.register_keras_serializable(package=package)(cls)


def saves_constructor_arguments(get_config):
    """Marks `get_config` as one that saves exactly the constructor's
    arguments (keras_inits' automatic `get_config`): `register` then checks
    that the constructor names every argument."""
    get_config.saves_constructor_arguments = True
    return get_config


def constructor_arguments(cls):
    """The names of the arguments of `cls`'s constructor that a config
    holds: every one but `self`, `*args` and `**kwargs`."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [
        p.name
        for p in parameters
        if p.name != "self"
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
