"""Tests of `keras_inits.reinitialize`.

Statistical checks use a fixed seed, so each backend sees one fixed sample:
a test passes or fails the same way every run. A Kolmogorov-Smirnov p-value
above 1e-4 is required; the samples hold 48 to 3,000 values, enough for the
test to reject a wrong scale (a factor of 2 gives p < 1e-6 at 48 values).
"""

import math
import os
import random
import re

import keras
import numpy as np
import pytest
from scipy import stats

import keras_inits
from keras_inits._internal import keras_internals
from keras_inits.random._seeds import derive_seed
from tests.catalogue import RANDOM_CASES

BACKEND = keras.backend.backend()
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
    "Dense": (
        lambda: keras.layers.Dense(
            16,
            kernel_initializer=keras.initializers.RandomUniform(-0.5, 0.5),
            bias_initializer=keras.initializers.Constant(0.25),
        ),
        (12,),
        {"kernel": uniform(0.5), "bias": np.full(16, 0.25)},
    ),
    "EinsumDense": (
        lambda: keras.layers.EinsumDense(
            "ab,bcd->acd",
            (4, 6),
            bias_axes="d",
            kernel_initializer=keras.initializers.RandomNormal(0.0, 0.3),
            bias_initializer=keras_inits.Constant(-1.0),
        ),
        (8,),
        {"kernel": stats.norm(0, 0.3), "bias": np.full(6, -1.0)},
    ),
    "Conv1D": (
        lambda: keras.layers.Conv1D(
            8, 3, kernel_initializer=keras_inits.HeNormal()
        ),
        (10, 4),
        {"kernel": stats.norm(0, np.sqrt(2 / 12)), "bias": np.zeros(8)},
    ),
    "Conv2D": (
        lambda: keras.layers.Conv2D(
            8,
            3,
            kernel_initializer=keras.initializers.RandomUniform(-0.2, 0.2),
        ),
        (6, 6, 3),
        {"kernel": uniform(0.2), "bias": np.zeros(8)},
    ),
    "Conv3D": (
        lambda: keras.layers.Conv3D(
            4,
            2,
            kernel_initializer=keras.initializers.TruncatedNormal(0.0, 0.1),
            bias_initializer="ones",
        ),
        (3, 3, 3, 3),
        {"kernel": truncated(0.1), "bias": np.ones(4)},
    ),
    "Conv1DTranspose": (
        lambda: keras.layers.Conv1DTranspose(
            6,
            3,
            kernel_initializer=keras.initializers.RandomUniform(-1.0, 1.0),
        ),
        (5, 4),
        {"kernel": uniform(1.0), "bias": np.zeros(6)},
    ),
    "Conv2DTranspose": (
        lambda: keras.layers.Conv2DTranspose(
            4, 3, kernel_initializer=keras.initializers.RandomNormal(0.0, 2.0)
        ),
        (4, 4, 5),
        {"kernel": stats.norm(0, 2.0), "bias": np.zeros(4)},
    ),
    "Conv3DTranspose": (
        lambda: keras.layers.Conv3DTranspose(
            4, 2, kernel_initializer=keras_inits.RandomUniform(-0.3, 0.3)
        ),
        (2, 2, 2, 6),
        {"kernel": uniform(0.3), "bias": np.zeros(4)},
    ),
    "DepthwiseConv2D": (
        lambda: keras.layers.DepthwiseConv2D(
            3,
            depth_multiplier=4,
            depthwise_initializer=keras.initializers.RandomNormal(0.0, 0.4),
        ),
        (5, 5, 4),
        {"kernel": stats.norm(0, 0.4), "bias": np.zeros(16)},
    ),
    "SeparableConv2D": (
        lambda: keras.layers.SeparableConv2D(
            16,
            3,
            depth_multiplier=2,
            depthwise_initializer=keras.initializers.RandomUniform(-0.6, 0.6),
            pointwise_initializer=keras_inits.TruncatedNormal(0.0, 0.5),
        ),
        (5, 5, 4),
        {
            "depthwise_kernel": uniform(0.6),
            "pointwise_kernel": truncated(0.5),
            "bias": np.zeros(16),
        },
    ),
    "Embedding": (
        lambda: keras.layers.Embedding(
            50,
            8,
            embeddings_initializer=keras.initializers.RandomNormal(1.0, 0.1),
        ),
        (3,),
        {"embeddings": stats.norm(1.0, 0.1)},
    ),
    "SimpleRNN": (
        lambda: keras.layers.SimpleRNN(
            8,
            kernel_initializer=keras.initializers.RandomUniform(-0.4, 0.4),
            recurrent_initializer=keras.initializers.RandomNormal(0.0, 0.2),
            bias_initializer=keras.initializers.Constant(0.1),
        ),
        (4, 6),
        {
            "kernel": uniform(0.4),
            "recurrent_kernel": stats.norm(0, 0.2),
            "bias": np.full(8, 0.1),
        },
    ),
    "LSTM": (
        lambda: keras.layers.LSTM(
            8,
            kernel_initializer=keras.initializers.RandomNormal(0.0, 0.3),
            recurrent_initializer=keras_inits.RandomUniform(-0.1, 0.1),
            bias_initializer=keras.initializers.Constant(0.5),
            unit_forget_bias=True,
        ),
        (4, 6),
        {
            "kernel": stats.norm(0, 0.3),
            "recurrent_kernel": uniform(0.1),
            "bias": np.r_[np.full(8, 0.5), np.ones(8), np.full(16, 0.5)],
        },
    ),
    "GRU": (
        lambda: keras.layers.GRU(
            8,
            kernel_initializer=keras.initializers.RandomUniform(-0.7, 0.7),
            recurrent_initializer=keras.initializers.RandomNormal(0.0, 0.5),
        ),
        (4, 6),
        {
            "kernel": uniform(0.7),
            "recurrent_kernel": stats.norm(0, 0.5),
            "bias": np.zeros((2, 24)),
        },
    ),
    "Bidirectional": (
        lambda: keras.layers.Bidirectional(
            keras.layers.LSTM(
                8,
                kernel_initializer=keras.initializers.RandomUniform(-0.3, 0.3),
                recurrent_initializer=keras.initializers.RandomNormal(
                    0.0, 0.1
                ),
            )
        ),
        (4, 6),
        {
            "kernel": uniform(0.3),
            "recurrent_kernel": stats.norm(0, 0.1),
            "bias": np.r_[np.zeros(8), np.ones(8), np.zeros(16)],
        },
    ),
    "TimeDistributed": (
        lambda: keras.layers.TimeDistributed(
            keras.layers.Dense(
                8, kernel_initializer=keras.initializers.RandomNormal(0.0, 0.6)
            )
        ),
        (5, 7),
        {"kernel": stats.norm(0, 0.6), "bias": np.zeros(8)},
    ),
    "BatchNormalization": (
        lambda: keras.layers.BatchNormalization(
            gamma_initializer=keras.initializers.Constant(2.0),
            beta_initializer=keras.initializers.Constant(-1.0),
            moving_mean_initializer=keras.initializers.Constant(0.5),
            moving_variance_initializer=keras.initializers.Constant(3.0),
        ),
        (6,),
        {
            "gamma": np.full(6, 2.0),
            "beta": np.full(6, -1.0),
            "moving_mean": np.full(6, 0.5),
            "moving_variance": np.full(6, 3.0),
        },
    ),
    "LayerNormalization": (
        lambda: keras.layers.LayerNormalization(
            gamma_initializer=keras.initializers.RandomNormal(1.0, 0.05)
        ),
        (200,),
        {"gamma": stats.norm(1.0, 0.05), "beta": np.zeros(200)},
    ),
    "GroupNormalization": (
        lambda: keras.layers.GroupNormalization(
            groups=2,
            gamma_initializer="ones",
            beta_initializer=keras.initializers.Constant(0.3),
        ),
        (5, 6),
        {"gamma": np.ones(6), "beta": np.full(6, 0.3)},
    ),
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
    inner = keras.Sequential(
        [
            keras.Input((6, 8)),
            keras.layers.Dense(
                8,
                kernel_initializer=keras.initializers.RandomUniform(-0.9, 0.9),
                name="proj",
            ),
        ],
        name="inner",
    )

    class Block(keras.Model):  # subclassed, holding a functional model
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            x = keras.Input((6, 8))
            self.attention = keras.layers.MultiHeadAttention(
                2,
                12,
                kernel_initializer=keras.initializers.RandomNormal(0.0, 0.25),
                bias_initializer=keras.initializers.Constant(0.125),
                name="mha",
            )
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
    check_weights(
        block.attention, {"kernel": stats.norm(0, 0.25), "bias": 0.125}
    )
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
    # As keras_inits' class of the same name and arguments, whose draws go
    # through keras_inits' samplers.
    dense = keras.layers.Dense(
        5, kernel_initializer=keras.initializers.RandomNormal(0, 1)
    )
    keras.Sequential([keras.Input((4,)), dense])
    report = keras_inits.reinitialize(dense, seed=17)
    seed = derive_seed(17, "kernel")  # its key below the layer itself
    np.testing.assert_array_equal(
        values(dense.kernel),
        values(keras_inits.RandomNormal(0, 1, seed=seed)((4, 5))),
    )
    assert (
        report.rows[0].initializer == f"RandomNormal(stddev=1.0, seed={seed})"
    )


