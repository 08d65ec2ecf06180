"""Tests of `keras_inits._internal.variable_initializers`: a layer's held
initializers are what its `build` passes, for every `keras.layers` export;
a layer whose config is refused is still found, or refused in a short
message."""

import inspect
import sys

import keras
import pytest

from keras_inits._internal import keras_internals
from keras_inits._internal import variable_initializers
from keras_inits._internal.variable_initializers import Found
from keras_inits._internal.variable_initializers import NotFound
from keras_inits._internal.variable_initializers import NotRebuilt

# Constructor arguments for the `keras.layers` exports, by class name: a
# required argument takes its value from `_REQUIRED` by its name; a layer
# named in `_ARGUMENTS` takes those too. Initializers are seeded and not
# the defaults where a layer takes them (`_INITIALIZERS`), so that a held
# initializer that differs from the twin's in its config is seen.
_REQUIRED = {
    "units": 3,
    "filters": 2,
    "kernel_size": 2,
    "input_dim": 5,
    "output_dim": 3,
    "rate": 0.5,
    "stddev": 0.1,
    "factor": 0.5,
    "height_factor": 0.1,
    "width_factor": 0.1,
    "pool_size": 2,
    "output_size": 2,
    "height": 4,
    "width": 4,
    "activation": "relu",
    "axes": 1,
    "dims": (1,),
    "n": 2,
    "scale": 2.0,
    "target_shape": (-1,),
    "num_bins": 4,
    "max_number": 2,
    "head_dim": 3,
    "num_query_heads": 2,
    "num_key_value_heads": 1,
    "num_heads": 2,
    "key_dim": 3,
}
_ARGUMENTS = {
    "Dense": {"bias_initializer": "ones"},
    "EinsumDense": {
        "equation": "ab,bc->ac",
        "output_shape": 3,
        "bias_axes": "c",
        "bias_initializer": keras.initializers.RandomUniform(seed=8),
    },
    "LSTMCell": {"unit_forget_bias": False},
    "LSTM": {"unit_forget_bias": False},
    "ConvLSTM1D": {"unit_forget_bias": False},
    "ConvLSTM2D": {"unit_forget_bias": False},
    "ConvLSTM3D": {"unit_forget_bias": False},
    "RNN": {"cell": keras.layers.SimpleRNNCell(3, bias_initializer="ones")},
    "StackedRNNCells": {
        "cells": [keras.layers.GRUCell(3), keras.layers.LSTMCell(2)]
    },
    "Bidirectional": {
        "layer": keras.layers.LSTM(
            3, return_sequences=True, unit_forget_bias=False
        )
    },
    "TimeDistributed": {"layer": keras.layers.Dense(3)},
    "SpectralNormalization": {"layer": keras.layers.Dense(3)},
    "Attention": {"use_scale": True},
    "AdditiveAttention": {"use_scale": True},
    "GroupNormalization": {"groups": 2},
    "CategoryEncoding": {"num_tokens": 4},
    "Discretization": {"num_bins": 4},
    "RandomPosterization": {"factor": 2},
}
# The inputs a layer is built on: the first of these shapes (batch of 2
# first) its call accepts, as one input, then as a list of two; else
# `build` on each shape (the cells, whose call needs states).
_SHAPES = [
    (2, 4),
    (2, 5, 4),
    (2, 6, 6, 3),
    (2, 3, 6, 6, 3),
    (2, 3, 6, 6, 6, 3),
]
# Initializer arguments each export takes get a seeded non-default value.
_INITIALIZERS = {
    "kernel_initializer": keras.initializers.RandomNormal(0.1, 0.2, seed=1),
    "recurrent_initializer": keras.initializers.Orthogonal(0.5, seed=2),
    "depthwise_initializer": keras.initializers.HeUniform(seed=4),
    "pointwise_initializer": keras.initializers.LecunNormal(seed=5),
    "embeddings_initializer": keras.initializers.TruncatedNormal(seed=6),
    "gamma_initializer": keras.initializers.Constant(2.0),
    "beta_initializer": keras.initializers.Constant(-1.0),
    "moving_mean_initializer": keras.initializers.Constant(0.5),
    "moving_variance_initializer": keras.initializers.Constant(3.0),
    "alpha_initializer": keras.initializers.Constant(0.25),
    "query_kernel_initializer": keras.initializers.GlorotNormal(seed=7),
}
# `keras.layers` exports that cannot be made from arguments of this file:
# none holds an initializer.
_NOT_BUILT = {
    "InputLayer": "no build: it makes the graph's input",
    "Lambda": "needs a function",
    "Pipeline": "needs a list of layers",
    "JaxLayer": "wraps JAX functions",
    "FlaxLayer": "wraps a Flax module",
    "TorchModuleWrapper": "wraps a PyTorch module",
    "TFSMLayer": "loads a TensorFlow SavedModel",
    "Wrapper": "an abstract base",
}


