"""What `compare` writes and prints: the check of its output folder, the
figures, `report.md`, `report.csv` (one row per initializer, over its
seeds), `runs.csv` (one row per initializer and seed), and the table for
the terminal.

matplotlib is imported only by the functions that draw.
"""

import csv
import math
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_inits._internal import before_keras
from keras_inits._internal import defaults
from keras_inits._internal import tables
from keras_inits._internal.arrays import to_numpy
from keras_inits._internal.plotting import LINE_STYLES
from keras_inits._internal.plotting import MARKERS
from keras_inits.experiments import _runs as runs_module
from keras_inits.experiments._runs import Run
from keras_inits.experiments._runs import summarize

OUTPUTS = defaults.MLP_OUTPUTS


def output_problem(
    output: str, outputs: Sequence[str] = OUTPUTS
) -> str | None:
    """Why `compare` cannot write its report into the folder `output`, or
    None if it can: an existing folder it can write in, whose report files
    (`outputs`, if any there) it can overwrite, or a path where it can
    create one.

    Changes nothing: the folders it creates to find out, and a probe file,
    are removed before it returns.
    """
    return before_keras.output_problem(output, outputs)


def save_figure(figure, output, name):
    """Writes `figure` as the file `name` in the folder `output`."""
    figure.savefig(os.path.join(output, name), dpi=110)


def curve_style(index: int) -> dict[str, Any]:
    """The colour, line style and marker of the `index`-th initializer."""
    return dict(
        color=f"C{index % 10}",
        linestyle=LINE_STYLES[index % len(LINE_STYLES)],
        marker=MARKERS[index % len(MARKERS)],
        markersize=5,
        markerfacecolor="none",
    )


def plot_curves(runs, threshold):
    """Validation accuracy and loss per epoch: per initializer, the mean of
    its seeds that did not diverge with their min-max band, and each
    diverged seed as a thin line to its last finite epoch and an X at the
    epoch it diverged."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(12, 5.6), layout="constrained")
    axes = figure.subplots(1, 2)
    labels = list(dict.fromkeys(run.label for run in runs))
    for index, label in enumerate(labels):
        mine = [run for run in runs if run.label == label]
        for ax, key in zip(axes, ("val_accuracy", "val_loss")):
            draw_runs(ax, mine, key, index)
    handles = curve_legend(runs)
    seeds = max(sum(run.label == label for run in runs) for label in labels)
    accuracy_ax, loss_ax = axes
    accuracy_ax.axhline(threshold, color="grey", linestyle=":", linewidth=1)
    accuracy_ax.text(
        1,
        threshold,
        f"threshold {percent(threshold)}",
        fontsize=8,
        color="grey",
        va="bottom",
    )
    accuracy_ax.axhline(0.1, color="grey", linestyle="--", linewidth=1)
    accuracy_ax.text(
        1, 0.105, "chance (10 classes)", fontsize=8, color="grey", va="bottom"
    )
    accuracy_ax.set_ylim(0, 1.02)
    accuracy_ax.set(
        xlabel="epoch",
        ylabel="validation accuracy",
        title="Validation accuracy",
    )
    loss_ax.set(
        xlabel="epoch",
        ylabel="validation loss (cross-entropy)",
        title="Validation loss",
    )
    finished = [
        loss for run in runs if not run.diverged for loss in run.val_loss
    ]
    if finished:  # a diverged seed's last losses would hide the others
        loss_ax.set_ylim(0, 1.05 * max(finished))
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    figure.legend(
        handles=handles,
        loc="outside lower center",
        fontsize=8,
        ncols=min(len(handles), 4),
    )
    what = f"line: mean over {seeds} seeds" if seeds > 1 else "one seed"
    figure.suptitle(
        f"The same network trained from each initializer ({what}"
        f"; {keras.backend.backend()} backend)"
    )
    return figure


def curve_legend(runs, where="at that epoch"):
    """The legend of curves drawn by `draw_runs`: one entry per label of
    `runs` (with how many of its seeds diverged), then the band's and the
    divergence mark's, when there are any; a diverged seed stopped
    `where`."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    labels = list(dict.fromkeys(run.label for run in runs))
    for index, label in enumerate(labels):
        mine = [run for run in runs if run.label == label]
        diverged = sum(run.diverged for run in mine)
        handles.append(
            Line2D(
                [],
                [],
                **curve_style(index),
                label=label
                + (
                    f" ({diverged}/{len(mine)} seeds diverged)"
                    if diverged
                    else ""
                ),
            )
        )
    seeds = max(sum(run.label == label for run in runs) for label in labels)
    if seeds > 1:
        handles.append(
            Patch(
                color="grey",
                alpha=0.2,
                label=f"band: min-max over the {seeds} seeds",
            )
        )
    if any(run.diverged for run in runs):
        handles.append(
            Line2D(
                [],
                [],
                color="grey",
                marker="X",
                linestyle="none",
                markersize=8,
                label=f"X: a seed diverged {where} "
                "(NaN/inf loss, training stopped)",
            )
        )
    return handles


