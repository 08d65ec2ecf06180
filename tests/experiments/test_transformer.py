"""Tests of `keras_inits.transformer`: the standard library's docstrings as
a corpus (its text, split and windows), and the character transformer
`compare_recipes` trains (its layers, its causality, and that the role
finder of `keras_inits.recipes` reads it)."""

import abc
import inspect

import keras
import numpy as np
import pytest

from keras_inits import recipes
from keras_inits.experiments import _transformer as transformer
from keras_inits.experiments._transformer import CHUNK

SMALL = dict(depth=2, width=16, heads=2, length=8)


def test_the_corpus_is_the_docstrings_in_a_fixed_order():
    text = transformer.corpus_text()
    # Recomputed, not the cached copy: the same text.
    assert transformer.corpus_text.__wrapped__() == text
    assert len(text) > 300_000  # 357,683 characters on Python 3.11
    assert set(text) <= {"\n"} | {chr(c) for c in range(32, 127)}
    # The first module's docstring comes first, then its classes.
    assert text.startswith(inspect.getdoc(abc) + "\n\n")
    assert inspect.getdoc(abc.ABCMeta) in text
    # A docstring that is not printable ASCII loses those characters only.
    assert "\t" not in text


def test_the_split_takes_every_tenth_chunk_for_validation():
    corpus = transformer.load_corpus(characters=20 * CHUNK + 5)
    assert corpus.vocabulary == "".join(sorted(set(corpus.text)))
    assert corpus.train.shape == (18, CHUNK)
    assert corpus.validation.shape == (2, CHUNK)
    text = corpus.text
    assert corpus.decode(corpus.validation[0]) == text[9 * CHUNK : 10 * CHUNK]
    assert corpus.decode(corpus.validation[1]) == text[19 * CHUNK : 20 * CHUNK]
    assert corpus.decode(corpus.train[9]) == text[10 * CHUNK : 11 * CHUNK]
    assert corpus.encode("ab").tolist() == [
        corpus.vocabulary.index("a"),
        corpus.vocabulary.index("b"),
    ]
    # The smallest corpus: two chunks, one each.
    two = transformer.load_corpus(characters=2 * CHUNK)
    assert two.train.shape == two.validation.shape == (1, CHUNK)


@pytest.mark.parametrize("characters", [2 * CHUNK - 1, 10**9])
def test_a_corpus_size_out_of_range_is_refused(characters):
    with pytest.raises(ValueError, match="The corpus takes from 2,048 to"):
        transformer.load_corpus(characters=characters)


def test_windows_and_their_next_characters():
    corpus = transformer.load_corpus(characters=4 * CHUNK)
    x, y = transformer.windows(corpus.validation, 100)
    assert x.shape == y.shape == (10, 100) and x.dtype == "int32"
    assert (x[1] == corpus.validation[0, 101:201]).all()
    assert (y[1] == corpus.validation[0, 102:202]).all()
    x, y = transformer.windows(corpus.train, 50, count=64, seed=3)
    assert x.shape == (64, 50)
    assert (x[:, 1:] == y[:, :-1]).all()
    # Each window lies inside one chunk: found there whole.
    rows = [corpus.decode(row) for row in corpus.train]
    for inputs, targets in zip(x, y):
        window = corpus.decode(inputs) + corpus.decode(targets[-1:])
        assert any(window in row for row in rows)
    again = transformer.windows(corpus.train, 50, count=64, seed=3)
    other = transformer.windows(corpus.train, 50, count=64, seed=4)
    assert (again[0] == x).all() and not (other[0] == x).all()


def layer_names(depth):
    names = [
        "tokens",
        "token_embedding",
        "position_embedding",
        "embedding_sum",
    ]
    for block in range(depth):
        names += [
            f"block_{block}_{part}"
            for part in (
                "attention_norm",
                "attention",
                "attention_residual",
                "mlp_norm",
                "mlp_in",
                "mlp_out",
                "mlp_residual",
            )
        ]
    return names + ["final_norm", "head"]


