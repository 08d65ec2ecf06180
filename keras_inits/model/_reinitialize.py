"""`reinitialize`: re-draws every weight of a model from its initializers.

The work is split by job, one module each:

- `_selection`: which variables, and their keys; each one's initializer is
  found by `_internal.variable_initializers`, on a twin of its layer
  rebuilt from Keras' own record;
- `_planning`: the first pass, which reseeds and checks every draw and
  changes nothing;
- `_applying`: the second pass, which assigns the checked draws, all or
  nothing, measuring each variable (`_moments`);
- `_report`: the report and the error.

Two passes make the reset all-or-nothing without a copy of the model.
"""

import dataclasses
import math
import random
import warnings

import keras

from keras_inits._internal import checks
from keras_inits._internal.limits import SEED_LIMIT
from keras_inits._internal.paths import variable_paths
from keras_inits.model import _applying
from keras_inits.model import _planning
from keras_inits.model import _selection
from keras_inits.model._drawn import DrawnFrom
from keras_inits.model._report import ReinitializeError
from keras_inits.model._report import ReinitializeReport
from keras_inits.model._report import cannot_redraw
from keras_inits.model._selection import LayerSelection
from keras_inits.random import PortableSeed
from keras_inits.random import is_portable
from keras_inits.recipes import ROLES
from keras_inits.recipes import Recipe
from keras_inits.recipes import RecipePlan
from keras_inits.recipes import Slot
from keras_inits.recipes import get
from keras_inits.recipes import plan


