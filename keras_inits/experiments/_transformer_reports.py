"""What `compare_recipes` writes and prints: `curves.png` (validation loss
against steps), `scales.png` (activation and gradient scale per block at
initialization), `report.md`, `report.csv` (one row per recipe, over its
seeds), `runs.csv` (one row per recipe and seed), and the table for the
terminal.

The statistics over seeds are `runs.summarize`'s, and the cells, curves
and CSV writing `reports`' (those of the digits comparison); this module
adds what the transformer has that the MLP has not: steps, blocks and
scales. matplotlib is imported only by the functions that draw.
"""

import math
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_inits._internal import tables
from keras_inits.experiments import _reports
from keras_inits.experiments import _runs as runs_module
from keras_inits.experiments._runs import Run

SUMMARY_COLUMNS = (
    "recipe",
    "seeds",
    "final_val_loss_mean",
    "final_val_loss_std",
    "best_val_loss_mean",
    "best_val_loss_std",
    "final_val_accuracy_mean",
    "final_val_accuracy_std",
    "seeds_diverged",
    "seconds_per_run",
    "activation_std_by_block",
    "gradient_norm_by_block",
)
RUN_COLUMNS = (
    "recipe",
    "seed",
    "steps_completed",
    "diverged_by_step",
    "final_val_loss",
    "best_val_loss",
    "final_val_accuracy",
    "seconds",
    "activation_std_by_block",
    "gradient_norm_by_block",
    "val_loss_by_evaluation",
    "val_accuracy_by_evaluation",
)
# The threshold `summarize` takes: no accuracy threshold here.
NO_THRESHOLD = 1.0


def _every(settings):
    """The steps between two validation losses: `steps // evaluations` of
    `settings` (`compare_recipes` checks that `evaluations` divides
    `steps`)."""
    return settings["steps"] // settings["evaluations"]


def mean_scales(runs, key):
    """The mean over `runs` of their `key` scales ("activation_scale" or
    "gradient_scale"), one per point of the model."""
    return np.mean([getattr(run, key) for run in runs], axis=0)


def _scales_cell(values):
    """A table cell of scales, one per point of the model: 3 significant
    digits each, "-" for NaN, joined by " / "."""
    return " / ".join("-" if math.isnan(v) else f"{v:.3g}" for v in values)


def _diverged(summary, every):
    """The "diverged" cell of `summary`: how many of its seeds diverged and
    by which step ("1/3 by step 400"), or "none"; a run's `diverged_at`
    counts evaluations, `every` steps each."""
    steps = [every * epoch for epoch in summary.diverged_at]
    if not steps:
        return "none"
    return (
        f"{len(steps)}/{summary.seeds} by step"
        f"{'s' if len(steps) > 1 else ''} {', '.join(map(str, steps))}"
    )


def _by_label(runs):
    """{label: its runs}, labels in their order of first appearance."""
    found = {}
    for run in runs:
        found.setdefault(run.label, []).append(run)
    return found


def summary_table(runs, settings):
    """The report's table: (header, rows of strings), one row per recipe,
    over its seeds."""
    header = (
        "recipe",
        "final val loss",
        "best val loss",
        "final val accuracy",
        "diverged",
        "seconds per run",
    )
    rows = [
        (
            s.label,
            _reports.mean_std_cell(s.final_loss),
            _reports.mean_std_cell(s.best_loss),
            _reports.mean_std_cell(s.final_accuracy),
            _diverged(s, _every(settings)),
            f"{s.seconds:.1f}",
        )
        for s in runs_module.summarize(runs, NO_THRESHOLD)
    ]
    return header, rows


def scales_table(runs):
    """The scales at initialization, one row per recipe, means over its
    seeds: (header, rows of strings)."""
    header = (
        "recipe",
        "activation std: embeddings / block 0 / ...",
        "gradient norm: block 0 / block 1 / ...",
    )
    rows = [
        (
            label,
            _scales_cell(mean_scales(mine, "activation_scale")),
            _scales_cell(mean_scales(mine, "gradient_scale")),
        )
        for label, mine in _by_label(runs).items()
    ]
    return header, rows


