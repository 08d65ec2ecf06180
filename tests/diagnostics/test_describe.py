"""Tests of describe, expected_std and plot_weight_histograms."""

import math
import re

import keras
import matplotlib
import numpy as np
import pytest

import keras_inits
from keras_inits.diagnostics._describe import expected_std
from tests.catalogue import small_mlp as mlp

matplotlib.use("Agg")


def test_describe_rows_match_numpy_and_promised_std():
    model = mlp(keras_inits.HeUniform(seed=3))
    description = keras_inits.describe(model)
    assert [r.path for r in description] == [
        "net/hidden/kernel",
        "net/hidden/bias",
        "net/out/kernel",
        "net/out/bias",
    ]
    for row, variable in zip(description, model.weights):
        values = keras.ops.convert_to_numpy(variable).astype("float64")
        assert row.shape == tuple(variable.shape)
        np.testing.assert_allclose(
            [row.mean, row.std, row.min, row.max],
            [values.mean(), values.std(), values.min(), values.max()],
            rtol=1e-12,
            atol=1e-12,
        )
    kernel = description["net/hidden/kernel"]
    assert kernel.initializer == "HeUniform(seed=3)"
    assert (kernel.fan_in, kernel.fan_out) == (256, 128)
    assert kernel.expected_std == pytest.approx(math.sqrt(2 / 256))
    # 32,768 draws: the sample std is within 1% of the promise at > 5 sigma.
    assert kernel.std == pytest.approx(kernel.expected_std, rel=0.01)
    bias = description["net/out/bias"]
    assert bias.initializer == "Constant(value=0.5)"
    assert (bias.mean, bias.std, bias.expected_std) == (0.5, 0.0, 0.0)
    # Keras' own default initializer is found and promised too.
    out = description["net/out/kernel"]
    assert out.initializer == "GlorotUniform()"
    assert out.expected_std == pytest.approx(math.sqrt(2 / (128 + 10)))


def test_describe_prints_a_table_and_converts_to_pandas():
    description = keras_inits.describe(mlp())
    lines = str(description).splitlines()
    assert lines[0].split() == [
        "path",
        "shape",
        "initializer",
        "fan_in",
        "fan_out",
        "mean",
        "std",
        "min",
        "max",
        "expected",
        "std",
    ]
    assert len(lines) == 5 and lines[1].startswith("net/hidden/kernel")
    assert len(description) == 4
    assert repr(description) == "<ModelDescription of net: 4 variables>"
    with pytest.raises(KeyError):
        description["net/nope"]
    frame = description.to_dataframe()
    assert list(frame["path"]) == [r.path for r in description]
    assert frame["expected_std"].iloc[1] == 0.0


def test_describe_marks_what_it_cannot_attribute():
    class Opaque(keras.layers.Layer):  # no get_config for its argument
        def __init__(self, units):
            super().__init__()
            self.units = units

        def build(self, shape):
            self.w = self.add_weight(
                (shape[-1], self.units),
                initializer=lambda s, dtype=None: keras.ops.ones(s, dtype),
            )

    layer = Opaque(3)
    layer.build((None, 2))
    row = next(iter(keras_inits.describe(layer)))
    assert row.initializer == "?" and math.isnan(row.expected_std)
    assert "  -" in str(keras_inits.describe(layer)).splitlines()[1][
        -4:
    ] or str(keras_inits.describe(layer)).splitlines()[1].endswith("-")


def test_describe_errors():
    with pytest.raises(ValueError, match="describe needs a keras.Model"):
        keras_inits.describe("model")
    with pytest.raises(ValueError, match="dense_x has no weights to describe"):
        keras_inits.describe(keras.layers.Dense(2, name="dense_x"))


@pytest.mark.parametrize(
    "initializer, shape, expected",
    [
        (keras_inits.RandomNormal(stddev=0.3), (4, 4), 0.3),
        (keras.initializers.RandomNormal(stddev=0.3), (4, 4), 0.3),
        (keras_inits.RandomUniform(-1.0, 2.0), (4, 4), 3 / math.sqrt(12)),
        (keras_inits.TruncatedNormal(stddev=1.0), (4,), 0.8796256610342398),
        (keras.initializers.HeNormal(), (3, 3, 8, 16), math.sqrt(2 / 72)),
        (keras_inits.LecunNormal(), (50, 20), math.sqrt(1 / 50)),
        (keras_inits.Orthogonal(gain=2.0), (30, 10), 2 / math.sqrt(30)),
        (keras_inits.Identity(gain=3.0), (4, 2), 3 * math.sqrt(0.25 * 0.75)),
        (keras_inits.Zeros(), (5,), 0.0),
    ],
)
def test_expected_std_matches_a_large_draw(initializer, shape, expected):
    assert expected_std(initializer, shape) == pytest.approx(expected)
    if isinstance(initializer, keras_inits.Identity):
        values = np.eye(*shape) * 3.0
    else:
        big = (400, 300) if len(shape) == 2 else shape
        if isinstance(
            initializer,
            (
                keras_inits.RandomNormal,
                keras.initializers.RandomNormal,
                keras_inits.RandomUniform,
                keras_inits.TruncatedNormal,
            ),
        ):
            shape = big = (400, 300)
        if big != shape or math.prod(shape) < 100_000:
            # A shape-dependent std: the formula above is the check (the
            # describe test compares a HeUniform draw with it).
            return
        values = keras.ops.convert_to_numpy(initializer(big)).astype(float)
    # >= 120,000 draws (or exact values): 3% is beyond 8 sigma of the
    # sample std's spread.
    assert values.std() == pytest.approx(expected, rel=0.03, abs=1e-12)


