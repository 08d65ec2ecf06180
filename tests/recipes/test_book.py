"""Tests of the built-in init recipes (recipe_book): for each recipe and
role, the initializer's class and exact arguments against the formula
written out here, the standard deviation of a large draw, which recipes
need the depth, width or block index and the errors without them, and
`mup_recipe`."""

import dataclasses
import math

import keras
import numpy as np
import pytest
from scipy import stats

from keras_inits.initializers._bounded_normal import TruncatedNormalRange
from keras_inits.initializers._bounded_normal import TruncatedNormalSigmas
from keras_inits.initializers._constant import Constant
from keras_inits.initializers._constant import Ones
from keras_inits.initializers._constant import Zeros
from keras_inits.initializers._random import RandomNormal
from keras_inits.initializers._random import RandomUniform
from keras_inits.initializers._random import TruncatedNormal
from keras_inits.recipes import _book as recipe_book
from keras_inits.recipes import _registry
from keras_inits.recipes._recipe import MissingSlotValue
from keras_inits.recipes._roles import ROLES
from keras_inits.recipes._roles import SUBROLES
from keras_inits.recipes._roles import Slot

# A small transformer: width d, L blocks, a variable of block l; attention
# with 4 heads of 8 (inner width 32, not d, so that fan_in, fan_out and d
# differ), an MLP of 256, a vocabulary of 1000.
D, L, BLOCK, INNER, HIDDEN, VOCAB = 64, 12, 3, 32, 256, 1000
A = "block_3/attention/"


def slot(
    path,
    role,
    shape,
    fan_in,
    fan_out,
    block=None,
    ends=False,
    subrole=None,
    adds_one=False,
):
    return Slot(
        path,
        role,
        block,
        L,
        D,
        shape,
        fan_in,
        fan_out,
        ends,
        subrole=subrole,
        adds_one=adds_one,
    )


EXPERTS = 8


