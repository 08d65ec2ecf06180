"""Tests of signal_propagation and its plot."""

import math
import re

import keras
import matplotlib
import numpy as np
import pytest

import keras_inits

matplotlib.use("Agg")

AUTODIFF = keras.backend.backend() != "numpy"


def test_activation_std_matches_an_independent_forward_pass():
    report = keras_inits.signal_propagation(
        ["HeNormal"], depth=3, width=16, batch_size=64, seed=4
    )
    (curve,) = report
    assert curve.label == "HeNormal" and curve.layers == (
        "dense_1",
        "dense_2",
        "dense_3",
    )
    # Redo the measurement in numpy from the same seeds: the initializer is
    # seeded with seed + layer index, the inputs from default_rng(seed).
    x = np.random.default_rng(4).standard_normal((64, 16)).astype("float32")
    expected = []
    a = x.astype("float64")
    for i in range(3):
        w = keras.ops.convert_to_numpy(
            keras_inits.HeNormal(seed=4 + i)((16, 16))
        ).astype("float64")
        a = np.maximum(a @ w, 0.0)
        expected.append(a.std())
    np.testing.assert_allclose(curve.activation_std, expected, rtol=1e-4)


def test_activation_std_on_given_data():
    # Digits-like data (uniform in [0, 1), not centred): the measurement is
    # of these inputs, as an independent forward pass in numpy gives it.
    x = np.random.default_rng(1).uniform(size=(32, 6)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(
                5,
                activation="relu",
                kernel_initializer=keras_inits.HeNormal(seed=2),
            ),
            keras.layers.Dense(
                3, kernel_initializer=keras_inits.HeNormal(seed=3)
            ),
        ],
        name="given",
    )
    (curve,) = keras_inits.signal_propagation(models=model, x_batch=x)
    w1, w2 = (
        keras.ops.convert_to_numpy(layer.kernel).astype("float64")
        for layer in model.layers
    )
    hidden = np.maximum(x.astype("float64") @ w1, 0.0)
    np.testing.assert_allclose(
        curve.activation_std, [hidden.std(), (hidden @ w2).std()], rtol=1e-4
    )
    # An MLP of `width` units takes rows of `width` values.
    (mlp,) = keras_inits.signal_propagation(
        ["HeNormal"], depth=2, width=6, x_batch=x, seed=4
    )
    w = keras.ops.convert_to_numpy(keras_inits.HeNormal(seed=4)((6, 6)))
    np.testing.assert_allclose(
        mlp.activation_std[0],
        np.maximum(x.astype("float64") @ w.astype("float64"), 0).std(),
        rtol=1e-4,
    )


@pytest.mark.parametrize(
    "x_batch",
    [
        np.zeros(6),
        np.zeros((4, 5)),
        np.zeros((0, 6)),
        np.full((4, 6), np.nan),
        [["a"] * 6],
        "x",
        np.zeros((4, 6, 1)),
    ],
)
def test_signal_propagation_refuses_a_batch_that_does_not_fit(x_batch):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `x_batch` of signal_propagation must be None or an "
            "array of finite numbers, at most 2**27, with a row of shape "
            "(6,) per sample. Received: x_batch="
        ),
    ):
        keras_inits.signal_propagation(models=model, x_batch=x_batch)


def test_vanishing_and_healthy_signals_are_told_apart():
    report = keras_inits.signal_propagation(
        ["Zeros", "RandomNormal", "HeNormal"],
        depth=12,
        width=64,
        batch_size=128,
    )
    zeros, small, he = report
    assert set(zeros.activation_std) == {0.0}
    # N(0, 0.05^2) with 64 inputs through ReLU: each layer scales the std
    # by about 0.05 * sqrt(64 / 2) = 0.28, so 12 layers leave < 1e-4.
    assert small.activation_std[-1] < 1e-4 * small.activation_std[0]
    # He keeps it within a factor 4 over 12 layers (seeded, measured 2.2).
    assert 0.25 < he.activation_std[-1] / he.activation_std[0] < 4
    if AUTODIFF:
        assert set(zeros.gradient_norm) == {0.0}
        assert max(small.gradient_norm) < 1e-3 * min(he.gradient_norm)
    else:
        assert all(math.isnan(g) for g in he.gradient_norm)
    text = str(report)
    assert text.splitlines()[0] == "Zeros" and "dense_12" in text


