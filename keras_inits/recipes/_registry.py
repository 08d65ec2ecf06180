"""The registry of init recipes, and `plan`: what a recipe gives each
variable of a model.

A recipe gives each variable an initializer from its role (`ROLES`:
`embedding`, `attention_qkv`, ...), its block and the model's depth and
width, as GPT-2, BERT or Llama are initialized.
`keras_inits.reinitialize(model, recipe="gpt2", seed=0)` applies one;
`plan(model, "gpt2")` shows what it would do, changing nothing.

The recipes that come with the package are in `_book`, each checked
against its reference code; `register` adds your own.
"""

import dataclasses
import inspect
import re
import threading

import keras

from keras_inits._internal import checks
from keras_inits._internal import tables
from keras_inits._internal.before_keras import unknown_recipe_message
from keras_inits._internal.naming import error_text
from keras_inits._internal.naming import initializer_name
from keras_inits._internal.paths import variable_paths
from keras_inits.recipes import _book
from keras_inits.recipes._recipe import NEEDS
from keras_inits.recipes._recipe import MissingSlotValue
from keras_inits.recipes._recipe import Recipe
from keras_inits.recipes._recipe import Rule
from keras_inits.recipes._roles import ROLES
from keras_inits.recipes._roles import SUBROLES
from keras_inits.recipes._roles import adapted_state
from keras_inits.recipes._roles import find_slots

_BUILT_IN = {recipe.name: recipe for recipe in _book.BUILT_IN}
_registry = dict(_BUILT_IN)
_lock = threading.Lock()
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


def names() -> list[str]:
    """The registered recipes' names: the built-in ones first, in the order
    the recipe table of docs/recipes.md gives them, then yours in the order
    registered.

    Examples:

        >>> from keras_inits import recipes
        >>> recipes.names()[:3]
        ['gpt2', 'gpt_neox', 'bert']
    """
    return list(_registry)


def get(recipe: str | Recipe, *, owner: str = "recipes.get") -> Recipe:
    """The `Recipe` registered as `recipe` (a `Recipe` is returned as it
    is). Names are exact: an unknown name raises a ValueError that
    suggests the registered names it may mean, compared without case
    (`"GPT2"`), as a part of one (`"llama"` for `"torchtitan_llama"`) or
    by a typo (`"gtp2"`).

    Args:
        recipe: a registered recipe's name (`names()`) or a `Recipe`.
        owner: the function named as the caller in errors.
    """
    if isinstance(recipe, Recipe):
        _check_rule(owner, "recipe.rule", recipe.rule)
        return recipe
    if not isinstance(recipe, str):
        raise checks.argument_error(
            owner, "recipe", "a recipe's name or a Recipe", recipe
        )
    found = _registry.get(recipe)
    if found is None:
        # Names are exact (a saved comparison stores them): "GPT2" is not
        # taken for "gpt2", only suggested.
        raise ValueError(unknown_recipe_message(recipe, list(_registry)))
    return found


def register(
    name: str,
    rule: Rule,
    *,
    summary: str,
    source: str = "",
    formulas: dict[str, str] | None = None,
    overwrite: bool = False,
) -> Recipe:
    """Registers your own recipe under `name` and returns it.

    Args:
        name: a name starting with a letter, of letters, digits, `_`, `.`
            and `-`. The built-in recipes' names cannot be taken.
        rule: `rule(slot)`, called with each variable's
            `keras_inits.recipes.Slot`, returns a `keras.initializers.
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
        mlp/out/kernel  head  -      RandomNormal(stddev=0.001)
        mlp/out/bias    bias  -      (layer's own)
        recipe small_heads: 1 of 2 variables set; depth L=None, width d=None.
    """
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise checks.argument_error(
            "recipes.register",
            "name",
            "a name of letters, digits, `_`, `.` and `-`, starting with a "
            "letter",
            name,
        )
    _check_rule("recipes.register", "rule", rule)
    if not (
        isinstance(summary, str) and summary.strip() and summary.isprintable()
    ):
        raise checks.argument_error(
            "recipes.register",
            "summary",
            "one line of text (printable, without line breaks, tabs or "
            "other control characters)",
            summary,
        )
    if not isinstance(source, str):
        raise checks.argument_error(
            "recipes.register", "source", "a string", source
        )
    formulas = {} if formulas is None else formulas
    if not (
        isinstance(formulas, dict)
        and all(
            (role in ROLES or role in SUBROLES) and isinstance(text, str)
            for role, text in formulas.items()
        )
    ):
        raise checks.argument_error(
            "recipes.register",
            "formulas",
            f"None or a dict of role (one of {', '.join(ROLES)}, or a "
            f"finer role: {', '.join(SUBROLES)}) -> text",
            formulas,
        )
    if not isinstance(overwrite, bool):
        raise checks.argument_error(
            "recipes.register", "overwrite", "True or False", overwrite
        )
    recipe = Recipe(name, rule, summary, source, dict(formulas))
    with _lock:
        if name in _BUILT_IN:
            raise ValueError(
                f"{name!r} is a built-in recipe and cannot be replaced: "
                "register yours under another name."
            )
        if name in _registry and not overwrite:
            raise ValueError(
                f"A recipe named {name!r} is already registered: pass "
                "`overwrite=True` to replace it."
            )
        _registry[name] = recipe
    return recipe


