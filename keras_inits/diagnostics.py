"""Looking at initial weights: `describe`, `plot_weight_histograms` and the
`WeightStats` callback.

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
from keras_inits import random_initializers
from keras_inits import reinitialize as _reinitialize
from keras_inits.propagation import gradients

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


class ModelDescription(_reinitialize._RowTable):
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
        table = [header] + [
            (r.path, str(r.shape), r.initializer, str(r.fan_in),
             str(r.fan_out), *(_number(x) for x in (
                 r.mean, r.std, r.min, r.max, r.expected_std)))
            for r in self.rows
        ]
        return "\n".join(self._aligned(table, left=3))

    def to_dataframe(self):
        """The rows as a `pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(r) for r in self.rows])


def _number(x):
    return "-" if math.isnan(x) else f"{x:.4g}"


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
    targets, _, _ = _reinitialize._select(model, None, False,
                                          reset_adapted=True)
    for capture, variables in targets:
        try:
            found = capture()
        except _reinitialize._Unattributed:
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


def _matrix(shape, column_axis=-1):
    columns = shape[column_axis] if shape else 1
    return math.prod(shape) // max(columns, 1), columns


def expected_std(initializer, shape):
    """The standard deviation `initializer` promises for a tensor of `shape`
    (population std, about its mean), or NaN if it promises none.

    Known for keras_inits' and Keras' constant, normal, uniform, truncated
    normal, variance-scaling (Glorot, He, LeCun), orthogonal and identity
    initializers; any initializer with a `stddev(shape)` method reports
    that.
    """
    shape = base.check_shape("expected_std", shape)
    if math.prod(shape) >= 2**63:  # no tensor holds more; floats overflow
        raise base.argument_error("expected_std", "shape",
                                  "a shape of fewer than 2**63 values", shape)
    name = type(initializer).__name__
    method = getattr(initializer, "stddev", None)
    if callable(method):
        return float(method(shape))
    if isinstance(initializer, keras.initializers.VarianceScaling):
        # Keras' own class: the same rule as ours, from its attributes.
        fan_in, fan_out = base.compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out,
             "fan_avg": (fan_in + fan_out) / 2}[initializer.mode]
        return math.sqrt(initializer.scale / max(1.0, n))
    if name in ("Zeros", "Ones", "Constant"):
        return 0.0
    if name == "RandomNormal":
        return float(initializer.stddev)
    if name == "TruncatedNormal":  # cut at two stddevs, as in Keras
        return float(initializer.stddev) * random_initializers.TRUNCATED_STDDEV
    if name == "RandomUniform":
        return (initializer.maxval - initializer.minval) / math.sqrt(12.0)
    if name in ("Orthogonal", "OrthogonalInitializer") and len(shape) >= 2:
        # gain * Q has min(r, c) unit rows or columns: mean square
        # gain**2 / max(r, c); the mean is O(1/(r c)) and negligible.
        rows, cols = _matrix(shape, getattr(initializer, "column_axis", -1))
        return float(initializer.gain) / math.sqrt(max(rows, cols))
    if name in ("Identity", "IdentityInitializer") and len(shape) == 2:
        # min(r, c) entries equal gain, the rest 0.
        p = min(shape) / math.prod(shape)
        return abs(float(initializer.gain)) * math.sqrt(p * (1.0 - p))
    return math.nan


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
        base.check_choice(owner, "bins", bins, BIN_RULES)
    else:
        base.check_count(owner, "bins", bins, maximum=MAX_BINS)
    if columns is not None:
        columns = base.check_count(owner, "columns", columns,
                                   maximum=MAX_COLUMNS)
    if variables is not None and not callable(variables):
        raise base.argument_error(owner, "variables",
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


class WeightStats(keras.callbacks.Callback):
    """A callback recording each weight's mean, std, min and max per epoch.

    Records once before training (epoch 0, the initial weights) and after
    every epoch, into `history`: one dict per (epoch, variable) with keys
    `epoch`, `path`, `mean`, `std`, `min`, `max` and `gradient_norm`.
    With `gradient_data=(x, y)`, the gradient norm is that of the compiled
    loss on that batch with respect to the variable, computed by the
    backend's autodiff (TensorFlow, JAX and PyTorch; NaN otherwise).

    Args:
        variables: None for every trainable variable, or a predicate
            `path -> bool`.
        gradient_data: None, or a batch `(x, y)` for gradient norms.
        verbose: True to print a table of the statistics after each epoch.

    Examples:

    >>> import keras_inits
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
    ...     2, kernel_initializer="zeros", name="d")], name="net")
    >>> stats = keras_inits.WeightStats()
    >>> stats.set_model(model)
    >>> stats.on_train_begin()  # what model.fit(..., callbacks=[stats]) does
    >>> stats.series("std")
    {'net/d/kernel': [0.0], 'net/d/bias': [0.0]}
    """

    def __init__(self, variables=None, gradient_data=None, verbose=False):
        super().__init__()
        if variables is not None and not callable(variables):
            raise base.argument_error("WeightStats", "variables",
                                      "None or a predicate", variables)
        if gradient_data is not None and not (
                isinstance(gradient_data, (tuple, list))
                and len(gradient_data) == 2):
            raise base.argument_error("WeightStats", "gradient_data",
                                      "None or a pair (x, y)", gradient_data)
        if not (isinstance(verbose, bool) or (
                isinstance(verbose, int) and verbose in (0, 1))):
            raise base.argument_error("WeightStats", "verbose",
                                      "True or False", verbose)
        self.variables = variables
        self.gradient_data = gradient_data
        self.verbose = bool(verbose)
        self.history = []

    def _chosen(self):
        return [v for v in self.model.trainable_variables
                if self.variables is None or self.variables(v.path)]

    def _record(self, epoch):
        chosen = self._chosen()
        norms = [math.nan] * len(chosen)
        if self.gradient_data is not None:
            x, y = self.gradient_data
            loss = keras.losses.get(self.model.loss)
            found = gradients(lambda: keras.ops.mean(
                loss(y, self.model(x, training=False))), chosen)
            if found is not None:
                norms = [float(np.linalg.norm(g)) for g in found]
        rows = []
        for variable, norm in zip(chosen, norms):
            values = np.asarray(keras.ops.convert_to_numpy(variable),
                                dtype="float64")
            rows.append({"epoch": epoch, "path": variable.path,
                         "mean": float(values.mean()),
                         "std": float(values.std()),
                         "min": float(values.min()),
                         "max": float(values.max()),
                         "gradient_norm": norm})
        self.history.extend(rows)
        if self.verbose:
            print(self.format(epoch))

    def on_train_begin(self, logs=None):
        if not any(row["epoch"] == 0 for row in self.history):
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        self._record(epoch + 1)

    def format(self, epoch):
        """The statistics of one epoch as a table."""
        header = ("epoch", "path", "mean", "std", "min", "max", "grad norm")
        table = [header] + [
            (str(r["epoch"]), r["path"], *(_number(r[k]) for k in (
                "mean", "std", "min", "max", "gradient_norm")))
            for r in self.history if r["epoch"] == epoch]
        widths = [max(len(line[i]) for line in table) for i in range(7)]
        return "\n".join(
            "  ".join(cell.ljust(w) if i == 1 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
            for line in table)

    def series(self, statistic):
        """`{path: [value at epoch 0, 1, ...]}` for one statistic."""
        base.check_choice("WeightStats.series", "statistic", statistic,
                          ("mean", "std", "min", "max", "gradient_norm"))
        found = {}
        for row in self.history:
            found.setdefault(row["path"], []).append(row[statistic])
        return found

    def to_dataframe(self):
        """The history as a `pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.history)

    def plot(self, statistic="std"):
        """A matplotlib figure of one statistic per variable across epochs."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(7, 4.2), layout="constrained")
        ax = figure.subplots()
        for path, values in self.series(statistic).items():
            ax.plot(range(len(values)), values, marker="o", markersize=3,
                    label=path)
        ax.set_xlabel("epoch (0 = initial weights)")
        ax.set_ylabel(statistic.replace("_", " "))
        ax.set_title(f"Weight {statistic.replace('_', ' ')} per epoch")
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
        return figure