def _exports():
    """Each layer class `keras.layers` exports, once."""
    classes = {
        value
        for value in vars(keras.layers).values()
        if inspect.isclass(value) and issubclass(value, keras.layers.Layer)
    }
    return sorted(classes, key=lambda cls: cls.__name__)


def _construct(cls, seeded=True):
    """A `cls` made with the arguments of this file; with `seeded`, an
    initializer argument it takes gets the one `_INITIALIZERS` names, else
    its default (mostly unseeded variance-scaling ones)."""
    parameters = inspect.signature(cls.__init__).parameters
    arguments = {
        name: _REQUIRED[name]
        for name, parameter in parameters.items()
        if parameter.default is parameter.empty and name in _REQUIRED
    }
    arguments.update(_ARGUMENTS.get(cls.__name__, {}))
    if seeded:
        for name, initializer in _INITIALIZERS.items():
            if name in parameters and name not in arguments:
                arguments[name] = initializer
    return cls(**arguments)


def _built(cls, seeded=True):
    """A `cls` built on the first of `_SHAPES` it accepts, each attempt on
    a new one (a failed call may leave it half built); raises the first
    error when it accepts none."""
    errors = []
    attempts = [
        lambda layer, shape: layer(keras.Input(batch_shape=shape)),
        lambda layer, shape: layer(
            [keras.Input(batch_shape=shape), keras.Input(batch_shape=shape)]
        ),
        lambda layer, shape: layer(
            keras.Input(batch_shape=shape), keras.Input(batch_shape=shape)
        ),
        lambda layer, shape: layer.build(shape),
    ]
    for attempt in attempts:
        for shape in _SHAPES:
            layer = _construct(cls, seeded)
            try:
                attempt(layer, shape)
                return layer
            except Exception as error:
                errors.append(error)
    raise errors[0]


def _holds_initializers(layer):
    """Whether `layer` or a layer in it holds an `*_initializer`."""
    return any(
        name.endswith("_initializer")
        and isinstance(value, keras.initializers.Initializer)
        for sublayer in keras_internals.all_layers(layer)
        for name, value in vars(sublayer).items()
    )


def _held_and_twin(layer):
    """`[(path, held, twin's)]` for each variable of each layer nested in
    `layer` whose held initializers are used: the held initializer and
    what its layer's twin finds."""
    pairs = []
    for sublayer in keras_internals.all_layers(layer):
        variables = keras_internals.own_variables(sublayer)
        held = [
            variable_initializers.held_initializer(sublayer, v)
            for v in variables
        ]
        if not variables or not variable_initializers.is_verified(sublayer):
            continue
        if any(h is None for h in held):
            continue
        twin = variable_initializers._from_twin(
            sublayer, keras_internals.layer_twin(sublayer), True
        )
        for variable, h in zip(variables, held):
            pairs.append((variable.path, h, twin[id(variable)]))
    return pairs


def _differences(pairs):
    return [
        (path, held, found)
        for path, held, found in pairs
        if not (
            isinstance(found, Found)
            and type(found.initializer) is type(held)
            and found.initializer.get_config() == held.get_config()
        )
    ]


def test_every_export_holding_an_initializer_is_built_here():
    # Iterating over `keras.layers` itself: a layer a new Keras exports is
    # checked, or fails here until this file can build it.
    unmade = {}
    unbuilt = {}
    for cls in _exports():
        try:
            layer = _construct(cls)
        except Exception as error:
            unmade[cls.__name__] = f"{type(error).__name__}: {error}"[:200]
            continue
        try:
            _built(cls)
        except Exception as error:
            if _holds_initializers(layer):
                unbuilt[cls.__name__] = f"{type(error).__name__}: {error}"
    assert sorted(unmade) == sorted(_NOT_BUILT), unmade
    assert not unbuilt


