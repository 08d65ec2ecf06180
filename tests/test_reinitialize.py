"""Tests of `keras_inits.reinitialize`.

Statistical checks use a fixed seed, so each backend sees one fixed sample:
a test passes or fails the same way every run. A Kolmogorov-Smirnov p-value
above 1e-4 is required; the samples hold 48 to 3,000 values, enough for the
test to reject a wrong scale (a factor of 2 gives p < 1e-6 at 48 values).
"""

import os

import keras
import numpy as np
import pytest
from scipy import stats

import keras_inits
from keras_inits.reinitialize import _derive_seed

BACKEND = keras.backend.backend()
I = keras.initializers
P_MIN = 1e-4


def values(variable):
    return np.asarray(keras.ops.convert_to_numpy(variable))


def snapshot(*objects):
    out = {}
    for obj in objects:
        for v in getattr(obj, "weights", None) or obj.variables:
            out[f"{id(v)}"] = values(v).copy()
    return out


def assert_identical(before, after):
    assert before.keys() == after.keys()
    for key in before:
        assert before[key].dtype == after[key].dtype
        np.testing.assert_array_equal(before[key], after[key])


def spoil(model):
    """Sets every weight to 7 so that every one must be re-drawn."""
    for v in model.weights:
        v.assign(keras.ops.full(v.shape, 7, v.dtype))


def uniform(a):
    return stats.uniform(-a, 2 * a)


def truncated(stddev):
    return stats.truncnorm(-2, 2, scale=stddev)