def draw_runs(ax, runs, key, index, every=1):
    """The `key` curves of the `index`-th label's `runs` on `ax`: the mean
    of the seeds that did not diverge with their min-max band, and each
    diverged seed as a thin line to its last finite point and an X where
    it diverged. Point `i` (from 1) is at `i * every` on the x axis (an
    epoch; `every` steps)."""
    style = curve_style(index)
    finished = [getattr(run, key) for run in runs if not run.diverged]
    if finished:
        values = np.array(finished, dtype="float64")
        epochs = every * np.arange(1, values.shape[1] + 1)
        # Over 5 epochs, markers on every other epoch, alternating from one
        # initializer to the next: where two curves coincide (Zeros and a
        # tiny RandomNormal at chance), both shapes show.
        marked = (index % 2, 2) if len(epochs) > 5 else None
        ax.plot(epochs, values.mean(axis=0), markevery=marked, **style)
        if len(finished) > 1:
            ax.fill_between(
                epochs,
                values.min(axis=0),
                values.max(axis=0),
                color=style["color"],
                alpha=0.15,
                linewidth=0,
            )
    for run in runs:
        if run.diverged:
            values = getattr(run, key)
            ax.plot(
                every * np.arange(1, len(values) + 1),
                values,
                color=style["color"],
                linestyle=style["linestyle"],
                linewidth=0.8,
            )
            # At the top of the panel: a diverged epoch has no value.
            ax.plot(
                [every * run.diverged_at],
                [0.96],
                marker="X",
                markersize=8,
                color=style["color"],
                linestyle="none",
                transform=ax.get_xaxis_transform(),
            )


