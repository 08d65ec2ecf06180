"""What a recipe is, and the contract between its rule and the registry.

A rule maps each variable's `Slot` (its role, block, the model's depth and
width, its fans) to an unseeded initializer, or to None for a variable the
recipe leaves to its layer's own initializer. A rule that needs what a
slot lacks (the depth of a model without blocks) calls `needed`; the
registry then words the error with the recipe's name, the variable and
how to give the missing value.
"""

import dataclasses
from collections.abc import Callable
from collections.abc import Mapping
from typing import TypeAlias

import keras

from keras_inits.recipes._roles import Slot

Rule: TypeAlias = Callable[[Slot], keras.initializers.Initializer | None]
"""A recipe's rule: `rule(slot)` returns an unseeded
`keras.initializers.Initializer` for the variable `slot` describes, or
None to leave it to its layer's own initializer."""


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A published init scheme.

    Attributes:
        name: the name it is registered under.
        rule: `rule(slot)` returns an unseeded initializer for a variable,
            or None for a variable the recipe does not cover (its layer's
            own initializer is then used).
        summary: one line, for `python -m keras_inits recipes`.
        source: the reference checked, "repo (path/to/file.py)".
        formulas: role -> the formula the recipe uses for it, as text.

    Examples:

        >>> from keras_inits import recipes
        >>> recipes.get("gpt2").formulas["mlp_out"]
        'N(0, (0.02/sqrt(2L))^2)'
    """

    name: str
    rule: Rule
    summary: str
    source: str = ""
    formulas: Mapping[str, str] = dataclasses.field(default_factory=dict)


# What a rule may need that a slot can lack, and how to give it.
NEEDS = {
    "depth": ("the number of blocks L", "pass {owner}(..., depth=L)"),
    "width": (
        "the width d of the residual stream (d_model)",
        "pass {owner}(..., width=d)",
    ),
    "block": (
        "the index of its block",
        "name the block in `roles`, e.g. "
        r"roles={{'mlp_out': r'block_(?P<block>\d+)/ffn_out/kernel'}}",
    ),
}


class MissingSlotValue(Exception):
    """Raised by `needed`: the slot lacks `name` ("depth", "width" or
    "block"), which the rule needs."""

    def __init__(self, slot: Slot, name: str):
        super().__init__(f"{slot.path} has no {name}")
        self.slot = slot
        self.name = name


def needed(slot: Slot, name: str) -> int:
    """The slot's `depth`, `width` or `block`; raises `MissingSlotValue`
    when it is None."""
    value = getattr(slot, name)
    if value is None:
        raise MissingSlotValue(slot, name)
    return value
