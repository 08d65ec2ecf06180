"""The arguments of a recipe (`roles`, `depth`, `width`) and its rule: every
mistake is a ValueError that names the argument (or the recipe, the
variable and its role), raised before any weight changes; and plans show
an initializer that holds an array by its shape, never its values."""

import json
import re
import time

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import recipes
from tests import recipe_models

# The adversarial pattern of the issue: nested quantifiers, which `re`
# takes exponential time to fail with.
BACKTRACKING = r"(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*X"


def weights(model):
    return {
        v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights
    }


def assert_unchanged(model, before):
    after = weights(model)
    assert after.keys() == before.keys()
    for path, value in after.items():
        np.testing.assert_array_equal(value, before[path], err_msg=path)


def blocks_model(name="proj"):
    """A small model with a residual MLP whose output layer is `name`."""
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, name="fc")(inputs)
    x = keras.layers.Add()([inputs, keras.layers.Dense(4, name=name)(hidden)])
    return keras.Model(
        inputs, keras.layers.Dense(2, name="head")(x), name="net"
    )


def raises_and_changes_nothing(model, message, **arguments):
    """`reinitialize` and `plan` both raise a ValueError starting with
    `message` (`{owner}` filled with each's name), and no weight changes."""
    before = weights(model)
    recipe = arguments.pop("recipe", "gpt2")
    for owner, call in (
        (
            "reinitialize",
            lambda: keras_inits.reinitialize(
                model, seed=0, recipe=recipe, **arguments
            ),
        ),
        ("recipes.plan", lambda: recipes.plan(model, recipe, **arguments)),
    ):
        with pytest.raises(ValueError) as error:
            call()
        expected = message.format(owner=owner)
        assert str(error.value).startswith(expected), str(error.value)
        assert_unchanged(model, before)


@pytest.mark.parametrize(
    "pattern, message",
    [
        # Letters in the block group: int("proj") raised.
        (
            r"(?P<block>[a-z]+)0/kernel",
            "`roles['mlp_out']` of {owner} has a `block` group that can "
            "match something other than one or more digits",
        ),
        (
            r"proj(?P<block>\d*)/kernel",
            "`roles['mlp_out']` of {owner} has a `block` group that can "
            "match something other than one or more digits",
        ),
        # A block group that a match can skip: int(None) raised.
        (
            r"proj(?:x(?P<block>\d))?0/kernel",
            "`roles['mlp_out']` of {owner} has a `block` group that can be "
            "skipped",
        ),
        (
            rb"proj0/kernel",
            "`roles['mlp_out']` of {owner} is a bytes pattern: variable "
            "paths are str",
        ),
        # Nested quantifiers, on paths short enough to fail fast before.
        (
            r"proj0/(\w+)*X",
            "`roles['mlp_out']` of {owner} can take exponential time to "
            "match: a repeated group holds another quantifier",
        ),
        (
            r"proj0/(?:k|ke)+rnel",
            "`roles['mlp_out']` of {owner} can take exponential time to "
            "match: a repeated group holds an alternation",
        ),
        (
            r".*.*.*.*.*.*X",
            "`roles['mlp_out']` of {owner} has 6 quantifiers of variable "
            "count",
        ),
    ],
)
def test_a_bad_pattern_names_roles_and_changes_nothing(pattern, message):
    model = recipe_models.decoder(depth=1, width=8)
    raises_and_changes_nothing(
        model, message, roles={"mlp_out": pattern}, depth=2
    )


def test_a_block_index_too_large_is_refused():
    # A layer named with 20 digits: the block index 10**20 - 1 made the
    # depth 10**20, and gpt2's std 0.02 / sqrt(2 * 10**20).
    model = blocks_model("proj" + "9" * 20)
    raises_and_changes_nothing(
        model,
        "`roles['mlp_out']` of {owner} matches 'proj99999999999999999999/"
        "kernel' with '99999999999999999999' in its `block` group, not a "
        "block index",
        roles={"mlp_out": r"proj(?P<block>\d+)/kernel"},
    )


def test_a_digits_block_group_still_gives_the_block():
    model = recipe_models.decoder(depth=1, width=8)
    plan = recipes.plan(
        model, "gpt2", roles={"mlp_out": r"proj(?P<block>[0-9]+)/kernel"}
    )
    assert (plan["proj0/kernel"].role, plan["proj0/kernel"].block) == (
        "mlp_out",
        0,
    )


