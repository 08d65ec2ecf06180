"""Role finding (`keras_inits.roles`): every variable of models of several
shapes, depths and widths gets the role, block, depth, width, fans and
branch end stated here by path, independently of the finder."""

import keras
import pytest

from keras_inits._internal.paths import variable_paths
from keras_inits.recipes import _roles as roles
from tests import recipe_models


def slots(model, **arguments):
    return {
        slot.path: slot
        for _, slot in roles.find_slots(
            model,
            variable_paths(model.weights),
            owner="reinitialize",
            **arguments,
        )
    }


# A bias is in its kernel's block.
def expect_attention(expected, prefix, block, bias=True):
    for name in ("query", "key", "value"):
        expected[f"{prefix}/{name}/kernel"] = ("attention_qkv", block)
        if bias:
            expected[f"{prefix}/{name}/bias"] = ("bias", block)
    expected[f"{prefix}/attention_output/kernel"] = ("attention_output", block)
    if bias:
        expected[f"{prefix}/attention_output/bias"] = ("bias", block)


def expect_dense(expected, name, role, block=None, bias=True):
    expected[f"{name}/kernel"] = (role, block)
    if bias:
        expected[f"{name}/bias"] = ("bias", block)


def expect_norm(expected, name, scale="gamma", offset="beta"):
    expected[f"{name}/{scale}"] = ("norm_scale", None)
    if offset:
        expected[f"{name}/{offset}"] = ("norm_bias", None)


def found_roles(found):
    return {path: (slot.role, slot.block) for path, slot in found.items()}


@pytest.mark.parametrize("depth, width", [(1, 8), (2, 16), (3, 32)])
def test_decoder_roles_blocks_depth_and_width(depth, width):
    found = slots(recipe_models.decoder(depth, width))
    expected = {
        "tokens/embeddings": ("embedding", None),
        "positions/embeddings": ("embedding", None),
    }
    for i in range(depth):
        expect_norm(expected, f"ln_a{i}")
        expect_attention(expected, f"attn{i}", i)
        expect_norm(expected, f"ln_m{i}")
        expect_dense(expected, f"fc{i}", "mlp_in", i)
        expect_dense(expected, f"proj{i}", "mlp_out", i)
    expect_norm(expected, "ln_f")
    expect_dense(expected, "head", "head")
    assert found_roles(found) == expected
    assert {(s.depth, s.width) for s in found.values()} == {(depth, width)}
    ends = {p for p, s in found.items() if s.ends_branch}
    assert ends == {
        f"attn{i}/attention_output/kernel" for i in range(depth)
    } | {f"proj{i}/kernel" for i in range(depth)}


def test_fans_are_counted_flat():
    found = slots(recipe_models.decoder(1, 16, vocab=24, heads=4))
    assert (
        found["attn0/query/kernel"].shape,
        found["attn0/query/kernel"].fan_in,
        found["attn0/query/kernel"].fan_out,
    ) == ((16, 4, 4), 16, 16)
    output = found["attn0/attention_output/kernel"]
    assert (output.shape, output.fan_in, output.fan_out) == (
        (4, 4, 16),
        16,
        16,
    )
    assert (found["fc0/kernel"].fan_in, found["fc0/kernel"].fan_out) == (
        16,
        64,
    )
    assert (
        found["tokens/embeddings"].fan_in,
        found["tokens/embeddings"].fan_out,
    ) == (24, 16)
    assert (found["ln_f/gamma"].fan_in, found["ln_f/gamma"].fan_out) == (
        16,
        16,
    )


def test_encoder_post_norm_roles():
    found = slots(recipe_models.encoder(depth=2, width=16))
    expected = {"tokens/embeddings": ("embedding", None)}
    expect_norm(expected, "ln_e")
    for i in range(2):
        expect_attention(expected, f"attn{i}", i)
        expect_norm(expected, f"ln_a{i}")
        expect_dense(expected, f"fc{i}", "mlp_in", i)
        expect_dense(expected, f"proj{i}", "mlp_out", i)
        expect_norm(expected, f"ln_m{i}")
    expect_dense(expected, "head", "head")
    assert found_roles(found) == expected
    # The norm after the Add does not end the branch: its output is the
    # residual stream itself.
    assert not found["ln_a0/gamma"].ends_branch
    assert found["proj1/kernel"].ends_branch