@pytest.mark.parametrize("seeded", [False, True], ids=["defaults", "seeded"])
@pytest.mark.parametrize(
    "cls",
    [cls for cls in _exports() if cls.__name__ not in _NOT_BUILT],
    ids=lambda cls: cls.__name__,
)
def test_a_held_initializer_is_the_one_build_passes(cls, seeded):
    try:
        layer = _built(cls, seeded)
    except Exception:  # then it holds none (the test above)
        return
    assert not _differences(_held_and_twin(layer))


def test_the_common_layers_are_read_from_what_they_hold():
    # The comparisons above are not empty for the layers most models are
    # made of: these are read from what they hold.
    for name in (
        "Dense",
        "Embedding",
        "Conv2D",
        "Conv1DTranspose",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "PReLU",
        "TimeDistributed",
    ):
        assert _held_and_twin(_built(getattr(keras.layers, name))), name


@pytest.mark.parametrize("cls", [keras.layers.LSTMCell, keras.layers.LSTM])
def test_lstm_bias_with_unit_forget_bias_keeps_the_twin(cls):
    # With `unit_forget_bias=True` (the default) the bias is a closure made
    # in `build`: the held `bias_initializer` is only part of it, so
    # LSTMCell is one of `_HELD_EXCEPTIONS`.
    layer = cls(3, bias_initializer="zeros")
    if cls is keras.layers.LSTMCell:
        layer.build((2, 4))
    else:
        layer(keras.Input(batch_shape=(2, 5, 4)))
    cell = layer if cls is keras.layers.LSTMCell else layer.cell
    assert isinstance(cell.bias_initializer, keras.initializers.Zeros)
    assert not variable_initializers.is_verified(cell)
    found = variable_initializers.layer_initializers(cell)[id(cell.bias)]
    assert isinstance(found, Found)
    assert not isinstance(found.initializer, keras.initializers.Initializer)
    values = keras.ops.convert_to_numpy(found.initializer((12,)))
    assert values.tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6