def _check_rule(owner, name, rule):
    """Raises a ValueError naming argument `name` of `owner` unless `rule`
    is a recipe's rule: a callable, not a class (an initializer class
    would take the slot as its first argument), that takes one positional
    argument, the slot (more are fine when they have defaults)."""
    if not callable(rule):
        raise checks.argument_error(owner, name, "a callable rule(slot)", rule)
    if isinstance(rule, type):
        raise ValueError(
            f"Argument `{name}` of {owner} must be a function rule(slot) "
            f"that returns an initializer, not a class: write "
            f"`lambda slot: {rule.__name__}(...)` to give every variable "
            f"a {rule.__name__}. Received: {name}={checks.shown(rule)}"
        )
    try:
        signature = inspect.signature(rule)
    except (TypeError, ValueError):  # a builtin without a signature
        return
    try:
        signature.bind(None)
    except TypeError as error:
        raise ValueError(
            f"Argument `{name}` of {owner} must be a callable rule(slot) "
            f"that takes one argument, the slot ({error}). Received: "
            f"{name}={checks.shown(rule)} of signature {signature}"
        ) from None


@dataclasses.dataclass(frozen=True)
class PlannedVariable:
    """One variable of a plan: its path, its role and block (see `Slot`),
    the initializer the recipe gives it (None when the layer's own is
    kept), the variable itself, its finer role (`SUBROLES`) and, without
    a role, why; `kept` is True for adapted state (a `Normalization`'s
    mean), which `reinitialize` keeps unless `reset_adapted=True`."""

    path: str
    role: str | None
    block: int | None
    initializer: keras.initializers.Initializer | None
    variable: keras.Variable = dataclasses.field(repr=False, compare=False)
    subrole: str | None = None
    reason: str | None = None
    kept: bool = False

    def __repr__(self):
        # The initializer by its one name (`initializer_name`), which
        # writes an array it holds by its shape, whatever its own repr.
        fields = [
            f"{field.name}={_field_repr(getattr(self, field.name))}"
            for field in dataclasses.fields(self)
            if field.repr
        ]
        return f"PlannedVariable({', '.join(fields)})"


def _field_repr(value):
    """A field of a `PlannedVariable` in its repr: an initializer by its
    name, anything else by its repr."""
    if isinstance(value, keras.initializers.Initializer):
        return initializer_name(value)
    return repr(value)


class RecipePlan(tables.RowTable[PlannedVariable]):
    """What a recipe would do to a model, changing nothing. Prints as a
    table; indexable by path.

    Attributes:
        recipe: the recipe's name.
        rows: one `PlannedVariable` per variable, in the model's order.
        unmatched: the paths of every variable that matched no role
            (vectors and non-trainable state included), in the model's
            order. `unmatched_weights` keeps its trainable weights of two
            or more dimensions: those `reinitialize` warns about.
        depth: the L the recipe was given (found or passed).
        width: the d the recipe was given (found or passed).
    """

    def __init__(
        self,
        recipe: str,
        rows: list[PlannedVariable],
        depth: int | None,
        width: int | None,
    ):
        self.recipe = recipe
        self.rows = list(rows)
        self.unmatched = [r.path for r in self.rows if r.role is None]
        self.depth = depth
        self.width = width

    @property
    def weight_rows(self) -> list[PlannedVariable]:
        """The rows of the trainable variables of two or more dimensions
        (kernels, embedding tables): the weights a recipe is meant to
        set, whose coverage `reinitialize` checks."""
        return [
            r
            for r in self.rows
            if r.variable.trainable and len(r.variable.shape) >= 2
        ]

    @property
    def unmatched_weights(self) -> list[str]:
        """The paths of the weights of `weight_rows` that matched no role,
        in the model's order: `reinitialize` draws them from their layers'
        own initializers, and warns (or with `strict=True` raises)."""
        return [r.path for r in self.weight_rows if r.role is None]

    def __repr__(self):
        covered = sum(r.initializer is not None for r in self.rows)
        return (
            f"<RecipePlan {self.recipe}: {covered} of {len(self.rows)} "
            "variables set>"
        )

    def __str__(self):
        lines = tables.format_table(
            ("path", "role", "block", "initializer"),
            [
                (
                    r.path,
                    r.role or "-",
                    "-" if r.block is None else str(r.block),
                    _initializer_column(r),
                )
                for r in self.rows
            ],
            left=4,
        )
        covered = sum(r.initializer is not None for r in self.rows)
        lines.append(
            f"recipe {self.recipe}: {covered} of {len(self.rows)} variables "
            f"set; depth L={self.depth}, width d={self.width}."
        )
        if self.unmatched:
            lines.append("matched no role: " + ", ".join(self.unmatched))
        return "\n".join(lines)


