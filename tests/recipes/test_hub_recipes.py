"""Recipes on the keras-hub backbones a recipe once left partly at their
old values (Gemma's MLP, GPT-NeoX's fused query-key-value kernel, every
kernel of Falcon and Bloom, ViT's MLP, patch embedding and class token,
Mixtral's experts): every weight gets a role, and the values
`reinitialize` draws have, per role and block, the standard deviation of
the recipe's formula, within 3% on draws of thousands of values.

The backbones are keras-hub's, built from config at widths of 64 to 128
(keras-hub's unit-test configs are too small to measure a std on)."""

import collections
import math

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import recipes
from keras_inits._internal import keras_internals
from keras_inits._internal.paths import variable_paths
from keras_inits.recipes._roles import find_slots

keras_hub = pytest.importorskip("keras_hub")
from tests.recipes import hub_backbones  # noqa: E402 (needs keras_hub)

pytestmark = [
    # keras-hub builds: once, on TensorFlow; GPT-NeoX's on every backend.
    pytest.mark.e2e,
    pytest.mark.skipif(
        keras.backend.backend() == "numpy",
        reason="keras-hub's backbones do not build on the numpy backend",
    ),
    # keras-hub's layers warn about masks passed to layers that drop them.
    pytest.mark.filterwarnings("ignore:Layer '.*' .*mask:UserWarning"),
]
models = keras_hub.models


def gemma():
    return models.GemmaBackbone(
        vocabulary_size=64,
        num_layers=2,
        num_query_heads=4,
        num_key_value_heads=1,
        hidden_dim=64,
        intermediate_dim=256,
        head_dim=16,
    )


def gpt_neox():
    return models.GPTNeoXBackbone(
        vocabulary_size=64,
        num_layers=2,
        num_heads=4,
        hidden_dim=64,
        intermediate_dim=256,
        max_sequence_length=16,
    )


def falcon():
    return models.FalconBackbone(
        vocabulary_size=64,
        num_layers=2,
        num_attention_heads=4,
        hidden_dim=64,
        intermediate_dim=256,
    )


def bloom():
    return models.BloomBackbone(
        vocabulary_size=64,
        num_layers=2,
        num_heads=4,
        hidden_dim=64,
        intermediate_dim=256,
    )


def vit():
    return models.ViTBackbone(
        image_shape=(32, 32, 3),
        patch_size=(8, 8),
        num_layers=2,
        hidden_dim=64,
        num_heads=4,
        mlp_dim=256,
    )


def mixtral():
    return models.MixtralBackbone(
        vocabulary_size=64,
        num_layers=2,
        num_query_heads=4,
        num_key_value_heads=2,
        hidden_dim=64,
        intermediate_dim=128,
        num_experts=4,
        top_k=2,
    )


def llama(layers=4):
    return models.LlamaBackbone(
        vocabulary_size=64,
        num_layers=layers,
        num_query_heads=4,
        num_key_value_heads=2,
        hidden_dim=64,
        intermediate_dim=256,
    )


BACKBONES = {
    "gemma": gemma,
    "gpt_neox": gpt_neox,
    "falcon": falcon,
    "bloom": bloom,
    "vit": vit,
    "mixtral": mixtral,
}


def weights_of(model):
    """The trainable variables of two or more dimensions."""
    return [v for v in model.trainable_weights if len(v.shape) >= 2]


def values(variable):
    return np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")


def drawn_std(initializer, shape):
    """The std of a large draw of `initializer`: what a variable drawn from
    it shows (each rule's formula is checked in test_book.py)."""
    size = max(math.prod(shape), 1 << 16)
    return float(np.std(values(initializer((size,)))))


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("recipe", ["gpt2", "vit_jax"])
def test_every_weight_has_a_role_and_the_recipes_std(name, recipe):
    model = BACKBONES[name]()
    plan = recipes.plan(model, recipe)
    rows = {id(row.variable): row for row in plan}
    unmatched = [
        rows[id(v)].path for v in weights_of(model) if not rows[id(v)].role
    ]
    assert not unmatched, f"{name}: no role for {unmatched}"
    assert plan.depth == 2
    keras_inits.reinitialize(model, seed=3, recipe=recipe)
    # Pooled by initializer (role, block and formula alike), so that each
    # group holds thousands of values.
    groups = collections.defaultdict(list)
    for row in plan:
        if row.initializer is not None and row.variable.trainable:
            groups[repr(row.initializer)].append(row)
    for rows_ in groups.values():
        pooled = np.concatenate([values(r.variable).ravel() for r in rows_])
        expected = drawn_std(rows_[0].initializer, (pooled.size,))
        if expected == 0:  # a constant
            constant = values(rows_[0].initializer((1,)))[0]
            assert (pooled == constant).all(), rows_[0].path
        elif pooled.size >= 4096:
            assert pooled.std() == pytest.approx(expected, rel=0.03), (
                [r.path for r in rows_],
                rows_[0].initializer,
            )


def test_gemma_mlp_gate_up_and_norms():
    model = gemma()
    plan = recipes.plan(model, "torchtitan_llama")
    gate = plan["decoder_block_1/ffw_gating/kernel"]
    up = plan["decoder_block_1/ffw_gating_2/kernel"]
    assert (gate.role, gate.subrole, gate.block) == ("mlp_in", "mlp_gate", 1)
    assert (up.role, up.subrole, up.block) == ("mlp_in", "mlp_up", 1)
    assert plan["decoder_block_1/ffw_linear/kernel"].role == "mlp_out"
    # Gemma's RMSNorm multiplies by 1 + scale: its identity is 0.
    scale = plan["decoder_block_0/pre_ffw_norm/scale"]
    assert scale.role == "norm_scale"
    assert type(scale.initializer).__name__ == "Zeros"


