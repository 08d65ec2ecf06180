"""Looking at initial weights: `describe`, `expected_std`,
and `plot_weight_histograms` (the `WeightStats` callback, which records
statistics during training, is in weight_stats.py).

Each variable's initializer is found as `reinitialize` finds it (a twin of
its layer rebuilt inside a `StatelessScope`), so the table can set the
values a model holds beside the standard deviation its initializer promises
for that shape. matplotlib and pandas are imported only by the functions
that need them.
"""

import dataclasses
import math

import keras
import numpy as np

from keras_inits import base
from keras_inits import checks
from keras_inits import selection
from keras_inits import names
from keras_inits import tables
from keras_inits.weight_stats import number_cell

MAX_BINS = 10_000
MAX_COLUMNS = 100
# The rules numpy.histogram_bin_edges names.
BIN_RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges",
             "sqrt")


@dataclasses.dataclass(frozen=True)
class VariableStats:
    """One row of `describe`: a variable, its initializer and its values."""

    path: str
    shape: tuple
    initializer: str
    fan_in: int
    fan_out: int
    mean: float
    std: float
    min: float
    max: float
    expected_std: float  # NaN when the initializer promises no std


class ModelDescription(tables.RowTable):
    """What `describe` returns: prints as a table, indexable by path.

    Attributes:
        rows: one `VariableStats` per variable, in the model's order.
    """

    def __init__(self, name, rows):
        self.name = name
        self.rows = list(rows)

    def __repr__(self):
        return f"<ModelDescription of {self.name}: {len(self.rows)} variables>"

    def __str__(self):
        header = ("path", "shape", "initializer", "fan_in", "fan_out",
                  "mean", "std", "min", "max", "expected std")
        rows = [(r.path, str(r.shape), r.initializer, str(r.fan_in),
                 str(r.fan_out), *(number_cell(x) for x in (
                     r.mean, r.std, r.min, r.max, r.expected_std)))
                for r in self.rows]
        return "\n".join(tables.format_table(header, rows, left=3))

    def to_dataframe(self):
        """The rows as a `pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(r) for r in self.rows])


def describe(model):
    """One row per variable of a built model or layer: what it holds and why.

    Each row gives the variable's path and shape, the initializer its layer
    created it with (with its arguments), the fans Keras' variance-scaling
    rule computes for that shape, the mean, standard deviation, minimum and
    maximum of its current values, and the standard deviation the
    initializer promises for that shape (NaN where it promises none, e.g. a
    custom initializer). A std far from the promised one means the weights
    were changed since they were drawn, or the initializer is not what you
    thought. A variable whose initializer cannot be found (a layer without
    a usable `get_config`) shows `?`.

    Args:
        model: a built `keras.Model` or `keras.layers.Layer`.

    Returns:
        A `ModelDescription`: `print` it for a table, `to_dataframe()` for
        pandas.

    Examples:

    >>> import keras_inits
    >>> model = keras.Sequential([keras.Input((256,)), keras.layers.Dense(
    ...     128, kernel_initializer=keras_inits.HeNormal(seed=0), name="d")],
    ...     name="net")
    >>> row = keras_inits.describe(model)["net/d/kernel"]
    >>> row.initializer, row.fan_in, round(row.expected_std, 4)
    ('HeNormal(seed=0)', 256, 0.0884)
    >>> abs(row.std - row.expected_std) < 0.005
    True
    """
    if not isinstance(model, keras.layers.Layer):
        raise ValueError(
            "describe needs a keras.Model or keras.layers.Layer. "
            f"Received: {type(model).__name__}")
    if not model.weights:
        raise ValueError(
            f"{model.name} has no weights to describe: build it first (call "
            "it on data, or `build(input_shape)`).")
    rows = []
    targets, _, _ = selection.select_variables(model, None, False,
                                               reset_adapted=True)
    for capture, variables in targets:
        try:
            found = capture()
        except selection.Unattributed:
            found = {}
        for _, variable in variables:
            initializer = found.get(id(variable))
            if isinstance(initializer, tuple):
                initializer = initializer[0]
            else:
                initializer = None
            rows.append(_row(variable, initializer))
    return ModelDescription(model.name, rows)


def _row(variable, initializer):
    shape = tuple(variable.shape)
    values = np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")
    fan_in, fan_out = base.compute_fans(shape)
    if hasattr(initializer, "fans") and callable(initializer.fans):
        fan_in, fan_out = initializer.fans(shape)
    if values.size:
        with np.errstate(all="ignore"):  # inf - inf: a NaN std, silently
            moments = (values.mean(), values.std(), values.min(),
                       values.max())
    else:
        moments = (math.nan,) * 4
    return VariableStats(
        variable.path, shape, initializer_name(initializer), fan_in, fan_out,
        *(float(m) for m in moments), expected_std(initializer, shape))


def initializer_name(initializer):
    """`Name(arg=value, ...)` with the arguments that differ from the
    defaults, for keras_inits' and Keras' initializers alike."""
    if initializer is None:
        return "?"
    if not isinstance(initializer, keras.initializers.Initializer):
        if not callable(initializer):
            return "initial value"
        return getattr(initializer, "__qualname__", type(initializer).__name__)
    config = initializer.get_config()
    try:
        defaults = type(initializer)().get_config()
    except Exception:  # an initializer with required arguments
        defaults = {}
    arguments = ", ".join(
        f"{key}={value!r}" for key, value in config.items()
        if key not in defaults or defaults[key] != value)
    return f"{type(initializer).__name__}({arguments})"


def short_name(initializer):
    """`initializer_name` without empty parentheses (`HeUniform` for
    `HeUniform()`): the label experiments and the command line show."""
    return initializer_name(initializer).replace("()", "")


def expected_std(initializer, shape):
    """The standard deviation `initializer` promises for a tensor of `shape`
    (population std, about its mean), or NaN if it promises none.

    A keras_inits initializer says it itself (its `expected_std(shape)`);
    a Keras initializer is read as keras_inits' class of the same name,
    built from its config, which draws the same distribution; any other
    object with an `expected_std(shape)` method reports that.
    """
    shape = checks.check_shape("expected_std", shape)
    if math.prod(shape) >= 2**63:  # no tensor holds more; floats overflow
        raise checks.argument_error("expected_std", "shape",
                                    "a shape of fewer than 2**63 values",
                                    shape)
    if (isinstance(initializer, keras.initializers.Initializer)
            and not isinstance(initializer, base.Initializer)):
        ours = names.keras_inits_class(type(initializer))
        if ours is not type(initializer):
            try:
                initializer = ours.from_config(initializer.get_config())
            except Exception:  # a config keras_inits' class refuses
                return math.nan
    method = getattr(initializer, "expected_std", None)
    if not callable(method):
        return math.nan
    return float(method(shape))


def plot_weight_histograms(model, *, bins=40, variables=None, columns=None):
    """A matplotlib figure of one histogram per weight, a row per layer.

    By default every trainable variable (kernels and biases, embeddings,
    normalization scales) is drawn; each panel's title gives the variable,
    its shape and initializer, and its mean and standard deviation. A
    constant weight (a zero bias) shows as one bar.

    Args:
        model: a built `keras.Model` or layer.
        bins: number of bins per histogram, 1 to 10,000, or the name of
            one of NumPy's rules (`"auto"`, `"fd"`, `"sturges"`, ...).
        variables: None for every trainable variable, or a predicate
            `path -> bool` choosing which to draw.
        columns: panels per row, 1 to 100; None puts each layer's
            variables on one row (kernel beside bias), as in the usual
            tutorial figure.

    Returns:
        A `matplotlib.figure.Figure` (not registered with pyplot: save it
        with `fig.savefig(...)`, or let a notebook display it).
    """
    from matplotlib.figure import Figure

    owner = "plot_weight_histograms"
    if isinstance(bins, str):
        checks.check_choice(owner, "bins", bins, BIN_RULES)
    else:
        checks.check_count(owner, "bins", bins, maximum=MAX_BINS)
    if columns is not None:
        columns = checks.check_count(owner, "columns", columns,
                                   maximum=MAX_COLUMNS)
    if variables is not None and not callable(variables):
        raise checks.argument_error(owner, "variables",
                                    "None or a predicate `path -> bool`",
                                    variables)
    description = describe(model)
    trainable = {v.path for v in model.trainable_variables}
    rows = [r for r in description if r.path in trainable
            and (variables is None or variables(r.path))]
    if not rows:
        raise ValueError(f"{model.name} has no variable to plot.")
    groups = {}
    for row in rows:  # group by layer: the path without its variable name
        groups.setdefault(row.path.rsplit("/", 1)[0], []).append(row)
    if columns is None:
        grid = list(groups.values())
        columns = max(len(g) for g in grid)
    else:
        grid = [rows[i:i + columns] for i in range(0, len(rows), columns)]
    figure = Figure(figsize=(4.2 * columns, 2.6 * len(grid)),
                    layout="constrained")
    axes = figure.subplots(len(grid), columns, squeeze=False)
    for line, panels in zip(axes, grid):
        for ax in line[len(panels):]:
            ax.set_visible(False)
        for ax, row in zip(line, panels):
            draw_histogram(ax, keras.ops.convert_to_numpy(
                _variable(model, row.path)), bins, color="tab:blue")
            ax.set_title(f"{row.path} {row.shape}\n{row.initializer}",
                         fontsize=9)
            ax.text(0.98, 0.95, f"mean {row.mean:.3g}\nstd {row.std:.3g}",
                    transform=ax.transAxes, ha="right", va="top", fontsize=8,
                    bbox={"facecolor": "white", "alpha": 0.8,
                          "edgecolor": "none"})
            ax.set_xlabel("value", fontsize=8)
            ax.set_ylabel("count", fontsize=8)
            ax.tick_params(labelsize=8)
    figure.suptitle(f"Weights of {model.name}")
    return figure


def draw_histogram(ax, values, bins=40, **style):
    """Draws the histogram of `values` (any shape) on the matplotlib axes
    `ax`, as `ax.hist(values, bins, **style)` does, for any values a weight
    can hold: non-finite ones are left out (the panel says how many), and a
    constant shows as one bar however large it is (matplotlib cannot split
    1e38 +- 0.5 into bins)."""
    values = np.ravel(np.asarray(values, dtype="float64"))
    finite = values[np.isfinite(values)]
    if finite.size < values.size:
        ax.text(0.02, 0.95, f"{values.size - finite.size:,} non-finite "
                "values not shown", transform=ax.transAxes, ha="left",
                va="top", fontsize=7, color="tab:red")
    if not finite.size:
        return
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        half = abs(low) * 1e-3 or 0.5
        ax.hist(finite, bins=1, range=(low - half, high + half), **style)
        return
    try:
        ax.hist(finite, bins=bins, **style)
    except ValueError:  # a range too narrow for `bins` bins at its scale
        ax.hist(finite, bins=1, range=(low, high), **style)


def _variable(model, path):
    for variable in model.variables:
        if variable.path == path:
            return variable
    raise KeyError(path)