def _initializer_column(row):
    """What `reinitialize` does to the variable of a plan's `row`."""
    if row.kept:
        return "(kept: adapted state)"
    if row.initializer is None:
        return "(layer's own)"
    return initializer_name(row.initializer)


def plan(
    model: keras.layers.Layer,
    recipe: str | Recipe,
    *,
    roles: dict[str, str] | None = None,
    depth: int | None = None,
    width: int | None = None,
    owner: str = "recipes.plan",
) -> RecipePlan:
    """What `reinitialize(model, recipe=recipe, ...)` would give each
    variable, as a `RecipePlan`; changes nothing.

    Args:
        model: a built `keras.Model` or layer.
        recipe: a registered recipe's name (`names()`) or a `Recipe`.
        roles: role -> regular expression on variable paths (a `str`,
            matched with `re.fullmatch`), which takes precedence over the
            roles found; a group named `block`, of digits only and not
            optional (`(?P<block>\\d+)`), gives the block's index. A
            pattern that can backtrack catastrophically (a repeated group
            holding a quantifier or an alternation, as `(.*)*`), or that
            has more than 5 quantifiers of variable count, is refused.
        depth: L, the number of blocks, when it is not the one found: an
            integer from 1 to 2**31 - 1.
        width: d, the residual stream's width, when not the one found:
            an integer from 1 to 2**31 - 1.
        owner: the function named as the caller in errors
            (`reinitialize` passes its own name).

    Raises:
        ValueError: for a bad argument, naming it (`roles`, `depth` and
            `width` are checked before the model is read); when a rule
            needs what the model lacks (a depth, a width, a block), saying
            how to give it; and when a rule raises or returns something
            other than an initializer or None, naming the recipe, the
            variable and its role.
    """
    recipe = get(recipe, owner=owner)
    if not isinstance(model, keras.layers.Layer):
        raise checks.argument_error(
            owner, "model", "a keras.Model or keras.layers.Layer", model
        )
    if not model.weights:
        raise ValueError(
            f"{model.name} has no weights to plan a recipe for: build it "
            "first (call it on data, or `build(input_shape)`)."
        )
    rows = []
    slots = find_slots(
        model,
        variable_paths(model.weights),
        roles=roles,
        depth=depth,
        width=width,
        owner=owner,
    )
    adapted = adapted_state(model)
    for variable, slot in slots:
        initializer = _apply_rule(recipe, slot, owner)
        rows.append(
            PlannedVariable(
                slot.path,
                slot.role,
                slot.block,
                initializer,
                variable,
                slot.subrole,
                slot.reason,
                id(variable) in adapted,
            )
        )
    depth = slots[0][1].depth if slots else depth
    width = slots[0][1].width if slots else width
    return RecipePlan(recipe.name, rows, depth, width)


def _apply_rule(recipe, slot, owner):
    """`recipe.rule(slot)`, with any error it raises, or a result that is
    not an initializer or None, turned into a ValueError that names the
    recipe, the variable and its role."""
    where = f"{slot.path} (role {slot.role})"
    try:
        initializer = recipe.rule(slot)
    except MissingSlotValue as missing:
        what, how = NEEDS[missing.name]
        raise ValueError(
            f"Recipe {recipe.name!r} needs `{missing.name}`, {what}, for "
            f"{slot.path!r} (role {slot.role}): {how.format(owner=owner)}. "
            f"Received: {missing.name}=None"
        ) from None
    except Exception as error:
        raise ValueError(
            f"The rule of recipe {recipe.name!r} failed on {where}: "
            f"{error_text(error)}"
        ) from error
    if initializer is not None and not isinstance(
        initializer, keras.initializers.Initializer
    ):
        raise ValueError(
            f"Recipe {recipe.name!r} gave {where} a "
            f"{type(initializer).__name__}: a rule returns a "
            "keras.initializers.Initializer or None."
        )
    return initializer