def test_custom_layers_and_closures():
    class Scaled(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], 40),
                initializer=keras_inits.RandomNormal(0.0, 3.0),
            )
            inner = keras.initializers.RandomUniform(2.0, 4.0)
            self.v = self.add_weight(
                shape=(60,),
                initializer=lambda shape, dtype=None: inner(shape, dtype),
            )
            self.c = self.add_weight(
                shape=(3,), initializer="ones", trainable=False
            )

        def call(self, x):
            return x @ self.w

    layer = Scaled(name="scaled")
    keras.Sequential([keras.Input((5,)), layer])
    spoil(layer)
    report = keras_inits.reinitialize(layer, seed=2)
    assert (
        stats.kstest(values(layer.w).ravel(), stats.norm(0, 3).cdf).pvalue
        > P_MIN
    )
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
    lstm = keras.layers.LSTM(
        16,
        unit_forget_bias=True,
        bias_initializer=keras.initializers.RandomNormal(0.0, 1.0),
    )
    keras.Sequential([keras.Input((3, 4)), lstm])
    first = values(lstm.cell.bias).copy()
    keras_inits.reinitialize(lstm)
    second = values(lstm.cell.bias)
    np.testing.assert_array_equal(second[16:32], 1.0)
    changed = np.r_[second[:16], second[32:]] != np.r_[first[:16], first[32:]]
    assert changed.all()


# Fresh draws and seeds.