class _Scaled(keras.layers.Layer):
    """A user's layer: `kernel` from the initializer it holds, `offset`
    from one it names in `build` only, and a `get_config` that writes an
    argument its constructor refuses (as keras-hub's
    `ViTPatchingAndEmbedding` does)."""

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            (input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.offset = self.add_weight(
            (self.units,),
            initializer=keras.initializers.RandomNormal(0.5, 0.1, seed=4),
            name="offset",
        )

    def call(self, x):
        return x @ self.kernel + self.offset

    def get_config(self):
        return {**super().get_config(), "units": self.units, "extra": 1}


class _Unconfigurable(_Scaled):
    """`_Scaled`, whose config cannot even be read, made with an argument
    it keeps under another name: no twin can be built."""

    def __init__(self, width, **kwargs):
        super().__init__(width, **kwargs)

    def get_config(self):
        raise NotImplementedError("\nNo config here.\n" + "Example. " * 500)


def test_a_refused_config_is_rebuilt_from_the_layers_attributes():
    held = keras.initializers.HeNormal(seed=9)
    layer = _Scaled(3, kernel_initializer=held)
    layer.build((2, 4))
    with pytest.raises(TypeError):
        keras_internals.layer_twin(layer)
    found = variable_initializers.layer_initializers(layer)
    kernel = found[id(layer.kernel)]
    offset = found[id(layer.offset)]
    assert isinstance(kernel, Found)
    assert kernel.initializer is held  # what the twin's `build` passed
    assert isinstance(offset, Found)
    assert offset.initializer.get_config() == {
        "mean": 0.5,
        "stddev": 0.1,
        "seed": 4,
    }


def test_without_a_twin_the_held_initializers_are_used_and_the_rest_named():
    held = keras.initializers.HeNormal(seed=9)
    layer = _Unconfigurable(3, kernel_initializer=held, name="odd")
    layer.build((2, 4))
    found = variable_initializers.layer_initializers(layer)
    assert found[id(layer.kernel)] == Found(held)
    offset = found[id(layer.offset)]
    assert isinstance(offset, NotFound)
    assert offset.reason == (
        "_Unconfigurable cannot be rebuilt from its config to find its "
        "initializers (layer 'odd': NotImplementedError: No config here.)"
    )


def test_a_layer_that_holds_nothing_and_cannot_be_rebuilt_says_so_briefly():
    layer = _Unconfigurable(3, name="odd")
    layer.build((2, 4))
    del layer.kernel_initializer
    with pytest.raises(NotRebuilt) as raised:
        variable_initializers.layer_initializers(layer)
    message = str(raised.value)
    assert message == (
        "_Unconfigurable cannot be rebuilt from its config to find its "
        "initializers (layer 'odd': NotImplementedError: No config here.); "
        "give it a `get_config` that `from_config` accepts"
    )
    assert len(message) <= 400
    assert "\n" not in message


def test_a_long_error_is_cut_to_its_first_line():
    error = ValueError("x" * 1000 + "\nsecond line")
    brief = variable_initializers._brief(error)
    assert brief == "ValueError: " + "x" * 197 + "..."


def test_tensorflow_left_unimported_restores_keras_lazy_module():
    lazy = keras_internals._lazy_tensorflow
    before = lazy._available
    with keras_internals.tensorflow_left_unimported():
        with keras_internals.tensorflow_left_unimported():
            inside = lazy._available
        still = lazy._available
    assert lazy._available is before
    if "tensorflow" in sys.modules:  # then it changes nothing
        assert inside is before and still is before
    else:
        assert inside is False and still is False


def _common_model():
    """Dense, Conv2D, Embedding, LSTM, BatchNormalization,
    LayerNormalization and MultiHeadAttention, with default, named, seeded
    and unseeded initializers."""
    tokens = keras.Input((6,), dtype="int32")
    series = keras.Input((6, 8))
    x = keras.layers.Dense(
        8, kernel_initializer=keras.initializers.HeNormal(seed=3)
    )(series)
    x = x + keras.layers.Embedding(20, 8, embeddings_initializer="uniform")(
        tokens
    )
    x = keras.layers.LayerNormalization(gamma_initializer="random_normal")(x)
    x = keras.layers.MultiHeadAttention(2, 4)(x, x)
    x = keras.layers.LSTM(8, return_sequences=True)(x)
    x = keras.layers.Reshape((6, 8, 1))(x)
    x = keras.layers.Conv2D(
        3, 3, bias_initializer=keras.initializers.RandomUniform(seed=2)
    )(x)
    x = keras.layers.BatchNormalization(
        moving_variance_initializer=keras.initializers.Constant(2.0)
    )(x)
    return keras.Model([series, tokens], x)


def _drawn(model, seed):
    import keras_inits

    keras_inits.reinitialize(model, seed=seed)
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


def test_einsum_dense_kernel_keeps_the_twin():
    # EinsumDense's `build` passes a copy of a variance-scaling
    # `kernel_initializer` that knows the kernel's input and output axes,
    # which change its fans: EinsumDense is one of `_HELD_EXCEPTIONS`, and
    # so MultiHeadAttention's and GroupedQueryAttention's sublayers.
    layer = keras.layers.EinsumDense("ab,bcd->acd", (4, 5), name="e")
    layer.build((2, 6))
    assert layer.kernel_initializer.get_config()["input_axes"] is None
    assert not variable_initializers.is_verified(layer)
    found = variable_initializers.layer_initializers(layer)
    config = found[id(layer.kernel)].initializer.get_config()
    assert (config["input_axes"], config["output_axes"]) == ([0], [1, 2])


def test_held_initializers_draw_what_the_twins_drew(monkeypatch):
    # Before held initializers were read, every layer was rebuilt: the
    # same seed gives the same values either way, and reading them leaves
    # each layer's config as it was.
    model = _common_model()
    layers = keras_internals.all_layers(model)
    configs = [layer.get_config() for layer in layers]
    held = _drawn(model, seed=5)
    assert [layer.get_config() for layer in layers] == configs
    assert any(
        variable_initializers.is_verified(layer)
        and variable_initializers.held_initializer(layer, layer.kernel)
        for layer in layers
        if hasattr(layer, "kernel")
    )
    monkeypatch.setattr(variable_initializers, "is_verified", lambda _: False)
    twins = _drawn(model, seed=5)
    assert len(held) == len(twins) == len(model.weights)
    for path, a, b in zip((v.path for v in model.weights), held, twins):
        assert a.tobytes() == b.tobytes(), path


def test_a_quantized_layer_keeps_the_twin():
    # A quantized Dense's `build` makes an int8 kernel from zeros and a
    # scale: its held `kernel_initializer` is not what made its kernel.
    layer = keras.layers.Dense(4)
    layer.build((2, 8))
    assert variable_initializers.is_verified(layer)
    layer.quantize("int8")
    assert not variable_initializers.is_verified(layer)
    found = variable_initializers.layer_initializers(layer)
    kernel = found[id(layer.kernel)]
    assert isinstance(kernel, Found)
    assert isinstance(kernel.initializer, keras.initializers.Zeros)
