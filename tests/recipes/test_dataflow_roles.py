"""Roles found from what a model computes, on the models where the
role finder by layer type and functional graph went wrong: a functional
model nested in a subclassed one, attention written as four Dense layers
(matched by `roles=` patterns or not), an attention layer named `value`,
patterns that reach statistics, recurrent biases, depthwise kernels,
`GroupQueryAttention`, residuals written with `+` in a subclassed layer
and `TimeDistributed` branches."""

import math

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits import recipes
from keras_inits._internal.paths import variable_paths
from keras_inits.recipes._roles import find_slots


def slots(model, **arguments):
    return {
        slot.path: slot
        for _, slot in find_slots(
            model, variable_paths(model.weights), owner="test", **arguments
        )
    }


def values(variable):
    return np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")


class Net(keras.Model):
    """An embedding, a Sequential body used as a residual branch, and a
    readout: the head is the readout's kernel, not the body's last."""

    def __init__(self):
        super().__init__(name="net")
        self.embed = keras.layers.Embedding(50, 64, name="embed")
        self.body = keras.Sequential(
            [
                keras.layers.Dense(256, activation="gelu", name="up"),
                keras.layers.Dense(64, name="down"),
            ],
            name="body",
        )
        self.readout = keras.layers.Dense(10, name="readout")

    def call(self, tokens):
        x = self.embed(tokens)
        x = x + self.body(x)
        return self.readout(x)


def test_the_head_of_a_subclassed_model_is_its_own_readout():
    model = Net()
    model(np.zeros((2, 5), "int32"))
    found = slots(model)
    assert found["net/readout/kernel"].role == "head"
    assert (
        found["net/body/down/kernel"].role,
        found["net/body/down/kernel"].block,
    ) == (
        "mlp_out",
        0,
    )
    assert found["net/body/up/kernel"].role == "mlp_in"
    # vit_jax and mup zero the readout, never the branch's projection.
    for recipe in ("vit_jax", "mup"):
        keras_inits.reinitialize(model, seed=0, recipe=recipe)
        assert not values(model.readout.kernel).any()
        assert values(model.body.get_layer("down").kernel).std() > 0


class FourDenseAttention(keras.layers.Layer):
    """Attention from four Dense layers, then an MLP, residual with `+`."""

    def __init__(self, width, index, **kwargs):
        super().__init__(**kwargs)
        self.q = keras.layers.Dense(width, name=f"q{index}")
        self.k = keras.layers.Dense(width, name=f"k{index}")
        self.v = keras.layers.Dense(width, name=f"v{index}")
        self.o = keras.layers.Dense(width, name=f"o{index}")
        self.up = keras.layers.Dense(4 * width, name=f"up{index}")
        self.down = keras.layers.Dense(width, name=f"down{index}")

    def call(self, x):
        scores = keras.ops.einsum("bqd,bkd->bqk", self.q(x), self.k(x))
        weights = keras.ops.softmax(scores / math.sqrt(x.shape[-1]), axis=-1)
        x = x + self.o(keras.ops.einsum("bqk,bkd->bqd", weights, self.v(x)))
        return x + self.down(keras.ops.gelu(self.up(x)))


def four_dense_model(width=64, depth=2):
    tokens = keras.Input((8,), dtype="int32")
    x = keras.layers.Embedding(32, width, name="embed")(tokens)
    for i in range(depth):
        x = FourDenseAttention(width, i, name=f"block{i}")(x)
    return keras.Model(tokens, keras.layers.Dense(32, name="head")(x))


def test_attention_from_dense_layers_and_plus_residuals():
    found = slots(four_dense_model())
    for i in range(2):
        for name, subrole in (("q", "query"), ("k", "key"), ("v", "value")):
            slot = found[f"block{i}/{name}{i}/kernel"]
            assert (slot.role, slot.subrole, slot.block) == (
                "attention_qkv",
                subrole,
                i,
            )
        assert found[f"block{i}/o{i}/kernel"].role == "attention_output"
        assert found[f"block{i}/up{i}/kernel"].role == "mlp_in"
        assert found[f"block{i}/down{i}/kernel"].role == "mlp_out"
        assert found[f"block{i}/down{i}/kernel"].block == i
    assert {s.depth for s in found.values()} == {2}
    assert found["head/kernel"].role == "head"


