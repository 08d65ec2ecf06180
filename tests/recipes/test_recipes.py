"""Init recipes applied to models (`keras_inits.recipes`, and
`reinitialize(recipe=...)`): the registry, plans, and the values each
variable gets, on every backend. Each rule's formulas are tested exactly in
test_recipe_book.py; here the per-role standard deviations of the drawn
weights are checked against formulas written out in the test."""

import math
import pathlib

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import recipes
from keras_inits.recipes import _roles as roles
from tests import recipe_models

BUILT_IN = [
    "gpt2",
    "gpt_neox",
    "bert",
    "olmo_mitchell",
    "torchtitan_llama",
    "deepnet",
    "vit_jax",
    "zero_init_residual",
    "mup",
]
# TensorFlow's truncated normal (BERT's) has this std per unit stddev:
# the standard normal's std within two sigmas.
TRUNCATED_AT_2 = 0.8796256610342398


def values(variable):
    return keras.ops.convert_to_numpy(variable).astype("float64")


def weights(model):
    return {v.path: values(v) for v in model.weights}


def pooled_std(model, paths):
    return float(
        np.concatenate(
            [values(v).ravel() for v in model.weights if v.path in paths]
        ).std()
    )


def assert_std(model, paths, expected):
    """The pooled sample std of `paths` is `expected` within 6 standard
    errors of a normal sample's std (1 / sqrt(2n) relative)."""
    count = sum(v.size for p, v in weights(model).items() if p in paths)
    assert count > 0, paths
    tolerance = 6 / math.sqrt(2 * count)
    std = pooled_std(model, paths)
    assert abs(std / expected - 1) < tolerance, (paths, std, expected)


def test_names_list_the_built_in_recipes_first_in_order():
    assert recipes.names()[: len(BUILT_IN)] == BUILT_IN
    for name in BUILT_IN:
        recipe = recipes.get(name)
        assert recipe.name == name and recipe.summary and recipe.source
        assert set(recipe.formulas) <= set(roles.ROLES) | set(roles.SUBROLES)


def test_unknown_recipe_suggests_the_closest():
    with pytest.raises(
        ValueError,
        match=r"^Unknown init recipe 'gtp2'\. "
        r"Did you mean 'gpt2'\? The recipes are: gpt2, ",
    ):
        recipes.get("gtp2")


@pytest.mark.parametrize("depth, width", [(1, 16), (3, 32)])
def test_gpt2_std_per_role(depth, width):
    model = recipe_models.decoder(depth, width)
    report = keras_inits.reinitialize(model, seed=3, recipe="gpt2")
    blocks = range(depth)
    assert_std(
        model,
        {
            f"attn{i}/{p}/kernel"
            for i in blocks
            for p in ("query", "key", "value")
        },
        0.02,
    )
    assert_std(model, {f"fc{i}/kernel" for i in blocks}, 0.02)
    assert_std(model, {"tokens/embeddings", "positions/embeddings"}, 0.02)
    assert_std(model, {"head/kernel"}, 0.02)
    residual = 0.02 / math.sqrt(2 * depth)
    assert_std(
        model, {f"attn{i}/attention_output/kernel" for i in blocks}, residual
    )
    assert_std(model, {f"proj{i}/kernel" for i in blocks}, residual)
    for path, value in weights(model).items():
        if path.endswith("/bias") or path.endswith("/beta"):
            assert (value == 0).all(), path
        if path.endswith("/gamma"):
            assert (value == 1).all(), path
    assert report["head/kernel"].role == "head"
    assert report["proj0/kernel"].role == "mlp_out"
    assert "role" in str(report).splitlines()[0]