def reinitialize(
    model_or_layer: keras.layers.Layer,
    seed: int | None = None,
    *,
    layers: LayerSelection = None,
    skip_frozen: bool = False,
    skip_unattributed: bool = False,
    reset_optimizer: bool = False,
    portable: bool | None = None,
    reset_adapted: bool = False,
    backup: bool = False,
    measure: bool = True,
    recipe: str | Recipe | None = None,
    roles: dict[str, str] | None = None,
    depth: int | None = None,
    width: int | None = None,
    strict: bool = False,
) -> ReinitializeReport:
    """Re-draws every weight of a model or layer from its own initializers.

    Each variable gets new values from the initializer its layer created it
    with: kernels, biases (LSTM's `unit_forget_bias` included), embeddings,
    normalization scales, offsets and moving statistics, in any layer,
    nested model or custom layer that creates weights with
    `add_weight(initializer=...)`. Keras initializers fix their seed when
    built, so calling them again gives the original values back; here each
    initializer is rebuilt with a new seed, and so is every initializer
    nested in it (the one a `DepthScaled` or `ICNR` wraps), at any depth.
    Unlike `keras.models.clone_model`, it works on subclassed models, keeps
    the model object (and its compiled state), and needs no second copy of
    the weights.

    A variable's seed is derived from `seed` and the variable's key: its
    place in the model below `model_or_layer`, written with the names you
    gave layers and, for a layer Keras named (`dense_7`), its class and
    position among its siblings (`dense#2`, the second such Dense). So the
    same architecture built twice, a model and its reload from a `.keras`
    file, and a model built under a distribution get the same weights for
    the same seed, and a layer selected with `layers=` gets what a full
    reinitialize gives it.

    State that a preprocessing layer's `adapt()` computed from data
    (`Normalization`'s mean and variance; any layer with an `adapt` method)
    is data, not initial weights: it is left as it is and listed in the
    report's `skipped`, unless `reset_adapted=True`.

    The reset is all-or-nothing. A first pass checks every selected
    variable, changing nothing: if any initializer cannot be found, raises,
    or gives the wrong shape or dtype, it raises `ReinitializeError` (a
    `ValueError`) naming every such variable by path. The second pass
    assigns the checked draws; Ctrl-C during it is held until it ends, and
    if an assignment raises, the remaining ones are still made (the draws
    are checked and replayable) before the error is re-raised with a note
    that the model is wholly reinitialized. Only if that fails too is the
    model left part-changed, and the note names what changed; with
    `backup=True` the model is then restored and left untouched.

    Args:
        model_or_layer: a built `keras.Model` or `keras.layers.Layer`.
        seed: None for fresh values at every call (drawn from Python's
            `random`, which `keras.utils.set_random_seed` seeds), or an
            integer in [0, 2**31). With an integer, a variable's values
            depend only on the seed and its key.
        layers: None for every layer, or a layer instance or name, or a
            list (any iterable) of them, or a predicate `layer -> bool`. A
            variable is re-drawn when its layer or any layer containing it
            is selected.
        skip_frozen: leave layers with `trainable=False` (or inside one)
            as they are, as for a frozen pretrained base.
        skip_unattributed: leave variables whose initializer cannot be
            found as they are, listed in the report's `skipped`, instead of
            raising.
        reset_optimizer: also return the compiled optimizer's iterations
            and slot variables (moments, accumulators) to their initial
            values, so training restarts as from a fresh model.
        portable: True to re-draw every random initializer with a
            `keras_inits.PortableSeed` derived from `seed`, so the weights
            are the same on every backend (Keras' own random initializers
            are replaced by keras_inits' class of the same name and
            arguments); None (the default) to follow
            `keras_inits.set_portable`. Either way, an initializer whose
            seed is a `PortableSeed` stays portable.
        reset_adapted: also reset the state of layers with an `adapt`
            method to their initial values (`Normalization` to mean 0,
            variance 1).
        backup: keep a host copy of every selected variable while the
            second pass runs, so that a failure it cannot finish through
            restores them all. Costs host memory of the selected weights;
            without it, extra memory stays about one variable.
        measure: give each variable's mean and standard deviation before
            and after in the report, each one pass over its values (on the
            CPU, while the next variable is drawn where a core is free).
            False leaves them NaN, for repeated resets of large models:
            on TensorFlow the passes take about a third of the time.

        recipe: None, or an init recipe's name (`keras_inits.recipes.
            names()`: "gpt2", "bert", ...) or a `Recipe`: each variable the
            recipe covers is drawn from the initializer it gives for the
            variable's role, block and the model's depth and width (see
            `keras_inits.recipes.plan`, which shows them); the others from
            their layer's own. Seeds, selection and the all-or-nothing
            reset work as without a recipe, and the report gains each
            variable's role.
        roles: with a recipe, role -> regular expression on variable paths
            (`re.fullmatch`), which takes precedence over the roles found,
            e.g. `{"mlp_out": r".*ffn_out/kernel"}`; a group named `block`,
            of digits only and not optional, gives the block's index. A
            pattern that can backtrack catastrophically is refused (see
            `recipes.plan`).
        depth: with a recipe, L, the number of blocks, when it is not the
            number found: an integer from 1 to 2**31 - 1.
        width: with a recipe, d, the width of the residual stream, when it
            is not the one found: an integer from 1 to 2**31 - 1.
        strict: with a recipe, raise a `ReinitializeError` (a ValueError),
            changing nothing, where reinitialize would otherwise warn (a
            `UserWarning`, once per call) that the recipe covers the model
            only in part: when selected trainable weights of two or more
            dimensions match no role (the warning gives how many, their
            share of those weights' values and the first paths; the report
            lists them all in `unmatched`), and when the recipe needs the
            depth L but found no transformer block and `depth` is not
            given (the roles that need L then match nothing: it sets only
            the others, such as the head and the biases).

    The flags `skip_frozen`, `skip_unattributed`, `reset_optimizer`,
    `reset_adapted`, `backup`, `measure` and `strict` are True or False
    (and `portable` None, True or False): anything else, like a bad `seed`
    or `layers`, raises a ValueError naming the argument before anything
    is read or changed.

    Returns:
        A `ReinitializeReport`: path, key, initializer and before/after
        mean and standard deviation of every re-drawn variable. Each
        variable a recipe set is recorded with the initializer it gave
        (`keras_inits.model.drawn_from`), which `describe` then shows.

    Examples:

        >>> import keras_inits
        >>> model = keras.Sequential(
        ...     [keras.Input((4,)), keras.layers.Dense(3, name="out")], name="mlp")
        >>> report = keras_inits.reinitialize(model, seed=1)
        >>> [(row.path, row.key) for row in report]
        [('mlp/out/kernel', 'out/kernel'), ('mlp/out/bias', 'out/bias')]

        One layer selected alone, with the same seed, gets the same values:

        >>> kernel = keras.ops.convert_to_numpy(model.get_layer("out").kernel)
        >>> _ = keras_inits.reinitialize(model, seed=1, layers=["out"])
        >>> after = keras.ops.convert_to_numpy(model.get_layer("out").kernel)
        >>> bool((after == kernel).all())
        True
    """
    # Every argument is checked before anything is read or drawn (even
    # Python's random state is left alone when one is wrong).
    root, seed = _check_arguments(
        model_or_layer,
        seed,
        portable,
        skip_frozen=skip_frozen,
        skip_unattributed=skip_unattributed,
        reset_optimizer=reset_optimizer,
        reset_adapted=reset_adapted,
        backup=backup,
        measure=measure,
        strict=strict,
    )
    chosen = _recipe_initializers(root, recipe, roles, depth, width)
    selection = _selection.select_variables(
        root, layers, skip_frozen, reset_adapted
    )
    owners = selection.owners
    # Warns (or, strict, raises) before anything is drawn or changed.
    unmatched = _check_coverage(root, chosen, owners, strict)
    variables = list(root.weights)
    if reset_optimizer:
        optimizer = _selection.optimizer_variables(root)
        owners += (optimizer,)
        variables += [v for _, v in optimizer.variables]
    if seed is None:
        seed = random.randrange(SEED_LIMIT)
    if portable is None:
        portable = is_portable()
    root_seed = PortableSeed(seed) if portable else seed

    # First pass: find and check every initializer; change nothing.
    paths = variable_paths(variables)
    skipped = {paths[id(v)]: reason for v, reason in selection.adapted}
    first = _planning.plan_variables(
        owners, root_seed, paths, chosen.initializers
    )
    if first.failures or (first.unattributed and not skip_unattributed):
        raise cannot_redraw(first.failures, first.unattributed)

    # Second pass: assign the checked draws. It lets go of each plan's
    # kept value once assigned (`first.plans` is emptied as it goes).
    planned = [plan.variable for plan in first.plans if plan is not None]
    rows = _applying.apply_plans(first.plans, backup, measure, chosen.drawn)
    if recipe is not None:
        rows = [
            dataclasses.replace(row, role=chosen.roles.get(id(variable)))
            for row, variable in zip(rows, planned)
        ]
    _applying.refresh_adapted(selection.reset)
    return ReinitializeReport(
        rows,
        {**skipped, **first.unattributed},
        seed,
        first.kept_bytes,
        unmatched=unmatched,
    )


