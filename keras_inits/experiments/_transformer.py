"""A small decoder-only character model of plain Keras layers, and the
offline text it learns: the docstrings of Python's standard library.

`compare_recipes` trains this model once per initialization recipe and
seed. The model is a plain functional graph, so the role finder of
`keras_inits.recipes` reads it as any user's transformer: two `Embedding`s
(tokens, positions) summed by an `Add`; per block, pre-LN attention
(`LayerNormalization`, causal `MultiHeadAttention`, a residual `Add`) and
a pre-LN MLP (`LayerNormalization`, `Dense(4d, gelu)`, `Dense(d)`, a
residual `Add`); a final `LayerNormalization` and a `Dense` head, the last
layer.

The corpus needs no download: the docstrings of a fixed list of standard
library modules, in a fixed order, so the text is the same on every run of
the same Python version (another version documents its modules
differently, and gives another text).
"""

import dataclasses
import functools
import importlib
import inspect
import warnings
from typing import Any

import keras
import numpy as np

# Pure-Python modules (or with a pure-Python face) that import without side
# effects on every platform: their docstrings are the corpus, in this order.
CORPUS_MODULES = (
    "abc",
    "argparse",
    "ast",
    "base64",
    "bisect",
    "calendar",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "logging",
    "math",
    "operator",
    "pathlib",
    "pickle",
    "pprint",
    "queue",
    "random",
    "re",
    "shlex",
    "shutil",
    "statistics",
    "string",
    "struct",
    "tempfile",
    "textwrap",
    "threading",
    "typing",
    "unittest",
    "urllib.parse",
    "uuid",
    "warnings",
    "zipfile",
)
# The split: the text is cut into chunks of `CHUNK` characters, and every
# `VALIDATION_EVERY`-th chunk is validation text. Chunks spread validation
# over every module (a tail would hold the last modules only), and a
# window never crosses a chunk, so no window joins two distant texts.
CHUNK = 1024
VALIDATION_EVERY = 10
MAX_LENGTH = CHUNK - 1  # a window and its next character fit in a chunk
LAYER_NORM_EPSILON = 1e-5  # GPT-2's


@dataclasses.dataclass(frozen=True)
class Corpus:
    """The text, its characters, and its split.

    `vocabulary` holds the text's characters, sorted: a character's id is
    its index. `train` and `validation` hold ids, one row per chunk of
    `CHUNK` characters (int32 arrays of shape (chunks, CHUNK)).
    """

    text: str
    vocabulary: str
    train: np.ndarray
    validation: np.ndarray

    def encode(self, text):
        """The ids of `text`'s characters, an int32 array."""
        index = {c: i for i, c in enumerate(self.vocabulary)}
        return np.array([index[c] for c in text], dtype="int32")

    def decode(self, ids):
        """The text of `ids`."""
        return "".join(self.vocabulary[int(i)] for i in np.ravel(ids))


def _documented(module):
    """`module`, then the classes and functions it defines (not those it
    imports), by name, each class followed by its methods, by name."""
    found = [module]
    for _, member in sorted(vars(module).items()):
        if getattr(member, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(member):
            found.append(member)
            found += [
                method
                for _, method in sorted(vars(member).items())
                if inspect.isfunction(method)
            ]
        elif inspect.isfunction(member) or inspect.isbuiltin(member):
            found.append(member)
    return found


@functools.cache
def corpus_text(modules=CORPUS_MODULES):
    """The docstrings (`inspect.getdoc`) of `modules` and of what they
    define, in order, each once (a method without its own docstring
    inherits its base's), separated by blank lines, with every character
    but printable ASCII and newlines left out."""
    documents = []
    seen = set()  # the documents already in `documents`
    for name in modules:
        for member in _documented(importlib.import_module(name)):
            with warnings.catch_warnings():
                # Python 3.11's `typing.io` and `typing.re`, deprecated
                # aliases, warn when their docstrings are read; the corpus
                # reads every docstring of `typing`, as it is.
                warnings.simplefilter("ignore", DeprecationWarning)
                document = inspect.getdoc(member)
            if document and document not in seen:
                seen.add(document)
                documents.append(document)
    text = "\n\n".join(documents)
    return "".join(c for c in text if c == "\n" or " " <= c <= "~")


def load_corpus(characters: int | None = None) -> Corpus:
    """The `Corpus` of `corpus_text()`, or of its first `characters`
    characters (for small tests): at least two chunks, so that both
    halves of the split hold one."""
    text = corpus_text()
    if characters is not None:
        if not 2 * CHUNK <= characters <= len(text):
            raise ValueError(
                f"The corpus takes from {2 * CHUNK:,} to {len(text):,} "
                f"characters. Received: characters={characters!r}"
            )
        text = text[:characters]
    vocabulary = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocabulary)}
    chunks = len(text) // CHUNK  # the last, partial chunk is left out
    ids = np.array(
        [index[c] for c in text[: chunks * CHUNK]], dtype="int32"
    ).reshape(chunks, CHUNK)
    # With two chunks, chunk 1 is validation; then every 10th.
    every = min(VALIDATION_EVERY, chunks)
    validation = np.arange(chunks) % every == every - 1
    return Corpus(text, vocabulary, ids[~validation], ids[validation])