def mlp(name="net"):
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(32, name="hidden"),
            keras.layers.BatchNormalization(name="norm"),
            keras.layers.Dense(
                3, kernel_initializer=keras_inits.HeNormal(), name="out"
            ),
        ],
        name=name,
    )


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
    keras_inits.reinitialize(model, seed=9, layers=[model.get_layer("out")])
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
    assert paths == [
        "head/kernel",
        "head/bias",
        "head/kernel#2",
        "head/bias#2",
    ]
    assert not np.any(values(a.weights[0]) == values(b.weights[0]))


# Selection.


def frozen_base_with_head():
    base = mlp("base")
    base.trainable = False
    model = keras.Sequential(
        [base, keras.layers.Dense(2, name="head")], name="transfer"
    )
    model.build((None, 6))
    return model, base


@pytest.mark.parametrize(
    "select",
    [
        lambda m: {"layers": [m.get_layer("head")]},
        lambda m: {"layers": "head"},
        lambda m: {"layers": lambda layer: layer.name == "head"},
        lambda m: {"skip_frozen": True},
    ],
)
def test_selection(select):
    model, base = frozen_base_with_head()
    before = snapshot(base)
    head = values(model.get_layer("head").kernel).copy()
    report = keras_inits.reinitialize(model, seed=1, **select(model))
    assert [row.path for row in report] == [
        "transfer/head/kernel",
        "transfer/head/bias",
    ]
    assert_identical(before, snapshot(base))
    assert not np.any(values(model.get_layer("head").kernel) == head)


def test_selecting_a_nested_model_selects_its_layers():
    model, base = frozen_base_with_head()
    report = keras_inits.reinitialize(model, seed=1, layers=[base])
    assert len(report) == len(base.weights) == 8


def test_unknown_layers_are_refused():
    model, _ = frozen_base_with_head()
    with pytest.raises(
        ValueError,
        match="Argument `layers` of reinitialize "
        r"names layers that are not in transfer: \['nope'\]",
    ):
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


@pytest.mark.skipif(
    BACKEND == "numpy", reason="the NumPy backend cannot train"
)
def test_reset_optimizer_restarts_training_exactly():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 6)).astype("float32")
    y = rng.normal(size=(12, 3)).astype("float32")
    used = mlp()
    used.compile(keras.optimizers.Adam(0.01), "mse")
    used.fit(x, y, batch_size=4, epochs=2, verbose=0)
    report = keras_inits.reinitialize(used, seed=21, reset_optimizer=True)
    assert int(values(used.optimizer.iterations)) == 0
    slots = [
        v
        for v in used.optimizer.variables
        if "momentum" in v.name or "velocity" in v.name
    ]
    assert slots and all(not values(v).any() for v in slots)
    assert "adam/iteration" in [row.path for row in report]

    fresh = mlp()
    keras_inits.reinitialize(fresh, seed=21)
    fresh.compile(keras.optimizers.Adam(0.01), "mse")
    # Same weights, same data, same arithmetic: equal to float32 rounding
    # (the two runs execute the same compiled steps, so in practice equal).
    for a, b in zip(
        train_and_record(used, x, y), train_and_record(fresh, x, y)
    ):
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


def test_reset_optimizer_needs_a_compiled_model():
    with pytest.raises(
        ValueError, match="reset_optimizer=True needs a compiled model"
    ):
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
    model = keras.Sequential(
        [keras.Input((4,))]
        + [
            keras.layers.Dense(4, kernel_initializer=Armed(), name=f"d{i}")
            for i in range(5)
        ],
        name="armed",
    )
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
    assert set(info.value.problems) == {
        "armed/d2/kernel",
        "armed/d3/kernel",
        "armed/d4/kernel",
    }
    reason = "injected failure" if mode == "raise" else "returns shape (4, 5)"
    assert reason in info.value.problems["armed/d2/kernel"]


def test_a_replayable_initializer_failing_its_trace(monkeypatch):
    model = mlp()
    before = snapshot(model)

    def broken(self, shape, dtype):
        raise ValueError("broken draw")

    monkeypatch.setattr(keras_inits.HeNormal, "draw", broken)
    # A class that says its calls fail only in `check_call` is checked by
    # `check` instead of a trace: this one no longer says so.
    monkeypatch.setattr(
        keras_inits.HeNormal, "fails_only_in_check_call", False
    )
    with pytest.raises(
        keras_inits.ReinitializeError,
        match="reinitialize changed no weight: it cannot re-draw "
        "net/out/kernel: ValueError: broken draw",
    ):
        keras_inits.reinitialize(model)
    assert_identical(before, snapshot(model))


def test_a_draw_its_check_refuses_changes_nothing(monkeypatch):
    model = mlp()
    before = snapshot(model)

    def refused(self, shape, dtype=None, layout=None):
        raise ValueError(f"refused {shape}")

    monkeypatch.setattr(keras_inits.HeNormal, "check", refused)
    with pytest.raises(
        keras_inits.ReinitializeError,
        match="reinitialize changed no weight: it cannot re-draw "
        r"net/out/kernel: ValueError: refused \(32, 3\)",
    ):
        keras_inits.reinitialize(model)
    assert_identical(before, snapshot(model))