@pytest.mark.smoke
def test_gpt_neox_fused_qkv_gets_small_init():
    # The reference's small_init on the fused kernel: sqrt(2 / (5 d)),
    # 0.079 at d = 64.
    model = gpt_neox()
    plan = recipes.plan(model, "gpt_neox")
    row = plan["transformer_layer_0/self_attention/query_key_value/kernel"]
    assert (row.role, row.subrole) == ("attention_qkv", "fused_qkv")
    keras_inits.reinitialize(model, seed=0, recipe="gpt_neox")
    assert values(row.variable).std() == pytest.approx(
        math.sqrt(2 / (5 * 64)), rel=0.03
    )


def test_mixtral_experts_router_and_fans():
    model = mixtral()
    # Block 1's sparse MoE block (Keras numbers its name per session).
    found = {
        path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]: slot
        for _, slot in find_slots(
            model, variable_paths(model.weights), owner="test"
        )
        if (path := slot.path).startswith("transformer_layer_1/mixtral")
    }
    assert {
        name: (slot.role, slot.subrole, slot.block)
        for name, slot in found.items()
    } == {
        "sparse_feedforward_gate_dense/kernel": ("mlp_in", "router", 1),
        "experts/expert_feedforward_gate_dense": ("mlp_in", "expert_gate", 1),
        "experts/expert_feedforward_intermediate_dense": (
            "mlp_in",
            "expert_up",
            1,
        ),
        "experts/expert_feedforward_output_dense": (
            "mlp_out",
            "expert_out",
            1,
        ),
    }
    # (experts, hidden, d): the fans leave the experts' axis out.
    down = found["experts/expert_feedforward_output_dense"]
    assert (down.shape, down.fan_in, down.fan_out) == ((4, 128, 64), 128, 64)
    assert down.ends_branch


def test_torchtitan_up_projection_is_depth_scaled_per_block():
    # torchtitan's depth_init: w1 (the gate) 0.02, w3 (up) and w2 (down)
    # 0.02 / sqrt(2 (l + 1)), cut at +-2.
    model = llama(layers=4)
    keras_inits.reinitialize(model, seed=5, recipe="torchtitan_llama")
    for block in range(4):
        layer = model.get_layer(f"transformer_layer_{block}")
        scaled = 0.02 / math.sqrt(2 * (block + 1))
        for sublayer, std in (
            ("feedforward_gate_dense", 0.02),
            ("feedforward_intermediate_dense", scaled),
            ("feedforward_output_dense", scaled),
        ):
            kernel = values(getattr(layer, f"_{sublayer}").kernel)
            assert kernel.std() == pytest.approx(std, rel=0.03), (
                block,
                sublayer,
            )


def test_vit_jax_class_token_mlp_biases_and_patch_embedding():
    model = vit()
    keras_inits.reinitialize(model, seed=1, recipe="vit_jax")
    plan = recipes.plan(model, "vit_jax")
    token = plan["vit_patching_and_embedding/class_token"]
    assert (token.role, token.subrole) == ("embedding", "class_token")
    assert not values(token.variable).any()
    mlp_biases = [row for row in plan if row.subrole == "mlp_bias"]
    assert len(mlp_biases) == 4  # two per block
    pooled = np.concatenate([values(r.variable) for r in mlp_biases])
    assert pooled.std() == pytest.approx(1e-6, rel=0.1)
    patch = plan["vit_patching_and_embedding/patch_embedding/kernel"]
    assert (patch.role, patch.subrole) == ("embedding", "patch")
    # LeCun normal: sqrt(1 / fan_in), fan_in = 8 * 8 * 3.
    assert values(patch.variable).std() == pytest.approx(
        math.sqrt(1 / 192), rel=0.03
    )


@pytest.mark.parametrize("name", ["ResNetBackbone", "CSPNetBackbone"])
def test_zero_init_residual_finds_every_residual_branch(name):
    # Every residual Add of keras-hub's residual CNNs ends a branch whose
    # last BatchNorm scale `zero_init_residual` zeroes.
    model = hub_backbones.build(name)
    adds = [
        layer
        for layer in keras_internals.all_layers(model)
        if isinstance(layer, keras.layers.Add)
    ]
    plan = recipes.plan(model, "zero_init_residual")
    zeroed = [row.path for row in plan if row.initializer is not None]
    assert len(zeroed) == len(adds) > 0
    assert all(path.endswith("bn/gamma") or "bn_" in path for path in zeroed)


def test_t5_encoder_and_decoder_each_have_their_blocks():
    # T5 adds each block's attention scores to a position bias that holds
    # the padding mask: not a residual branch. The encoder and the decoder
    # are towers of 2 blocks each; the decoder's cross-attention reads the
    # encoder's output.
    model = hub_backbones.build("T5Backbone")
    found = {
        slot.path: slot
        for _, slot in find_slots(
            model, variable_paths(model.weights), owner="test"
        )
    }
    for stack in ("encoder", "decoder"):
        for block in range(2):
            prefix = f"transformer_{stack}_layer_{block}/"
            for attention in ["self_attention"] + (
                ["cross_attention"] if stack == "decoder" else []
            ):
                for name, subrole in (
                    ("query", "query"),
                    ("key", "key"),
                    ("value", "value"),
                ):
                    slot = found[
                        f"{prefix}{attention}/{name}_projector/kernel"
                    ]
                    assert (
                        slot.role,
                        slot.subrole,
                        slot.block,
                        slot.depth,
                    ) == (
                        "attention_qkv",
                        subrole,
                        block,
                        2,
                    ), slot.path
            assert found[prefix + "output_projector/kernel"].role == "mlp_out"