@dataclasses.dataclass(frozen=True)
class _Chosen:
    """What a recipe gives a model's variables, by variable id: its
    `initializers` (those it sets), every variable's role (`roles`) and
    the `DrawnFrom` record of those it sets (`drawn`); its `plan` (None
    without a recipe)."""

    initializers: dict[int, keras.initializers.Initializer]
    roles: dict[int, str | None]
    drawn: dict[int, DrawnFrom]
    plan: RecipePlan | None
    recipe: Recipe | None


def _recipe_initializers(root, recipe, roles, depth, width):
    """The `_Chosen` of `recipe` for `root`'s variables: empty without a
    recipe, where `roles`, `depth` and `width` must be None."""
    if recipe is None:
        for name, value in (
            ("roles", roles),
            ("depth", depth),
            ("width", width),
        ):
            if value is not None:
                raise ValueError(
                    f"reinitialize's `{name}` applies to a recipe: pass "
                    "`recipe=` too. Received: "
                    f"{name}={checks.shown(value)} and no "
                    "recipe"
                )
        return _Chosen({}, {}, {}, None, None)
    recipe = get(recipe, owner="reinitialize")
    # The rule is called once per variable; its slot holds the fans the
    # recipe computes stds from, which `describe` shows beside them.
    slots = {}

    def rule(slot):
        slots[slot.path] = slot
        return recipe.rule(slot)

    recipe_plan = plan(
        root,
        dataclasses.replace(recipe, rule=rule),
        roles=roles,
        depth=depth,
        width=width,
        owner="reinitialize",
    )
    initializers = {}
    drawn = {}
    for row in recipe_plan:
        if row.initializer is None:  # its layer's own
            continue
        slot = slots[row.path]
        initializers[id(row.variable)] = row.initializer
        drawn[id(row.variable)] = DrawnFrom(
            row.initializer, recipe.name, row.role, slot.fan_in, slot.fan_out
        )
    return _Chosen(
        initializers,
        {id(row.variable): row.role for row in recipe_plan},
        drawn,
        recipe_plan,
        recipe,
    )