class HandSet(keras.layers.Layer):
    """Weights whose values no initializer describes."""

    def build(self, input_shape):
        self.table = self.add_weight(
            shape=(3,), initializer="zeros", name="table"
        )
        self.table.assign(np.arange(3.0))
        self.fixed = keras.Variable(np.array([1.0, 2.0]), name="fixed")
        self.kernel = self.add_weight(
            shape=(input_shape[-1], 3), name="kernel"
        )

    def call(self, x):
        return x @ self.kernel


def test_unattributed_variables_are_reported_then_skipped():
    layer = HandSet(name="hand")
    model = keras.Sequential(
        [keras.Input((2,)), layer, keras.layers.Dense(2, name="d")], name="m"
    )
    before = snapshot(model)
    with pytest.raises(
        keras_inits.ReinitializeError, match="skip_unattributed=True"
    ) as info:
        keras_inits.reinitialize(model)
    assert_identical(before, snapshot(model))
    # where Keras puts a variable made by hand depends on the backend
    fixed, kernel, table = sorted(info.value.problems)
    assert fixed.endswith("fixed") and (kernel, table) == (
        "m/hand/kernel",
        "m/hand/table",
    )
    assert (
        "HandSet cannot be rebuilt from its config"
        in (info.value.problems[fixed])
    )

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
    with pytest.raises(
        keras_inits.ReinitializeError,
        match="Assigns.build assigns its value by hand",
    ):
        keras_inits.reinitialize(layer)


# Loading, applications, the report, arguments.


def test_a_model_loaded_from_a_keras_file(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.LSTM(
                4,
                unit_forget_bias=True,
                name="lstm",
                kernel_initializer=keras_inits.GlorotNormal(),
            ),
            keras.layers.Dense(
                2, kernel_initializer="keras_inits>HeUniform", name="out"
            ),
        ],
        name="saved",
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    spoil(loaded)
    report = keras_inits.reinitialize(loaded, seed=8)
    assert len(report) == 5 and not report.skipped
    np.testing.assert_array_equal(
        values(loaded.layers[0].cell.bias),
        np.r_[np.zeros(4), np.ones(4), np.zeros(8)],
    )
    # The keras_inits initializer came back from the file's config. (Keras
    # gives loaded variables shorter paths: "out/kernel", not
    # "saved/out/kernel", so seeds differ from the original model's.)
    kernel = loaded.get_layer("out").kernel
    expected = keras_inits.HeUniform(seed=derive_seed(8, kernel.path))
    np.testing.assert_array_equal(values(kernel), values(expected((4, 2))))


SLOW = BACKEND == "jax" and not os.environ.get("KERAS_INITS_SLOW_TESTS")


@pytest.mark.skipif(
    SLOW,
    reason=(
        "on JAX, building an application compiles one XLA program per weight "
        "shape (about 50 s on 2 cores); set KERAS_INITS_SLOW_TESTS=1 to run"
    ),
)
@pytest.mark.parametrize("name", ["ResNet50", "MobileNetV3Small"])
def test_keras_applications(name):
    model = getattr(keras.applications, name)(
        weights=None, input_shape=(32, 32, 3), classes=10
    )
    spoil(model)
    report = keras_inits.reinitialize(model, seed=1)
    assert len(report) == len(model.weights) and not report.skipped
    assert report.kept_bytes == 0
    convs = 0
    for layer in model.layers:
        weights = {v.name: values(v) for v in layer.weights}
        if isinstance(layer, keras.layers.BatchNormalization):
            # ResNet50 and MobileNetV3 keep the default constants
            for key, constant in [
                ("gamma", 1),
                ("beta", 0),
                ("moving_mean", 0),
                ("moving_variance", 1),
            ]:
                if key in weights:
                    np.testing.assert_array_equal(weights[key], constant)
        elif (
            type(layer) is keras.layers.Conv2D
            and np.prod(layer.kernel.shape) > 3000
        ):
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
    assert text[0].split()[:5] == [
        "path",
        "key",
        "initializer",
        "shape",
        "mean",
    ]
    assert text[1].split()[:3] == [
        "net/hidden/kernel",
        "hidden/kernel",
        f"GlorotUniform(seed={derive_seed(2, 'hidden/kernel')})",
    ]
    assert "(6, 32)" in text[1]
    assert text[-1].startswith("8 variables re-drawn (451 values), seed=2")
    row = report["net/norm/moving_variance"]
    assert (row.mean_after, row.std_after) == (1.0, 0.0)
    assert repr(report).startswith("<ReinitializeReport: 8 variables")
    with pytest.raises(KeyError):
        report["nope"]


@pytest.mark.parametrize("seed", [-1, 2**31, 1.5, True, "3"])
def test_bad_seeds(seed):
    with pytest.raises(
        ValueError,
        match="Argument `seed` of reinitialize "
        r"must be None or an integer in \[0, 2\*\*31\)",
    ):
        keras_inits.reinitialize(mlp(), seed=seed)


BAD_ARGUMENTS = [
    ("layers", 5),
    ("layers", 2.5),
    ("layers", b"hidden"),
    ("layers", [5]),
    ("layers", ["hidden", None]),
    ("layers", keras.layers.Dense),
    ("seed", 10**400),
    ("seed", 2**64),
    ("seed", np.float64(3.0)),
    ("skip_frozen", "yes"),
    ("skip_unattributed", 1),
    ("reset_optimizer", "no"),
    ("reset_adapted", None),
    ("backup", 0),
    ("measure", "no"),
    ("portable", "yes"),
]


