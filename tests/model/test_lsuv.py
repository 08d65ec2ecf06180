"""Tests of lsuv: unit output variance per layer, reports, errors, rollback."""

import re

import keras
import numpy as np
import pytest

import keras_inits

TOLERANCE = 0.1


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def measured_variances(model, x, normalize="pre_activation"):
    """Each kernel layer's output variance, measured independently of lsuv:
    one sub-model per layer, run on the batch afresh; for
    "pre_activation", its input through a copy of the layer made without
    an activation."""
    return {
        layer.name: to_numpy(outputs).var()
        for layer, outputs in kernel_outputs(model, x, normalize)
    }


def kernel_outputs(model, x, normalize="pre_activation"):
    """`(layer, outputs on x)` for each layer with a kernel, in order."""
    found = []
    for layer in model.layers:
        if not hasattr(layer, "kernel"):
            continue
        if normalize == "post_activation":
            probe = keras.Model(model.inputs[0], layer.output)
            found.append((layer, probe(x, training=False)))
            continue
        inputs = keras.Model(model.inputs[0], layer.input)(x, training=False)
        linear = type(layer).from_config(
            dict(layer.get_config(), activation="linear")
        )
        linear(inputs)  # builds it
        linear.set_weights(layer.get_weights())
        found.append((layer, linear(inputs, training=False)))
    return found


def mlp(depth=20, width=32, activation="relu"):
    layers = [keras.Input((16,))]
    layers += [
        keras.layers.Dense(width, activation=activation)
        for _ in range(depth - 1)
    ]
    layers.append(keras.layers.Dense(10))
    return keras.Sequential(layers)


def small_cnn():
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10)(x)
    return keras.Model(inputs, outputs)


def batch(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_twenty_layer_mlp_reaches_unit_variance_in_every_layer():
    model, x = mlp(), batch((256, 16))
    # Far from unit variance before: the default Glorot kernels shrink a
    # ReLU network's signal layer after layer.
    before = measured_variances(model, x)
    assert min(before.values()) < 0.01
    report = keras_inits.lsuv(model, x, tolerance=TOLERANCE, seed=1)
    assert len(report) == 20 and report.converged
    variances = measured_variances(model, x)
    assert [row.layer for row in report] == list(variances)
    for row in report:
        assert abs(variances[row.layer] - 1.0) <= TOLERANCE
        np.testing.assert_allclose(
            row.variance, variances[row.layer], rtol=1e-4
        )
        assert 0 <= row.iterations <= 10
    # The orthogonal start alone leaves ReLU layers at variance ~1/2.
    assert sum(row.iterations for row in report) >= 19


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu"])
def test_every_pre_activation_variance_reaches_one(activation):
    model, x = mlp(depth=8, activation=activation), batch((256, 16))
    report = keras_inits.lsuv(model, x, tolerance=TOLERANCE, seed=11)
    assert report.converged
    variances = measured_variances(model, x)
    for row in report:
        assert abs(variances[row.layer] - 1.0) <= TOLERANCE, row.layer
        np.testing.assert_allclose(
            row.variance, variances[row.layer], rtol=1e-4
        )


def test_saturating_units_stay_out_of_saturation():
    # Normalized after the activation, a sigmoid layer was pushed until
    # all its outputs sat within 1e-3 of 0 or 1, and a tanh network's
    # pre-activations reached variance 30 or more. With pre-activations of
    # variance 1, under 0.1% of them pass 6.9 (where a sigmoid is within
    # 1e-3 of 0 or 1) or 3.8 (tanh within 1e-3 of -1 or 1): allow 1%.
    x = batch((256, 16))
    for activation, edge in (("sigmoid", 6.9), ("tanh", 3.8)):
        model = mlp(depth=6, activation=activation)
        keras_inits.lsuv(model, x, seed=12)
        for layer, outputs in kernel_outputs(model, x)[:-1]:
            saturated = np.abs(to_numpy(outputs)) > edge
            assert saturated.mean() < 0.01, (activation, layer.name)


def test_a_softmax_head_is_not_saturated():
    model = keras.Sequential(
        [keras.Input((16,))]
        + [keras.layers.Dense(32, activation="relu") for _ in range(3)]
        + [keras.layers.Dense(10, activation="softmax")]
    )
    x = batch((256, 16))
    keras_inits.lsuv(model, x, seed=13)
    logits = to_numpy(kernel_outputs(model, x)[-1][1])
    assert abs(logits.var() - 1.0) <= TOLERANCE
    top = to_numpy(model(x, training=False)).max(axis=1)
    assert np.mean(top > 0.999) == 0.0
    # Normalized after the softmax (whose outputs' variance stays below
    # 0.09), the head is scaled up at every one of its rescalings until
    # nearly every sample is certain.
    with pytest.warns(UserWarning, match="lsuv: the output variance"):
        keras_inits.lsuv(model, x, normalize="post_activation", seed=13)
    top = to_numpy(model(x, training=False)).max(axis=1)
    assert np.mean(top > 0.999) > 0.9


def test_post_activation_brings_each_output_to_unit_variance():
    model, x = mlp(depth=6), batch((256, 16))
    report = keras_inits.lsuv(model, x, normalize="post_activation", seed=14)
    assert report.converged
    variances = measured_variances(model, x, "post_activation")
    for row in report:
        assert abs(variances[row.layer] - 1.0) <= TOLERANCE, row.layer


def test_a_layer_that_cannot_converge_keeps_its_closest_kernel():
    # Inputs near 1 and a bias of -2 times each unit's weight: the output
    # w_j (s - 2) + 0.1 s w_j z has variance 4 (s - 2)^2 + 0.04 s^2 at
    # kernel scale s, which rescaling by 1 / sqrt(v) drives away from 1
    # (4.04 at s = 1, then 9.0, 13.4...): the start is the closest.
    weights = np.tile([2.0, -2.0], 8)[None, :].astype("float32")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(16)])
    model.layers[0].set_weights([weights, -2.0 * weights[0]])
    x = 1.0 + 0.1 * batch((512, 1))
    with pytest.warns(UserWarning, match="lsuv: the output variance"):
        report = keras_inits.lsuv(
            model, x, orthogonal_start=False, max_iterations=3
        )
    assert report[0].iterations == 3 and not report.converged
    np.testing.assert_allclose(
        to_numpy(model.layers[0].kernel), weights, rtol=1e-5
    )
    np.testing.assert_allclose(report[0].variance, 4.04, rtol=0.02)