SLOTS = {
    "embedding": slot(
        "embedding/embeddings", "embedding", (VOCAB, D), VOCAB, D
    ),
    "query": slot(
        A + "query/kernel",
        "attention_qkv",
        (D, 4, 8),
        D,
        INNER,
        BLOCK,
        subrole="query",
    ),
    "value": slot(
        A + "value/kernel",
        "attention_qkv",
        (D, 4, 8),
        D,
        INNER,
        BLOCK,
        subrole="value",
    ),
    "attention_output": slot(
        A + "attention_output/kernel",
        "attention_output",
        (4, 8, D),
        INNER,
        D,
        BLOCK,
        ends=True,
    ),
    "mlp_in": slot(
        "block_3/mlp_in/kernel", "mlp_in", (D, HIDDEN), D, HIDDEN, BLOCK
    ),
    "mlp_out": slot(
        "block_3/mlp_out/kernel",
        "mlp_out",
        (HIDDEN, D),
        HIDDEN,
        D,
        BLOCK,
        ends=True,
    ),
    "head": slot("head/kernel", "head", (D, VOCAB), D, VOCAB),
    "bias": slot("block_3/mlp_in/bias", "bias", (HIDDEN,), HIDDEN, HIDDEN),
    "norm_scale": slot("block_3/norm/gamma", "norm_scale", (D,), D, D),
    "norm_bias": slot("block_3/norm/beta", "norm_bias", (D,), D, D),
    # The scale of a ResNet's last BatchNorm of a branch.
    "bn_end": slot(
        "stage_1/block_0/bn_2/gamma", "norm_scale", (D,), D, D, ends=True
    ),
    "other": slot("stem/conv/kernel", None, (3, 3, 3, 16), 27, 144),
    # Variants some recipes treat apart.
    "fused_qkv": slot(
        "block_3/c_attn/kernel",
        "attention_qkv",
        (D, 3 * D),
        D,
        3 * D,
        BLOCK,
        subrole="fused_qkv",
    ),
    "v_proj": slot(
        "layers/3/self_attn/v_proj/kernel",
        "attention_qkv",
        (D, D),
        D,
        D,
        BLOCK,
        subrole="value",
    ),
    "patch_embedding": slot(
        "patch_embedding/kernel",
        "embedding",
        (16, 16, 3, D),
        16 * 16 * 3,
        16 * 16 * D,
        subrole="patch",
    ),
    # The finer roles.
    "mlp_gate": slot(
        "block_3/w1/kernel",
        "mlp_in",
        (D, HIDDEN),
        D,
        HIDDEN,
        BLOCK,
        subrole="mlp_gate",
    ),
    "mlp_up": slot(
        "block_3/w3/kernel",
        "mlp_in",
        (D, HIDDEN),
        D,
        HIDDEN,
        BLOCK,
        subrole="mlp_up",
    ),
    "router": slot(
        "block_3/moe/router/kernel",
        "mlp_in",
        (D, EXPERTS),
        D,
        EXPERTS,
        BLOCK,
        subrole="router",
    ),
    # Fans without the experts' axis.
    "expert_out": slot(
        "block_3/moe/experts/w2",
        "mlp_out",
        (EXPERTS, HIDDEN, D),
        HIDDEN,
        D,
        BLOCK,
        ends=True,
        subrole="expert_out",
    ),
    "class_token": slot(
        "embedding/class_token",
        "embedding",
        (1, 1, D),
        D,
        D,
        subrole="class_token",
    ),
    "position": slot(
        "position_embedding/embeddings",
        "embedding",
        (256, D),
        256,
        D,
        subrole="position",
    ),
    "mlp_bias": slot(
        "block_3/mlp_in/bias",
        "bias",
        (HIDDEN,),
        HIDDEN,
        HIDDEN,
        subrole="mlp_bias",
    ),
    "projection": slot("pooler/kernel", "projection", (D, D), D, D),
    # Gemma's RMSNorm multiplies by 1 + scale.
    "gemma_scale": slot(
        "block_3/norm/scale", "norm_scale", (D,), D, D, adds_one=True
    ),
    "gemma_end": slot(
        "block_3/post_ffw_norm/scale",
        "norm_scale",
        (D,),
        D,
        D,
        ends=True,
        adds_one=True,
    ),
    # LSTM's bias: 1 for the forget gate with `unit_forget_bias`.
    "lstm_bias": slot(
        "lstm/lstm_cell/bias",
        "bias",
        (4 * D,),
        4 * D,
        4 * D,
        subrole="recurrent_bias",
    ),
}


def normal(std):
    return RandomNormal, {"mean": 0.0, "stddev": std}


def cut_at_2(std):  # TensorFlow's and Keras' truncated normal
    return TruncatedNormal, {"mean": 0.0, "stddev": std}


def cut_at_3(std):  # torch's trunc_normal_(std, a=-3 std, b=3 std)
    return TruncatedNormalSigmas, {
        "stddev": std,
        "lower": -3.0,
        "upper": 3.0,
        "mean": 0.0,
    }


def torch_trunc(std):  # torch's trunc_normal_(std) with a=-2, b=2
    return TruncatedNormalRange, {
        "mean": 0.0,
        "stddev": std,
        "minval": -2.0,
        "maxval": 2.0,
    }


def uniform(limit):
    return RandomUniform, {"minval": -limit, "maxval": limit}


ZEROS, ONES = (Zeros, {}), (Ones, {})
LAYER_NORM = {
    "bias": ZEROS,
    "norm_scale": ONES,
    "norm_bias": ZEROS,
    "bn_end": ONES,
    "mlp_bias": ZEROS,
    "gemma_scale": ZEROS,
    "gemma_end": ZEROS,
}
BETA = (8 * L) ** -0.25  # DeepNet, decoder-only or encoder-only