def plot_initial_weights(entries, networks, seed):
    """Rows: initializers; columns: first hidden, middle hidden and output
    kernels at initialization (from `seed`). Every panel has the same
    x-range and bins, so widths compare across rows and columns."""
    from matplotlib.figure import Figure

    names = [layer.name for layer in networks[0].layers]
    picked = sorted({0, len(names) // 2, len(names) - 1})
    kernels = [
        [
            np.ravel(to_numpy(model.layers[index].kernel)).astype("float64")
            for index in picked
        ]
        for model in networks
    ]
    finite = np.concatenate(
        [k[np.isfinite(k)] for row in kernels for k in row] + [[0.0]]
    )
    low, high = float(finite.min()), float(finite.max())
    half = 0.5 * (high - low) or 0.5
    edges = np.linspace(low - 0.02 * half, high + 0.02 * half, 61)
    figure = Figure(
        figsize=(3.8 * len(picked), 1.9 * len(entries) + 0.6),
        layout="constrained",
    )
    axes = figure.subplots(
        len(entries), len(picked), squeeze=False, sharex=True
    )
    for row, (label, _) in enumerate(entries):
        for column, (ax, values) in enumerate(zip(axes[row], kernels[row])):
            shown_values = values[np.isfinite(values)]
            ax.hist(shown_values, bins=edges, color=f"C{row % 10}")
            if shown_values.size < values.size:
                ax.text(
                    0.02,
                    0.95,
                    f"{values.size - shown_values.size:,} "
                    "non-finite values not shown",
                    fontsize=7,
                    transform=ax.transAxes,
                    va="top",
                    color="tab:red",
                )
            with np.errstate(all="ignore"):  # inf - inf in an inf kernel
                std = values.std()
            ax.set_title(
                f"{label}: {names[picked[column]]} kernel, std {std:.3g}",
                fontsize=8,
            )
            ax.tick_params(labelsize=7)
            if row == len(entries) - 1:
                ax.set_xlabel("weight value", fontsize=8)
            if column == 0:
                ax.set_ylabel("count", fontsize=8)
    figure.suptitle(
        f"Kernels at initialization (seed {seed}): every panel "
        "on the same x-range and bins; counts per panel"
    )
    return figure


def percent(threshold):
    """`threshold` (a fraction) as the percentage the reports name."""
    return f"{threshold * 100:g}%"


def mean_std_cell(pair):
    """A table cell: "mean ± std" with 4 decimals, the mean alone when the
    deviation is NaN (one seed), "-" when the mean is (no seed)."""
    mean, std = pair
    if math.isnan(mean):
        return "-"
    return f"{mean:.4f}" if math.isnan(std) else f"{mean:.4f} ± {std:.4f}"


def _diverged(summary):
    """The "diverged" cell of `summary`: how many of its seeds diverged and
    at which epochs ("2/3 at epochs 4, 7"), or "none"."""
    epochs = summary.diverged_at
    if not epochs:
        return "none"
    return (
        f"{len(epochs)}/{summary.seeds} at epoch"
        f"{'s' if len(epochs) > 1 else ''} "
        f"{', '.join(map(str, epochs))}"
    )


def summary_table(runs, threshold):
    """The report's table: (header, rows of strings), one row per
    initializer, over its seeds."""
    header = (
        "initializer",
        "final val accuracy",
        "best val accuracy",
        "final val loss",
        f"epochs to {percent(threshold)}",
        f"reached {percent(threshold)}",
        "diverged",
        "seconds per run",
    )
    rows = [
        (
            s.label,
            mean_std_cell(s.final_accuracy),
            mean_std_cell(s.best_accuracy),
            mean_std_cell(s.final_loss),
            "-"
            if s.epochs_to_threshold is None
            else f"{s.epochs_to_threshold:.1f}",
            f"{s.reached}/{s.seeds}" if s.reached else "never",
            _diverged(s),
            f"{s.seconds:.1f}",
        )
        for s in summarize(runs, threshold)
    ]
    return header, rows


SUMMARY_COLUMNS = (
    "initializer",
    "seeds",
    "threshold",
    "final_val_accuracy_mean",
    "final_val_accuracy_std",
    "best_val_accuracy_mean",
    "best_val_accuracy_std",
    "final_val_loss_mean",
    "final_val_loss_std",
    "epochs_to_threshold_mean",
    "seeds_reached",
    "seeds_diverged",
    "seconds_per_run",
)
RUN_COLUMNS = (
    "initializer",
    "seed",
    "threshold",
    "epochs_completed",
    "diverged_at",
    "final_val_accuracy",
    "best_val_accuracy",
    "final_val_loss",
    "epochs_to_threshold",
    "seconds",
    "val_accuracy_by_epoch",
    "val_loss_by_epoch",
)


def number_cell(value, digits=runs_module.DIGITS):
    """A CSV cell: `value` with `digits` decimals, empty for None or NaN."""
    if value is None or math.isnan(value):
        return ""
    return f"{value:.{digits}f}"


def _run_row(run, threshold):
    """The `runs.csv` row of `run` (`RUN_COLUMNS`); a diverged run's final
    and best values and epochs to `threshold` are empty."""
    finished = not run.diverged
    return (
        run.label,
        run.seed,
        threshold,
        len(run.val_accuracy),
        run.diverged_at or "",
        number_cell(run.val_accuracy[-1] if finished else None),
        number_cell(max(run.val_accuracy) if finished else None),
        number_cell(run.val_loss[-1] if finished else None),
        (run.epochs_to(threshold) or "") if finished else "",
        f"{run.seconds:.2f}",
        " ".join(number_cell(v) for v in run.val_accuracy),
        " ".join(number_cell(v) for v in run.val_loss),
    )


def _summary_row(s, threshold):
    """The `report.csv` row of one initializer's `Summary`, `s`
    (`SUMMARY_COLUMNS`)."""
    return (
        s.label,
        s.seeds,
        threshold,
        *(
            number_cell(v)
            for pair in (s.final_accuracy, s.best_accuracy, s.final_loss)
            for v in pair
        ),
        number_cell(s.epochs_to_threshold, 2),
        s.reached,
        len(s.diverged_at),
        f"{s.seconds:.2f}",
    )


def write_csv(path, header, rows):
    """Writes `rows` under `header` as the CSV file `path`."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_reports(runs, settings, output):
    """Writes `report.csv` (one row per initializer), `runs.csv` (one row
    per initializer and seed) and `report.md` (with `settings`, the
    arguments, seeds and sizes) into the folder `output`."""
    threshold = settings["threshold"]
    write_csv(
        os.path.join(output, "report.csv"),
        SUMMARY_COLUMNS,
        [_summary_row(s, threshold) for s in summarize(runs, threshold)],
    )
    write_csv(
        os.path.join(output, "runs.csv"),
        RUN_COLUMNS,
        [_run_row(run, threshold) for run in runs],
    )
    header, rows = summary_table(runs, threshold)
    with open(os.path.join(output, "report.md"), "w") as f:
        f.write("\n".join(_markdown(header, rows, settings)))


def _markdown(header, rows, settings):
    """The lines of `report.md`."""
    seeds = settings["seeds"]
    pct = percent(settings["threshold"])
    return [
        "# keras_inits compare",
        "",
        f"Keras backend: **{settings['backend']}** (Keras "
        f"{settings['keras']}). Data: scikit-learn's 8x8 digits, "
        f"{settings['train']} training and {settings['validation']} "
        "validation images, 10 classes. Network: "
        f"{settings['depth']} x Dense({settings['width']}, "
        f"{settings['activation']}) + Dense(10) (logits), zero biases. "
        f"Training: SGD (learning rate {settings['learning_rate']}, "
        f"momentum 0.9), batch size {settings['batch_size']}, "
        f"{settings['epochs']} epochs. Seeds: "
        f"{', '.join(map(str, seeds))}; each seed drives its run's "
        "train/validation split, initialization and shuffling.",
        "",
        "| " + " | ".join(header) + " |",
        "| --- " + "| ---: " * (len(header) - 1) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        f"Over {len(seeds)} seed{'s' if len(seeds) > 1 else ''} per "
        "initializer: accuracies and losses are the mean ± sample "
        "standard deviation of the seeds that did not diverge; "
        f'"epochs to {pct}" is the mean over the seeds that reached '
        f"{pct} validation accuracy (as printed, 4 decimals), and "
        f'"reached {pct}" counts them out of all seeds. A run whose '
        "training or validation loss became NaN or infinite was stopped "
        'at that epoch ("diverged"). Chance is 0.10 (10 balanced '
        "classes). One row per initializer and seed: `runs.csv`.",
        "",
        "![Validation accuracy and loss](curves.png)",
        "",
        "![Signal propagation at initialization](signal_propagation.png)",
        "",
        "![Kernels at initialization](weights_at_init.png)",
        "",
    ]


def format_table(runs: Sequence[Run], threshold: float) -> str:
    """The report's table (one row per initializer, over its seeds) as
    plain text, for the terminal."""
    return "\n".join(tables.format_table(*summary_table(runs, threshold)))
