"""`plot_weight_histograms`: a figure of one histogram per weight of a
model. matplotlib is imported only when a figure is drawn.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import keras
import numpy as np

from keras_inits._internal import checks
from keras_inits._internal.paths import variable_paths
from keras_inits.diagnostics._describe import describe

if TYPE_CHECKING:  # matplotlib is imported only to draw
    from matplotlib.figure import Figure

MAX_BINS = 10_000
MAX_COLUMNS = 100
# The rules numpy.histogram_bin_edges names.
BIN_RULES = (
    "auto",
    "fd",
    "doane",
    "scott",
    "stone",
    "rice",
    "sturges",
    "sqrt",
)


def plot_weight_histograms(
    model: keras.layers.Layer,
    *,
    bins: int | str = 40,
    variables: Callable[[str], bool] | None = None,
    columns: int | None = None,
) -> "Figure":
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
        columns = checks.check_count(
            owner, "columns", columns, maximum=MAX_COLUMNS
        )
    if variables is not None and not callable(variables):
        raise checks.argument_error(
            owner, "variables", "None or a predicate `path -> bool`", variables
        )
    description = describe(model)
    # describe's paths (`#2` for a repeated Keras path), to each variable.
    paths = variable_paths(model.weights)
    trainable = {paths[id(v)]: v for v in model.trainable_variables}
    rows = [
        r
        for r in description
        if r.path in trainable and (variables is None or variables(r.path))
    ]
    if not rows:
        raise ValueError(f"{model.name} has no variable to plot.")
    groups = {}
    for row in rows:  # group by layer: the path without its variable name
        groups.setdefault(row.path.rsplit("/", 1)[0], []).append(row)
    if columns is None:
        grid = list(groups.values())
        columns = max(len(g) for g in grid)
    else:
        grid = [rows[i : i + columns] for i in range(0, len(rows), columns)]
    figure = Figure(
        figsize=(4.2 * columns, 2.6 * len(grid)), layout="constrained"
    )
    axes = figure.subplots(len(grid), columns, squeeze=False)
    for line, panels in zip(axes, grid):
        for ax in line[len(panels) :]:
            ax.set_visible(False)
        for ax, row in zip(line, panels):
            draw_histogram(
                ax,
                keras.ops.convert_to_numpy(trainable[row.path]),
                bins,
                color="tab:blue",
            )
            ax.set_title(
                f"{row.path} {row.shape}\n{row.initializer}", fontsize=9
            )
            ax.text(
                0.98,
                0.95,
                f"mean {row.mean:.3g}\nstd {row.std:.3g}",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
            )
            ax.set_xlabel("value", fontsize=8)
            ax.set_ylabel("count", fontsize=8)
            ax.tick_params(labelsize=8)
    figure.suptitle(f"Weights of {model.name}")
    return figure


def draw_histogram(ax, values, bins: int | str = 40, **style):
    """Draws the histogram of `values` (any shape) on the matplotlib axes
    `ax`, as `ax.hist(values, bins, **style)` does, for any values a weight
    can hold: non-finite ones are left out (the panel says how many), and a
    constant shows as one bar however large it is (matplotlib cannot split
    1e38 +- 0.5 into bins)."""
    values = np.ravel(np.asarray(values, dtype="float64"))
    finite = values[np.isfinite(values)]
    if finite.size < values.size:
        ax.text(
            0.02,
            0.95,
            f"{values.size - finite.size:,} non-finite values not shown",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=7,
            color="tab:red",
        )
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