def test_gated_mlp_both_inputs_are_mlp_in():
    found = slots(recipe_models.gated(depth=3, width=8))
    expected = {"tokens/embeddings": ("embedding", None)}
    for i in range(3):
        expect_norm(expected, f"norm{i}", scale="scale", offset=None)
        expect_dense(expected, f"gate{i}", "mlp_in", i, bias=False)
        expect_dense(expected, f"up{i}", "mlp_in", i, bias=False)
        expect_dense(expected, f"down{i}", "mlp_out", i, bias=False)
    expect_dense(expected, "head", "head", bias=False)
    assert found_roles(found) == expected
    assert found["down2/kernel"].depth == 3


def test_resnet_branch_ends_at_its_batch_norm_and_skips_the_shortcut():
    found = slots(recipe_models.resnet(blocks=3))
    roles_ = found_roles(found)
    for i in range(3):
        assert roles_[f"conv_a{i}/kernel"] == ("mlp_in", i)
        assert roles_[f"conv_b{i}/kernel"] == ("mlp_out", i)
        assert found[f"bn_b{i}/gamma"].ends_branch
        assert not found[f"conv_b{i}/kernel"].ends_branch
        assert roles_[f"bn_a{i}/moving_mean"] == (None, None)
    # The projected shortcut is not a branch; it and the stem are plain
    # projections (a model without attention has no patch embedding).
    assert roles_["conv_skip/kernel"] == ("projection", None)
    assert not found["bn_skip/gamma"].ends_branch
    assert roles_["stem/kernel"] == ("projection", None)
    assert roles_["head/kernel"] == ("head", None)
    assert found["conv_a0/kernel"].fan_in == 3 * 3 * 8


def test_sequential_head_and_biases():
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(4, name="hidden"),
            keras.layers.Dense(3, name="out"),
        ],
        name="mlp",
    )
    roles_ = found_roles(slots(model))
    assert roles_["mlp/out/kernel"] == ("head", None)
    assert roles_["mlp/out/bias"] == ("bias", None)
    assert roles_["mlp/hidden/kernel"] == ("projection", None)


def test_subclassed_model_finds_attention_by_type():
    class Block(keras.Model):
        def __init__(self):
            super().__init__(name="block")
            self.attention = keras.layers.MultiHeadAttention(
                2, 4, name="attention"
            )
            self.norm = keras.layers.LayerNormalization(name="norm")

        def call(self, x):
            return self.norm(x + self.attention(x, x))

    model = Block()
    model(keras.ops.zeros((1, 3, 8)))
    found = found_roles(slots(model))
    assert found["block/attention/query/kernel"] == ("attention_qkv", 0)
    assert found["block/attention/attention_output/kernel"] == (
        "attention_output",
        0,
    )
    assert found["block/norm/gamma"] == ("norm_scale", None)


def test_patterns_take_precedence_and_give_blocks():
    model = recipe_models.decoder(depth=2, width=8)
    found = slots(
        model,
        roles={"mlp_out": r"fc(?P<block>\d+)/kernel", "head": r"proj1/kernel"},
    )
    assert (found["fc0/kernel"].role, found["fc0/kernel"].block) == (
        "mlp_out",
        0,
    )
    assert (found["fc1/kernel"].role, found["fc1/kernel"].block) == (
        "mlp_out",
        1,
    )
    assert (found["proj1/kernel"].role, found["proj1/kernel"].block) == (
        "head",
        None,
    )


