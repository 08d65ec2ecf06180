"""The checks of `compare`'s arguments that need no Keras, and the backend
a command would run on, read as Keras reads it.

The command line runs them before Keras loads, so that every mistake is
answered at once. Each check raises a ValueError whose message is the one
the experiment's own check gives for the same mistake (`parse_initializers`,
`read_recipes`), against the static tables of `_static`;
`tests/cli/test_cli_static.py` holds the two to the same answers. What both
can share without Keras (the "Did you mean" names, the keyword arguments'
reading) is `_internal.before_keras`. Imports only the standard library,
`_static` and `before_keras`.
"""

import difflib
import json
import os
from collections.abc import Mapping
from collections.abc import Sequence

from keras_inits._internal import before_keras
from keras_inits.cli import _static

_PREFIX = "keras_inits>"
# Only for "did you mean": torch.nn.init's names for the same initializers.
NO_RECIPE = "default"  # `defaults.NO_RECIPE`: each layer's own initializer
RECIPE_OWNER = "compare_recipes"


def configured_backend(environ: Mapping[str, str] = os.environ) -> str:
    """The backend Keras loads with in a process with `environ`: a
    non-empty `KERAS_BACKEND`, else the "backend" of `keras.json` in
    `KERAS_HOME` (else `~/.keras`, or `/tmp/.keras` when the home folder
    cannot be written), else "tensorflow". Keras 3's own rule
    (`keras/src/backend/config.py`), read without importing it."""
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"]
    if "KERAS_HOME" in environ:
        folder = environ["KERAS_HOME"]
    else:
        home = os.path.expanduser("~")
        if not os.access(home, os.W_OK):
            home = "/tmp"
        folder = os.path.join(home, ".keras")
    try:
        with open(os.path.expanduser(os.path.join(folder, "keras.json"))) as f:
            config = json.load(f)
    except (OSError, ValueError):
        config = {}
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend if isinstance(backend, str) else "tensorflow"


def argument_error(owner: str, name: str, requirement: str, value: str):
    """`checks.argument_error`'s ValueError."""
    return ValueError(
        f"Argument `{name}` of {owner} must be {requirement}. "
        f"Received: {name}={before_keras.shown_text(value)}"
    )


def valid_names() -> list[str]:
    """The names `compare` takes, sorted: `experiments.valid_names()`."""
    return sorted(
        [name for name, _, _ in _static.INITIALIZERS]
        + [name for name, _ in _static.OTHER_NAMES]
    )


def check_initializers(text: str) -> list[str]:
    """The entries of `--initializers` (`"Zeros, RandomNormal(stddev=0.01)"`),
    each a known name with keyword arguments its constructor takes, given
    as literals; else a ValueError with `parse_initializers`' message (for
    an unknown keyword, one of its own). Their values are checked when the
    initializers are made, once Keras has loaded."""
    entries = before_keras.split_initializer_list(text)
    for entry in entries:
        _check_entry(entry)
    return entries


def repeated_initializers(text: str, entries: Sequence[str]) -> str | None:
    """`read_entries`' message when two of `check_initializers`' `entries`
    of `text` without arguments name the same initializer (`"HeNormal,
    he_normal"`), or None. An entry with arguments is labelled by its
    values, which the initializer's class reads: `compare` checks those."""
    labels = []
    for entry in entries:
        name, _, arguments = entry.partition("(")
        name = name.strip()
        if name.lower() == _static.LSUV.lower():
            labels.append(_static.LSUV)
        elif not arguments:
            labels.append(_static.SPELLINGS[name].removeprefix(_PREFIX))
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if not repeated:
        return None
    return str(
        argument_error(
            "compare",
            "initializers",
            f"each initializer once (repeated: {', '.join(repeated)})",
            text,
        )
    )


def convolution_only(entries: Sequence[str]) -> list[str]:
    """The names among `check_initializers`' `entries` of initializers
    that only fill convolution kernels (`_static.CONVOLUTION_ONLY`): none
    can initialize the Dense kernels of `compare`'s MLP."""
    found = []
    for entry in entries:
        name = entry.partition("(")[0].strip()
        canonical = _static.SPELLINGS.get(name)
        if canonical in _static.CONVOLUTION_ONLY:
            found.append(name)
    return found


def _check_entry(entry):
    """Raises `check_initializers`' ValueError for one entry."""
    name, _, arguments = entry.partition("(")
    name = name.strip()
    if name.lower() == _static.LSUV.lower():
        if arguments:
            raise ValueError(
                f"{_static.LSUV} takes no arguments. Received: {before_keras.shown_text(entry)}"
            )
        return
    kwargs = {}
    if arguments:
        try:
            kwargs = before_keras.keywords(arguments)
        except ValueError as error:
            raise ValueError(
                f"Cannot read the arguments of {before_keras.shown_text(entry)} ({error}): "
                "write them as keywords with literal values, e.g. "
                "'RandomNormal(stddev=0.01)'."
            ) from None
    if name not in _static.SPELLINGS:
        raise ValueError(
            f"{before_keras.unknown_initializer_message(name, _static.SPELLINGS)} Valid names: "
            f"{', '.join(valid_names())}."
        )
    canonical = _static.SPELLINGS[name]
    takes = _static.PARAMETERS[canonical]
    for keyword in kwargs:
        if takes is not None and keyword not in takes:
            close = difflib.get_close_matches(keyword, takes, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise ValueError(
                f"{before_keras.shown_text(entry)}: {canonical.removeprefix(_PREFIX)} takes no "
                f"argument `{keyword}`.{hint} It takes: "
                f"{', '.join(takes) or 'no arguments'}."
            )


def recipe_names() -> list[str]:
    """The built-in recipes' names, as `keras_inits.recipes.names()` gives
    them in a process that registered none of its own."""
    return [name for name, _, _ in _static.RECIPES]


def check_recipes(text: str) -> list[str]:
    """The names of `--recipes` (comma-separated; "default" is no recipe),
    each a built-in recipe and given once; else a ValueError with
    `read_recipes`' message."""
    known = recipe_names()
    names = []
    for entry in text.split(",") if text.strip() else []:
        entry = entry.strip()
        if entry != NO_RECIPE and entry not in known:
            raise ValueError(before_keras.unknown_recipe_message(entry, known))
        names.append(entry)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not names or repeated:
        raise argument_error(
            RECIPE_OWNER,
            "recipes",
            "at least one recipe, each once"
            + (f" (repeated: {', '.join(repeated)})" if repeated else ""),
            text,
        )
    return names