def test_the_backtracking_pattern_is_refused_at_once():
    model = recipe_models.decoder(depth=1, width=8)
    before = weights(model)
    for call in (
        lambda: keras_inits.reinitialize(
            model, seed=0, recipe="gpt2", roles={"mlp_out": BACKTRACKING}
        ),
        lambda: recipes.plan(model, "gpt2", roles={"mlp_out": BACKTRACKING}),
    ):
        start = time.perf_counter()
        with pytest.raises(ValueError, match="can take exponential time"):
            call()
        # Refused by its form, before any path is matched: well under the
        # second it would take to fail on even one 30-character path.
        assert time.perf_counter() - start < 0.5
    assert_unchanged(model, before)


@pytest.mark.parametrize(
    "recipe, name, value",
    [
        ("gpt2", "depth", 10**400),
        ("gpt2", "depth", 2**1000),
        ("gpt2", "depth", 2**31),
        ("olmo_mitchell", "width", 10**400),
        # gpt2 reads no width: a huge one passed silently.
        ("gpt2", "width", 10**400),
    ],
)
def test_a_huge_depth_or_width_names_it(recipe, name, value):
    model = recipe_models.decoder(depth=1, width=8)
    raises_and_changes_nothing(
        model,
        f"Argument `{name}` of {{owner}} must be None or a positive integer "
        "no larger than 2**31 - 1. Received: ",
        recipe=recipe,
        **{name: value},
    )


def test_numpy_integers_are_taken_as_depth_and_width():
    model = recipe_models.decoder(depth=1, width=8)
    plan = recipes.plan(
        model, "olmo_mitchell", depth=np.int64(12), width=np.int32(64)
    )
    assert (plan.depth, plan.width) == (12, 64)
    assert type(plan.depth) is int and type(plan.width) is int


def test_the_largest_depth_and_width_give_finite_stds():
    model = recipe_models.decoder(depth=1, width=8)
    for recipe in ("gpt2", "olmo_mitchell", "deepnet", "mup"):
        plan = recipes.plan(model, recipe, depth=2**31 - 1, width=2**31 - 1)
        for row in plan:
            std = getattr(row.initializer, "stddev", None)
            if std is not None:
                assert 1.2e-38 < std < 1.0, (recipe, row.path, std)


def key_error_rule(slot):
    if slot.role in ("embedding", "norm_scale", "norm_bias"):
        return None
    return {"kernel": keras_inits.HeNormal()}[slot.path.rpartition("/")[2]]


def test_a_rule_error_names_the_recipe_the_variable_and_its_role():
    recipes.register("test_key_error", key_error_rule, summary="kernels only")
    model = recipe_models.decoder(depth=1, width=8)
    raises_and_changes_nothing(
        model,
        "The rule of recipe 'test_key_error' failed on attn0/query/bias "
        "(role bias): KeyError: 'bias'",
        recipe="test_key_error",
    )


def test_a_long_rule_error_is_cut():
    def loud(slot):
        raise ValueError(f"bad values: {list(range(100_000))}")

    recipes.register("test_loud", loud, summary="raises")
    model = recipe_models.decoder(depth=1, width=8)
    with pytest.raises(ValueError) as error:
        recipes.plan(model, "test_loud")
    assert str(error.value).startswith(
        "The rule of recipe 'test_loud' failed on tokens/embeddings (role "
        "embedding): ValueError: bad values: [0, 1, 2"
    )
    assert len(str(error.value)) < 1_000


@pytest.mark.parametrize(
    "rule, message",
    [
        (
            keras_inits.HeNormal,
            "Argument `rule` of recipes.register must be a function "
            "rule(slot) that returns an initializer, not a class: write "
            "`lambda slot: HeNormal(...)`",
        ),
        (
            lambda slot, scale: None,
            "Argument `rule` of recipes.register must be a callable "
            "rule(slot) that takes one argument, the slot",
        ),
        (
            lambda: None,
            "Argument `rule` of recipes.register must be a callable "
            "rule(slot) that takes one argument, the slot",
        ),
    ],
)
def test_register_refuses_what_is_not_a_rule_of_one_slot(rule, message):
    with pytest.raises(ValueError) as error:
        recipes.register("test_not_a_rule", rule, summary="s")
    assert str(error.value).startswith(message), str(error.value)
    assert "test_not_a_rule" not in recipes.names()