# One row per layer kind: the layer, its input shape, and what each weight
# (by name) must hold: a scipy distribution or exact values.
KINDS = {
    "Dense": (lambda: keras.layers.Dense(
        16, kernel_initializer=I.RandomUniform(-0.5, 0.5),
        bias_initializer=I.Constant(0.25)), (12,),
        {"kernel": uniform(0.5), "bias": np.full(16, 0.25)}),
    "EinsumDense": (lambda: keras.layers.EinsumDense(
        "ab,bcd->acd", (4, 6), bias_axes="d",
        kernel_initializer=I.RandomNormal(0.0, 0.3),
        bias_initializer=keras_inits.Constant(-1.0)), (8,),
        {"kernel": stats.norm(0, 0.3), "bias": np.full(6, -1.0)}),
    "Conv1D": (lambda: keras.layers.Conv1D(
        8, 3, kernel_initializer=keras_inits.HeNormal()), (10, 4),
        {"kernel": stats.norm(0, np.sqrt(2 / 12)), "bias": np.zeros(8)}),
    "Conv2D": (lambda: keras.layers.Conv2D(
        8, 3, kernel_initializer=I.RandomUniform(-0.2, 0.2)), (6, 6, 3),
        {"kernel": uniform(0.2), "bias": np.zeros(8)}),
    "Conv3D": (lambda: keras.layers.Conv3D(
        4, 2, kernel_initializer=I.TruncatedNormal(0.0, 0.1),
        bias_initializer="ones"), (3, 3, 3, 3),
        {"kernel": truncated(0.1), "bias": np.ones(4)}),
    "Conv1DTranspose": (lambda: keras.layers.Conv1DTranspose(
        6, 3, kernel_initializer=I.RandomUniform(-1.0, 1.0)), (5, 4),
        {"kernel": uniform(1.0), "bias": np.zeros(6)}),
    "Conv2DTranspose": (lambda: keras.layers.Conv2DTranspose(
        4, 3, kernel_initializer=I.RandomNormal(0.0, 2.0)), (4, 4, 5),
        {"kernel": stats.norm(0, 2.0), "bias": np.zeros(4)}),
    "Conv3DTranspose": (lambda: keras.layers.Conv3DTranspose(
        4, 2, kernel_initializer=keras_inits.RandomUniform(-0.3, 0.3)),
        (2, 2, 2, 6), {"kernel": uniform(0.3), "bias": np.zeros(4)}),
    "DepthwiseConv2D": (lambda: keras.layers.DepthwiseConv2D(
        3, depth_multiplier=4,
        depthwise_initializer=I.RandomNormal(0.0, 0.4)), (5, 5, 4),
        {"kernel": stats.norm(0, 0.4), "bias": np.zeros(16)}),
    "SeparableConv2D": (lambda: keras.layers.SeparableConv2D(
        16, 3, depth_multiplier=2,
        depthwise_initializer=I.RandomUniform(-0.6, 0.6),
        pointwise_initializer=keras_inits.TruncatedNormal(0.0, 0.5)),
        (5, 5, 4), {"depthwise_kernel": uniform(0.6),
                    "pointwise_kernel": truncated(0.5),
                    "bias": np.zeros(16)}),
    "Embedding": (lambda: keras.layers.Embedding(
        50, 8, embeddings_initializer=I.RandomNormal(1.0, 0.1)), (3,),
        {"embeddings": stats.norm(1.0, 0.1)}),
    "SimpleRNN": (lambda: keras.layers.SimpleRNN(
        8, kernel_initializer=I.RandomUniform(-0.4, 0.4),
        recurrent_initializer=I.RandomNormal(0.0, 0.2),
        bias_initializer=I.Constant(0.1)), (4, 6),
        {"kernel": uniform(0.4), "recurrent_kernel": stats.norm(0, 0.2),
         "bias": np.full(8, 0.1)}),
    "LSTM": (lambda: keras.layers.LSTM(
        8, kernel_initializer=I.RandomNormal(0.0, 0.3),
        recurrent_initializer=keras_inits.RandomUniform(-0.1, 0.1),
        bias_initializer=I.Constant(0.5), unit_forget_bias=True), (4, 6),
        {"kernel": stats.norm(0, 0.3), "recurrent_kernel": uniform(0.1),
         "bias": np.r_[np.full(8, 0.5), np.ones(8), np.full(16, 0.5)]}),
    "GRU": (lambda: keras.layers.GRU(
        8, kernel_initializer=I.RandomUniform(-0.7, 0.7),
        recurrent_initializer=I.RandomNormal(0.0, 0.5)), (4, 6),
        {"kernel": uniform(0.7), "recurrent_kernel": stats.norm(0, 0.5),
         "bias": np.zeros((2, 24))}),
    "Bidirectional": (lambda: keras.layers.Bidirectional(keras.layers.LSTM(
        8, kernel_initializer=I.RandomUniform(-0.3, 0.3),
        recurrent_initializer=I.RandomNormal(0.0, 0.1))), (4, 6),
        {"kernel": uniform(0.3), "recurrent_kernel": stats.norm(0, 0.1),
         "bias": np.r_[np.zeros(8), np.ones(8), np.zeros(16)]}),
    "TimeDistributed": (lambda: keras.layers.TimeDistributed(
        keras.layers.Dense(8, kernel_initializer=I.RandomNormal(0.0, 0.6))),
        (5, 7), {"kernel": stats.norm(0, 0.6), "bias": np.zeros(8)}),
    "BatchNormalization": (lambda: keras.layers.BatchNormalization(
        gamma_initializer=I.Constant(2.0), beta_initializer=I.Constant(-1.0),
        moving_mean_initializer=I.Constant(0.5),
        moving_variance_initializer=I.Constant(3.0)), (6,),
        {"gamma": np.full(6, 2.0), "beta": np.full(6, -1.0),
         "moving_mean": np.full(6, 0.5), "moving_variance": np.full(6, 3.0)}),
    "LayerNormalization": (lambda: keras.layers.LayerNormalization(
        gamma_initializer=I.RandomNormal(1.0, 0.05)), (200,),
        {"gamma": stats.norm(1.0, 0.05), "beta": np.zeros(200)}),
    "GroupNormalization": (lambda: keras.layers.GroupNormalization(
        groups=2, gamma_initializer="ones",
        beta_initializer=I.Constant(0.3)), (5, 6),
        {"gamma": np.ones(6), "beta": np.full(6, 0.3)}),
}


