"""The names `get` and `deserialize` resolve: keras_inits' registered
classes, Keras' own, their spellings (`"keras_inits>HeNormal"`,
`"HeNormal"`, `"he_normal"`, Keras' aliases), and the message for a name
that resolves to nothing, with the closest valid ones.
"""

import re

import keras

from keras_inits._internal.before_keras import unknown_initializer_message
from keras_inits.initializers._registration import PACKAGE

_PREFIX = PACKAGE + ">"

# Names `keras.initializers.deserialize` accepts that are not attributes of
# `keras.initializers` (legacy aliases).
_KERAS_ALIASES = {
    "normal": "RandomNormal",
    "uniform": "RandomUniform",
    "one": "Ones",
    "zero": "Zeros",
}


def _snake_case(name):
    """The class name `name` in snake case, as Keras spells its
    initializers' names: `"HeNormal"` -> `"he_normal"`, `"STFT"` ->
    `"stft"`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def is_initializer_class(obj):
    """Whether `obj` is a `keras.initializers.Initializer` subclass."""
    return isinstance(obj, type) and issubclass(
        obj, keras.initializers.Initializer
    )


def keras_classes():
    """Keras' own initializer classes by every name Keras accepts."""
    classes = {
        name: obj
        for name, obj in vars(keras.initializers).items()
        if is_initializer_class(obj)
        and obj is not keras.initializers.Initializer
    }
    for alias, name in _KERAS_ALIASES.items():
        if name in classes:
            classes[alias] = classes[name]
    return classes


def our_classes():
    """keras_inits' registered initializer classes by their class name."""
    return {
        name[len(_PREFIX) :]: cls
        for name, cls in keras.saving.get_custom_objects().items()
        if name.startswith(_PREFIX) and is_initializer_class(cls)
    }


def name_table() -> dict[str, tuple[type, str]]:
    """Every name `get` accepts, mapped to `(class, canonical name)`.

    Built at each call, so classes registered after import (by other
    keras_inits modules, or yours) count. keras_inits' classes shadow Keras'
    ones of the same name, and Keras' aliases of those (`"normal"`,
    `"OrthogonalInitializer"`) follow to keras_inits' class.
    """
    ours = our_classes()
    table = {}
    for name, cls in keras_classes().items():
        if cls.__name__ in ours:
            table[name] = (ours[cls.__name__], _PREFIX + cls.__name__)
        else:
            table[name] = (cls, name)
    for name, cls in ours.items():
        for spelling in (_PREFIX + name, name, _snake_case(name)):
            table[spelling] = (cls, _PREFIX + name)
    return table


def equivalent_class(cls: type) -> type:
    """keras_inits' class for a Keras initializer class: the one of the
    name Keras exports `cls` under (`keras.initializers.Orthogonal` is
    `OrthogonalInitializer`), which takes the same config and draws the
    same distribution; any other class, or a Keras class keras_inits does
    not define, is returned as it is.

    Examples:

        >>> from keras_inits.initializers import equivalent_class
        >>> equivalent_class(keras.initializers.HeNormal).__module__
        'keras_inits.initializers._variance_scaling'
    """
    if not within(cls.__module__, "keras"):
        return cls
    ours = our_classes()
    for name, exported in vars(keras.initializers).items():
        if exported is cls and name in ours:
            return ours[name]
    return cls


def within(module, package):
    """Whether `module` (a string, else False) is `package` or inside it."""
    return isinstance(module, str) and (
        module == package or module.startswith(package + ".")
    )


def unknown_name_message(name, table, config):
    """The message for `name`, which `table` (a `name_table`) does not
    hold: "Did you mean" up to three close names (compared lowercased,
    PyTorch's "xavier" and "kaiming" read as "glorot" and "he"), else the
    kinds of name that are valid; then `config`, when it is a dict."""
    canonical = {spelling: entry[1] for spelling, entry in table.items()}
    message = unknown_initializer_message(name, canonical)
    if isinstance(config, dict):
        message += f" Received: {config!r}"
    return message