@pytest.mark.parametrize("name, value", BAD_ARGUMENTS)
def test_bad_arguments_change_nothing(name, value):
    # Neither the weights nor Python's random state (drawn from for
    # seed=None) change when an argument is refused.
    model = mlp()
    before, state = snapshot(model), random.getstate()
    with pytest.raises(
        ValueError, match=f"Argument `{name}` of reinitialize must be "
    ):
        keras_inits.reinitialize(model, **{name: value})
    assert_identical(before, snapshot(model))
    assert random.getstate() == state


def test_layers_given_as_a_class_suggest_a_predicate():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "to select by class, pass `lambda layer: isinstance(layer, Dense)`"
        ),
    ):
        keras_inits.reinitialize(mlp(), layers=keras.layers.Dense)


def test_numpy_integer_seeds_are_integers():
    model = mlp()
    report = keras_inits.reinitialize(model, seed=np.int64(3))
    assert report.seed == 3 and type(report.seed) is int
    after = kernels(model)
    keras_inits.reinitialize(model, seed=3)
    for a, b in zip(after, kernels(model)):
        np.testing.assert_array_equal(a, b)


def test_layers_given_as_a_generator_are_read_once():
    model = mlp()
    report = keras_inits.reinitialize(
        model, seed=1, layers=(name for name in ["out"])
    )
    assert [row.path for row in report] == ["net/out/kernel", "net/out/bias"]


def test_bad_models():
    with pytest.raises(
        ValueError,
        match="reinitialize needs a keras.Model "
        "or keras.layers.Layer. Received: list",
    ):
        keras_inits.reinitialize([])
    with pytest.raises(
        ValueError,
        match="unbuilt has no weights to reinitialize: build it first",
    ):
        keras_inits.reinitialize(keras.layers.Dense(2, name="unbuilt"))


# Trust: wrapped initializers re-drawn, adapted data kept, seeds
# from the model's structure, all-or-nothing under interrupts.


def _wrapped(case, nesting, seed):
    """`(layer, inputs)` using `case`'s initializer bare or wrapped."""
    init = case.make(seed)
    if nesting == "bare":
        return case.layer(init), case.inputs
    if nesting == "DepthScaled":
        return case.layer(keras_inits.DepthScaled(init, depth=2)), case.inputs
    if nesting == "ICNR":
        init = keras_inits.ICNR(init, scale=2)
    else:  # two levels
        init = keras_inits.DepthScaled(keras_inits.ICNR(init, scale=2), 3)
    return keras.layers.Conv2D(16, 3, kernel_initializer=init), (6, 6, 8)


def _draws_a_conv_kernel(case):
    try:
        case.make(0)((3, 3, 8, 4))
    except ValueError:  # DeltaOrthogonal needs in <= out
        return False
    return True


NESTINGS = {
    "bare": RANDOM_CASES,
    "DepthScaled": RANDOM_CASES,
    "ICNR": [c for c in RANDOM_CASES if _draws_a_conv_kernel(c)],
    "DepthScaled(ICNR)": [c for c in RANDOM_CASES if _draws_a_conv_kernel(c)],
}


@pytest.mark.parametrize("seed_kind", ["int", "portable"])
@pytest.mark.parametrize("nesting", list(NESTINGS))
def test_wrapped_initializers_are_redrawn_at_any_depth(nesting, seed_kind):
    # One model, a layer per random initializer of the catalogue.
    seed = 1 if seed_kind == "int" else keras_inits.PortableSeed(1)
    inputs, outputs, kernels_of = [], [], {}
    for case in NESTINGS[nesting]:
        layer, shape = _wrapped(case, nesting, seed)
        x = keras.Input(shape)
        inputs.append(x)
        outputs.append(layer(x))
        kernels_of[case.name] = layer.kernel
    model = keras.Model(inputs, outputs)

    def kernels():
        return {name: values(k).copy() for name, k in kernels_of.items()}

    original = kernels()
    first = keras_inits.reinitialize(model, seed=123)
    drawn = kernels()
    keras_inits.reinitialize(model, seed=456)
    other = kernels()
    keras_inits.reinitialize(model, seed=123)
    for name in kernels_of:
        assert not np.array_equal(drawn[name], original[name]), name
        assert not np.array_equal(drawn[name], other[name]), name
        np.testing.assert_array_equal(kernels()[name], drawn[name], name)
    # The report names the seed of the innermost initializer.
    row = first[kernels_of[NESTINGS[nesting][0].name].path]
    text = row.initializer
    assert text.count("seed=") - text.count("PortableSeed(seed=") == 1, text
    if nesting != "bare":
        assert row.initializer.startswith(nesting.split("(")[0] + "(")


def test_keras_initializers_wrapped_in_depth_scaled_turn_portable():
    def model():
        return keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(
                    16,
                    kernel_initializer=keras_inits.DepthScaled(
                        keras.initializers.HeNormal(seed=4), depth=2
                    ),
                ),
            ]
        )

    a = model()
    report = keras_inits.reinitialize(a, seed=5, portable=True)
    assert "PortableSeed" in report.rows[0].initializer
    # Portable: the value of keras_inits' HeNormal with the derived seed.
    key = report.rows[0].key
    inner = keras_inits.HeNormal(
        seed=keras_inits.PortableSeed(
            derive_seed(derive_seed(5, key), "initializer")
        )
    )
    np.testing.assert_allclose(
        values(a.layers[0].kernel), values(inner((8, 16))) / 2.0, rtol=1e-6
    )