def test_bert_truncated_normal_and_torchtitan_depth_per_block():
    model = recipe_models.encoder(depth=2, width=32)
    keras_inits.reinitialize(model, seed=1, recipe="bert")
    kernels = {v.path for v in model.weights if v.path.endswith("kernel")}
    assert_std(model, kernels, 0.02 * TRUNCATED_AT_2)
    assert (
        np.abs(
            np.concatenate([weights(model)[p].ravel() for p in kernels])
        ).max()
        <= 0.04
    )
    assert_std(model, {"tokens/embeddings"}, 0.02 * TRUNCATED_AT_2)

    model = recipe_models.gated(depth=4, width=32)
    keras_inits.reinitialize(model, seed=1, recipe="torchtitan_llama")
    for i in range(4):
        # The down projection is depth scaled by its block's index.
        assert_std(model, {f"down{i}/kernel"}, 0.02 / math.sqrt(2 * (i + 1)))
    assert_std(model, {"head/kernel"}, 32**-0.5 * 0.986655)


def test_zero_init_residual_silences_every_branch():
    model = recipe_models.resnet(blocks=3)
    before = weights(model)
    reinitialize_checked(model, seed=0, recipe="zero_init_residual")
    after = weights(model)
    for i in range(3):
        assert (after[f"bn_b{i}/gamma"] == 0).all()
        # The branch's convolution keeps its layer's own initializer.
        assert after[f"conv_b{i}/kernel"].std() > 0
    assert (after["bn_skip/gamma"] == 1).all()
    assert not np.array_equal(before["head/kernel"], after["head/kernel"])

    model = recipe_models.decoder(depth=2, width=8)
    keras_inits.reinitialize(model, seed=0, recipe="zero_init_residual")
    after = weights(model)
    for i in range(2):
        assert (after[f"attn{i}/attention_output/kernel"] == 0).all()
        assert (after[f"proj{i}/kernel"] == 0).all()
        assert after[f"fc{i}/kernel"].std() > 0


def reinitialize_checked(model, **arguments):
    """`reinitialize(model, **arguments)` with a recipe, expecting its
    warning exactly when the plan leaves trainable weights of two or more
    dimensions without a role (a ResNet's stem, say), and those weights
    in the report's `unmatched`."""
    name = arguments["recipe"]
    plan = recipes.plan(model, name)
    if plan.unmatched_weights:
        with pytest.warns(UserWarning, match=f"recipe '{name}' matched no"):
            report = keras_inits.reinitialize(model, **arguments)
    else:
        report = keras_inits.reinitialize(model, **arguments)
    assert list(report.unmatched) == plan.unmatched_weights
    return report


def planned_std(initializer, shape):
    """The std of a large draw of `initializer`: what a variable drawn from
    it should show."""
    size = max(math.prod(shape), 65536)
    return float(np.std(values(initializer((size,)))))


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize(
    "build", [recipe_models.decoder, recipe_models.gated, recipe_models.resnet]
)
def test_every_variable_gets_its_planned_initializer(name, build):
    model = build()
    plan = recipes.plan(model, name)
    before = weights(model)
    reinitialize_checked(model, seed=5, recipe=name)
    after = weights(model)
    for row in plan:
        if row.initializer is None:
            continue
        value = after[row.path]
        expected = planned_std(row.initializer, value.shape)
        if expected == 0:
            reference = values(row.initializer(value.shape))
            np.testing.assert_array_equal(value, reference, err_msg=row.path)
        elif value.size >= 256:
            tolerance = 6 / math.sqrt(2 * value.size)
            assert abs(value.std() / expected - 1) < tolerance, (
                row.path,
                value.std(),
                expected,
            )
    uncovered = [
        r.path
        for r in plan
        if r.initializer is None
        and "moving" not in r.path
        and before[r.path].size > 1
        and before[r.path].std() > 0
    ]
    for path in uncovered:  # re-drawn from its layer's own initializer
        assert not np.array_equal(before[path], after[path]), path


def test_same_seed_same_values_and_selection_matches():
    model = recipe_models.decoder(depth=2, width=16)
    keras_inits.reinitialize(model, seed=7, recipe="gpt_neox")
    first = weights(model)
    keras_inits.reinitialize(model, seed=8, recipe="gpt_neox")
    assert not np.array_equal(
        first["proj1/kernel"], values(model.get_layer("proj1").kernel)
    )
    keras_inits.reinitialize(
        model, seed=7, recipe="gpt_neox", layers=["proj1"]
    )
    np.testing.assert_array_equal(
        first["proj1/kernel"], values(model.get_layer("proj1").kernel)
    )
    keras_inits.reinitialize(model, seed=7, recipe="gpt_neox")
    for path, value in weights(model).items():
        np.testing.assert_array_equal(value, first[path], err_msg=path)