def test_small_cnn_reaches_unit_variance_in_every_layer():
    model, x = small_cnn(), batch((64, 12, 12, 3))
    report = keras_inits.lsuv(model, x, tolerance=TOLERANCE, seed=2)
    # Pooling, normalization and global pooling are passed through.
    assert [row.layer for row in report] == [
        layer.name
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ]
    for name, variance in measured_variances(model, x).items():
        assert abs(variance - 1.0) <= TOLERANCE, name


def test_functional_model_with_branches():
    inputs = keras.Input((8,))
    left = keras.layers.Dense(16, activation="relu")(inputs)
    right = keras.layers.Dense(16)(inputs)
    merged = keras.layers.Add()([left, right])
    outputs = keras.layers.Dense(4)(merged)
    model = keras.Model(inputs, outputs)
    x = batch((128, 8))
    report = keras_inits.lsuv(model, x, seed=3)
    assert len(report) == 3 and report.converged
    for variance in measured_variances(model, x).values():
        assert abs(variance - 1.0) <= TOLERANCE


def test_sequential_built_lazily():
    model = keras.Sequential(
        [keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)]
    )
    report = keras_inits.lsuv(model, batch((128, 8)), seed=4)
    assert report.converged and len(report) == 2


def test_orthogonal_start_then_a_scale():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8)])
    keras_inits.lsuv(model, batch((128, 16)), seed=5)
    kernel = to_numpy(model.layers[0].kernel)
    gram = kernel.T @ kernel
    # Orthonormal columns times one scale c: K^T K = c^2 I.
    np.testing.assert_allclose(gram, gram[0, 0] * np.eye(8), atol=1e-5)


def test_without_orthogonal_start_only_rescales():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8)])
    before = to_numpy(model.layers[0].kernel)
    report = keras_inits.lsuv(model, batch((128, 16)), orthogonal_start=False)
    after = to_numpy(model.layers[0].kernel)
    ratio = after / before
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-4)
    assert report.converged


def test_seed_makes_it_reproducible():
    x = batch((64, 16))
    a, b = mlp(depth=3), mlp(depth=3)
    keras_inits.lsuv(a, x, seed=6)
    keras_inits.lsuv(b, x, seed=6)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(to_numpy(la.kernel), to_numpy(lb.kernel))