def build(kind):
    make, shape, expected = KINDS[kind]
    inputs = keras.Input(shape, dtype="int32" if kind == "Embedding" else None)
    return keras.Model(inputs, make()(inputs)), expected


def check_weights(model, expected, min_size=48):
    """Every weight is re-drawn from its own initializer."""
    assert model.weights
    for v in model.weights:
        want = expected[v.name]
        got = values(v)
        if isinstance(want, (np.ndarray, float)):
            want = np.broadcast_to(np.asarray(want, got.dtype), got.shape)
            np.testing.assert_array_equal(got, want)
        else:
            assert got.size >= min_size, v.path
            assert stats.kstest(got.ravel(), want.cdf).pvalue > P_MIN, v.path


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_layer_kind_is_redrawn_from_its_initializer(kind):
    model, expected = build(kind)
    spoil(model)
    report = keras_inits.reinitialize(model, seed=3)
    assert len(report) == len(model.weights) and not report.skipped
    check_weights(model, expected)


def test_multi_head_attention_and_nested_models():
    inner = keras.Sequential([
        keras.Input((6, 8)),
        keras.layers.Dense(8, kernel_initializer=I.RandomUniform(-0.9, 0.9),
                           name="proj"),
    ], name="inner")

    class Block(keras.Model):  # subclassed, holding a functional model
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            x = keras.Input((6, 8))
            self.attention = keras.layers.MultiHeadAttention(
                2, 12, kernel_initializer=I.RandomNormal(0.0, 0.25),
                bias_initializer=I.Constant(0.125), name="mha")
            self.sub = keras.Model(x, inner(x), name="functional_sub")

        def call(self, x):
            return self.sub(self.attention(x, x))

    x = keras.Input((6, 8))
    block = Block(name="block")
    model = keras.Model(x, block(x))
    spoil(model)
    report = keras_inits.reinitialize(model, seed=5)
    assert len(report) == len(model.weights) == 10
    # query, key, value and output: kernels of 192 values each
    check_weights(block.attention, {"kernel": stats.norm(0, 0.25),
                                    "bias": 0.125})
    check_weights(inner, {"kernel": uniform(0.9), "bias": 0.0})


def test_default_initializers_use_their_fans():
    # GlorotUniform by Keras default: limit sqrt(6 / (fan_in + fan_out)),
    # computed here from the kernel shape, independently of Keras.
    conv = keras.layers.Conv2D(16, 3)
    model = keras.Sequential([keras.Input((6, 6, 8)), conv])
    keras_inits.reinitialize(model, seed=1)
    kernel = values(conv.kernel)
    limit = np.sqrt(6 / (9 * 8 + 9 * 16))
    assert np.abs(kernel).max() <= limit
    assert stats.kstest(kernel.ravel(), uniform(limit).cdf).pvalue > P_MIN


def test_keras_initializers_are_rebuilt_with_the_derived_seed():
    dense = keras.layers.Dense(5, kernel_initializer=I.RandomNormal(0, 1))
    keras.Sequential([keras.Input((4,)), dense])
    keras_inits.reinitialize(dense, seed=17)
    seed = _derive_seed(17, dense.kernel.path)
    np.testing.assert_array_equal(
        values(dense.kernel), values(I.RandomNormal(0, 1, seed=seed)((4, 5))))