def _check_coverage(root, chosen, owners, strict):
    """The paths of the selected trainable weights of two or more
    dimensions that the recipe matched no role for, in the model's order
    (none without a recipe). When the recipe covers the model only in
    part (those weights, or a depth it needs and found no block for), it
    warns once at the caller of `reinitialize`, or raises a
    `ReinitializeError` with `strict`."""
    recipe_plan = chosen.plan
    if recipe_plan is None:
        return ()
    selected = {id(v) for owner in owners for _, v in owner.variables}
    weights = [
        r for r in recipe_plan.weight_rows if id(r.variable) in selected
    ]
    unmatched = [r for r in weights if r.role is None]
    problems = []
    if recipe_plan.depth is None:
        needing = _roles_needing_depth(chosen.recipe, recipe_plan.width)
        if needing:
            problems.append(_no_blocks(root, recipe_plan, needing))
    if unmatched:
        size = sum(math.prod(r.variable.shape) for r in unmatched)
        total = sum(math.prod(r.variable.shape) for r in weights)
        shown = ", ".join(r.path for r in unmatched[:_SHOWN_PATHS])
        more = len(unmatched) - _SHOWN_PATHS
        problems.append(
            f"recipe {recipe_plan.recipe!r} matched no role for "
            f"{len(unmatched)} of {len(weights)} trainable weights of two "
            f"or more dimensions ({size / total:.1%} of their values), "
            f"which keep their layers' own initializers: {shown}"
            + (f" and {more} more" if more > 0 else "")
            + ". Name their roles with `roles=` (role -> regular "
            "expression on paths)"
        )
    if problems and strict:
        raise ReinitializeError(
            "reinitialize changed no weight (strict=True): "
            + "; ".join(problems)
            + ".",
            {r.path: "matched no role" for r in unmatched},
        )
    if problems:
        warnings.warn(
            "reinitialize: "
            + "; ".join(problems)
            + ". `report.unmatched` lists the weights without a role; "
            "`strict=True` makes this an error.",
            UserWarning,
            stacklevel=3,
        )
    return tuple(r.path for r in unmatched)


def _no_blocks(root, recipe_plan, needing):
    """The problem of a recipe that needs the depth L for roles `needing`
    on a model where no block was found: what it does instead, and how to
    give it the depth."""
    set_rows = [r for r in recipe_plan if r.initializer is not None]
    roles = sorted({str(r.role) for r in set_rows})
    return (
        f"recipe {recipe_plan.recipe!r} found no transformer blocks in "
        f"{root.name!r} (no attention layer or residual branch) and no "
        "`depth` was given, so its roles that need the depth L "
        f"({', '.join(needing)}) matched nothing: it sets "
        f"{len(set_rows)} of {len(recipe_plan)} variables"
        + (f" (roles {', '.join(roles)})" if roles else "")
        + " by its rules for the other roles"
        + (
            ", and leaves the rest to their layers' own initializers"
            if len(set_rows) < len(recipe_plan)
            else ""
        )
        + ". Pass `depth=L` and name the blocks' variables with `roles=` "
        "to apply it as to a transformer, or reinitialize without a recipe"
    )


# How many unmatched paths the warning names.
_SHOWN_PATHS = 5


def _roles_needing_depth(recipe, width):
    """The roles for which `recipe`'s rule fails without the depth L and
    gives an initializer (or None) with it, found by calling the rule on a
    made-up square variable of each role in block 0, of width `width` (64
    when unknown)."""
    width = width or 64
    needing = []
    for role in ROLES:
        vector = role in ("bias", "norm_scale", "norm_bias")
        shape = (width,) if vector else (width, width)

        def slot(depth, role=role, shape=shape):
            return Slot(
                path=f"<{role}>",
                role=role,
                block=0,
                depth=depth,
                width=width,
                shape=shape,
                fan_in=width,
                fan_out=width,
                ends_branch=role in ("attention_output", "mlp_out"),
            )

        try:
            recipe.rule(slot(None))
            continue
        except Exception:
            pass
        try:
            recipe.rule(slot(1))
        except Exception:
            continue
        needing.append(role)
    return needing


def _check_arguments(model_or_layer, seed, portable, **flags):
    """Returns `(root, seed)`, the seed a Python int or None; raises a
    ValueError naming the first argument that is not valid."""
    if not isinstance(model_or_layer, keras.layers.Layer):
        raise ValueError(
            "reinitialize needs a keras.Model or keras.layers.Layer. "
            f"Received: {type(model_or_layer).__name__}"
        )
    if not model_or_layer.weights:
        raise ValueError(
            f"{model_or_layer.name} has no weights to reinitialize: build it "
            "first (call it on data, or `build(input_shape)`)."
        )
    if seed is not None:
        if not (checks.is_whole_number(seed) and 0 <= seed < SEED_LIMIT):
            raise checks.argument_error(
                "reinitialize",
                "seed",
                "None or an integer in [0, 2**31)",
                seed,
            )
        seed = int(seed)  # NumPy integers too
    if portable is not None and not isinstance(portable, bool):
        raise checks.argument_error(
            "reinitialize", "portable", "None, True or False", portable
        )
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise checks.argument_error(
                "reinitialize", name, "True or False", value
            )
    return model_or_layer, seed