def test_patterns_for_q_k_v_o_count_blocks_not_layers():
    model = four_dense_model()
    roles = {
        "attention_qkv": r"block\d/[qkv]\d/kernel",
        "attention_output": r"block\d/o\d/kernel",
    }
    plan = recipes.plan(model, "gpt2", roles=roles)
    assert plan.depth == 2
    # gpt2's output std: 0.02 / sqrt(2 L), L = 2.
    assert plan["block1/o1/kernel"].initializer.stddev == pytest.approx(0.01)
    # With a block group, the MLP is in the attention's block.
    plan = recipes.plan(
        model,
        "torchtitan_llama",
        roles={
            "attention_qkv": r"block(?P<block>\d)/[qkv]\d/kernel",
            "attention_output": r"block(?P<block>\d)/o\d/kernel",
        },
    )
    assert [plan[f"block{i}/down{i}/kernel"].block for i in range(2)] == [0, 1]


def test_patterns_count_blocks_where_the_flow_finds_none():
    # A flat model whose call is not traced (a layer built by hand, never
    # called): blocks are counted in variable order, q/k/v/o of one block
    # one block.
    layers = {
        f"{n}{i}": keras.layers.Dense(16, name=f"{n}{i}")
        for i in range(2)
        for n in ("q", "k", "v", "o", "up", "down")
    }
    holder = keras.layers.Layer(name="flat")
    for name, layer in layers.items():
        layer.build((None, 16))
        setattr(holder, name, layer)
    holder.built = True
    found = slots(
        holder,
        roles={
            "attention_qkv": r"[qkv]\d/kernel",
            "attention_output": r"o\d/kernel",
            "mlp_in": r"up\d/kernel",
            "mlp_out": r"down\d/kernel",
        },
    )
    blocks = {
        path.split("/")[0]: slot.block
        for path, slot in found.items()
        if path.endswith("kernel")
    }
    assert blocks == {
        f"{n}{i}": i
        for i in range(2)
        for n in ("q", "k", "v", "o", "up", "down")
    }
    assert {s.depth for s in found.values()} == {2}


def test_deepnet_value_gain_goes_to_the_value_projection_only():
    # An attention layer named "value" (its sublayers query, key, value):
    # only the value kernel gets DeepNet's gain (8 L)^(-1/4).
    tokens = keras.Input((8,), dtype="int32")
    x = keras.layers.Embedding(32, 64, name="embed")(tokens)
    for i in range(2):
        h = keras.layers.MultiHeadAttention(
            4, 16, name="value" if i == 0 else f"attention{i}"
        )(x, x)
        x = keras.layers.Add()([x, h])
    model = keras.Model(tokens, x)
    plan = recipes.plan(model, "deepnet")
    beta = (8 * 2) ** -0.25
    xavier = math.sqrt(2 / (64 + 64))
    assert plan["value/query/kernel"].initializer.stddev == pytest.approx(
        xavier
    )
    assert plan["value/key/kernel"].initializer.stddev == pytest.approx(xavier)
    assert plan["value/value/kernel"].initializer.stddev == pytest.approx(
        beta * xavier
    )


def test_patterns_never_reach_statistics():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, x)
    for roles in ({"mlp_out": r".*moving_variance"}, {"head": r".*"}):
        with pytest.raises(ValueError, match=r"`roles\[.*moving_.*statistic"):
            recipes.plan(model, "gpt2", roles=roles)
    # Found roles never include them either.
    found = slots(model)
    assert found["bn/moving_variance"].role is None
    assert "statistics" in found["bn/moving_variance"].reason