def test_expected_std_is_nan_for_an_unknown_initializer():
    assert math.isnan(expected_std(lambda shape, dtype=None: None, (2, 2)))


def test_plot_weight_histograms_one_panel_per_weight():
    model = mlp(keras_inits.HeNormal(seed=0))
    figure = keras_inits.plot_weight_histograms(model, bins=10)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 4
    titles = [ax.get_title() for ax in visible]
    assert titles[0] == "net/hidden/kernel (256, 128)\nHeNormal(seed=0)"
    # The bars count every value of the kernel.
    heights = sum(p.get_height() for p in visible[0].patches)
    assert heights == 256 * 128
    kernels_only = keras_inits.plot_weight_histograms(
        model, variables=lambda path: path.endswith("kernel")
    )
    assert len([a for a in kernels_only.axes if a.get_visible()]) == 2
    with pytest.raises(ValueError, match="net has no variable to plot"):
        keras_inits.plot_weight_histograms(model, variables=lambda p: False)


def test_plot_weight_histograms_draws_variables_that_share_a_path():
    # Same-named layers of separately built sub-models share Keras' path;
    # describe names the second `#2`, and both are drawn, each its own.
    def sub(value):
        x = keras.Input((4,))
        dense = keras.layers.Dense(
            4, name="head", kernel_initializer=keras_inits.Constant(value)
        )
        return keras.Model(x, dense(x))

    x = keras.Input((4,))
    model = keras.Model(x, [sub(1.0)(x), sub(2.0)(x)], name="pair")
    figure = keras_inits.plot_weight_histograms(
        model,
        variables=lambda path: (
            path.endswith("kernel") or (path.endswith("kernel#2"))
        ),
    )
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title().split()[0] for ax in visible] == [
        "head/kernel",
        "head/kernel#2",
    ]
    # Each panel's one bar sits on its own kernel's constant.
    centres = [
        ax.patches[0].get_x() + ax.patches[0].get_width() / 2 for ax in visible
    ]
    assert centres == pytest.approx([1.0, 2.0])


@pytest.mark.parametrize(
    "name, value",
    [
        ("bins", "x"),
        ("bins", math.nan),
        ("bins", 10**400),
        ("bins", -3),
        ("bins", 0),
        ("bins", 2.5),
        ("bins", np.ones(3)),
        ("bins", True),
        ("columns", 0),
        ("columns", -1),
        ("columns", 1.5),
        ("columns", "2"),
        ("columns", 10**400),
        ("variables", "kernel"),
        ("variables", 5),
    ],
)
def test_plot_weight_histograms_bad_arguments(name, value):
    with pytest.raises(
        ValueError,
        match=f"`{name}` argument|Argument `{name}` of plot_weight_histograms",
    ) as info:
        keras_inits.plot_weight_histograms(mlp(), **{name: value})
    assert "plot_weight_histograms" in str(info.value)


def test_plot_weight_histograms_of_huge_and_infinite_weights():
    # matplotlib cannot bin a constant 1e38 (1e38 +- 0.5 is one float) nor
    # infinities: one bar, and a count of what is left out.
    for value, bars, note in (
        (1e38, 1, None),
        (math.inf, 0, "32,768 non-finite values"),
    ):
        figure = keras_inits.plot_weight_histograms(
            mlp(keras_inits.Constant(value))
        )
        panel = figure.axes[0]
        assert len(panel.patches) == bars
        assert sum(p.get_height() for p in panel.patches) == bars * 256 * 128
        texts = " ".join(t.get_text() for t in panel.texts)
        assert note is None or note in texts


def test_plot_weight_histograms_takes_numpy_bin_rules():
    figure = keras_inits.plot_weight_histograms(
        mlp(), bins="sturges", columns=1
    )
    assert len([a for a in figure.axes if a.get_visible()]) == 4


@pytest.mark.parametrize(
    "shape, message",
    [
        (5, "expected_std needs a shape of whole numbers"),
        (("a", 2), "expected_std needs a shape of whole numbers"),
        ((2.5, 2), "expected_std needs a shape of whole numbers"),
        ((10**400, 2), "expected_std needs a shape"),
        (
            (2**40, 2**40),
            "Argument `shape` of expected_std must be a shape of "
            "fewer than 2**63 values",
        ),
    ],
)
def test_expected_std_bad_shapes(shape, message):
    # A shape of 10**400 made `math.sqrt` raise OverflowError.
    with pytest.raises(ValueError, match=re.escape(message)):
        expected_std(keras_inits.Orthogonal(), shape)
