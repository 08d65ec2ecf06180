"""Small models of plain Keras layers for the recipe tests: the shapes
published recipes are written for (GPT's pre-norm decoder, BERT's post-norm
encoder, a gated RMS-norm block, a ResNet with a projected shortcut), at
any depth and width. Each names its layers so tests can state each
variable's role by path."""

import keras
from keras import layers


def decoder(depth=2, width=16, vocab=24, length=8, heads=2):
    """GPT's block: x + attention(norm(x)), then x + mlp(norm(x))."""
    tokens = keras.Input((length,), dtype="int32")
    x = layers.Embedding(vocab, width, name="tokens")(tokens)
    # Positions from the tokens, so the embedding is part of the graph.
    positions = layers.Embedding(length, width, name="positions")(
        keras.ops.zeros_like(tokens) + keras.ops.arange(length)
    )
    x = layers.Add(name="embed")([x, positions])
    for i in range(depth):
        h = layers.LayerNormalization(name=f"ln_a{i}")(x)
        h = layers.MultiHeadAttention(heads, width // heads, name=f"attn{i}")(
            h, h, use_causal_mask=True
        )
        h = layers.Dropout(0.1)(h)
        x = layers.Add()([x, h])
        h = layers.LayerNormalization(name=f"ln_m{i}")(x)
        h = layers.Dense(4 * width, activation="gelu", name=f"fc{i}")(h)
        h = layers.Dense(width, name=f"proj{i}")(h)
        h = layers.Dropout(0.1)(h)
        x = layers.Add()([x, h])
    x = layers.LayerNormalization(name="ln_f")(x)
    return keras.Model(
        tokens, layers.Dense(vocab, name="head")(x), name="decoder"
    )


def encoder(depth=2, width=16, vocab=24, length=8, heads=2):
    """BERT's block: norm(x + attention(x)), then norm(x + mlp(x))."""
    tokens = keras.Input((length,), dtype="int32")
    x = layers.Embedding(vocab, width, name="tokens")(tokens)
    x = layers.LayerNormalization(name="ln_e")(x)
    for i in range(depth):
        h = layers.MultiHeadAttention(heads, width // heads, name=f"attn{i}")(
            x, x
        )
        x = layers.LayerNormalization(name=f"ln_a{i}")(layers.Add()([x, h]))
        h = layers.Dense(2 * width, activation="gelu", name=f"fc{i}")(x)
        h = layers.Activation("linear")(
            layers.Dense(width, name=f"proj{i}")(h)
        )
        x = layers.LayerNormalization(name=f"ln_m{i}")(layers.Add()([x, h]))
    return keras.Model(
        tokens, layers.Dense(3, name="head")(x[:, 0]), name="encoder"
    )


def gated(depth=2, width=16, vocab=24, length=8):
    """Llama's MLP: x + down(silu(gate(norm(x))) * up(norm(x))), biasless."""
    tokens = keras.Input((length,), dtype="int32")
    x = layers.Embedding(vocab, width, name="tokens")(tokens)
    for i in range(depth):
        h = layers.RMSNormalization(name=f"norm{i}")(x)
        gate = layers.Dense(
            3 * width, activation="silu", use_bias=False, name=f"gate{i}"
        )(h)
        up = layers.Dense(3 * width, use_bias=False, name=f"up{i}")(h)
        h = layers.Dense(width, use_bias=False, name=f"down{i}")(
            layers.Multiply()([gate, up])
        )
        x = layers.Add()([x, h])
    return keras.Model(
        tokens,
        layers.Dense(vocab, use_bias=False, name="head")(x),
        name="gated",
    )


def resnet(blocks=2, channels=8):
    """conv-bn-relu-conv-bn branches; the last block widens, its shortcut a
    1x1 convolution and batch norm."""
    images = keras.Input((8, 8, 3))
    x = layers.Conv2D(channels, 3, padding="same", name="stem")(images)
    for i in range(blocks):
        out = channels * 2 if i == blocks - 1 else channels
        h = layers.Conv2D(channels, 3, padding="same", name=f"conv_a{i}")(x)
        h = layers.ReLU()(layers.BatchNormalization(name=f"bn_a{i}")(h))
        h = layers.Conv2D(out, 3, padding="same", name=f"conv_b{i}")(h)
        h = layers.BatchNormalization(name=f"bn_b{i}")(h)
        skip = x
        if out != channels:
            skip = layers.BatchNormalization(name="bn_skip")(
                layers.Conv2D(out, 1, name="conv_skip")(x)
            )
        x = layers.ReLU()(layers.Add()([skip, h]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(images, layers.Dense(10, name="head")(x), name="resnet")