def test_roles_patterns_and_depth_reach_the_recipe():
    model = recipe_models.decoder(depth=2, width=16)
    keras_inits.reinitialize(
        model,
        seed=2,
        recipe="gpt2",
        depth=8,
        roles={"mlp_out": r"fc\d/kernel"},
    )
    residual = 0.02 / math.sqrt(16)
    assert_std(model, {"fc0/kernel", "fc1/kernel"}, residual)
    assert_std(model, {"proj0/kernel", "proj1/kernel"}, residual)


def test_plan_changes_nothing_and_lists_what_matched_no_role():
    model = recipe_models.resnet(blocks=2)
    before = weights(model)
    plan = recipes.plan(model, "zero_init_residual")
    statistics = [
        f"{norm}/{name}"
        for norm in ("bn_a0", "bn_b0", "bn_a1", "bn_b1", "bn_skip")
        for name in ("moving_mean", "moving_variance")
    ]
    # The stem and the shortcut are projections: the recipe leaves them.
    assert sorted(plan.unmatched) == sorted(statistics)
    assert plan["stem/kernel"].role == "projection"
    assert [r.path for r in plan if r.initializer is not None] == [
        "bn_b0/gamma",
        "bn_b1/gamma",
    ]
    text = str(plan)
    assert text.splitlines()[0].split() == [
        "path",
        "role",
        "block",
        "initializer",
    ]
    unmatched = text.splitlines()[-1]
    assert unmatched.startswith("matched no role: ")
    assert "bn_b0/moving_mean" in unmatched and "stem" not in unmatched
    for path, value in weights(model).items():
        np.testing.assert_array_equal(value, before[path])


def test_register_your_own_recipe():
    def heads_only(slot):
        return keras_inits.Zeros() if slot.role == "head" else None

    recipe = recipes.register(
        "test_heads_only",
        heads_only,
        summary="zero heads",
        overwrite=True,
        formulas={"head": "0"},
    )
    assert recipes.get("test_heads_only") is recipe
    assert "test_heads_only" in recipes.names()
    model = recipe_models.decoder(depth=1, width=8)
    report = keras_inits.reinitialize(model, seed=0, recipe="test_heads_only")
    assert (values(model.get_layer("head").kernel) == 0).all()
    assert values(model.get_layer("fc0").kernel).std() > 0
    assert report["head/kernel"].initializer == "Zeros()"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            {"name": "gpt2"},
            "'gpt2' is a built-in recipe and cannot be replaced",
        ),
        ({"name": "1x"}, "Argument `name` of recipes.register must be a name"),
        (
            {"rule": 3},
            "Argument `rule` of recipes.register must be a callable",
        ),
        (
            {"summary": "a\nb"},
            "Argument `summary` of recipes.register must be one line of text",
        ),
        (
            {"formulas": {"ffn": "x"}},
            "Argument `formulas` of recipes.register "
            "must be None or a dict of role",
        ),
    ],
)
def test_register_errors(arguments, message):
    arguments = {
        "name": "test_bad",
        "rule": lambda slot: None,
        "summary": "s",
        **arguments,
    }
    with pytest.raises(ValueError) as error:
        recipes.register(
            arguments.pop("name"), arguments.pop("rule"), **arguments
        )
    assert str(error.value).startswith(message), str(error.value)


def test_register_refuses_a_second_recipe_of_a_name():
    recipes.register(
        "test_twice", lambda slot: None, summary="s", overwrite=True
    )
    with pytest.raises(
        ValueError,
        match="^A recipe named 'test_twice' is "
        "already registered: pass `overwrite=True`",
    ):
        recipes.register("test_twice", lambda slot: None, summary="s")