# recipe -> slot -> (class, arguments but the seed); a slot left out
# (and "other" always) must get None.
EXPECTED = {
    "gpt2": {
        **dict.fromkeys(
            [
                "embedding",
                "query",
                "value",
                "mlp_in",
                "head",
                "fused_qkv",
                "v_proj",
                "patch_embedding",
                "mlp_gate",
                "mlp_up",
                "router",
                "class_token",
                "position",
                "projection",
            ],
            normal(0.02),
        ),
        "attention_output": normal(0.02 / math.sqrt(2 * 12)),
        "mlp_out": normal(0.02 / math.sqrt(2 * 12)),
        "expert_out": normal(0.02 / math.sqrt(2 * 12)),
        **LAYER_NORM,
    },
    "gpt_neox": {
        **dict.fromkeys(
            [
                "embedding",
                "query",
                "value",
                "mlp_in",
                "head",
                "fused_qkv",
                "v_proj",
                "patch_embedding",
                "mlp_gate",
                "mlp_up",
                "router",
                "class_token",
                "position",
                "projection",
            ],
            normal(math.sqrt(2 / (5 * 64))),
        ),
        "attention_output": normal(2 / (12 * math.sqrt(64))),
        "mlp_out": normal(2 / (12 * math.sqrt(64))),  # d, not fan_in 256
        "expert_out": normal(2 / (12 * math.sqrt(64))),
        **LAYER_NORM,
    },
    "bert": {
        **dict.fromkeys(
            [
                "embedding",
                "query",
                "value",
                "attention_output",
                "mlp_in",
                "mlp_out",
                "head",
                "fused_qkv",
                "v_proj",
                "patch_embedding",
                "mlp_gate",
                "mlp_up",
                "router",
                "expert_out",
                "class_token",
                "position",
                "projection",
            ],
            cut_at_2(0.02),
        ),
        **LAYER_NORM,
    },
    "olmo_mitchell": {
        **dict.fromkeys(
            [
                "embedding",
                "query",
                "value",
                "mlp_in",
                "head",
                "fused_qkv",
                "v_proj",
                "patch_embedding",
                "mlp_gate",
                "mlp_up",
                "router",
                "class_token",
                "position",
                "projection",
            ],
            cut_at_3(1 / math.sqrt(64)),
        ),
        # d = 64 (not the fan_in 32), layer_id + 1 = 4.
        "attention_output": cut_at_3(1 / math.sqrt(2 * 64 * 4)),
        "mlp_out": cut_at_3(1 / math.sqrt(2 * 256 * 4)),
        "expert_out": cut_at_3(1 / math.sqrt(2 * 256 * 4)),
        **LAYER_NORM,
    },
    "torchtitan_llama": {
        **dict.fromkeys(
            [
                "query",
                "value",
                "mlp_in",
                "fused_qkv",
                "v_proj",
                "mlp_gate",
                "projection",
            ],
            torch_trunc(0.02),
        ),
        # w2, and w3, the router and the experts' w2 and w3 (l + 1 = 4).
        **dict.fromkeys(
            ["attention_output", "mlp_out", "mlp_up", "router", "expert_out"],
            torch_trunc(0.02 / math.sqrt(2 * 4)),
        ),
        **dict.fromkeys(
            ["embedding", "patch_embedding", "class_token", "position"],
            normal(1.0),
        ),
        "head": cut_at_3(64**-0.5),
        **LAYER_NORM,
    },
    "deepnet": {
        "query": normal(math.sqrt(2 / (64 + 32))),
        "value": normal(BETA * math.sqrt(2 / (64 + 32))),
        "v_proj": normal(BETA * math.sqrt(2 / (64 + 64))),
        # Per projection: fan_out 64 of 192; gain 1 for q, k and v.
        "fused_qkv": normal(math.sqrt(2 / (64 + 64))),
        "attention_output": normal(BETA * math.sqrt(2 / (32 + 64))),
        "mlp_in": normal(BETA * math.sqrt(2 / (64 + 256))),
        "mlp_out": normal(BETA * math.sqrt(2 / (256 + 64))),
        "mlp_gate": normal(BETA * math.sqrt(2 / (64 + 256))),
        "mlp_up": normal(BETA * math.sqrt(2 / (64 + 256))),
        "router": normal(BETA * math.sqrt(2 / (64 + EXPERTS))),
        "expert_out": normal(BETA * math.sqrt(2 / (256 + 64))),
    },
    "vit_jax": {
        "query": uniform(math.sqrt(6 / (64 + 32))),
        "value": uniform(math.sqrt(6 / (64 + 32))),
        "v_proj": uniform(math.sqrt(6 / (64 + 64))),
        "fused_qkv": uniform(math.sqrt(6 / (64 + 64))),
        "attention_output": uniform(math.sqrt(6 / (32 + 64))),
        "mlp_in": uniform(math.sqrt(6 / (64 + 256))),
        "mlp_out": uniform(math.sqrt(6 / (256 + 64))),
        "mlp_gate": uniform(math.sqrt(6 / (64 + 256))),
        "mlp_up": uniform(math.sqrt(6 / (64 + 256))),
        "router": uniform(math.sqrt(6 / (64 + EXPERTS))),
        "expert_out": uniform(math.sqrt(6 / (256 + 64))),
        "embedding": normal(0.02),
        "position": normal(0.02),
        # LeCun normal: JAX divides by the std of N(0, 1) cut at 2.
        "patch_embedding": cut_at_2(
            math.sqrt(1 / 768) / stats.truncnorm(-2, 2).std()
        ),
        "projection": cut_at_2(
            math.sqrt(1 / 64) / stats.truncnorm(-2, 2).std()
        ),
        "class_token": ZEROS,
        "head": ZEROS,
        **LAYER_NORM,
        "mlp_bias": normal(1e-6),
    },
    "zero_init_residual": {
        "attention_output": ZEROS,
        "mlp_out": ZEROS,
        "expert_out": ZEROS,
        "bn_end": ZEROS,
        # 1 + scale is 0 at -1.
        "gemma_end": (Constant, {"value": -1.0}),
    },
    "mup": {
        # 0.02 at the base width 256: 0.02 * sqrt(256 / 64) at d = 64.
        **dict.fromkeys(
            [
                "query",
                "value",
                "attention_output",
                "mlp_in",
                "mlp_out",
                "fused_qkv",
                "v_proj",
                "mlp_gate",
                "mlp_up",
                "router",
                "expert_out",
                "projection",
            ],
            normal(0.02 * math.sqrt(256 / 64)),
        ),
        **dict.fromkeys(
            ["embedding", "patch_embedding", "class_token", "position"],
            normal(0.02),
        ),
        "head": ZEROS,
        "bias": ZEROS,
        "mlp_bias": ZEROS,
    },
}
# An expert's up projection is treated as a dense MLP's.
SLOTS["expert_up"] = dataclasses.replace(
    SLOTS["mlp_up"],
    path="block_3/moe/experts/w3",
    shape=(EXPERTS, D, HIDDEN),
    subrole="expert_up",
)
for _expected in EXPECTED.values():
    if "mlp_up" in _expected:
        _expected["expert_up"] = _expected["mlp_up"]
