"""describe after reinitialize: the recipe's initializer each variable was
last drawn from, its fans and its std, marked by source; the layer's
configuration again after a reinitialize without a recipe."""

import gc
import math

import pytest

import keras_inits
from keras_inits.model import _drawn
from keras_inits.model import drawn_from
from tests import recipe_models


def attention():
    """GPT's pre-norm decoder, one block of d = 32: a MultiHeadAttention
    of 2 heads whose query, key and value kernels are (32, 2, 16)."""
    return recipe_models.decoder(depth=1, width=32, heads=2)


def test_describe_shows_the_recipes_initializer_then_the_layers_again():
    model = attention()
    keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    description = keras_inits.describe(model)
    query = description["attn0/query/kernel"]
    assert query.shape == (32, 2, 16)
    assert query.initializer == "RandomNormal(stddev=0.02)"
    assert query.source == "recipe gpt2"
    assert query.expected_std == pytest.approx(0.02)
    # 1,024 draws: the sample std is within 10% of 0.02 at > 4 sigma
    # (its relative sd is 1 / sqrt(2 * 1024) = 2.2%).
    assert query.std == pytest.approx(0.02, rel=0.1)
    # The fans gpt2's slots count: d = 32 in, heads * head_dim = 32 out.
    assert (query.fan_in, query.fan_out) == (32, 32)
    # attention_output: 0.02 / sqrt(2L), L = 1 block.
    output = description["attn0/attention_output/kernel"]
    assert output.expected_std == pytest.approx(0.02 / math.sqrt(2))
    lines = str(description).splitlines()
    assert lines[0].split()[:4] == ["path", "shape", "initializer", "from"]
    assert all("recipe gpt2" in line for line in lines[1:])

    keras_inits.reinitialize(model, seed=0)
    description = keras_inits.describe(model)
    query = description["attn0/query/kernel"]
    assert query.initializer.startswith("GlorotUniform(")
    assert query.source == "layer config"
    # The fans shown are those its std is computed from.
    fans = query.fan_in + query.fan_out
    assert query.expected_std == pytest.approx(math.sqrt(2 / fans))
    assert "from" not in str(description).splitlines()[0].split()


def test_a_recipe_returning_a_variance_scaling_initializer_shows_its_fans():
    # A rule whose initializer has its own fan rule: the fans shown are
    # those its std uses (Keras' rule on the (32, 2, 16) kernel), not the
    # recipe's slot fans.
    def rule(slot):
        if slot.role == "attention_qkv":
            return keras_inits.GlorotNormal()
        return None

    model = attention()
    keras_inits.reinitialize(
        model, seed=0, recipe=keras_inits.recipes.Recipe("glorot", rule, "s")
    )
    query = keras_inits.describe(model)["attn0/query/kernel"]
    assert query.source == "recipe glorot"
    assert (query.fan_in, query.fan_out) == (64, 512)
    assert query.expected_std == pytest.approx(math.sqrt(2 / (64 + 512)))


def test_the_record_follows_each_draw_and_lets_go_of_the_variable():
    model = attention()
    kernel = model.get_layer("attn0").query_dense.kernel
    assert drawn_from(kernel) is None
    keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    record = drawn_from(kernel)
    assert record is not None
    assert (record.recipe, record.role) == ("gpt2", "attention_qkv")
    assert (record.fan_in, record.fan_out) == (32, 32)
    # Drawn again from its layer's own initializer: the record goes.
    keras_inits.reinitialize(model, seed=0)
    assert drawn_from(kernel) is None
    keras_inits.reinitialize(model, seed=0, recipe="gpt2")
    gc.collect()  # other tests' models, once collected, leave no record
    count = _drawn.recorded()
    assert count >= 22  # every variable of the decoder
    del model, kernel, record
    gc.collect()
    assert _drawn.recorded() == count - 22
