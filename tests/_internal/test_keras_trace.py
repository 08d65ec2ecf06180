"""`keras_trace.trace_call`: the operations of a model's call, with the
Keras private API it relies on (`Layer.__call__` and `.call`, operations'
node lists, `KerasTensor._keras_history`, a functional model's
`_inputs_struct`, a layer's `_build_shapes_dict`)."""

import keras
import numpy as np
import pytest
from keras.src import backend

from keras_inits._internal import keras_internals
from keras_inits._internal import keras_trace


def decoder_block():
    tokens = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 8, name="embed")(tokens)
    h = keras.layers.LayerNormalization(name="ln")(x)
    h = keras.layers.MultiHeadAttention(2, 4, name="attn")(h, h)
    x = keras.layers.Add()([x, h])
    return keras.Model(tokens, keras.layers.Dense(20, name="head")(x))


def node_counts(model):
    return [
        (len(op._inbound_nodes), len(op._outbound_nodes))
        for op in keras_internals.all_layers(model)
    ]


def test_layers_are_expanded_into_their_operations():
    model = decoder_block()
    trace = keras_trace.trace_call(model)
    kinds = [node.kind for node in trace.nodes]
    # MultiHeadAttention's einsums, not one node for the layer.
    assert "MultiHeadAttention" not in kinds
    assert kinds.count("Einsum") >= 4
    reads = {
        node.variables[0].path for node in trace.nodes if node.kind == "Read"
    }
    assert {"attn/query/kernel", "head/kernel", "embed/embeddings"} <= reads
    assert not trace.opaque
    assert len(trace.inputs) == 1 and len(trace.outputs) == 1
    # Each node comes after the nodes of its operands.
    made = set(trace.inputs)
    for node in trace.nodes:
        for operand in node.operands:
            if isinstance(operand, int):
                assert operand in made
        made.update(node.outputs)


def test_numbers_are_floats_and_never_taken_for_tensors():
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: keras.ops.sum(x * 3, axis=1))(
        inputs
    )
    trace = keras_trace.trace_call(keras.Model(inputs, outputs))
    operands = [x for node in trace.nodes for x in node.operands]
    assert 3.0 in {x for x in operands if isinstance(x, float)}
    # Every int is a tensor's index.
    assert all(
        0 <= x < len(trace.shapes) for x in operands if isinstance(x, int)
    )


def test_the_model_is_left_as_it_was():
    model = decoder_block()
    counts = node_counts(model)
    built = [layer.built for layer in keras_internals.all_layers(model)]
    before = [np.array(v) for v in model.weights]
    keras_trace.trace_call(model)
    assert node_counts(model) == counts
    assert [
        layer.built for layer in keras_internals.all_layers(model)
    ] == built
    for variable, value in zip(model.weights, before):
        np.testing.assert_array_equal(np.array(variable), value)
    # The model still runs, and Layer.__call__ is Keras' own again.
    model(np.zeros((1, 6), "int32"))
    assert keras.layers.Layer.__call__ is keras_trace._keras_call


class BackendInside(keras.layers.Layer):
    """A layer whose call cannot run on symbolic tensors: it calls the
    backend's own function, as some of Keras' and keras-hub's layers do,
    which only Keras' own shape tracing can run."""

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], 3), name="kernel")

    def call(self, x):
        return backend.numpy.matmul(x, self.kernel)


def test_a_layer_that_does_not_trace_is_one_opaque_node():
    inputs = keras.Input((4,))
    layer = BackendInside(name="backend_inside")
    model = keras.Model(inputs, keras.layers.Dense(2)(layer(inputs)))
    trace = keras_trace.trace_call(model)
    (opaque,) = [node for node in trace.nodes if node.opaque]
    assert opaque.operation is layer
    assert opaque.variables == (layer.kernel,)
    assert [entry[0] for entry in trace.opaque] == [layer]


def test_a_subclassed_model_traces_from_its_build_shapes():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3, name="dense")

        def call(self, x):
            return x + keras.ops.sum(self.dense(x), axis=-1, keepdims=True)

    model = Net()
    model(np.zeros((2, 5), "float32"))
    trace = keras_trace.trace_call(model)
    assert any(node.kind == "Matmul" for node in trace.nodes)


def test_an_unbuilt_model_cannot_be_traced():
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(keras_trace.TraceError, match="records no input"):
        keras_trace.trace_call(Net())
