"""Init recipes: the published initialization of a whole model, by role.

A recipe gives each variable an initializer from its role (the roles of
`keras_inits.roles.ROLES`: `embedding`, `attention_qkv`, ...), its block
and the model's depth and width, as GPT-2, BERT or Llama are initialized.
`keras_inits.reinitialize(model, recipe="gpt2", seed=0)` applies one;
`plan(model, "gpt2")` shows what it would do, changing nothing.

The recipes that come with the package are in `recipe_book`, each checked
against its reference code; `register` adds your own.
"""

import dataclasses
import difflib
import re
import threading

import keras

from keras_inits import checks
from keras_inits import recipe_book
from keras_inits import roles as roles_
from keras_inits import tables
from keras_inits.recipe_book import Recipe
from keras_inits.reinitialize_report import VariablePaths

_BUILT_IN = {recipe.name: recipe for recipe in recipe_book.BUILT_IN}
_registry = dict(_BUILT_IN)
_lock = threading.Lock()
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


def names():
    """The registered recipes' names: the built-in ones first, in the order
    README's table gives them, then yours in the order registered.

    Examples:

    >>> from keras_inits import recipes
    >>> recipes.names()[:3]
    ['gpt2', 'gpt_neox', 'bert']
    """
    return list(_registry)


def get(recipe):
    """The `Recipe` registered as `recipe` (a `Recipe` is returned as it
    is). An unknown name raises a ValueError that suggests the closest."""
    if isinstance(recipe, Recipe):
        return recipe
    if not isinstance(recipe, str):
        raise checks.argument_error("recipes", "recipe",
                                    "a recipe's name or a Recipe", recipe)
    found = _registry.get(recipe)
    if found is None:
        close = difflib.get_close_matches(recipe, list(_registry), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown init recipe {recipe!r}.{hint} The recipes are: "
            f"{', '.join(_registry)}.")
    return found


def register(name, rule, *, summary, source="", formulas=None,
             overwrite=False):
    """Registers your own recipe under `name` and returns it.

    Args:
        name: a name starting with a letter, of letters, digits, `_`, `.`
            and `-`. The built-in recipes' names cannot be taken.
        rule: `rule(slot)`, called with each variable's
            `keras_inits.roles.Slot`, returns a `keras.initializers.
            Initializer` for it, or None to leave the variable to its
            layer's own initializer. Give initializers no seed:
            `reinitialize` gives each variable its own.
        summary: one line saying what the recipe does.
        source: where it comes from (a paper, a repository and file).
        formulas: role -> the formula the recipe uses for it, as text.
        overwrite: replace a recipe you registered before under `name`.

    Examples:

    >>> import keras_inits
    >>> from keras_inits import recipes
    >>> def small_heads(slot):
    ...     if slot.role == "head":
    ...         return keras_inits.RandomNormal(stddev=1e-3)
    ...     return None
    >>> _ = recipes.register("small_heads", small_heads,
    ...                      summary="heads N(0, 1e-6)", overwrite=True)
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(2, name="out")], name="mlp")
    >>> print(recipes.plan(model, "small_heads"))
    path            role  block  initializer
    mlp/out/kernel  head  -      RandomNormal(mean=0, stddev=0.001)
    mlp/out/bias    bias  -      (layer's own)
    recipe small_heads: 1 of 2 variables set; depth L=None, width d=None.
    """
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise checks.argument_error(
            "recipes.register", "name",
            "a name of letters, digits, `_`, `.` and `-`, starting with a "
            "letter", name)
    if not callable(rule):
        raise checks.argument_error("recipes.register", "rule",
                                    "a callable rule(slot)", rule)
    if not (isinstance(summary, str) and summary.strip()
            and "\n" not in summary):
        raise checks.argument_error("recipes.register", "summary",
                                    "one line of text", summary)
    if not isinstance(source, str):
        raise checks.argument_error("recipes.register", "source", "a string",
                                    source)
    formulas = {} if formulas is None else formulas
    if not (isinstance(formulas, dict) and all(
            role in roles_.ROLES and isinstance(text, str)
            for role, text in formulas.items())):
        raise checks.argument_error(
            "recipes.register", "formulas",
            f"None or a dict of role (one of {', '.join(roles_.ROLES)}) -> "
            "text", formulas)
    if not isinstance(overwrite, bool):
        raise checks.argument_error("recipes.register", "overwrite",
                                    "True or False", overwrite)
    recipe = Recipe(name, rule, summary, source, dict(formulas))
    with _lock:
        if name in _BUILT_IN:
            raise ValueError(
                f"{name!r} is a built-in recipe and cannot be replaced: "
                "register yours under another name.")
        if name in _registry and not overwrite:
            raise ValueError(
                f"A recipe named {name!r} is already registered: pass "
                "`overwrite=True` to replace it.")
        _registry[name] = recipe
    return recipe