RECIPES = {recipe.name: recipe for recipe in recipe_book.BUILT_IN}
CASES = [(name, key) for name in EXPECTED for key in SLOTS]


def test_built_in_recipes_in_order():
    assert list(RECIPES) == [
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
    assert list(RECIPES) == list(EXPECTED)


@pytest.mark.parametrize("name, key", CASES)
def test_initializer_and_its_arguments(name, key):
    init = RECIPES[name].rule(SLOTS[key])
    expected = EXPECTED[name].get(key)
    if expected is None:
        assert init is None
        return
    cls, arguments = expected
    assert type(init) is cls
    config = init.get_config()
    assert config.pop("seed", None) is None  # reinitialize seeds it
    assert config.keys() == arguments.keys()
    for argument, value in arguments.items():
        assert config[argument] == pytest.approx(value, rel=1e-12, abs=0)


def expected_std(cls, arguments):
    """The standard deviation of the values, from scipy's laws."""
    if cls is RandomNormal:
        return arguments["stddev"]
    if cls is RandomUniform:
        return (arguments["maxval"] - arguments["minval"]) / math.sqrt(12)
    std = arguments["stddev"]
    if cls is TruncatedNormal:
        return std * stats.truncnorm(-2, 2).std()
    if cls is TruncatedNormalSigmas:
        return (
            std * stats.truncnorm(arguments["lower"], arguments["upper"]).std()
        )
    return (
        std
        * stats.truncnorm(
            arguments["minval"] / std, arguments["maxval"] / std
        ).std()
    )


DRAWN = [
    (name, key)
    for name, key in CASES
    if EXPECTED[name].get(key, (None,))[0] not in (None, Zeros, Ones, Constant)
]


@pytest.mark.parametrize("name, key", DRAWN)
def test_values_have_the_formula_std(name, key):
    # 40000 float32 values, seeded (the recipe's own initializer with a
    # seed, so the same law). The std within 6 standard errors, 6 / sqrt(2
    # n) = 2.1% (the normal's, which bounds those of the lighter-tailed
    # truncated and uniform laws); the mean within 6 std / sqrt(n): a
    # missed truncation (12% at 2 sd) or factor fails by far.
    init = RECIPES[name].rule(SLOTS[key])
    seeded = type(init).from_config({**init.get_config(), "seed": 7})
    values = np.asarray(
        keras.ops.convert_to_numpy(seeded((200, 200), dtype="float32")),
        dtype="float64",
    )
    std = expected_std(*EXPECTED[name][key])
    assert values.std() == pytest.approx(std, rel=6 / math.sqrt(2 * 40000))
    assert abs(values.mean()) < 6 * std / 200


@pytest.mark.parametrize("name", ["gpt2", "zero_init_residual", "mup"])
def test_constants(name):
    for key, (cls, _) in EXPECTED[name].items():
        if cls in (Zeros, Ones):
            values = keras.ops.convert_to_numpy(
                RECIPES[name].rule(SLOTS[key])((3, 2))
            )
            np.testing.assert_array_equal(values, 1.0 if cls is Ones else 0)


@pytest.mark.parametrize("name", EXPECTED)
def test_formulas_name_the_roles_the_rule_covers(name):
    recipe = RECIPES[name]
    # A finer role has its own formula where the rule treats it apart.
    covered = {SLOTS[key].role for key in EXPECTED[name]}
    roles = {role for role in recipe.formulas if role in ROLES}
    assert roles == covered
    for subrole in set(recipe.formulas) - roles:
        assert subrole in SUBROLES
        assert any(SLOTS[k].subrole == subrole for k in EXPECTED[name])
    assert all(text.isascii() and text for text in recipe.formulas.values())


@pytest.mark.parametrize("name", EXPECTED)
def test_docstring_gives_formula_and_reference(name):
    recipe = RECIPES[name]
    rule = getattr(recipe.rule, "func", recipe.rule)  # mup's partial
    repo = recipe.source.split(" ")[0]
    assert f"Reference: {repo} (" in " ".join(rule.__doc__.split())
    assert recipe.summary and "\n" not in recipe.summary


# recipe -> slot -> what it needs: "depth" (L), "width" (d), "block" (l).
NEEDS = {
    "gpt2": {
        "attention_output": "depth",
        "mlp_out": "depth",
        "expert_out": "depth",
    },
    "gpt_neox": {
        **dict.fromkeys(
            [
                "embedding",
                "query",
                "value",
                "mlp_in",
                "head",
                "fused_qkv",
                "v_proj",
                "patch_embedding",
                "mlp_gate",
                "mlp_up",
                "router",
                "class_token",
                "position",
                "projection",
            ],
            "width",
        ),
        "attention_output": "width depth",
        "mlp_out": "width depth",
        "expert_out": "width depth",
    },
    "bert": {},
    "olmo_mitchell": {
        **dict.fromkeys(
            [
                "embedding",
                "query",
                "value",
                "mlp_in",
                "head",
                "fused_qkv",
                "v_proj",
                "patch_embedding",
                "mlp_gate",
                "mlp_up",
                "router",
                "class_token",
                "position",
                "projection",
            ],
            "width",
        ),
        "attention_output": "width block",
        "mlp_out": "block",
        "expert_out": "block",
    },
    "torchtitan_llama": {
        **dict.fromkeys(
            ["attention_output", "mlp_out", "mlp_up", "router", "expert_out"],
            "block",
        ),
        "head": "width",
    },
    "deepnet": dict.fromkeys(
        [
            "query",
            "value",
            "attention_output",
            "mlp_in",
            "mlp_out",
            "fused_qkv",
            "v_proj",
            "mlp_gate",
            "mlp_up",
            "router",
            "expert_out",
        ],
        "depth",
    ),
    "vit_jax": {},
    "zero_init_residual": {},
    "mup": dict.fromkeys(
        [
            "query",
            "value",
            "attention_output",
            "mlp_in",
            "mlp_out",
            "fused_qkv",
            "v_proj",
            "mlp_gate",
            "mlp_up",
            "router",
            "expert_out",
            "projection",
        ],
        "width",
    ),
}
for _needs in NEEDS.values():
    if "mlp_up" in _needs:
        _needs["expert_up"] = _needs["mlp_up"]
WHAT = {
    "depth": "the number of blocks L",
    "width": "the width d of the residual stream (d_model)",
    "block": "the index of its block",
}
HOW = {
    "depth": "pass reinitialize(..., depth=L)",
    "width": "pass reinitialize(..., width=d)",
}


@pytest.mark.parametrize("name, key", CASES)
@pytest.mark.parametrize("field", ["depth", "width", "block"])
def test_needs_depth_width_or_block_only_where_the_formula_does(
    name, key, field
):
    lacking = dataclasses.replace(SLOTS[key], **{field: None})
    rule = RECIPES[name].rule
    if field not in NEEDS[name].get(key, "").split():
        # The same initializer as with it.
        before, after = rule(SLOTS[key]), rule(lacking)
        assert type(after) is type(before)
        if before is not None:
            assert after.get_config() == before.get_config()
        return
    start = (
        f"Recipe '{name}' needs `{field}`, {WHAT[field]}, for "
        f"'{lacking.path}' (role {lacking.role}): "
    )
    # The rule raises MissingSlotValue; the registry words it, with the
    # recipe's name and the function the user called.
    with pytest.raises(MissingSlotValue):
        rule(lacking)
    with pytest.raises(ValueError) as error:
        _registry._apply_rule(RECIPES[name], lacking, "reinitialize")
    message = str(error.value)
    assert message.startswith(start)
    assert message.endswith(f". Received: {field}=None")
    if field in HOW:
        assert message == start + HOW[field] + f". Received: {field}=None"
    else:  # how to name the block: a `roles` pattern with a block group
        assert "roles={" in message and "(?P<block>" in message


def test_mup_recipe_takes_the_base_width_and_std():
    recipe = recipe_book.mup_recipe(128, base_std=0.05)
    assert recipe.name == "mup"
    init = recipe.rule(SLOTS["mlp_out"])
    assert type(init) is RandomNormal
    assert init.stddev == pytest.approx(0.05 * math.sqrt(128 / 64), rel=1e-12)
    assert recipe.rule(SLOTS["embedding"]).stddev == 0.05
    assert recipe.formulas["mlp_out"] == "N(0, 0.05^2 * 128/d)"
    # At its base width, muP's init is the base model's.
    at_base = dataclasses.replace(SLOTS["query"], width=128)
    assert recipe.rule(at_base).stddev == pytest.approx(0.05, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, start",
    [
        (
            {"base_width": 0},
            "Argument `base_width` of mup_recipe must be a "
            "positive integer. Received: base_width=0",
        ),
        (
            {"base_width": 1.5},
            "Argument `base_width` of mup_recipe must be a "
            "positive integer. Received: base_width=1.5",
        ),
        (
            {"base_std": -1.0},
            "Argument `base_std` of mup_recipe must be a positive number",
        ),
    ],
)
def test_mup_recipe_bad_arguments(kwargs, start):
    with pytest.raises(ValueError) as error:
        recipe_book.mup_recipe(**kwargs)
    assert str(error.value).startswith(start)