def test_report_prints_as_a_table():
    report = keras_inits.lsuv(mlp(depth=2), batch((64, 16)), seed=7)
    lines = str(report).splitlines()
    assert lines[0].split() == ["layer", "iterations", "variance", "converged"]
    assert len(lines) == 3
    for line, row in zip(lines[1:], report):
        assert line.split() == [
            row.layer,
            str(row.iterations),
            f"{row.variance:.4f}",
            "yes",
        ]
    assert isinstance(report[0], keras_inits.LayerReport)


def test_not_converging_warns_and_keeps_the_weights():
    # After tanh, one rescaling cannot bring the output variance from ~0.4
    # to within 0.01 of 1.
    model = keras.Sequential(
        [keras.Input((16,)), keras.layers.Dense(16, activation="tanh")]
    )
    x = batch((128, 16))
    with pytest.warns(
        UserWarning, match=re.escape("lsuv: the output variance of ['")
    ):
        report = keras_inits.lsuv(
            model,
            x,
            tolerance=0.01,
            max_iterations=1,
            normalize="post_activation",
            seed=8,
        )
    assert not report.converged
    assert report[0].iterations == 1 and "NO" in str(report)
    measured = measured_variances(model, x, "post_activation")
    np.testing.assert_allclose(
        measured[report[0].layer], report[0].variance, rtol=1e-4
    )


def test_failure_midway_restores_every_kernel():
    # The third Dense sees an all-zero input: output variance 0, which no
    # rescaling fixes. By then the first two kernels have been changed.
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(8),
            keras.layers.Dense(8),
            keras.layers.Rescaling(0.0),
            keras.layers.Dense(8),
        ]
    )
    before = [
        to_numpy(layer.kernel)
        for layer in model.layers
        if hasattr(layer, "kernel")
    ]
    with pytest.raises(ValueError, match="lsuv cannot rescale layer "):
        keras_inits.lsuv(model, batch((32, 8)), seed=9)
    after = [
        to_numpy(layer.kernel)
        for layer in model.layers
        if hasattr(layer, "kernel")
    ]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_wrong_batch_shape():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "lsuv needs x_batch of shape (None, 16) (None: any size) for model"
        ),
    ):
        keras_inits.lsuv(mlp(depth=2), batch((32, 5)))


def test_wrong_number_of_inputs():
    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model(
        [a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b]))
    )
    with pytest.raises(
        ValueError, match="lsuv needs x_batch with the 2 input"
    ):
        keras_inits.lsuv(model, batch((8, 4)))


def test_lazy_model_that_cannot_run_the_batch():
    model = keras.Sequential([keras.layers.Conv2D(4, 3)])
    with pytest.raises(ValueError, match="lsuv could not run model"):
        keras_inits.lsuv(model, batch((8, 5)))


def test_empty_model():
    with pytest.raises(ValueError, match="lsuv needs a model with layers"):
        keras_inits.lsuv(keras.Sequential(), batch((8, 4)))


def test_model_without_kernels():
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="lsuv found no layer with a kernel"):
        keras_inits.lsuv(model, batch((8, 4, 2)))


def test_shared_layer_is_refused():
    inputs = keras.Input((4,))
    shared = keras.layers.Dense(4)
    model = keras.Model(inputs, shared(shared(inputs)))
    with pytest.raises(
        ValueError,
        match="lsuv needs each layer with a kernel to be called once",
    ):
        keras_inits.lsuv(model, batch((8, 4)))


def test_not_a_model():
    with pytest.raises(ValueError, match="lsuv needs a keras.Model"):
        keras_inits.lsuv(keras.layers.Dense(3), batch((8, 4)))


@pytest.mark.parametrize(
    "name, value, requirement",
    [
        ("tolerance", 0.0, "a positive number"),
        ("tolerance", -0.1, "a positive number"),
        ("max_iterations", 0, "a positive integer"),
        ("max_iterations", 2.5, "a positive integer"),
        ("orthogonal_start", "yes", "a bool"),
        ("normalize", "pre", '"pre_activation" or "post_activation"'),
        ("normalize", None, '"pre_activation" or "post_activation"'),
        ("seed", -1, "None, an integer"),
    ],
)
def test_bad_arguments(name, value, requirement):
    with pytest.raises(
        ValueError,
        match=re.escape(f"Argument `{name}` of lsuv must be {requirement}"),
    ):
        keras_inits.lsuv(mlp(depth=2), batch((8, 16)), **{name: value})