def test_given_models_and_the_plot():
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(8), keras.layers.Dense(2)],
        name="given",
    )
    report = keras_inits.signal_propagation(models=model, batch_size=16)
    assert [c.label for c in report] == ["given"]
    assert len(report[0].activation_std) == 2
    figure = report.plot(title="T")
    left, right = figure.axes
    assert left.get_yscale() == "log" and left.get_legend() is not None
    assert left.get_xlabel() == "layer (input side to output side)"
    assert figure._suptitle.get_text() == "T"
    if not AUTODIFF:
        assert not right.axison


def test_errors():
    with pytest.raises(
        ValueError, match="Argument `depth` of signal_propagation"
    ):
        keras_inits.signal_propagation(depth=0)

    class Sub(keras.Model):
        def call(self, x):
            return x

    sub = Sub()
    with pytest.raises(ValueError, match="signal_propagation needs a built"):
        keras_inits.signal_propagation(models={"s": sub})


@pytest.mark.parametrize(
    "name, value",
    [
        ("depth", 1001),
        ("width", 10**400),
        ("batch_size", 10**400),
        ("batch_size", 1.0),
        ("seed", -1),
        ("seed", 1.5),
        ("seed", None),
        ("seed", 10**400),
        ("seed", 2**64),
        ("activation", "nope"),
        ("activation", 5),
        ("initializers", []),
        ("initializers", None),
        ("initializers", [None]),
        ("initializers", "nope"),
        ("models", "x"),
        ("models", {}),
        ("models", {"a": 5}),
        ("models", [keras.Sequential()]),
        ("x_batch", np.zeros((4, 3))),
        ("x_batch", np.full((4, 2), np.inf)),
        ("x_batch", [1.0, 2.0]),
    ],
)
def test_signal_propagation_bad_arguments(name, value):
    arguments = dict(depth=2, width=2, batch_size=4)
    arguments[name] = value
    with pytest.raises(
        ValueError, match=f"Argument `{name}` of signal_propagation "
    ):
        keras_inits.signal_propagation(**arguments)


def test_signal_propagation_refuses_a_network_beyond_its_budget():
    # 8192 inputs x 8192 units, then two more such layers: 3 * 2**26.
    with pytest.raises(
        ValueError,
        match="signal_propagation would build a "
        "network of 201,326,592 weights",
    ):
        keras_inits.signal_propagation(depth=3, width=8192)


@pytest.mark.parametrize(
    "model, message",
    [
        (
            keras.Sequential([keras.Input((None, 4)), keras.layers.Dense(3)]),
            "signal_propagation needs a model whose input shape is fixed",
        ),
        (
            keras.Sequential([keras.Input((4,)), keras.layers.Flatten()]),
            "signal_propagation found no layer with weights",
        ),
    ],
)
def test_signal_propagation_refuses_models_it_cannot_probe(model, message):
    with pytest.raises(ValueError, match=message):
        keras_inits.signal_propagation(models=model)


def test_an_initializer_that_cannot_make_the_mlp_is_named():
    with pytest.raises(
        ValueError,
        match="signal_propagation cannot build "
        "its MLP with DeltaOrthogonal: DeltaOrthogonal needs",
    ):
        keras_inits.signal_propagation("DeltaOrthogonal", depth=2, width=4)


def test_a_seed_near_2_31_seeds_every_layer():
    # seed + layer passes 2**31, which PyTorch's seed generators refuse.
    report = keras_inits.signal_propagation(
        ["HeNormal"], depth=3, width=8, seed=2**31 - 1
    )
    assert len(report[0].activation_std) == 3


@pytest.mark.parametrize(
    "report, title, name",
    [
        (5, None, "report"),
        ([], None, "report"),
        ("abc", None, "report"),
        ([5], None, "report"),
        (None, None, "report"),
        ("curves", 5, "title"),
        ("curves", b"t", "title"),
    ],
)
def test_plot_signal_propagation_bad_arguments(report, title, name):
    if report == "curves":
        report = keras_inits.signal_propagation(["HeNormal"], depth=2, width=4)
    with pytest.raises(
        ValueError, match=f"Argument `{name}` of plot_signal_propagation"
    ):
        keras_inits.plot_signal_propagation(report, title=title)
