"""The initializers `compare` takes, read from a command line's text or a
list: `[(label, initializer or "LSUV")]`.

A name with keyword arguments (`"RandomNormal(stddev=0.01)"`) is read with
Python's parser, taking only literal values: a command line never runs code
and never shows a traceback.
"""

import ast

from keras_inits._internal import checks
from keras_inits._internal.naming import short_name
from keras_inits.initializers import get
from keras_inits.initializers import name_table

LSUV = "LSUV"  # not an initializer: Orthogonal, then lsuv on a batch


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
    entries = []
    depth = 0  # parentheses open
    start = 0  # where the current entry starts
    for i, char in enumerate(text + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            if text[start:i].strip():
                entries.append(text[start:i].strip())
            start = i + 1
    if not entries or depth:
        raise UnknownInitializerError(
            f"Cannot read the initializer list {checks.shown(text)}: expected "
            "names separated by commas, e.g. 'Zeros,HeUniform,RandomNormal("
            "stddev=0.01)'."
        )
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
            kwargs = _keywords(arguments)
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


def _keywords(arguments):
    """`"stddev=0.01, seed=3)"` (the text after the opening parenthesis) as
    a dict; raises ValueError saying what is not `name=literal`."""
    try:
        call = ast.parse(f"f({arguments}", mode="eval").body
    except (MemoryError, RecursionError):  # the parser's stack ("------1")
        raise ValueError("too deeply nested") from None
    except (SyntaxError, ValueError) as error:
        raise ValueError(getattr(error, "msg", None) or str(error)) from None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "f"
    ):
        raise ValueError("text after the closing parenthesis")
    if call.args:
        raise ValueError("positional arguments")
    kwargs = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise ValueError("'**' unpacking")
        if keyword.arg in kwargs:
            raise ValueError(f"`{keyword.arg}` given twice")
        try:
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except (
            ValueError,
            TypeError,
            SyntaxError,
            MemoryError,
            RecursionError,
        ):
            raise ValueError(
                f"the value of `{keyword.arg}` is not a literal (a number, "
                "string, list, tuple, dict, True, False or None; no "
                "arithmetic such as 10**400)"
            ) from None
    return kwargs


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