def test_an_lstm_keeps_its_forget_gate_bias():
    tokens = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 8, name="embed")(tokens)
    x = keras.layers.LSTM(8, name="lstm")(x)
    model = keras.Model(tokens, keras.layers.Dense(3, name="head")(x))
    bias = model.get_layer("lstm").cell.bias
    plan = recipes.plan(model, "gpt2")
    row = plan["lstm/lstm_cell/bias"]
    assert (row.role, row.subrole, row.initializer) == (
        "bias",
        "recurrent_bias",
        None,
    )
    # The LSTM's kernels have no role in a transformer recipe (it says so).
    with pytest.warns(UserWarning, match="lstm_cell/kernel"):
        keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    # unit_forget_bias: the forget gate's quarter is 1, the rest 0.
    expected = np.zeros(32)
    expected[8:16] = 1
    np.testing.assert_array_equal(values(bias), expected)


def test_depthwise_kernels_get_depthwise_fans():
    inputs = keras.Input((8, 8, 144))
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(inputs)
    x = keras.layers.Conv2D(144, 1, name="pw")(x)
    model = keras.Model(inputs, keras.layers.Add()([inputs, x]))
    found = slots(model)
    dw = found["dw/kernel"]
    assert dw.shape == (3, 3, 144, 1)
    assert (dw.fan_in, dw.fan_out) == (9, 9)
    assert (found["pw/kernel"].fan_in, found["pw/kernel"].fan_out) == (
        144,
        144,
    )


def test_group_query_attention_is_recognized():
    tokens = keras.Input((8,), dtype="int32")
    x = keras.layers.Embedding(32, 64, name="embed")(tokens)
    h = keras.layers.GroupQueryAttention(16, 4, 2, name="gqa")(x, x)
    x = keras.layers.Add()([x, h])
    model = keras.Model(tokens, x)
    found = slots(model)
    assert {
        name: (
            found[f"gqa/{name}/kernel"].role,
            found[f"gqa/{name}/kernel"].subrole,
        )
        for name in ("query", "key", "value")
    } == {
        "query": ("attention_qkv", "query"),
        "key": ("attention_qkv", "key"),
        "value": ("attention_qkv", "value"),
    }
    assert found["gqa/attention_output/kernel"].role == "attention_output"
    # The key kernel (64, 2, 16): fan_in d, fan_out its heads' width.
    key = found["gqa/key/kernel"]
    assert (key.fan_in, key.fan_out) == (64, 32)


def test_time_distributed_branch_is_recognized():
    inputs = keras.Input((4, 16))
    h = keras.layers.TimeDistributed(keras.layers.Dense(64), name="td_up")(
        inputs
    )
    h = keras.layers.TimeDistributed(keras.layers.Dense(16), name="td_down")(h)
    model = keras.Model(inputs, keras.layers.Add()([inputs, h]))
    # The wrapped Dense layers' names are Keras' (dense, dense_1, ...).
    roles = {
        (path.split("/")[0], path.rsplit("/", 1)[-1]): slot.role
        for path, slot in slots(model).items()
    }
    assert roles == {
        ("td_up", "kernel"): "mlp_in",
        ("td_up", "bias"): "bias",
        ("td_down", "kernel"): "mlp_out",
        ("td_down", "bias"): "bias",
    }


def test_plan_shows_adapted_state_kept_and_statistics_left():
    normalization = keras.layers.Normalization(name="norm")
    normalization.adapt(np.arange(40, dtype="float32").reshape(10, 4))
    inputs = keras.Input((4,))
    x = keras.layers.BatchNormalization(name="bn")(normalization(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(x))
    plan = recipes.plan(model, "gpt2")
    assert plan["norm/mean"].kept and plan["norm/mean"].initializer is None
    assert "adapted state" in plan["norm/mean"].reason
    assert not plan["bn/moving_mean"].kept
    lines = {line.split()[0]: line for line in str(plan).splitlines()[1:]}
    assert lines["norm/mean"].endswith("(kept: adapted state)")
    assert lines["bn/moving_mean"].endswith("(layer's own)")
    # reinitialize keeps the adapted mean, as the plan says.
    mean = values(normalization.mean)
    with pytest.warns(UserWarning, match="no transformer blocks"):
        keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    np.testing.assert_array_equal(values(normalization.mean), mean)
