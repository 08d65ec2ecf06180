"""reinitialize with a recipe that covers the model only in part: a
warning (or, `strict=True`, an error before any weight changes) naming the
weights without a role and a depth the recipe needs but cannot find; the
report's `unmatched`."""

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import recipes
from tests import recipe_models


class Unread(keras.layers.Layer):
    """A layer with a trainable (inputs, units) weight its call does not
    read: no recipe can tell its role."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, shape):
        self.w = self.add_weight((shape[-1], self.units), name="w")

    def call(self, x):
        return x

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def partial(unread=2):
    """`unread` weights without a role (8 x 4, 8 x 5, 8 x 6, ...), then a
    Dense head (8 x 5): no transformer block."""
    return keras.Sequential(
        [keras.Input((8,))]
        + [Unread(4 + i, name=f"u{i}") for i in range(unread)]
        + [keras.layers.Dense(5, name="head")],
        name="part",
    )


def values(model):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]


def test_unmatched_weights_warn_once_with_count_share_and_paths():
    model = partial()
    share = (32 + 40) / (32 + 40 + 40)  # u0, u1 of u0, u1 and the head
    with pytest.warns(UserWarning) as caught:
        report = keras_inits.reinitialize(model, seed=0, recipe="bert")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(
        "reinitialize: recipe 'bert' matched no role for 2 of 3 trainable "
        f"weights of two or more dimensions ({share:.1%} of their values), "
        "which keep their layers' own initializers: part/u0/w, part/u1/w."
    )
    # bert needs no depth: nothing said about blocks.
    assert "transformer blocks" not in message
    # The warning points at the caller's line, not into the package.
    assert caught[0].filename == __file__
    assert report.unmatched == ("part/u0/w", "part/u1/w")
    assert "matched no role (their layers' own initializers): " in str(report)
    # The plan lists every variable without a role; the weights are those.
    plan = recipes.plan(model, "bert")
    assert plan.unmatched_weights == list(report.unmatched)
    assert set(plan.unmatched) >= set(report.unmatched)


def test_the_warning_names_the_first_five_paths_and_counts_the_rest():
    model = partial(unread=7)
    with pytest.warns(UserWarning, match="matched no role for 7 of 8") as w:
        report = keras_inits.reinitialize(model, seed=0, recipe="bert")
    message = str(w[0].message)
    assert "part/u0/w, part/u1/w, part/u2/w, part/u3/w, part/u4/w and 2 " in (
        message
    )
    assert "part/u5/w" not in message
    assert report.unmatched == tuple(f"part/u{i}/w" for i in range(7))


def test_strict_raises_before_anything_changes():
    model = partial()
    before = values(model)
    with pytest.raises(keras_inits.ReinitializeError) as info:
        keras_inits.reinitialize(model, seed=0, recipe="bert", strict=True)
    assert str(info.value).startswith(
        "reinitialize changed no weight (strict=True): recipe 'bert' "
        "matched no role for 2 of 3 trainable weights"
    )
    assert isinstance(info.value, ValueError)
    assert set(info.value.problems) == {"part/u0/w", "part/u1/w"}
    for old, new in zip(before, values(model)):
        np.testing.assert_array_equal(old, new)


def test_a_depth_the_recipe_needs_and_no_block_found_warns():
    model = partial()
    with pytest.warns(UserWarning) as caught:
        keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(
        "reinitialize: recipe 'gpt2' found no transformer blocks in 'part' "
        "(no attention layer or residual branch) and no `depth` was given, "
        "so its roles that need the depth L (attention_output, mlp_out) "
        "matched nothing: it sets 2 of 4 variables (roles bias, head) by "
        "its rules for the other roles, and leaves the rest to their "
        "layers' own initializers. Pass `depth=L` and name the blocks' "
        "variables with `roles=`"
    )
    assert "matched no role for 2 of 3" in message  # the same warning
    before = values(model)
    with pytest.raises(ValueError, match="found no transformer blocks"):
        keras_inits.reinitialize(model, seed=1, recipe="gpt2", strict=True)
    for old, new in zip(before, values(model)):
        np.testing.assert_array_equal(old, new)


def test_no_block_and_every_weight_matched_still_warns_for_the_depth():
    # One Dense: the head, and its bias. gpt2's head needs no L, but its
    # residual projections do, and the model has none to give it.
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, name="out")], name="mlp"
    )
    with pytest.warns(UserWarning, match="found no transformer blocks") as w:
        report = keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    assert "matched no role" not in str(w[0].message)
    assert report.unmatched == ()
    # With depth given, the recipe is whole: no warning.
    report = keras_inits.reinitialize(model, seed=0, recipe="gpt2", depth=4)
    assert report.unmatched == ()


def test_a_recipe_that_needs_no_depth_is_silent_on_a_blockless_model():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, name="out")], name="mlp"
    )
    report = keras_inits.reinitialize(model, seed=0, recipe="bert")
    assert report.unmatched == ()


def test_a_rule_of_yours_that_needs_the_depth_is_found_by_calling_it():
    def rule(slot):
        if slot.role == "head":
            return keras_inits.RandomNormal(stddev=0.02)
        if slot.role == "mlp_out":  # fails when depth is None
            return keras_inits.RandomNormal(stddev=0.02 / slot.depth**0.5)
        return None

    recipe = recipes.Recipe("yours", rule, "s")
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, name="out")], name="mlp"
    )
    with pytest.warns(
        UserWarning,
        match=r"^reinitialize: recipe 'yours' found no transformer blocks .*"
        r"the depth L \(mlp_out\) matched nothing: it sets 1 of 2 "
        r"variables \(roles head\)",
    ):
        keras_inits.reinitialize(model, seed=0, recipe=recipe)


def test_a_full_transformer_is_silent_and_unmatched_is_empty():
    model = recipe_models.decoder(depth=2, width=16)
    report = keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    assert report.unmatched == ()
    assert keras_inits.reinitialize(model, seed=0).unmatched == ()


def test_only_selected_trainable_weights_count():
    model = partial()
    # The unread weights not selected: nothing partial in what is drawn.
    report = keras_inits.reinitialize(
        model, seed=0, recipe="bert", layers=["head"]
    )
    assert report.unmatched == ()
    # A frozen weight is not one the recipe is meant to set.
    model.get_layer("u0").trainable = False
    with pytest.warns(UserWarning, match="matched no role for 1 of 2"):
        report = keras_inits.reinitialize(model, seed=0, recipe="bert")
    assert report.unmatched == ("part/u1/w",)


@pytest.mark.parametrize("strict", [1, "yes", None])
def test_strict_is_a_bool(strict):
    with pytest.raises(
        ValueError,
        match=r"^Argument `strict` of reinitialize must be True or False",
    ):
        keras_inits.reinitialize(partial(), recipe="bert", strict=strict)
