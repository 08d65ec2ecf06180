"""The regular expressions of `roles=`: checked when given, matched in a
bounded time.

Python's `re` matches by backtracking and has no timeout: a pattern
whose quantifiers can split a path in many ways (`(.*)*X`, `(a+)+`)
takes time exponential in the path's length to fail, and a call that
matches it on every variable of a model never returns. So a pattern is
refused, with the reason and how to rewrite it, when it can backtrack so:

- a quantifier that repeats (`*`, `+`, `{2,}`) something of variable
  length (another quantifier, an optional part, an alternation):
  exponential;
- more than `MAX_QUANTIFIERS` quantifiers of variable count: each
  multiplies the ways to split a path, so the time grows as the path's
  length to that power.

The block's index comes from a group named `block`, which must match
digits only and cannot be skipped; a match checks it again
(`block_index`). The patterns are parsed with the parser `re` itself
uses (`re._parser`), read-only.
"""

import importlib
import re
from typing import Any

from keras_inits._internal import checks

# Imported by name: `re._parser` is private, so no stub declares it.
_sre: Any = importlib.import_module("re._parser")

# Quantifiers of variable count a pattern may hold (`?` included). The
# time to fail on a path of n characters grows as C(n + k, k) for k of
# them: with 5, on one path of 100 characters, at most about 1 s
# (measured, Python 3.11: 0.3 s for `.*.*.*.*.*X`, 1.2 s for `(?:.*a)`
# five times then `X`, on 100 `a`s), far less where literals between them
# cut the ways to split it (on real paths, milliseconds); each one more
# multiplies it by about n / k.
MAX_QUANTIFIERS = 5

# A block's index is below this, so the depth L = index + 1 stays within
# `checks.MAX_COUNT` (what `depth` may be).
_BLOCK_LIMIT = checks.MAX_COUNT

