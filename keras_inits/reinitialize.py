"""`reinitialize`: re-draws every weight of a model from its initializers.

The work is split by job, one module each:

- `selection`: which variables, their keys, and each one's initializer,
  found on a twin of its layer rebuilt from Keras' own record
  (`keras_internals`, the one module that touches Keras' private API);
- `planning`: the first pass, which reseeds and checks every draw and
  changes nothing;
- `applying`: the second pass, which assigns the checked draws, all or
  nothing;
- `reinitialize_report`: the report and the error.

Two passes make the reset all-or-nothing without a copy of the model.
"""

import dataclasses
import random

import keras

from keras_inits import applying
from keras_inits import checks
from keras_inits import planning
from keras_inits import recipes
from keras_inits import seeds
from keras_inits import portable as portable_seeds
from keras_inits import selection
from keras_inits.reinitialize_report import ReinitializeReport
from keras_inits.reinitialize_report import VariablePaths
from keras_inits.reinitialize_report import cannot_redraw


def reinitialize(model_or_layer, seed=None, *, layers=None, skip_frozen=False,
                 skip_unattributed=False, reset_optimizer=False,
                 portable=None, reset_adapted=False, backup=False,
                 measure=True, recipe=None, roles=None, depth=None,
                 width=None):
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
            e.g. `{"mlp_out": r".*ffn_out/kernel"}`; a group named `block`
            gives the block's index.
        depth: with a recipe, L, the number of blocks, when it is not the
            number found.
        width: with a recipe, d, the width of the residual stream, when it
            is not the one found.

    The flags `skip_frozen`, `skip_unattributed`, `reset_optimizer`,
    `reset_adapted`, `backup` and `measure` are True or False (and `portable` None,
    True or False): anything else, like a bad `seed` or `layers`, raises a
    ValueError naming the argument before anything is read or changed.

    Returns:
        A `ReinitializeReport`: path, key, initializer and before/after
        mean and standard deviation of every re-drawn variable.

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
        model_or_layer, seed, portable, skip_frozen=skip_frozen,
        skip_unattributed=skip_unattributed, reset_optimizer=reset_optimizer,
        reset_adapted=reset_adapted, backup=backup, measure=measure)
    chosen, role_of = _recipe_initializers(root, recipe, roles, depth,
                                           width)
    targets, adapted, reset = selection.select_variables(
        root, layers, skip_frozen, reset_adapted)
    if reset_optimizer:
        targets.append(selection.optimizer_variables(root))
    if seed is None:
        seed = random.randrange(seeds.SEED_LIMIT)
    if portable is None:
        portable = portable_seeds.is_portable()
    root_seed = portable_seeds.PortableSeed(seed) if portable else seed

    # First pass: find and check every initializer; change nothing.
    paths = VariablePaths()
    skipped = {paths(v): reason for v, reason in adapted}
    plans, unattributed, failures = planning.plan_variables(
        targets, root_seed, paths, chosen)
    if failures or (unattributed and not skip_unattributed):
        raise cannot_redraw(failures, unattributed)
    kept = planning.kept_bytes(plans)

    # Second pass: assign the checked draws.
    variables = [plan.variable for plan in plans]
    rows = applying.apply_plans(plans, backup, measure)
    if recipe is not None:
        rows = [dataclasses.replace(row, role=role_of.get(id(variable)))
                for row, variable in zip(rows, variables)]
    applying.refresh_adapted(reset)
    return ReinitializeReport(rows, {**skipped, **unattributed}, seed, kept)


def _recipe_initializers(root, recipe, roles, depth, width):
    """`(chosen, role_of)`: variable id -> the initializer `recipe` gives
    it (those it covers), and variable id -> role; empty without a recipe,
    where `roles`, `depth` and `width` must be None."""
    if recipe is None:
        for name, value in (("roles", roles), ("depth", depth),
                            ("width", width)):
            if value is not None:
                raise ValueError(
                    f"reinitialize's `{name}` applies to a recipe: pass "
                    f"`recipe=` too. Received: {name}={value!r} and no "
                    "recipe")
        return {}, {}
    _, assigned = recipes.assign(root, recipe, roles=roles, depth=depth,
                                 width=width)
    chosen = {id(variable): initializer
              for variable, _, initializer in assigned
              if initializer is not None}
    return chosen, {id(v): slot.role for v, slot, _ in assigned}


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
        if not (checks.is_whole_number(seed)
                and 0 <= seed < seeds.SEED_LIMIT):
            raise checks.argument_error(
                "reinitialize", "seed", "None or an integer in [0, 2**31)",
                seed)
        seed = int(seed)  # NumPy integers too
    if portable is not None and not isinstance(portable, bool):
        raise checks.argument_error("reinitialize", "portable",
                                    "None, True or False", portable)
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise checks.argument_error("reinitialize", name, "True or False",
                                        value)
    return model_or_layer, seed