def _normalized_model(x):
    norm = keras.layers.Normalization(name="norm")
    norm.adapt(x)
    return keras.Sequential([keras.Input((3,)), norm, keras.layers.Dense(2)])


def test_adapted_state_is_data_and_kept(tmp_path):
    x = np.random.default_rng(0).normal(50.0, 10.0, (256, 3)).astype("float32")
    model = _normalized_model(x)
    state = {v.path: values(v).copy() for v in model.layers[0].weights}
    out = values(model(x[:8]))
    report = keras_inits.reinitialize(model, seed=0)
    assert sorted(report.skipped) == sorted(state)
    assert all(
        "Normalization.adapt() computes it from data" in reason
        for reason in report.skipped.values()
    )
    assert [row.key for row in report] == ["dense/kernel", "dense/bias"]
    for v in model.layers[0].weights:
        np.testing.assert_array_equal(values(v), state[v.path])
    # Still normalizing (mean 50 -> 0), now and after a reload.
    assert np.abs(values(model.layers[0](x)).mean(axis=0)).max() < 1e-3
    model.save(tmp_path / "n.keras")
    loaded = keras.models.load_model(tmp_path / "n.keras")
    np.testing.assert_allclose(
        values(loaded(x[:8])), values(model(x[:8])), rtol=1e-5, atol=1e-5
    )
    assert not np.allclose(values(model(x[:8])), out)  # the Dense changed


def test_adapted_state_resets_only_when_asked():
    x = np.random.default_rng(0).normal(50.0, 10.0, (256, 3)).astype("float32")
    model = _normalized_model(x)
    report = keras_inits.reinitialize(model, seed=0, reset_adapted=True)
    assert not report.skipped
    state = {v.name: values(v) for v in model.layers[0].weights}
    np.testing.assert_array_equal(state["mean"], np.zeros(3))
    np.testing.assert_array_equal(state["variance"], np.ones(3))
    # The layer uses the reset state at once (it caches what it computes).
    np.testing.assert_allclose(values(model.layers[0](x[:4])), x[:4])
    with pytest.raises(
        ValueError,
        match=r"Argument `reset_adapted` of "
        r"reinitialize must be True or False\. Received: "
        r"reset_adapted='yes'",
    ):
        keras_inits.reinitialize(model, reset_adapted="yes")


def test_any_layer_with_adapt_keeps_its_state():
    class Centre(keras.layers.Layer):
        def build(self, input_shape):
            self.centre = self.add_weight(
                shape=input_shape[1:], initializer="zeros", trainable=False
            )

        def adapt(self, data):
            self.centre.assign(np.mean(data, axis=0))

        def call(self, x):
            return x - self.centre

    layer = Centre()
    model = keras.Sequential([keras.Input((2,)), layer, keras.layers.Dense(1)])
    layer.adapt(np.array([[1.0, 2.0], [3.0, 4.0]]))
    report = keras_inits.reinitialize(model, seed=0)
    assert list(report.skipped) == [layer.centre.path]
    np.testing.assert_array_equal(values(layer.centre), [2.0, 3.0])


def _auto_named_functional():
    x = keras.Input((6,))
    h = keras.layers.Dense(8, activation="relu")(x)
    h = keras.layers.Dense(8, kernel_initializer=keras_inits.HeNormal())(h)
    h = keras.layers.BatchNormalization()(h)
    return keras.Model(x, keras.layers.Dense(2)(h))


class _Blocks(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.Sequential([keras.layers.Dense(4)], name="block")
        self.b = keras.Sequential([keras.layers.Dense(4)], name="block")
        self.head = keras.layers.Dense(2)

    def call(self, x):
        return self.head(self.b(self.a(x)))


def _blocks():
    model = _Blocks()
    model(np.zeros((1, 3), "float32"))
    return model


BUILDERS = {
    "sequential": lambda: keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(4),
            keras.layers.Dense(3, kernel_initializer="he_normal"),
        ]
    ),
    "functional": _auto_named_functional,
    "subclassed": _blocks,
}


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_the_same_architecture_built_twice_gets_the_same_weights(kind):
    first, second = BUILDERS[kind](), BUILDERS[kind]()
    # Keras names layers from a global counter: the two builds differ.
    assert [v.path for v in first.weights] != [v.path for v in second.weights]
    keras_inits.reinitialize(first, seed=0)
    keras_inits.reinitialize(second, seed=0)
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(values(a), values(b), a.path)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_model_and_its_reload_get_the_same_weights(kind, tmp_path):
    model = BUILDERS[kind]()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    keras_inits.reinitialize(model, seed=3)
    keras_inits.reinitialize(loaded, seed=3)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(values(a), values(b), a.path)


def test_same_named_blocks_get_their_own_seeds_whatever_the_selection():
    model = _blocks()
    report = keras_inits.reinitialize(model, seed=0)
    assert [row.key for row in report][:4] == [
        "block/dense/kernel",
        "block/dense/bias",
        "block#2/dense/kernel",
        "block#2/dense/bias",
    ]
    full = {
        v.path + str(i): values(v).copy() for i, v in enumerate(model.weights)
    }
    keras_inits.reinitialize(model, seed=1)
    keras_inits.reinitialize(model, seed=0, layers=[model.b])
    keras_inits.reinitialize(model, seed=0, layers=[model.a, model.head])
    for i, v in enumerate(model.weights):
        np.testing.assert_array_equal(values(v), full[v.path + str(i)])
    assert not np.array_equal(
        values(model.a.weights[0]), values(model.b.weights[0])
    )