def test_custom_layers_and_closures():
    class Scaled(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], 40),
                initializer=keras_inits.RandomNormal(0.0, 3.0))
            inner = keras.initializers.RandomUniform(2.0, 4.0)
            self.v = self.add_weight(
                shape=(60,), initializer=lambda shape, dtype=None: inner(
                    shape, dtype))
            self.c = self.add_weight(shape=(3,), initializer="ones",
                                     trainable=False)

        def call(self, x):
            return x @ self.w

    layer = Scaled(name="scaled")
    keras.Sequential([keras.Input((5,)), layer])
    spoil(layer)
    report = keras_inits.reinitialize(layer, seed=2)
    assert stats.kstest(values(layer.w).ravel(),
                        stats.norm(0, 3).cdf).pvalue > P_MIN
    v = values(layer.v)
    assert stats.kstest(v, stats.uniform(2, 2).cdf).pvalue > P_MIN
    np.testing.assert_array_equal(values(layer.c), np.ones(3))
    # the lambda's initializer is a closure cell: reseeded, and its value
    # is the only one kept between the two passes
    assert report.kept_bytes == 60 * 4
    before = v.copy()
    keras_inits.reinitialize(layer, seed=3)
    assert not np.any(values(layer.v) == before)


def test_lstm_forget_bias_closure_is_reseeded():
    lstm = keras.layers.LSTM(16, unit_forget_bias=True,
                             bias_initializer=I.RandomNormal(0.0, 1.0))
    keras.Sequential([keras.Input((3, 4)), lstm])
    first = values(lstm.cell.bias).copy()
    keras_inits.reinitialize(lstm)
    second = values(lstm.cell.bias)
    np.testing.assert_array_equal(second[16:32], 1.0)
    changed = np.r_[second[:16], second[32:]] != np.r_[first[:16], first[32:]]
    assert changed.all()


# Fresh draws and seeds.


def mlp(name="net"):
    return keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(32, name="hidden"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Dense(3, kernel_initializer=keras_inits.HeNormal(),
                           name="out"),
    ], name=name)


def kernels(model):
    return [values(v).copy() for v in model.weights if v.name == "kernel"]


def test_fresh_values_at_every_call():
    model = mlp()
    seen = [kernels(model)]
    for _ in range(2):
        keras_inits.reinitialize(model)
        seen.append(kernels(model))
    for i in range(3):
        for j in range(i):
            for a, b in zip(seen[i], seen[j]):
                assert not np.any(a == b)


def test_set_random_seed_makes_unseeded_calls_reproducible():
    model = mlp()
    keras.utils.set_random_seed(4)
    first = keras_inits.reinitialize(model).seed, kernels(model)
    keras.utils.set_random_seed(4)
    second = keras_inits.reinitialize(model).seed, kernels(model)
    assert first[0] == second[0]
    for a, b in zip(first[1], second[1]):
        np.testing.assert_array_equal(a, b)


def test_seed_depends_on_path_not_on_visit_order():
    model = mlp()
    keras_inits.reinitialize(model, seed=9)
    full = kernels(model)
    keras_inits.reinitialize(model, seed=10)
    keras_inits.reinitialize(model.get_layer("out"), seed=9)
    keras_inits.reinitialize(model, seed=9, layers=["hidden"])
    for a, b in zip(full, kernels(model)):
        np.testing.assert_array_equal(a, b)
    # Another model with the same paths and initializers.
    other = mlp()
    keras_inits.reinitialize(other, seed=9)
    for a, b in zip(full, kernels(other)):
        np.testing.assert_array_equal(a, b)


def test_repeated_paths_get_distinct_seeds():
    def sub():
        x = keras.Input((4,))
        return keras.Model(x, keras.layers.Dense(4, name="head")(x))

    x = keras.Input((4,))
    a, b = sub(), sub()
    model = keras.Model(x, [a(x), b(x)])
    report = keras_inits.reinitialize(model, seed=1)
    paths = [row.path for row in report]
    assert paths == ["head/kernel", "head/bias", "head/kernel#2",
                     "head/bias#2"]
    assert not np.any(values(a.weights[0]) == values(b.weights[0]))


# Selection.


def frozen_base_with_head():
    base = mlp("base")
    base.trainable = False
    model = keras.Sequential([base, keras.layers.Dense(2, name="head")],
                             name="transfer")
    model.build((None, 6))
    return model, base


