"""The initializers `compare` takes, read from a command line's text or a
list: `[(label, initializer or "LSUV")]`.

A name with keyword arguments (`"RandomNormal(stddev=0.01)"`) is read with
Python's parser, taking only literal values: a command line never runs code
and never shows a traceback.
"""

from keras_inits._internal import checks
from keras_inits._internal.before_keras import keywords
from keras_inits._internal.before_keras import split_initializer_list
from keras_inits._internal.naming import short_name
from keras_inits.initializers import get
from keras_inits.initializers import name_table

LSUV = "LSUV"
"""The `--initializers` entry that is not an initializer: `Orthogonal`,
then `lsuv` on a batch of training images."""


class UnknownInitializerError(ValueError):
    """An `--initializers` entry that names no initializer."""


def valid_names() -> list[str]:
    """The names `compare` takes: keras_inits' and Keras' initializers (in
    any spelling `keras_inits.get` takes), and `LSUV`."""
    return sorted(
        {
            name
            for name, (_, canonical) in name_table().items()
            if ">" not in name and name[0].isupper()
        }
        | {LSUV}
    )


def parse_initializers(text: str) -> list[tuple[str, object]]:
    """Splits `"Zeros, RandomNormal(stddev=0.01), he_uniform"` into
    `[(label, initializer or "LSUV")]`; keyword arguments are Python
    literals."""
    try:
        entries = split_initializer_list(text)
    except ValueError as error:
        raise UnknownInitializerError(str(error)) from None
    return [parse_entry(entry) for entry in entries]


def parse_entry(entry):
    """`(label, initializer or "LSUV")` of one entry such as
    `"RandomNormal(stddev=0.01)"`, or an UnknownInitializerError."""
    name, _, arguments = entry.partition("(")
    name = name.strip()
    if name.lower() == LSUV.lower():
        if arguments:
            raise UnknownInitializerError(
                f"{LSUV} takes no arguments. Received: {checks.shown(entry)}"
            )
        return LSUV, LSUV
    kwargs = {}
    if arguments:
        try:
            kwargs = keywords(arguments)
        except ValueError as error:
            raise UnknownInitializerError(
                f"Cannot read the arguments of {checks.shown(entry)} "
                f"({error}): write them as keywords with literal values, "
                "e.g. 'RandomNormal(stddev=0.01)'."
            ) from None
    try:
        cls = type(get(name))
    except ValueError as error:
        raise UnknownInitializerError(
            f"{error} Valid names: {', '.join(valid_names())}."
        ) from None
    try:
        initializer = cls(**kwargs)
    except Exception as error:  # a command line never gives a traceback
        raise UnknownInitializerError(
            f"{checks.shown(entry)}: {error}"
        ) from None
    return short_name(initializer), initializer


def read_entries(initializers):
    """`[(label, initializer or "LSUV")]` of `compare`'s `initializers`,
    each label once: `compare` groups its runs by label."""
    if isinstance(initializers, str):
        entries = parse_initializers(initializers)
    else:
        entries = _listed_entries(initializers)
    labels = [label for label, _ in entries]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise checks.argument_error(
            "compare",
            "initializers",
            f"each initializer once (repeated: {', '.join(repeated)})",
            initializers,
        )
    return entries


def _listed_entries(initializers):
    """`read_entries` of a list or tuple of entries."""
    items = (
        list(initializers) if isinstance(initializers, (list, tuple)) else None
    )
    if not items:
        raise checks.argument_error(
            "compare",
            "initializers",
            "a comma-separated string or a non-empty list of initializers",
            initializers,
        )
    entries = []
    for item in items:
        if isinstance(item, str):
            entries.append(parse_entry(item))
            continue
        try:
            initializer = get(item)
        except ValueError:
            initializer = None
        if initializer is None:
            raise checks.argument_error(
                "compare",
                "initializers",
                "a list of initializers, their names or configs",
                initializers,
            )
        entries.append((short_name(initializer), initializer))
    return entries