def kernels(model):
    return [
        to_numpy(layer.kernel)
        for layer in model.layers
        if hasattr(layer, "kernel")
    ]


def assert_unchanged(before, model):
    for b, a in zip(before, kernels(model), strict=True):
        np.testing.assert_array_equal(a, b)


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.first = keras.layers.Dense(8, activation="relu")
        self.second = keras.layers.Dense(4)

    def call(self, x):
        return self.second(self.first(x))


def test_subclassed_model_is_refused_with_the_reason():
    model, x = Subclassed(), batch((16, 6))
    model(x)  # built: it has weights lsuv must not touch
    before = kernels(model)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "lsuv needs a Sequential or Functional model: it measures each "
            "layer on its input"
        ),
    ) as info:
        keras_inits.lsuv(model, x)
    assert "Received: model 'sub' of class Subclassed" in str(info.value)
    assert_unchanged(before, model)


@pytest.mark.parametrize(
    "name, value, requirement",
    [
        ("max_iterations", 10**400, "a positive integer no larger than 1,000"),
        ("max_iterations", 1001, "a positive integer no larger than 1,000"),
    ],
)
def test_iterations_are_bounded(name, value, requirement):
    model = mlp(depth=2)
    before = kernels(model)
    with pytest.raises(
        ValueError,
        match=re.escape(f"Argument `{name}` of lsuv must be {requirement}"),
    ):
        keras_inits.lsuv(model, batch((8, 16)), **{name: value})
    assert_unchanged(before, model)


@pytest.mark.parametrize(
    "x_batch, message",
    [
        (None, "Argument `x_batch` of lsuv must be an array of numbers"),
        ("abc", "Argument `x_batch` of lsuv must be an array of numbers"),
        (10**400, "Argument `x_batch` of lsuv must be an array of numbers"),
        (
            np.zeros((8, 16), dtype=object),
            "Argument `x_batch` of lsuv must be an array of numbers",
        ),
        (
            np.zeros((0, 16), "float32"),
            "lsuv needs x_batch with one sample or more",
        ),
        (
            np.full((8, 16), np.nan, "float32"),
            "lsuv needs x_batch of finite values",
        ),
        (np.full((8, 16), np.inf), "lsuv needs x_batch of finite values"),
    ],
)
def test_bad_batches_change_nothing(x_batch, message):
    model = mlp(depth=2)
    before = kernels(model)
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_inits.lsuv(model, x_batch, seed=1)
    assert_unchanged(before, model)


def test_inputs_of_different_batch_sizes_are_refused():
    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model(
        [a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b]))
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "lsuv needs every array of x_batch to have the same batch "
            "size. Received: shapes [(8, 4), (6, 4)]"
        ),
    ):
        keras_inits.lsuv(model, [batch((8, 4)), batch((6, 4))])


def test_what_lsuv_does_not_enter_is_named_at_the_callers_line():
    # A nested model and a layer whose kernels are its sublayers' keep their
    # weights, each named in a warning that points at the call of lsuv.
    inputs = keras.Input((8, 16))
    inner = keras.Sequential(
        [keras.Input((8, 16)), keras.layers.Dense(16, name="inner_dense")],
        name="inner",
    )
    x = keras.layers.Dense(16, name="first")(inputs)
    x = keras.layers.MultiHeadAttention(2, 8, name="attention")(x, x)
    x = inner(x)
    model = keras.Model(inputs, x)
    kept = {
        v.path: keras.ops.convert_to_numpy(v).copy()
        for v in model.weights
        if not v.path.startswith("first/")
    }
    x_batch = np.random.default_rng(0).normal(size=(64, 8, 16))
    with pytest.warns(UserWarning) as record:
        keras_inits.lsuv(model, x_batch, seed=0)
    ours = [w for w in record if str(w.message).startswith("lsuv ")]
    messages = [str(w.message) for w in ours]
    assert any(
        m.startswith("lsuv does not enter MultiHeadAttention 'attention': ")
        and "['query', 'key', 'value', 'attention_output']" in m
        for m in messages
    ), messages
    assert any("the nested model 'inner'" in m for m in messages), messages
    assert {w.filename for w in ours} == {__file__}
    for v in model.weights:
        if v.path in kept:
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(v), kept[v.path], err_msg=v.path
            )