_REPEATS = tuple(
    getattr(_sre, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(_sre, name)
)
_DIGIT_CATEGORIES = tuple(
    getattr(_sre, name)
    for name in ("CATEGORY_DIGIT", "CATEGORY_UNI_DIGIT")
    if hasattr(_sre, name)
)

_REWRITE = (
    "write it with one quantifier per part of the path, e.g. "
    r"r'.*/block_(?P<block>\d+)/ffn_out/kernel', and a character class "
    "for a choice of characters (`[a-z_]+`, not `(?:[a-z]|_)+`)"
)


def check_pattern(owner: str, role: str, pattern: object) -> re.Pattern:
    """`pattern`, the regular expression `roles[role]` of `owner`,
    compiled; a ValueError naming the role and the pattern when it is not
    a `str` (or a compiled `str` pattern), does not compile, can backtrack
    catastrophically (see the module's docstring) or has a `block` group
    that can match anything but digits or be skipped."""
    where = f"`roles[{role!r}]` of {owner}"
    if isinstance(pattern, re.Pattern):
        text = pattern.pattern
    else:
        text = pattern
    if isinstance(text, (bytes, bytearray)):
        raise ValueError(
            f"{where} is a bytes pattern: variable paths are str, so write "
            f"it as a str (without the b prefix). Received: {_shown(pattern)}"
        )
    if not isinstance(text, str):
        raise ValueError(
            f"{where} must be a regular expression (a str). Received: "
            f"{_shown(pattern)}"
        )
    try:
        compiled = (
            re.compile(text, pattern.flags)
            if isinstance(pattern, re.Pattern)
            else re.compile(text)
        )
        tree = _sre.parse(text, compiled.flags)
    except (re.error, TypeError, ValueError, RecursionError) as error:
        raise ValueError(
            f"`roles[{role!r}]` is not a valid regular expression "
            f"({error}). Received: {_shown(pattern)}"
        ) from None
    try:
        nested = _nested_quantifier(tree)
        count = _count_quantifiers(tree)
        block = compiled.groupindex.get("block")
        problem = None if block is None else _block_problem(_list(tree), block)
    except RecursionError:
        raise ValueError(
            f"{where} nests its groups too deeply to check. Received: "
            f"{_shown(pattern)}"
        ) from None
    if nested is not None:
        raise ValueError(
            f"{where} can take exponential time to match: {nested}, so "
            "`re` tries every way to split a path between them before it "
            f"fails (Python's `re` has no timeout); {_REWRITE}. Received: "
            f"{_shown(pattern)}"
        )
    if count > MAX_QUANTIFIERS:
        raise ValueError(
            f"{where} has {count} quantifiers of variable count (`*`, `+`, "
            f"`?`, `{{m,n}}`), more than {MAX_QUANTIFIERS}: the time to "
            "match a path grows as its length to that power (Python's `re` "
            f"has no timeout); {_REWRITE}. Received: {_shown(pattern)}"
        )
    if problem is not None:
        raise ValueError(
            f"{where} has a `block` group that {problem}: the group gives "
            r"the block's index, as in r'block_(?P<block>\d+)/.*'. "
            f"Received: {_shown(pattern)}"
        )
    return compiled


def block_index(
    owner: str, role: str, pattern: re.Pattern, match: re.Match, path: str
) -> int:
    """The block index the `block` group of `match` (of `pattern`,
    `roles[role]` of `owner`, on `path`) captured; a ValueError when it
    captured nothing or anything but digits, or an index too large."""
    text = match.group("block")
    if (
        not isinstance(text, str)
        or not text.isdecimal()
        or len(text.lstrip("0")) > len(str(_BLOCK_LIMIT))
        or int(text) >= _BLOCK_LIMIT
    ):
        raise ValueError(
            f"`roles[{role!r}]` of {owner} matches {path!r} with "
            f"{_shown(text)} in its `block` group, not a block index (an "
            f"integer from 0 to 2**31 - 2). Received: "
            f"{_shown(pattern.pattern)}"
        )
    return int(text)


def _shown(pattern):
    """A pattern for an error message, shortened past 200 characters."""
    return checks.shown(pattern)


def _list(subpattern: Any) -> list:
    """The `(op, av)` nodes of a parsed subpattern."""
    return list(getattr(subpattern, "data", subpattern))


def _children(op, av):
    """The lists of `(op, av)` nodes nested in one node."""
    if op in _REPEATS:
        return [_list(av[2])]
    if op == _sre.SUBPATTERN:
        return [_list(av[-1])]
    if op == _sre.BRANCH:
        return [_list(item) for item in av[1]]
    if op == getattr(_sre, "ATOMIC_GROUP", None):
        return [_list(av)]
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [_list(av[1])]
    if op == _sre.GROUPREF_EXISTS:
        return [_list(item) for item in av[1:] if item is not None]
    return []


def _nodes(data):
    """Every `(op, av)` node of a parsed pattern's list `data`, at any
    depth."""
    for op, av in data:
        yield op, av
        for child in _children(op, av):
            yield from _nodes(child)


def _varies(op, av):
    """Whether a node can match text of more than one length in more than
    one way: a quantifier of variable count, or an alternation."""
    if op in _REPEATS:
        return av[0] != av[1]
    return op in (_sre.BRANCH, _sre.GROUPREF_EXISTS)


def _nested_quantifier(tree):
    """Where a quantifier of the parsed pattern `tree` repeats something
    that varies (`_varies`), in words; None when none does."""
    for op, av in _nodes(_list(tree)):
        if op not in _REPEATS or av[1] <= 1:
            continue
        inner = [node for node in _nodes(_list(av[2])) if _varies(*node)]
        if inner:
            kind = (
                "an alternation"
                if inner[0][0] == _sre.BRANCH
                else "another quantifier"
            )
            return f"a repeated group holds {kind} (as in `(.*)*` or `(a+)+`)"
    return None


def _count_quantifiers(tree):
    """The quantifiers of variable count of the parsed pattern `tree`."""
    return sum(
        1
        for op, av in _nodes(_list(tree))
        if op in _REPEATS and av[0] != av[1]
    )


def _block_problem(data, group, optional=False):
    """What is wrong with group number `group` (the `block` group) in the
    parsed list `data`, in words, or None: it must match digits only (at
    least one) and be matched whenever the pattern matches. `optional`
    says whether `data` itself may be skipped."""
    for op, av in data:
        if op == _sre.SUBPATTERN and av[0] == group:
            if optional:
                return "can be skipped (it is optional or in an alternation)"
            if not _digits_only(_list(av[-1])):
                return (
                    "can match something other than one or more digits "
                    r"(write it as `\d+`)"
                )
            return None
        skippable = optional or op in (_sre.BRANCH, _sre.GROUPREF_EXISTS)
        if op in _REPEATS and av[0] == 0:
            skippable = True
        for child in _children(op, av):
            problem = _block_problem(child, group, skippable)
            if problem is not None:
                return problem
    return None


def _digits_only(data):
    """Whether the parsed list `data` matches one or more decimal digits
    and nothing else."""
    matches_one = False
    for op, av in data:
        if op in _REPEATS:
            if not _digits_only(_list(av[2])):
                return False
            matches_one = matches_one or av[0] > 0
        elif op == _sre.SUBPATTERN:
            if not _digits_only(_list(av[-1])):
                return False
            matches_one = True
        elif op == _sre.IN:
            if not all(_digit_set_item(o, a) for o, a in av):
                return False
            matches_one = True
        elif op == _sre.LITERAL:
            if not chr(av).isdecimal():
                return False
            matches_one = True
        else:
            return False
    return matches_one


def _digit_set_item(op, av):
    """Whether one item of a character class matches only digits."""
    if op == _sre.LITERAL:
        return chr(av).isdecimal()
    if op == _sre.RANGE:
        return ord("0") <= av[0] <= av[1] <= ord("9")
    if op == _sre.CATEGORY:
        return av in _DIGIT_CATEGORIES
    return False