class _FailingAssign:
    """Makes reinitialize's assignment (`keras_internals.assign`) raise
    `error` on calls number `calls` (a set), counting from 1."""

    def __init__(self, monkeypatch, calls, error):
        self.count, original = 0, keras_internals.assign

        def assign(v, value, fresh=False):
            self.count += 1
            if self.count in calls:
                raise error
            return original(v, value, fresh)

        monkeypatch.setattr(keras_internals, "assign", assign)


def _eight_variables():
    return keras.Sequential(
        [keras.Input((4,))]
        + [
            keras.layers.Dense(4, bias_initializer="random_normal")
            for _ in range(4)
        ]
    )


def _reference(seed):
    model = _eight_variables()
    keras_inits.reinitialize(model, seed=seed)
    return [values(v).copy() for v in model.weights]


def test_an_interrupted_assign_still_reinitializes_wholly(monkeypatch):
    model = _eight_variables()
    expected = _reference(7)
    _FailingAssign(monkeypatch, {4}, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt) as info:
        keras_inits.reinitialize(model, seed=7)
    assert "the model is wholly reinitialized: all 8 selected variables" in (
        "".join(info.value.__notes__)
    )
    for v, want in zip(model.weights, expected):
        np.testing.assert_array_equal(values(v), want)


@pytest.mark.parametrize("backup", [False, True])
def test_an_assign_that_keeps_failing(monkeypatch, backup):
    model = _eight_variables()
    before = [values(v).copy() for v in model.weights]
    _FailingAssign(monkeypatch, {4, 9}, RuntimeError("device lost"))
    with pytest.raises(RuntimeError) as info:
        keras_inits.reinitialize(model, seed=7, backup=backup)
    note = "".join(info.value.__notes__)
    monkeypatch.undo()
    now = [values(v) for v in model.weights]
    if backup:
        assert "the model is untouched" in note
        for v, want in zip(now, before):
            np.testing.assert_array_equal(v, want)
    else:
        # Call 4 failed, then its retry (call 9): the other 7 changed.
        assert "the model is PART-CHANGED: 7 of 8 variables" in note
        assert "backup=True" in note
        changed = [not np.array_equal(v, w) for v, w in zip(now, before)]
        assert changed == [True] * 3 + [False] + [True] * 4


def test_a_measurement_failing_after_the_assignments_gets_the_note(
    monkeypatch,
):
    # Each variable is measured before its assignment and after it; the
    # measurement after the last one fails, once the model has changed.
    from keras_inits.model import _applying

    model = _eight_variables()
    expected = _reference(7)
    calls, original = [], _applying.moments

    def moments(variable, cores=None):
        calls.append(1)
        if len(calls) == 16:
            raise RuntimeError("device lost while measuring")
        return original(variable, cores)

    monkeypatch.setattr(_applying, "moments", moments)
    with pytest.raises(RuntimeError, match="while measuring") as info:
        keras_inits.reinitialize(model, seed=7)
    assert "the model is wholly reinitialized: all 8 selected variables" in (
        "".join(getattr(info.value, "__notes__", []))
    )
    for v, want in zip(model.weights, expected):
        np.testing.assert_array_equal(values(v), want)


def test_measurements_beside_draws_leave_the_draw_its_core(monkeypatch):
    # Beside a draw, a measurement with a thread per core would make the
    # draw and it share cores; inline (TensorFlow), it may use them all.
    from keras_inits.model import _applying
    from keras_inits.model import _moments

    monkeypatch.setattr(_moments.threads, "cores", lambda: 4)
    used, original = set(), _applying.moments

    def moments(variable, cores=None):
        used.add(cores)
        return original(variable, cores)

    monkeypatch.setattr(_applying, "moments", moments)
    keras_inits.reinitialize(_eight_variables(), seed=7)
    beside = keras.backend.backend() != "tensorflow"
    assert used == ({3} if beside else {None})


@pytest.mark.parametrize(
    "error", [MemoryError(), SystemExit(3)], ids=["MemoryError", "SystemExit"]
)
@pytest.mark.parametrize("backup", [False, True])
def test_running_out_of_memory_or_exiting_stops_the_pass(
    monkeypatch, backup, error
):
    # Not retried, and nothing more drawn: drawing on after a MemoryError
    # risks the process being killed, and SystemExit asks to stop.
    model = _eight_variables()
    before = [values(v).copy() for v in model.weights]
    failing = _FailingAssign(monkeypatch, {4}, error)
    with pytest.raises(type(error)) as info:
        keras_inits.reinitialize(model, seed=7, backup=backup)
    note = "".join(info.value.__notes__)
    monkeypatch.undo()
    assert failing.count == 4
    now = [values(v) for v in model.weights]
    changed = [not np.array_equal(v, w) for v, w in zip(now, before)]
    if backup:
        assert "the model is untouched" in note and not any(changed)
    else:
        assert "the model is PART-CHANGED: 3 of 8 variables" in note
        assert changed == [True] * 3 + [False] * 5