@pytest.mark.parametrize("select", [
    lambda m: {"layers": [m.get_layer("head")]},
    lambda m: {"layers": "head"},
    lambda m: {"layers": lambda layer: layer.name == "head"},
    lambda m: {"skip_frozen": True},
])
def test_selection(select):
    model, base = frozen_base_with_head()
    before = snapshot(base)
    head = values(model.get_layer("head").kernel).copy()
    report = keras_inits.reinitialize(model, seed=1, **select(model))
    assert [row.path for row in report] == ["transfer/head/kernel",
                                            "transfer/head/bias"]
    assert_identical(before, snapshot(base))
    assert not np.any(values(model.get_layer("head").kernel) == head)


def test_selecting_a_nested_model_selects_its_layers():
    model, base = frozen_base_with_head()
    report = keras_inits.reinitialize(model, seed=1, layers=[base])
    assert len(report) == len(base.weights) == 8


def test_unknown_layers_are_refused():
    model, _ = frozen_base_with_head()
    with pytest.raises(ValueError, match="Argument `layers` of reinitialize "
                       r"names layers that are not in transfer: \['nope'\]"):
        keras_inits.reinitialize(model, layers=["head", "nope"])
    with pytest.raises(ValueError, match="Argument `layers` of reinitialize"):
        keras_inits.reinitialize(model, layers=[keras.layers.Dense(2)])


# Optimizer reset: training after the reset matches a fresh model's.


def train_and_record(model, x, y):
    seen = []
    for step in range(6):
        batch = slice(4 * (step % 3), 4 * (step % 3) + 4)
        model.train_on_batch(x[batch], y[batch])
        seen.append([values(v).copy() for v in model.weights])
    return seen


@pytest.mark.skipif(BACKEND == "numpy", reason="the NumPy backend cannot train")
def test_reset_optimizer_restarts_training_exactly():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 6)).astype("float32")
    y = rng.normal(size=(12, 3)).astype("float32")
    used = mlp()
    used.compile(keras.optimizers.Adam(0.01), "mse")
    used.fit(x, y, batch_size=4, epochs=2, verbose=0)
    report = keras_inits.reinitialize(used, seed=21, reset_optimizer=True)
    assert int(values(used.optimizer.iterations)) == 0
    slots = [v for v in used.optimizer.variables
             if "momentum" in v.name or "velocity" in v.name]
    assert slots and all(not values(v).any() for v in slots)
    assert "adam/iteration" in [row.path for row in report]

    fresh = mlp()
    keras_inits.reinitialize(fresh, seed=21)
    fresh.compile(keras.optimizers.Adam(0.01), "mse")
    # Same weights, same data, same arithmetic: equal to float32 rounding
    # (the two runs execute the same compiled steps, so in practice equal).
    for a, b in zip(train_and_record(used, x, y),
                    train_and_record(fresh, x, y)):
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


def test_reset_optimizer_needs_a_compiled_model():
    with pytest.raises(ValueError, match="reset_optimizer=True needs a "
                       "compiled model"):
        keras_inits.reinitialize(mlp(), reset_optimizer=True)


# All or nothing.


@keras.saving.register_keras_serializable(package="test_reinitialize")
class Armed(keras.initializers.Initializer):
    """Normal values, until armed: then fails on the `fail_at`-th call."""

    calls, fail_at, mode = 0, None, "raise"

    def __call__(self, shape, dtype=None):
        cls = type(self)
        cls.calls += 1
        if cls.fail_at is not None and cls.calls >= cls.fail_at:
            if cls.mode == "raise":
                raise RuntimeError("injected failure")
            shape = (*shape[:-1], shape[-1] + 1)
        return keras.random.normal(shape, dtype=dtype)


def armed_model():
    model = keras.Sequential([keras.Input((4,))] + [
        keras.layers.Dense(4, kernel_initializer=Armed(), name=f"d{i}")
        for i in range(5)], name="armed")
    model.compile("adam", "mse")
    model.optimizer.build(model.trainable_variables)
    for v in model.optimizer.variables:  # as if trained (NumPy cannot train)
        v.assign(keras.ops.full(v.shape, 7, v.dtype))
    return model