def test_depth_and_width_given_win():
    found = slots(recipe_models.decoder(2, 8), depth=12, width=768)
    assert {(s.depth, s.width) for s in found.values()} == {(12, 768)}


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            {"roles": {"ffn": r".*"}},
            "Unknown role 'ffn' in `roles`: the roles "
            "are embedding, attention_qkv",
        ),
        (
            {"roles": {"mlp_out": "fc("}},
            "`roles['mlp_out']` is not a valid regular expression",
        ),
        (
            {"roles": {"mlp_out": r"ffn_out/kernel"}},
            "`roles['mlp_out']` matches "
            "no variable path (matched with re.fullmatch). Received: "
            "'ffn_out/kernel'; paths look like 'tokens/embeddings'.",
        ),
        (
            {"roles": [("mlp_out", "x")]},
            "Argument `roles` of reinitialize must "
            "be None or a dict of role -> regular expression. Received: "
            "roles=[('mlp_out', 'x')]",
        ),
        (
            {"depth": 0},
            "Argument `depth` of reinitialize must be None or a "
            "positive integer. Received: depth=0",
        ),
        (
            {"width": 2.5},
            "Argument `width` of reinitialize must be None or a "
            "positive integer. Received: width=2.5",
        ),
    ],
)
def test_bad_arguments_say_what_and_what_was_received(arguments, message):
    with pytest.raises(ValueError) as error:
        slots(recipe_models.decoder(1, 8), **arguments)
    assert str(error.value).startswith(message), str(error.value)


def hub_backbones():
    keras_hub = pytest.importorskip("keras_hub")
    models = keras_hub.models
    return {
        "gpt2": models.GPT2Backbone(
            vocabulary_size=40,
            num_layers=3,
            num_heads=2,
            hidden_dim=16,
            intermediate_dim=32,
            max_sequence_length=16,
        ),
        "bert": models.BertBackbone(
            vocabulary_size=40,
            num_layers=2,
            num_heads=2,
            hidden_dim=16,
            intermediate_dim=32,
            max_sequence_length=16,
        ),
        "llama": models.LlamaBackbone(
            vocabulary_size=40,
            num_layers=2,
            num_query_heads=2,
            num_key_value_heads=1,
            hidden_dim=16,
            intermediate_dim=32,
        ),
    }


@pytest.mark.e2e
def test_keras_hub_backbones_from_config():
    for name, backbone in hub_backbones().items():
        found = slots(backbone)
        depth = {"gpt2": 3, "bert": 2, "llama": 2}[name]
        attention = (
            "self_attention_layer" if name == "bert" else ("self_attention")
        )
        for i in range(depth):
            prefix = f"transformer_layer_{i}"
            for part in ("query", "key", "value"):
                slot = found[f"{prefix}/{attention}/{part}/kernel"]
                assert (slot.role, slot.block) == ("attention_qkv", i), name
            slot = found[f"{prefix}/{attention}/attention_output/kernel"]
            assert (slot.role, slot.block, slot.ends_branch) == (
                "attention_output",
                i,
                True,
            ), name
            slot = found[f"{prefix}/feedforward_output_dense/kernel"]
            assert (slot.role, slot.block, slot.ends_branch) == (
                "mlp_out",
                i,
                True,
            ), name
            slot = found[f"{prefix}/feedforward_intermediate_dense/kernel"]
            assert (slot.role, slot.block) == ("mlp_in", i), name
        assert found["token_embedding/embeddings"].role == "embedding"
        assert {(s.depth, s.width) for s in found.values()} == {(depth, 16)}
        norms = [s for s in found.values() if s.role == "norm_scale"]
        assert len(norms) == 2 * depth + 1, name
    llama = slots(hub_backbones()["llama"])
    assert (
        llama["transformer_layer_1/feedforward_gate_dense/kernel"].role
        == "mlp_in"
    )
    assert llama["token_embedding/reverse_embeddings"].role == "head"
    assert llama["transformer_layer_0/self_attention/key/kernel"].fan_out == 8


def test_an_add_that_is_not_residual_is_no_branch():
    # ViT's start: patch projections plus a learned position embedding.
    images = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(16, 4, strides=4, name="patches")(images)
    x = keras.layers.Reshape((4, 16))(x)
    positions = keras.layers.Embedding(4, 16, name="positions")(
        keras.ops.zeros_like(x[..., 0], dtype="int32") + keras.ops.arange(4)
    )
    x = keras.layers.Add()([x, positions])
    h = keras.layers.LayerNormalization(name="ln")(x)
    h = keras.layers.Dense(16, name="proj")(
        keras.layers.Dense(32, activation="gelu", name="fc")(h)
    )
    x = keras.layers.Add()([x, h])
    found = found_roles(slots(keras.Model(images, x)))
    assert found["patches/kernel"] == ("projection", None)
    assert found["fc/kernel"] == ("mlp_in", 0)
    assert found["proj/kernel"] == ("mlp_out", 0)