def _run_row(run, every):
    """The `runs.csv` row of `run` (`RUN_COLUMNS`), with steps counted as
    `every` per evaluation; a diverged run's final and best values are
    empty."""
    finished = not run.diverged
    number = _reports.number_cell
    return (
        run.label,
        run.seed,
        every * len(run.val_loss),
        every * run.diverged_at if run.diverged else "",
        number(run.val_loss[-1] if finished else None),
        number(min(run.val_loss) if finished else None),
        number(run.val_accuracy[-1] if finished else None),
        f"{run.seconds:.2f}",
        " ".join(number(v, 6) for v in run.activation_scale),
        " ".join(number(v, 6) for v in run.gradient_scale),
        " ".join(number(v) for v in run.val_loss),
        " ".join(number(v) for v in run.val_accuracy),
    )


def _summary_row(summary, mine):
    """The `report.csv` row of one recipe's `Summary` (`SUMMARY_COLUMNS`),
    with the scales of its runs, `mine`, averaged over its seeds."""
    number = _reports.number_cell
    return (
        summary.label,
        summary.seeds,
        *(
            number(v)
            for pair in (
                summary.final_loss,
                summary.best_loss,
                summary.final_accuracy,
            )
            for v in pair
        ),
        len(summary.diverged_at),
        f"{summary.seconds:.2f}",
        " ".join(number(v, 6) for v in mean_scales(mine, "activation_scale")),
        " ".join(number(v, 6) for v in mean_scales(mine, "gradient_scale")),
    )


def write_reports(runs, settings, output):
    """Writes `report.csv`, `runs.csv` and `report.md` (with `settings`)
    into the folder `output`."""
    groups = _by_label(runs)
    _reports.write_csv(
        os.path.join(output, "report.csv"),
        SUMMARY_COLUMNS,
        [
            _summary_row(s, groups[s.label])
            for s in runs_module.summarize(runs, NO_THRESHOLD)
        ],
    )
    _reports.write_csv(
        os.path.join(output, "runs.csv"),
        RUN_COLUMNS,
        [_run_row(run, _every(settings)) for run in runs],
    )
    with open(os.path.join(output, "report.md"), "w") as f:
        f.write("\n".join(_markdown(runs, settings)))