@pytest.mark.parametrize("mode", ["raise", "shape"])
def test_a_failure_leaves_every_variable_untouched(mode):
    model = armed_model()
    before = snapshot(model, model.optimizer)
    Armed.calls, Armed.fail_at, Armed.mode = 0, 3, mode
    try:
        with pytest.raises(keras_inits.ReinitializeError) as info:
            keras_inits.reinitialize(model, seed=1, reset_optimizer=True)
    finally:
        Armed.fail_at = None
    assert_identical(before, snapshot(model, model.optimizer))
    assert set(info.value.problems) == {"armed/d2/kernel", "armed/d3/kernel",
                                        "armed/d4/kernel"}
    reason = "injected failure" if mode == "raise" else "returns shape (4, 5)"
    assert reason in info.value.problems["armed/d2/kernel"]


def test_a_replayable_initializer_failing_its_trace(monkeypatch):
    model = mlp()
    before = snapshot(model)

    def broken(self, shape, dtype):
        raise ValueError("broken draw")

    monkeypatch.setattr(keras_inits.HeNormal, "draw", broken)
    with pytest.raises(keras_inits.ReinitializeError,
                       match="reinitialize changed no weight: it cannot re-draw "
                       "net/out/kernel: ValueError: broken draw"):
        keras_inits.reinitialize(model)
    assert_identical(before, snapshot(model))


class HandSet(keras.layers.Layer):
    """Weights whose values no initializer describes."""

    def build(self, input_shape):
        self.table = self.add_weight(shape=(3,), initializer="zeros",
                                     name="table")
        self.table.assign(np.arange(3.0))
        self.fixed = keras.Variable(np.array([1.0, 2.0]), name="fixed")
        self.kernel = self.add_weight(shape=(input_shape[-1], 3),
                                      name="kernel")

    def call(self, x):
        return x @ self.kernel


def test_unattributed_variables_are_reported_then_skipped():
    layer = HandSet(name="hand")
    model = keras.Sequential([keras.Input((2,)), layer, keras.layers.Dense(
        2, name="d")], name="m")
    before = snapshot(model)
    with pytest.raises(keras_inits.ReinitializeError,
                       match="skip_unattributed=True") as info:
        keras_inits.reinitialize(model)
    assert_identical(before, snapshot(model))
    # where Keras puts a variable made by hand depends on the backend
    fixed, kernel, table = sorted(info.value.problems)
    assert fixed.endswith("fixed") and (kernel, table) == (
        "m/hand/kernel", "m/hand/table")
    assert "HandSet cannot be rebuilt from its config" in (
        info.value.problems[fixed])

    kernel = values(model.get_layer("d").kernel).copy()
    report = keras_inits.reinitialize(model, skip_unattributed=True)
    assert sorted(report.skipped) == sorted(info.value.problems)
    assert [row.path for row in report] == ["m/d/kernel", "m/d/bias"]
    np.testing.assert_array_equal(values(layer.table), [0.0, 1.0, 2.0])
    assert not np.any(values(model.get_layer("d").kernel) == kernel)


def test_a_weight_assigned_in_build_is_unattributed():
    class Assigns(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(3,), initializer="zeros")
            self.w.assign([1.0, 2.0, 3.0])

        def call(self, x):
            return x

    layer = Assigns(name="assigns")
    layer.build((None, 3))
    with pytest.raises(keras_inits.ReinitializeError,
                       match="Assigns.build assigns its value by hand"):
        keras_inits.reinitialize(layer)


# Loading, applications, the report, arguments.