def test_the_model_is_pre_ln_blocks_of_plain_layers():
    model = transformer.build_transformer(20, **SMALL)
    assert [layer.name for layer in model.layers] == layer_names(2)
    attention = model.get_layer("block_1_attention")
    assert isinstance(attention, keras.layers.MultiHeadAttention)
    assert (attention.num_heads, attention.key_dim) == (2, 8)
    assert model.get_layer("block_0_mlp_in").units == 64
    assert model.get_layer("block_0_mlp_in").activation.__name__ == "gelu"
    assert model.layers[-1].name == "head" and not model.layers[-1].use_bias
    assert model.get_layer("position_embedding").input_dim == 8
    # Each residual Add sums the stream before the branch and the branch.
    parts = keras.Model(
        model.input,
        [
            model.get_layer(name).output
            for name in (
                "block_0_attention_residual",
                "block_0_mlp_out",
                "block_0_mlp_residual",
            )
        ],
    )
    stream, branch, total = (
        keras.ops.convert_to_numpy(h)
        for h in parts(np.arange(8, dtype="int32")[None])
    )
    np.testing.assert_allclose(total, stream + branch, rtol=1e-5, atol=1e-6)
    assert transformer.depth_of(model) == 2
    names = [
        v.path.split("/")[0] for v in transformer.block_variables(model, 1)
    ]
    assert len(names) == 16 and set(names) == {
        "block_1_attention_norm",
        "block_1_attention",
        "block_1_mlp_norm",
        "block_1_mlp_in",
        "block_1_mlp_out",
    }
    with_dropout = transformer.build_transformer(20, dropout=0.1, **SMALL)
    assert "block_0_mlp_dropout" in [
        layer.name for layer in with_dropout.layers
    ]


def test_the_model_is_causal_and_knows_positions():
    model = transformer.build_transformer(20, **SMALL)
    tokens = np.array([[3, 1, 4, 1, 5, 9, 2, 6]], dtype="int32")
    changed = tokens.copy()
    changed[0, 5] = 7
    before = keras.ops.convert_to_numpy(model(tokens))
    after = keras.ops.convert_to_numpy(model(changed))
    assert before.shape == (1, 8, 20)
    np.testing.assert_allclose(
        after[:, :5], before[:, :5], rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(after[:, 5:], before[:, 5:])
    # The same token everywhere: only the positions tell the outputs apart.
    same = keras.ops.convert_to_numpy(model(np.full((1, 8), 3, "int32")))
    assert not np.allclose(same[0, 0], same[0, 1])


def test_the_residual_stream_is_read_after_each_block():
    model = transformer.build_transformer(20, **SMALL)
    tokens = np.arange(16, dtype="int32").reshape(2, 8)
    stream = [
        keras.ops.convert_to_numpy(h)
        for h in transformer.residual_stream(model)(tokens)
    ]
    assert len(stream) == 3 and stream[0].shape == (2, 8, 16)
    embeddings = (
        keras.ops.convert_to_numpy(
            model.get_layer("token_embedding").embeddings
        )[tokens]
        + keras.ops.convert_to_numpy(
            model.get_layer("position_embedding").embeddings
        )[:8]
    )
    np.testing.assert_allclose(stream[0], embeddings, rtol=1e-6)


def test_an_odd_width_for_the_heads_is_refused():
    with pytest.raises(
        ValueError,
        match="The width must be a multiple of "
        "the heads. Received: width=10, heads=4",
    ):
        transformer.build_transformer(20, depth=1, width=10, heads=4, length=8)


def test_the_role_finder_reads_every_variable():
    model = transformer.build_transformer(20, **SMALL)
    plan = recipes.plan(model, "gpt2")
    assert plan.unmatched == [] and (plan.depth, plan.width) == (2, 16)
    found = {row.path: (row.role, row.block) for row in plan.rows}
    assert found["token_embedding/embeddings"] == ("embedding", None)
    assert found["position_embedding/embeddings"] == ("embedding", None)
    assert found["block_1_attention/key/kernel"] == ("attention_qkv", 1)
    assert found["block_0_attention/attention_output/kernel"] == (
        "attention_output",
        0,
    )
    assert found["block_1_mlp_in/kernel"] == ("mlp_in", 1)
    assert found["block_1_mlp_out/kernel"] == ("mlp_out", 1)
    assert found["final_norm/gamma"][0] == "norm_scale"
    assert found["head/kernel"] == ("head", None)