def test_register_takes_rules_with_defaults_and_callables():
    class Rule:
        def __call__(self, slot, scale=1.0):
            return None

    recipes.register("test_defaults", lambda slot, gain=2.0: None, summary="s")
    recipes.register("test_object", Rule(), summary="s")
    assert {"test_defaults", "test_object"} <= set(recipes.names())


def test_a_recipe_given_directly_is_checked_the_same():
    model = recipe_models.decoder(depth=1, width=8)
    raises_and_changes_nothing(
        model,
        "Argument `recipe.rule` of {owner} must be a function rule(slot) "
        "that returns an initializer, not a class",
        recipe=recipes.Recipe("direct", keras_inits.HeNormal, "s"),
    )


@pytest.mark.parametrize("summary", ["a\rb", "a\tb", "a\x00b", "a\u2028b"])
def test_register_refuses_a_summary_of_more_than_one_line(summary):
    with pytest.raises(
        ValueError,
        match=r"^Argument `summary` of recipes.register must be one line of "
        r"text \(printable",
    ):
        recipes.register("test_summary", lambda slot: None, summary=summary)
    assert "test_summary" not in recipes.names()


class JsonArray(keras.initializers.Initializer):
    """An initializer that copies an array, keeping it in its config as
    JSON text (the issue's rule copied a (1024, 1024) array)."""

    def __init__(self, values):
        self.values = values

    def __call__(self, shape, dtype=None):
        return keras.ops.convert_to_tensor(json.loads(self.values), dtype)

    def get_config(self):
        return {"values": self.values}

    def __repr__(self):
        return f"JsonArray({self.values})"


def test_a_plan_shows_an_array_by_its_shape_not_its_values():
    array = np.random.default_rng(0).standard_normal((1024, 1024))
    text = json.dumps(array.tolist())
    inputs = keras.Input((1024,))
    model = keras.Model(
        inputs, keras.layers.Dense(1024, name="copy")(inputs), name="m"
    )
    for initializer in (
        JsonArray(text),
        keras_inits.ConstantArray(array),
        keras.initializers.Constant(array),
    ):
        recipes.register(
            "test_copy",
            lambda slot, i=initializer: i if slot.role == "head" else None,
            summary="copies an array",
            overwrite=True,
        )
        plan = recipes.plan(model, "test_copy")
        assert plan["copy/kernel"].initializer is initializer
        assert len(str(plan)) < 10_000, str(plan)[:300]
        assert len(repr(plan.rows)) < 10_000, repr(plan.rows)[:300]


class Unserializable(keras.initializers.Initializer):
    """An initializer whose config cannot be written (as Keras' `Constant`
    of a variable on PyTorch: "Cannot serialize object <Variable ...>")."""

    def __call__(self, shape, dtype=None):
        return keras.ops.zeros(shape, dtype)

    def get_config(self):
        raise TypeError("Cannot serialize object <Variable ...>")


def test_a_plan_names_an_initializer_whose_config_fails():
    recipes.register(
        "test_unserializable",
        lambda slot: Unserializable() if slot.role == "head" else None,
        summary="s",
    )
    model = recipe_models.decoder(depth=1, width=8)
    plan = recipes.plan(model, "test_unserializable")
    assert re.search(
        r"^head/kernel +head +- +Unserializable\(\.\.\.\)$", str(plan), re.M
    ), str(plan)


@pytest.mark.parametrize("name", ["roles", "depth", "width"])
def test_a_recipe_argument_without_a_recipe_names_it(name):
    # 10**5000 has more digits than `repr` writes: it raised "Exceeds the
    # limit (4300 digits) for integer string conversion".
    model = recipe_models.decoder(depth=1, width=8)
    before = weights(model)
    with pytest.raises(ValueError) as error:
        keras_inits.reinitialize(model, seed=0, **{name: 10**5000})
    assert str(error.value).startswith(
        f"reinitialize's `{name}` applies to a recipe: pass `recipe=` too. "
        f"Received: {name}=<an integer of 16610 bits> and no recipe"
    ), str(error.value)
    assert_unchanged(model, before)