def test_a_model_loaded_from_a_keras_file(tmp_path):
    model = keras.Sequential([
        keras.Input((5, 3)),
        keras.layers.LSTM(4, unit_forget_bias=True, name="lstm",
                          kernel_initializer=keras_inits.GlorotNormal()),
        keras.layers.Dense(2, kernel_initializer="keras_inits>HeUniform",
                           name="out"),
    ], name="saved")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    spoil(loaded)
    report = keras_inits.reinitialize(loaded, seed=8)
    assert len(report) == 5 and not report.skipped
    np.testing.assert_array_equal(values(loaded.layers[0].cell.bias),
                                  np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    # The keras_inits initializer came back from the file's config. (Keras
    # gives loaded variables shorter paths: "out/kernel", not
    # "saved/out/kernel", so seeds differ from the original model's.)
    kernel = loaded.get_layer("out").kernel
    expected = keras_inits.HeUniform(seed=_derive_seed(8, kernel.path))
    np.testing.assert_array_equal(values(kernel), values(expected((4, 2))))


SLOW = BACKEND == "jax" and not os.environ.get("KERAS_INITS_SLOW_TESTS")


@pytest.mark.skipif(SLOW, reason=(
    "on JAX, building an application compiles one XLA program per weight "
    "shape (about 50 s on 2 cores); set KERAS_INITS_SLOW_TESTS=1 to run"))
@pytest.mark.parametrize("name", ["ResNet50", "MobileNetV3Small"])
def test_keras_applications(name):
    model = getattr(keras.applications, name)(
        weights=None, input_shape=(32, 32, 3), classes=10)
    spoil(model)
    report = keras_inits.reinitialize(model, seed=1)
    assert len(report) == len(model.weights) and not report.skipped
    assert report.kept_bytes == 0
    convs = 0
    for layer in model.layers:
        weights = {v.name: values(v) for v in layer.weights}
        if isinstance(layer, keras.layers.BatchNormalization):
            # ResNet50 and MobileNetV3 keep the default constants
            for key, constant in [("gamma", 1), ("beta", 0),
                                  ("moving_mean", 0), ("moving_variance", 1)]:
                if key in weights:
                    np.testing.assert_array_equal(weights[key], constant)
        elif type(layer) is keras.layers.Conv2D and np.prod(layer.kernel.shape) > 3000:
            h, w, fan_in, fan_out = layer.kernel.shape  # GlorotUniform
            limit = np.sqrt(6 / (h * w * (fan_in + fan_out)))
            kernel = weights["kernel"].ravel()
            assert stats.kstest(kernel, uniform(limit).cdf).pvalue > P_MIN
            convs += 1
    assert convs >= 10


def test_report_prints_as_a_table():
    model = mlp()
    report = keras_inits.reinitialize(model, seed=2)
    text = str(report).splitlines()
    assert text[0].split()[:4] == ["path", "initializer", "shape", "mean"]
    assert text[1].split()[:2] == ["net/hidden/kernel",
                                   f"GlorotUniform(seed={_derive_seed(2, 'net/hidden/kernel')})"]
    assert "(6, 32)" in text[1]
    assert text[-1].startswith("8 variables re-drawn (451 values), seed=2")
    row = report["net/norm/moving_variance"]
    assert (row.mean_after, row.std_after) == (1.0, 0.0)
    assert repr(report).startswith("<ReinitializeReport: 8 variables")
    with pytest.raises(KeyError):
        report["nope"]


@pytest.mark.parametrize("seed", [-1, 2**31, 1.5, True, "3"])
def test_bad_seeds(seed):
    with pytest.raises(ValueError, match="Argument `seed` of reinitialize "
                       r"must be None or an integer in \[0, 2\*\*31\)"):
        keras_inits.reinitialize(mlp(), seed=seed)


def test_bad_models():
    with pytest.raises(ValueError, match="reinitialize needs a keras.Model "
                       "or keras.layers.Layer. Received: list"):
        keras_inits.reinitialize([])
    with pytest.raises(ValueError, match="unbuilt has no weights to "
                       "reinitialize: build it first"):
        keras_inits.reinitialize(keras.layers.Dense(2, name="unbuilt"))
