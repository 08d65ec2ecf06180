"""What `compare` writes and prints: the check of its output folder, the
figures, `report.md` and `report.csv`, and the table for the terminal.

matplotlib is imported only by the functions that draw.
"""

import csv
import os
import tempfile

import keras
import numpy as np

from keras_inits import tables
from keras_inits.diagnostics import draw_histogram

OUTPUTS = ("curves.png", "signal_propagation.png", "weights_at_init.png",
           "report.md", "report.csv")


def output_problem(output):
    """Why `compare` cannot write its report into the folder `output`, or
    None if it can: an existing folder it can write in, whose report files
    (if any) it can overwrite, or a path where it can create one.

    Changes nothing: the folders it creates to find out, and a probe file,
    are removed before it returns.
    """
    if not isinstance(output, (str, os.PathLike)):
        return f"a path, not a {type(output).__name__}"
    try:
        path = os.fspath(output)
    except TypeError as error:
        return str(error)
    if not isinstance(path, str) or not path:
        return "a non-empty path"
    if "\0" in path:
        return "a path without a NUL character"
    try:
        if os.path.isdir(path):
            _probe_file(path)
            for name in OUTPUTS:
                target = os.path.join(path, name)
                if os.path.lexists(target) and not (
                        os.path.isfile(target)
                        and os.access(target, os.W_OK)):
                    return (f"{target!r} exists and is not a file compare "
                            "can overwrite")
            return None
        if os.path.lexists(path):
            return f"{path!r} exists and is not a folder"
        missing, parent = [], os.path.abspath(path)
        while not os.path.lexists(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            return f"{parent!r} is a file, not a folder"
        try:
            os.makedirs(path)
            _probe_file(path)
        finally:
            for folder in missing:  # deepest first; only empty ones go
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
    except OSError as error:
        return (f"{error.strerror or error} for "
                f"{error.filename or path!r}")
    return None


def _probe_file(folder):
    """Creates and removes a file in `folder`; an OSError names `folder`
    (not the probe file's random name)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OSError(error.errno, error.strerror, folder) from None


def save_figure(figure, output, name):
    """Writes `figure` as the file `name` in the folder `output`."""
    figure.savefig(os.path.join(output, name), dpi=110)


def plot_curves(runs, threshold):
    """Validation accuracy and loss per epoch, one line per `Run`."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.6), layout="constrained")
    accuracy_ax, loss_ax = figure.subplots(1, 2)
    for run in runs:
        epochs = range(1, len(run.val_accuracy) + 1)
        accuracy_ax.plot(epochs, run.val_accuracy, marker="o", markersize=3,
                         label=run.label)
        loss_ax.plot(epochs, run.val_loss, marker="o", markersize=3,
                     label=run.label)
    accuracy_ax.axhline(threshold, color="grey", linestyle=":", linewidth=1)
    accuracy_ax.axhline(0.1, color="grey", linestyle="--", linewidth=1)
    accuracy_ax.text(1, 0.105, "chance (10 classes)", fontsize=8,
                     color="grey", va="bottom")
    accuracy_ax.set_ylim(0, 1.02)
    accuracy_ax.set(xlabel="epoch", ylabel="validation accuracy",
                    title="Validation accuracy")
    loss_ax.set(xlabel="epoch", ylabel="validation loss (cross-entropy)",
                title="Validation loss")
    for ax in (accuracy_ax, loss_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle("The same network trained from each initializer "
                    f"({keras.backend.backend()} backend)")
    return figure


def plot_initial_weights(entries, networks):
    """Rows: initializers; columns: first hidden, middle hidden and output
    kernels at initialization."""
    from matplotlib.figure import Figure

    names = [l.name for l in networks[0].layers]
    picked = sorted({0, len(names) // 2, len(names) - 1})
    figure = Figure(figsize=(3.8 * len(picked), 1.9 * len(entries) + 0.6),
                    layout="constrained")
    axes = figure.subplots(len(entries), len(picked), squeeze=False)
    for row, ((label, _), model) in enumerate(zip(entries, networks)):
        for ax, index in zip(axes[row], picked):
            values = np.ravel(keras.ops.convert_to_numpy(
                model.layers[index].kernel)).astype("float64")
            draw_histogram(ax, values, 40, color=f"C{row}")
            with np.errstate(all="ignore"):  # inf - inf in an inf kernel
                std = values.std()
            ax.set_title(f"{label}: {names[index]} kernel, std {std:.3g}",
                         fontsize=8)
            ax.tick_params(labelsize=7)
            if row == len(entries) - 1:
                ax.set_xlabel("weight value", fontsize=8)
            if index == picked[0]:
                ax.set_ylabel("count", fontsize=8)
    figure.suptitle("Kernels at initialization")
    return figure


COLUMNS = ("initializer", "final_val_accuracy", "final_val_loss",
           "best_val_accuracy", "epochs_to_threshold", "seconds")


def write_reports(runs, settings, output):
    """Writes `report.csv` and `report.md` (with `settings`, the run's
    arguments and sizes) into the folder `output`."""
    threshold = settings["threshold"]
    rows = [(run.label, f"{run.val_accuracy[-1]:.4f}",
             f"{run.val_loss[-1]:.4f}", f"{max(run.val_accuracy):.4f}",
             "" if run.epochs_to(threshold) is None
             else str(run.epochs_to(threshold)), f"{run.seconds:.1f}")
            for run in runs]
    with open(os.path.join(output, "report.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    header = ("initializer", "final val accuracy", "final val loss",
              "best val accuracy", f"epochs to {threshold:.0%}", "seconds")
    lines = [
        "# keras_inits compare",
        "",
        f"Keras backend: **{settings['backend']}** (Keras "
        f"{settings['keras']}). Data: scikit-learn's 8x8 digits, "
        f"{settings['train']} training and {settings['validation']} "
        f"validation images, 10 classes. Network: {settings['depth']} x "
        f"Dense({settings['width']}, {settings['activation']}) + Dense(10) "
        "(logits), zero biases. Training: SGD (learning rate "
        f"{settings['learning_rate']}, momentum 0.9), batch size "
        f"{settings['batch_size']}, {settings['epochs']} epochs, seed "
        f"{settings['seed']}.",
        "",
        "| " + " | ".join(header) + " |",
        "| --- " + "| ---: " * (len(header) - 1) + "|",
    ]
    lines += ["| " + " | ".join(r[:4] + (r[4] or "never",) + r[5:]) + " |"
              for r in rows]
    lines += [
        "",
        "Chance is 0.10 (10 balanced classes).",
        "",
        "![Validation accuracy and loss](curves.png)",
        "",
        "![Signal propagation at initialization](signal_propagation.png)",
        "",
        "![Kernels at initialization](weights_at_init.png)",
        "",
    ]
    with open(os.path.join(output, "report.md"), "w") as f:
        f.write("\n".join(lines))


def format_table(runs, threshold):
    """The report's numbers as a plain-text table, for the terminal."""
    header = ("initializer", "val accuracy", "val loss",
              f"epochs to {threshold:.0%}")
    rows = [(run.label, f"{run.val_accuracy[-1]:.4f}",
             f"{run.val_loss[-1]:.4f}",
             str(run.epochs_to(threshold) or "never")) for run in runs]
    return "\n".join(tables.format_table(header, rows))