def _markdown_table(header, rows):
    """The lines of a Markdown table of `header` and `rows` (strings), the
    first column aligned left and the others right."""
    return [
        "| " + " | ".join(header) + " |",
        "| --- " + "| ---: " * (len(header) - 1) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _markdown(runs, settings):
    """The lines of `report.md`."""
    s = settings
    seeds = s["seeds"]
    return [
        "# keras_inits compare --model transformer",
        "",
        f"Keras backend: **{s['backend']}** (Keras {s['keras']}). Data: "
        "the docstrings of Python's standard library modules "
        f"(`CORPUS_MODULES` in keras_inits/experiments/_transformer.py), {s['vocabulary']} "
        f"characters; {s['train']:,} training characters, "
        f"{s['validation']} validation windows of {s['length']}. Model: "
        f"{s['depth']} pre-LN blocks, width {s['width']}, {s['heads']} "
        f"heads, MLP {4 * s['width']} (GELU), learned positions, a "
        f"separate head. Training: Adam (learning rate "
        f"{s['learning_rate']}), batch size {s['batch_size']}, "
        f"{s['steps']} steps, validation every {_every(s)} steps. Seeds: "
        f"{', '.join(map(str, seeds))}; each seed drives its run's "
        "initialization and training windows; every recipe of a seed "
        "sees the same batches.",
        "",
        *_markdown_table(*summary_table(runs, settings)),
        "",
        f"Over {len(seeds)} seed{'s' if len(seeds) > 1 else ''} per "
        "recipe: the mean ± sample standard deviation of the seeds that "
        'did not diverge; "best" is the lowest validation loss of a '
        "run. Losses are next-character cross-entropy in nats (a uniform "
        f"guess: ln {s['vocabulary']} = {math.log(s['vocabulary']):.2f}). "
        "A run whose training or validation loss became NaN or infinite "
        'stopped at the end of that evaluation interval ("diverged by '
        'step"). "default": no recipe, each layer\'s own Keras '
        "initializer. One row per recipe and seed: `runs.csv`.",
        "",
        "At initialization, on one fixed batch of validation windows "
        "(means over seeds): the standard deviation of the residual "
        "stream after the embeddings and after each block, and the norm "
        "of the loss' gradient with respect to each block's weights.",
        "",
        *_markdown_table(*scales_table(runs)),
        "",
        "![Validation loss](curves.png)",
        "",
        "![Scales at initialization](scales.png)",
        "",
    ]


def format_table(runs: Sequence[Run], settings: dict[str, Any]) -> str:
    """The report's table as plain text, for the terminal."""
    return "\n".join(tables.format_table(*summary_table(runs, settings)))


def plot_curves(runs, settings):
    """Validation loss against training steps: per recipe, the mean of its
    seeds that did not diverge with their min-max band, and each diverged
    seed as a thin line and an X where it diverged."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5.6), layout="constrained")
    ax = figure.subplots()
    for index, mine in enumerate(_by_label(runs).values()):
        _reports.draw_runs(ax, mine, "val_loss", index, every=_every(settings))
    finished = [
        loss for run in runs if not run.diverged for loss in run.val_loss
    ]
    if finished:  # a diverged seed's last losses would hide the others
        ax.set_ylim(0.95 * min(finished), 1.05 * max(finished))
    ax.set(
        xlabel="training step",
        ylabel="validation loss (nats per character)",
        title="Validation loss",
    )
    ax.grid(alpha=0.3)
    handles = _reports.curve_legend(runs, where="in that interval")
    figure.legend(
        handles=handles,
        loc="outside lower center",
        fontsize=8,
        ncols=min(len(handles), 3),
    )
    seeds = max(len(mine) for mine in _by_label(runs).values())
    what = f"line: mean over {seeds} seeds" if seeds > 1 else "one seed"
    figure.suptitle(
        f"The same transformer after each recipe ({what}; "
        f"{keras.backend.backend()} backend)"
    )
    return figure


def plot_scales(runs):
    """Two panels on a log scale, per recipe (mean over seeds, min-max
    band): the residual stream's standard deviation after the embeddings
    and each block, and the gradient norm of each block's weights, at
    initialization."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(12, 5), layout="constrained")
    axes = figure.subplots(1, 2)
    for index, (label, mine) in enumerate(_by_label(runs).items()):
        style = _reports.curve_style(index)
        for ax, key, first in zip(
            axes, ("activation_scale", "gradient_scale"), (-1, 0)
        ):
            values = np.array([getattr(run, key) for run in mine])
            points = np.arange(first, first + values.shape[1])
            ax.plot(points, values.mean(axis=0), label=label, **style)
            if len(mine) > 1:
                ax.fill_between(
                    points,
                    values.min(axis=0),
                    values.max(axis=0),
                    color=style["color"],
                    alpha=0.15,
                    linewidth=0,
                )
    activation_ax, gradient_ax = axes
    activation_ax.set(
        xlabel="after block (-1: the embeddings' sum)",
        ylabel="std of the residual stream",
        title="Activation scale at initialization",
    )
    gradient_ax.set(
        xlabel="block",
        ylabel="gradient norm of the block's weights",
        title="Gradient scale at initialization",
    )
    for ax in axes:
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3, which="both")
    handles, labels = activation_ax.get_legend_handles_labels()
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        fontsize=8,
        ncols=min(len(labels), 5),
    )
    figure.suptitle(
        "Scales at initialization on one fixed batch (line: "
        "mean over seeds, band: min-max)"
    )
    return figure