def windows(
    chunks: np.ndarray,
    length: int,
    count: int | None = None,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-character targets `(x, y)`, two int32 arrays of
    shape (windows, `length`), cut from the rows of `chunks`.

    Without `count`: every non-overlapping window of each chunk, in order
    (the validation set). With `count`: that many windows at offsets drawn
    from `seed` (NumPy's PCG64), anywhere in any chunk (the training
    batches, in the order they are drawn)."""
    chunks = np.asarray(chunks)
    span = length + 1  # the window and the character after it
    if count is None:
        per_chunk = chunks.shape[1] // span
        cut = chunks[:, : per_chunk * span].reshape(-1, span)
    else:
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, chunks.shape[0], size=count)
        starts = rng.integers(0, chunks.shape[1] - span + 1, size=count)
        cut = chunks[rows[:, None], starts[:, None] + np.arange(span)]
    return cut[:, :-1], cut[:, 1:]


def build_transformer(
    vocabulary_size: int,
    *,
    depth: int,
    width: int,
    heads: int,
    length: int,
    dropout: float = 0.0,
    name: str = "transformer",
) -> keras.Model:
    """The decoder-only model: int32 ids of shape (batch, `length`) in,
    next-character logits of shape (batch, `length`, `vocabulary_size`)
    out.

    `depth` pre-LN blocks of width `width` with `heads` attention heads
    (each `width // heads` wide) and an MLP of `4 * width` GELU units. Its
    layers are named for what they are: `token_embedding`,
    `position_embedding`, `embedding_sum`, `block_{i}_attention_norm`,
    `block_{i}_attention`, `block_{i}_attention_residual`,
    `block_{i}_mlp_norm`, `block_{i}_mlp_in`, `block_{i}_mlp_out`,
    `block_{i}_mlp_residual` (i from 0), `final_norm` and `head` (no bias,
    as GPT-2's). Every layer keeps Keras' default initializers: a recipe
    replaces them with `keras_inits.reinitialize`. With `dropout`, a
    `Dropout` ends each branch (and MultiHeadAttention drops attention
    weights).
    """
    if width % heads:
        raise ValueError(
            f"The width must be a multiple of the heads. "
            f"Received: width={width}, heads={heads}"
        )
    tokens = keras.Input((length,), dtype="int32", name="tokens")
    # Positions 0 .. length - 1, from Keras ops on the input: the model
    # keeps one input and stays a plain functional graph.
    counts: Any = keras.ops.cumsum(keras.ops.ones_like(tokens), axis=1)
    positions = counts - 1
    x = keras.layers.Add(name="embedding_sum")(
        [
            keras.layers.Embedding(
                vocabulary_size, width, name="token_embedding"
            )(tokens),
            keras.layers.Embedding(length, width, name="position_embedding")(
                positions
            ),
        ]
    )
    for block in range(depth):
        x = _block(x, f"block_{block}", width, heads, dropout)
    x = keras.layers.LayerNormalization(
        epsilon=LAYER_NORM_EPSILON, name="final_norm"
    )(x)
    logits = keras.layers.Dense(vocabulary_size, use_bias=False, name="head")(
        x
    )
    return keras.Model(tokens, logits, name=name)


def _block(x, prefix, width, heads, dropout):
    """One pre-LN block on the residual stream `x`."""
    h = keras.layers.LayerNormalization(
        epsilon=LAYER_NORM_EPSILON, name=f"{prefix}_attention_norm"
    )(x)
    h = keras.layers.MultiHeadAttention(
        heads, width // heads, dropout=dropout, name=f"{prefix}_attention"
    )(h, h, use_causal_mask=True)
    if dropout:
        h = keras.layers.Dropout(dropout, name=f"{prefix}_attention_dropout")(
            h
        )
    x = keras.layers.Add(name=f"{prefix}_attention_residual")([x, h])
    h = keras.layers.LayerNormalization(
        epsilon=LAYER_NORM_EPSILON, name=f"{prefix}_mlp_norm"
    )(x)
    h = keras.layers.Dense(
        4 * width, activation="gelu", name=f"{prefix}_mlp_in"
    )(h)
    h = keras.layers.Dense(width, name=f"{prefix}_mlp_out")(h)
    if dropout:
        h = keras.layers.Dropout(dropout, name=f"{prefix}_mlp_dropout")(h)
    return keras.layers.Add(name=f"{prefix}_mlp_residual")([x, h])


def depth_of(model):
    """The number of blocks of a `build_transformer` model."""
    return sum(layer.name.endswith("_mlp_residual") for layer in model.layers)


def residual_stream(model):
    """A model that shares `model`'s layers and returns the residual
    stream: the embeddings' sum, then the output of each block."""
    names = ["embedding_sum"] + [
        f"block_{block}_mlp_residual" for block in range(depth_of(model))
    ]
    return keras.Model(
        model.input, [model.get_layer(name).output for name in names]
    )


def block_variables(model, block):
    """The trainable variables of block `block` (from 0) of `model`."""
    prefix = f"block_{block}_"
    return [
        variable
        for layer in model.layers
        if layer.name.startswith(prefix)
        for variable in layer.trainable_weights
    ]