def bad_rule(slot):
    return "zeros" if slot.role == "head" else None


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"recipe": "gtp2"}, "Unknown init recipe 'gtp2'. Did you mean"),
        (
            {"recipe": recipes.Recipe("bad", bad_rule, "s", "", {})},
            "Recipe 'bad' gave head/kernel (role head) a str: a rule returns a "
            "keras.initializers.Initializer or None.",
        ),
        (
            {"roles": {"head": "head/kernel"}},
            "reinitialize's `roles` applies to a recipe: pass `recipe=` too.",
        ),
        ({"depth": 3}, "reinitialize's `depth` applies to a recipe"),
        ({"recipe": "gpt2", "depth": -1}, "Argument `depth` of reinitialize"),
        (
            {"recipe": 3},
            "Argument `recipe` of reinitialize must be a recipe's name",
        ),
    ],
)
def test_a_bad_recipe_argument_changes_nothing(arguments, message):
    model = recipe_models.decoder(depth=1, width=8)
    before = weights(model)
    with pytest.raises(ValueError) as error:
        keras_inits.reinitialize(model, seed=0, **arguments)
    assert str(error.value).startswith(message), str(error.value)
    for path, value in weights(model).items():
        np.testing.assert_array_equal(value, before[path])


@pytest.mark.e2e
def test_gpt2_on_keras_hub_backbone():
    keras_hub = pytest.importorskip("keras_hub")
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=64,
        num_layers=3,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=16,
    )
    report = keras_inits.reinitialize(backbone, seed=0, recipe="gpt2")
    layers = [f"transformer_layer_{i}" for i in range(3)]
    assert_std(
        backbone,
        {f"{b}/self_attention/attention_output/kernel" for b in layers}
        | {f"{b}/feedforward_output_dense/kernel" for b in layers},
        0.02 / math.sqrt(6),
    )
    assert_std(
        backbone,
        {f"{b}/feedforward_intermediate_dense/kernel" for b in layers}
        | {"token_embedding/embeddings"},
        0.02,
    )
    assert all(row.role is not None for row in report)


def recipes_table():
    """The table of the built-in recipes in docs/recipes.md, from the
    registry."""
    lines = [
        "| recipe | what | reference | formula per role |",
        "|---|---|---|---|",
    ]
    for name in BUILT_IN:
        recipe = recipes.get(name)
        formulas = "<br>".join(
            f"`{role}`: {text}" for role, text in recipe.formulas.items()
        )
        lines.append(
            f"| `{name}` | {recipe.summary} | {recipe.source} | {formulas} |"
        )
    return "\n".join(lines)


def test_the_guides_table_is_the_registry():
    page = (
        pathlib.Path(__file__).parents[2] / "docs" / "recipes.md"
    ).read_text(encoding="utf-8")
    start = page.index("<!-- recipes-table")
    table = page[
        page.index("\n", start) + 1 : page.index("<!-- /recipes-table -->")
    ]
    assert table.strip() == recipes_table(), (
        "docs/recipes.md's recipe table differs from the registry: paste "
        "the output "
        "of `python -c 'from tests.recipes.test_recipes import recipes_table; "
        "print(recipes_table())'`"
    )


def test_plan_needs_a_built_model():
    model = keras.Sequential([keras.layers.Dense(2)], name="unbuilt")
    with pytest.raises(
        ValueError,
        match="^unbuilt has no weights to plan a recipe for: build it first",
    ):
        recipes.plan(model, "gpt2")


def test_a_recipe_with_reset_optimizer():
    model = recipe_models.decoder(depth=1, width=8)
    # A named optimizer: Keras numbers unnamed ones, which would change
    # the optimizer paths other tests expect.
    model.compile(
        optimizer=keras.optimizers.Adam(name="recipe_adam"), loss="mse"
    )
    model.optimizer.build(model.trainable_variables)
    report = keras_inits.reinitialize(
        model, seed=0, recipe="gpt2", reset_optimizer=True
    )
    optimizer_rows = [r for r in report if r.key.startswith("optimizer/")]
    assert optimizer_rows and all(r.role is None for r in optimizer_rows)
    assert report["proj0/kernel"].role == "mlp_out"