@pytest.mark.parametrize("fails", [False, True], ids=["alone", "after"])
def test_ctrl_c_is_held_until_the_weights_are_all_assigned(monkeypatch, fails):
    # The user asked to stop: the interrupt is raised once the pass has
    # made the model whole, with the error that came before it, if one
    # did (`fails`: the fifth assignment raises, and its retry succeeds),
    # in its note.
    import signal

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Python's default SIGINT handler is not in place")
    model = _eight_variables()
    expected = _reference(7)
    calls, original = [], keras_internals.assign

    def assign(v, value, fresh=False):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        if fails and len(calls) == 5:
            raise RuntimeError("device lost")
        return original(v, value, fresh)

    monkeypatch.setattr(keras_internals, "assign", assign)
    with pytest.raises(KeyboardInterrupt) as info:
        keras_inits.reinitialize(model, seed=7)
    assert len(calls) == 9 if fails else 8
    note = "".join(info.value.__notes__)
    assert "wholly reinitialized" in note
    assert ("an assignment raised RuntimeError: device lost" in note) == fails
    for v, want in zip(model.weights, expected):
        np.testing.assert_array_equal(values(v), want)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_guides_example_runs():
    page = os.path.join(
        os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        ),
        "docs",
        "reinitialize.md",
    )
    with open(page, encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert len(blocks) == 1
    namespace = {"__name__": "docs_example"}
    exec(compile(blocks[0], page, "exec"), namespace)
    report = namespace["report"]
    assert [row.key for row in report] == [
        "body/kernel",
        "body/bias",
        "head/kernel",
        "head/bias",
    ]


def test_measure_false_draws_the_same_values_and_leaves_the_moments_nan():
    measured, unmeasured = mlp(), mlp()
    report = keras_inits.reinitialize(measured, seed=4)
    quiet = keras_inits.reinitialize(unmeasured, seed=4, measure=False)
    for v, w in zip(measured.weights, unmeasured.weights):
        np.testing.assert_array_equal(values(v), values(w))
    assert [r.path for r in quiet] == [r.path for r in report]
    assert all(
        math.isnan(x)
        for r in quiet
        for x in (r.mean_before, r.std_before, r.mean_after, r.std_after)
    )
    assert not any(math.isnan(r.std_after) for r in report)


def test_a_kept_value_is_let_go_once_assigned(monkeypatch):
    # A closure's values are computed in the first pass and kept for the
    # second; each is let go once its variable holds it, so the second pass
    # never holds a value already assigned.
    if keras.backend.backend() != "numpy":
        pytest.skip("an assigned value is the kept array itself on NumPy")
    import weakref

    class Kept(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(4, 4),
                initializer=lambda shape, dtype=None: np.full(shape, 0.5),
            )

        def call(self, x):
            return x @ self.w

    model = keras.Sequential([keras.Input((4,))] + [Kept() for _ in range(3)])
    assigned, alive_at_each_assignment = [], []
    original = keras_internals.assign

    def assign(variable, values, fresh=False):
        alive_at_each_assignment.append(
            sum(ref() is not None for ref in assigned)
        )
        assigned.append(weakref.ref(values))
        return original(variable, values, fresh)

    monkeypatch.setattr(keras_internals, "assign", assign)
    report = keras_inits.reinitialize(model, seed=0)
    assert report.kept_bytes == 3 * 16 * 4
    assert alive_at_each_assignment == [0, 0, 0]


@pytest.mark.parametrize(
    "dtype, size", [("float8_e5m2", 1), ("float8_e4m3fn", 1), ("bfloat16", 2)]
)
def test_kept_bytes_count_each_dtypes_own_size(dtype, size):
    # A value kept between the passes takes its dtype's bytes: one for a
    # float8 type, whatever digits end its name.
    class Kept(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(4, 4),
                dtype=dtype,
                initializer=lambda shape, dtype=None: keras.ops.ones(
                    shape, dtype=dtype
                ),
            )

    layer = Kept()
    try:
        layer.build((4,))
    except Exception:  # each backend refuses a dtype its own way
        pytest.skip(f"the {keras.backend.backend()} backend has no {dtype}")
    report = keras_inits.reinitialize(layer, seed=0)
    assert report.kept_bytes == 16 * size


def test_a_pass_that_changed_nothing_says_the_model_is_untouched(
    monkeypatch,
):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(4, use_bias=False)]
    )
    before = values(model.weights[0]).copy()
    _FailingAssign(monkeypatch, {1, 2}, RuntimeError("device lost"))
    with pytest.raises(RuntimeError) as info:
        keras_inits.reinitialize(model, seed=7)
    assert "the model is untouched: no variable was re-drawn" in "".join(
        info.value.__notes__
    )
    np.testing.assert_array_equal(values(model.weights[0]), before)


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="PyTorch's storage only"
)
def test_fresh_draws_become_the_storage_of_the_same_parameters():
    # keras_inits' draws become a PyTorch variable's storage without a
    # copy; the Parameter stays the object layers and optimizers hold, and
    # training goes on updating it.
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    parameters = [v.value for v in model.weights]
    kernels = [v for v in model.weights if v.name == "kernel"]
    pointers = [v.value.data_ptr() for v in kernels]
    keras_inits.reinitialize(model, seed=3)
    assert all(a is b.value for a, b in zip(parameters, model.weights))
    # The kernels' draws (Glorot and He, random) were not copied into the
    # old storage; the zeros and ones of biases and norms were.
    assert all(v.value.data_ptr() != p for v, p in zip(kernels, pointers))
    drawn = values(model.get_layer("out").kernel).copy()
    inputs = np.random.default_rng(0).standard_normal((8, 6))
    model.fit(inputs, np.zeros((8, 3)), epochs=1, verbose=0)
    assert not np.array_equal(values(model.get_layer("out").kernel), drawn)
