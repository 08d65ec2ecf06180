"""Checks and wording that need no Keras: the command line answers its
mistakes with them before Keras loads (`keras_inits.cli`), and the library
uses the same ones, so each message is written once.

Imports only the standard library: the command line imports this module
while `keras_inits/__init__.py` has not yet imported Keras (see
`keras_inits/_startup.py`).
"""

import ast
import difflib
import os
import tempfile
from collections.abc import Iterable
from collections.abc import Sequence

# The most values a network of the diagnostics and experiments may hold in
# its weights, or its activations on one batch (512 MiB of float32).
MAX_VALUES = 2**27


def close_names(
    name: str, known: Iterable[str], *, limit: int = 3
) -> list[str]:
    """Up to `limit` of the `known` names that `name` may have meant, the
    likeliest first: the names equal to it but for case (`"GPT2"` ->
    `"gpt2"`), then those that contain it or that it contains, compared
    lowercased (`"llama"` -> `"torchtitan_llama"`), then the close ones
    by `difflib` (`"gtp2"` -> `"gpt2"`). Empty when none is close. Names
    stay exact where they are looked up: this only words the error.

    Examples:

        >>> from keras_inits._internal.before_keras import close_names
        >>> close_names("Llama", ["gpt2", "torchtitan_llama"])
        ['torchtitan_llama']
    """
    known = list(dict.fromkeys(known))
    lowered: dict[str, list[str]] = {}
    for spelling in known:
        lowered.setdefault(spelling.lower(), []).append(spelling)
    query = name.lower()
    found = list(lowered.get(query, []))
    # A part of a name, 3 characters at least ("gpt" in "gpt2", "gpt_neox").
    if len(query) >= 3:
        found += [k for k in known if query in k.lower()]
        found += [k for k in known if len(k) >= 3 and k.lower() in query]
    for match in difflib.get_close_matches(query, list(lowered), n=limit):
        found += lowered[match]
    return [k for k in dict.fromkeys(found) if k != name][:limit]


def keywords(arguments: str) -> dict:
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


def mlp_size_problem(owner, depth, width, inputs, batch_size):
    """Why `owner` cannot build an MLP of `depth` Dense(`width`) layers on
    `inputs` features, or run a batch of `batch_size` through it (more than
    `MAX_VALUES` values), or None when it can."""
    weights = inputs * width + (depth - 1) * width * width
    activations = batch_size * width * depth
    if max(weights, activations) <= MAX_VALUES:
        return None
    return (
        f"{owner} would build a network of {weights:,} weights whose "
        f"activations on one batch hold {activations:,} values: at most "
        f"{MAX_VALUES:,} each. Use a smaller depth, width or batch size. "
        f"Received: depth={depth}, width={width}, batch_size={batch_size}"
    )


def output_problem(output: str, outputs: Sequence[str]) -> str | None:
    """Why `compare` cannot write its report into the folder `output`, or
    None if it can: an existing folder it can write in, whose report files
    (`outputs`, if any there) it can overwrite, or a path where it can
    create one.

    Changes nothing: the folders it creates to find out, and a probe file,
    are removed before it returns.
    """
    if not isinstance(output, (str, os.PathLike)):
        return f"a path, not a {type(output).__name__}"
    try:
        path = os.fspath(output)
    except TypeError as error:
        return str(error)
    if not isinstance(path, str) or not path:
        return "a non-empty path"
    if "\0" in path:
        return "a path without a NUL character"
    try:
        if os.path.isdir(path):
            _probe_file(path)
            for name in outputs:
                target = os.path.join(path, name)
                if os.path.lexists(target) and not (
                    os.path.isfile(target) and os.access(target, os.W_OK)
                ):
                    return (
                        f"{target!r} exists and is not a file compare "
                        "can overwrite"
                    )
            return None
        if os.path.lexists(path):
            return f"{path!r} exists and is not a folder"
        missing = []  # the folders that do not exist, deepest first
        parent = os.path.abspath(path)
        while not os.path.lexists(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            return f"{parent!r} is a file, not a folder"
        try:
            os.makedirs(path)
            _probe_file(path)
        finally:
            for folder in missing:  # deepest first; only empty ones go
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
    except OSError as error:
        return f"{error.strerror or error} for {error.filename or path!r}"
    return None


def _probe_file(folder):
    """Creates and removes a file in `folder`; an OSError names `folder`
    (not the probe file's random name)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OSError(error.errno, error.strerror, folder) from None


def shown_text(text: str, limit: int = 200) -> str:
    """`repr(text)` for an error message, shortened past `limit`
    characters (`checks.shown` for any value)."""
    quoted = repr(text)
    if len(quoted) > limit:
        quoted = f"{quoted[: limit // 2]}... ({len(quoted):,} characters)"
    return quoted


def did_you_mean(names: Sequence[str]) -> str:
    """`" Did you mean 'a', 'b' or 'c'?"` for the first three of `names`,
    or "" for none."""
    quoted = [repr(name) for name in names[:3]]
    if not quoted:
        return ""
    if len(quoted) > 1:
        quoted = [", ".join(quoted[:-1]), quoted[-1]]
    return f" Did you mean {' or '.join(quoted)}?"


def unknown_recipe_message(name: str, known: Sequence[str]) -> str:
    """The message for the init recipe `name`, not among `known`."""
    hint = did_you_mean(close_names(name, known))
    return (
        f"Unknown init recipe {name!r}.{hint} The recipes are: "
        f"{', '.join(known)}."
    )


# Users arriving from PyTorch spell Glorot and He by other names.
_SYNONYMS = {"xavier": "glorot", "kaiming": "he"}


def unknown_initializer_message(name: str, canonical: dict[str, str]) -> str:
    """The message for the initializer `name`, not among the spellings
    `canonical` maps to the names to suggest for them: "Did you mean" up
    to three close names (compared lowercased, PyTorch's "xavier" and
    "kaiming" read as "glorot" and "he"), else the kinds of name that are
    valid."""
    message = f"Unknown initializer: {name!r}."
    # Compare lowercased, so "henormal" finds "HeNormal".
    lowered: dict[str, str] = {}
    for spelling in canonical:
        lowered.setdefault(spelling.lower(), spelling)
    query = name.lower()
    for theirs, ours in _SYNONYMS.items():
        query = query.replace(theirs, ours)
    suggestions = []
    for match in difflib.get_close_matches(query, lowered, n=6, cutoff=0.6):
        if canonical[lowered[match]] not in suggestions:
            suggestions.append(canonical[lowered[match]])
    if suggestions:
        return message + did_you_mean(suggestions)
    return message + (
        " Expected a keras_inits name such as 'keras_inits>HeNormal', "
        "one of Keras' initializers, or the registered name "
        "'package>Name' of your own (is its module imported?)."
    )


def split_initializer_list(text: str) -> list[str]:
    """The entries of a comma-separated list of initializers
    (`"Zeros, RandomNormal(stddev=0.01)"`), split outside parentheses;
    a ValueError when there are none or a parenthesis is left open."""
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
        raise ValueError(
            f"Cannot read the initializer list {shown_text(text)}: expected "
            "names separated by commas, e.g. 'Zeros,HeUniform,RandomNormal("
            "stddev=0.01)'."
        )
    return entries