@dataclasses.dataclass(frozen=True)
class PlannedVariable:
    """One variable of a plan: its role and block (see
    `keras_inits.roles.Slot`) and the initializer the recipe gives it,
    None when the layer's own is kept."""

    path: str
    role: object
    block: object
    initializer: object


class RecipePlan(tables.RowTable):
    """What a recipe would do to a model, changing nothing. Prints as a
    table; indexable by path.

    Attributes:
        recipe: the recipe's name.
        rows: one `PlannedVariable` per variable, in the model's order.
        unmatched: the paths of the variables that matched no role.
        depth, width: the L and d the recipe was given (found or passed).
    """

    def __init__(self, recipe, rows, depth, width):
        self.recipe = recipe
        self.rows = list(rows)
        self.unmatched = [r.path for r in self.rows if r.role is None]
        self.depth = depth
        self.width = width

    def __repr__(self):
        covered = sum(r.initializer is not None for r in self.rows)
        return (f"<RecipePlan {self.recipe}: {covered} of {len(self.rows)} "
                "variables set>")

    def __str__(self):
        lines = tables.format_table(
            ("path", "role", "block", "initializer"),
            [(r.path, r.role or "-", "-" if r.block is None else str(r.block),
              "(layer's own)" if r.initializer is None
              else describe(r.initializer)) for r in self.rows], left=4)
        covered = sum(r.initializer is not None for r in self.rows)
        lines.append(
            f"recipe {self.recipe}: {covered} of {len(self.rows)} variables "
            f"set; depth L={self.depth}, width d={self.width}.")
        if self.unmatched:
            lines.append("matched no role: " + ", ".join(self.unmatched))
        return "\n".join(lines)


def plan(model, recipe, *, roles=None, depth=None, width=None):
    """What `reinitialize(model, recipe=recipe, ...)` would give each
    variable, as a `RecipePlan`; changes nothing.

    Args:
        model: a built `keras.Model` or layer.
        recipe: a registered recipe's name (`names()`) or a `Recipe`.
        roles: role -> regular expression on variable paths
            (`re.fullmatch`), which takes precedence over the roles found;
            a group named `block` gives the block's index.
        depth: L, the number of blocks, when it is not the one found.
        width: d, the residual stream's width, when not the one found.
    """
    recipe, slots = assign(model, recipe, roles=roles, depth=depth,
                           width=width)
    rows = [PlannedVariable(slot.path, slot.role, slot.block, initializer)
            for _, slot, initializer in slots]
    depth = slots[0][1].depth if slots else depth
    width = slots[0][1].width if slots else width
    return RecipePlan(recipe.name, rows, depth, width)


def assign(model, recipe, *, roles=None, depth=None, width=None):
    """`(recipe, [(variable, slot, initializer)])` for every variable of
    `model`: the recipe found by `get`, each variable's
    `keras_inits.roles.Slot`, and the initializer the recipe gives it (None
    to keep its layer's own). A rule that returns anything else raises a
    ValueError naming the recipe and the variable."""
    recipe = get(recipe)
    if not isinstance(model, keras.layers.Layer):
        raise checks.argument_error("recipes", "model",
                                    "a keras.Model or keras.layers.Layer",
                                    model)
    if not model.weights:
        raise ValueError(
            f"{model.name} has no weights to plan a recipe for: build it "
            "first (call it on data, or `build(input_shape)`).")
    assigned = []
    for variable, slot in roles_.find_slots(
            model, VariablePaths(), roles=roles, depth=depth, width=width):
        initializer = recipe.rule(slot)
        if initializer is not None and not isinstance(
                initializer, keras.initializers.Initializer):
            raise ValueError(
                f"Recipe {recipe.name!r} gave {slot.path} (role "
                f"{slot.role}) a {type(initializer).__name__}: a rule "
                "returns a keras.initializers.Initializer or None.")
        assigned.append((variable, slot, initializer))
    return recipe, assigned


def describe(initializer):
    """`Class(argument=value, ...)` without the seed, numbers to 4
    significant digits: how plans name an initializer."""
    config = initializer.get_config()
    arguments = ", ".join(
        f"{key}={value:.4g}" if isinstance(value, float) else
        f"{key}={value!r}" for key, value in config.items() if key != "seed")
    return f"{type(initializer).__name__}({arguments})"
