"""The comparison experiment: one network trained with several initializers
on the 8x8 digits scikit-learn ships (offline), with its figures and report.

This is what `python -m keras_inits compare` runs. Every source of
randomness is seeded from `seed`: the train/validation split, the weights
(each layer's initializer gets its own seed), and Keras' shuffling
(`keras.utils.set_random_seed` before each network), so the same seed on
the same backend gives the same numbers.
"""

import ast
import csv
import dataclasses
import os
import tempfile
import time

import keras
import numpy as np

from keras_inits import base
from keras_inits import propagation
from keras_inits.diagnostics import draw_histogram
from keras_inits.diagnostics import initializer_name
from keras_inits.lsuv import lsuv
from keras_inits.propagation import plot_signal_propagation
from keras_inits.propagation import seeded
from keras_inits.propagation import signal_propagation
from keras_inits.serialization import name_table
from keras_inits.serialization import get

LSUV = "LSUV"  # not an initializer: Orthogonal, then lsuv on a batch
DEFAULT_INITIALIZERS = ("Zeros", "RandomNormal(stddev=0.01)", "GlorotUniform",
                        "HeUniform", "Orthogonal", LSUV)
TRAINABLE_BACKENDS = ("tensorflow", "jax", "torch")
MAX_EPOCHS = 10_000
OUTPUTS = ("curves.png", "signal_propagation.png", "weights_at_init.png",
           "report.md", "report.csv")
INPUTS = 64  # features of an 8x8 digit


class UnknownInitializerError(ValueError):
    """An `--initializers` entry that names no initializer."""


def valid_names():
    """The names `compare` takes: keras_inits' and Keras' initializers (in
    any spelling `keras_inits.get` takes), and `LSUV`."""
    return sorted({name for name, (_, canonical) in name_table().items()
                   if ">" not in name and name[0].isupper()} | {LSUV})


def parse_initializers(text):
    """Splits `"Zeros, RandomNormal(stddev=0.01), he_uniform"` into
    `[(label, initializer or "LSUV")]`; keyword arguments are Python
    literals."""
    entries, depth, start = [], 0, 0
    for i, char in enumerate(text + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            if text[start:i].strip():
                entries.append(text[start:i].strip())
            start = i + 1
    if not entries or depth:
        raise UnknownInitializerError(
            f"Cannot read the initializer list {base.shown(text)}: expected "
            "names separated by commas, e.g. 'Zeros,HeUniform,RandomNormal("
            "stddev=0.01)'.")
    return [_parse_one(entry) for entry in entries]


def _parse_one(entry):
    name, _, arguments = entry.partition("(")
    name = name.strip()
    if name.lower() == LSUV.lower():
        if arguments:
            raise UnknownInitializerError(
                f"{LSUV} takes no arguments. Received: {base.shown(entry)}")
        return LSUV, LSUV
    kwargs = {}
    if arguments:
        try:
            kwargs = _keywords(arguments)
        except ValueError as error:
            raise UnknownInitializerError(
                f"Cannot read the arguments of {base.shown(entry)} "
                f"({error}): write them as keywords with literal values, "
                "e.g. 'RandomNormal(stddev=0.01)'.") from None
    try:
        cls = type(get(name))
    except ValueError as error:
        raise UnknownInitializerError(
            f"{error} Valid names: {', '.join(valid_names())}.") from None
    try:
        initializer = cls(**kwargs)
    except Exception as error:  # a command line never gives a traceback
        raise UnknownInitializerError(
            f"{base.shown(entry)}: {error}") from None
    return initializer_name(initializer).replace("()", ""), initializer


def _keywords(arguments):
    """`"stddev=0.01, seed=3)"` (the text after the opening parenthesis) as
    a dict; raises ValueError saying what is not `name=literal`."""
    try:
        call = ast.parse(f"f({arguments}", mode="eval").body
    except (MemoryError, RecursionError):  # the parser's stack ("------1")
        raise ValueError("too deeply nested") from None
    except (SyntaxError, ValueError) as error:
        raise ValueError(getattr(error, "msg", None) or str(error)) from None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "f"):
        raise ValueError("text after the closing parenthesis")
    if call.args:
        raise ValueError("positional arguments")
    kwargs = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise ValueError("'**' unpacking")
        if keyword.arg in kwargs:
            raise ValueError(f"`{keyword.arg}` given twice")
        try:
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except (ValueError, TypeError, SyntaxError, MemoryError,
                RecursionError):
            raise ValueError(
                f"the value of `{keyword.arg}` is not a literal (a number, "
                "string, list, tuple, dict, True, False or None; no "
                "arithmetic such as 10**400)") from None
    return kwargs


@dataclasses.dataclass
class Run:
    """One initializer's training: per-epoch validation curves."""

    label: str
    val_accuracy: list
    val_loss: list
    seconds: float

    def epochs_to(self, threshold):
        """The first epoch (1-based) whose validation accuracy reaches
        `threshold`, or None."""
        for epoch, accuracy in enumerate(self.val_accuracy, 1):
            if accuracy >= threshold:
                return epoch
        return None


def load_digits(seed):
    """The 1,797 8x8 digits, scaled to [0, 1], split 80/20 stratified."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    x, y = sklearn_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return train_test_split(x, y.astype("int32"), test_size=0.2,
                            random_state=seed, stratify=y)


def build_network(initializer, depth, width, activation, seed, inputs=64,
                  classes=10):
    """`depth` hidden `Dense(width, activation)` layers and a linear output
    of logits, every kernel from `initializer` (a seeded copy per layer),
    zero biases.

    Layer `i` (the output layer is `depth`) gets the seed
    `(seed * 1000 + i) % 2**31`: the seeds every backend takes (PyTorch's
    seed generators hold int32); below 2**31 the modulo changes nothing.
    """
    layers = [keras.Input((inputs,))]
    for i in range(depth):
        layers.append(keras.layers.Dense(
            width, activation=activation, name=f"hidden_{i + 1}",
            kernel_initializer=seeded(
                initializer, (seed * 1000 + i) % propagation.SEED_LIMIT)))
    layers.append(keras.layers.Dense(
        classes, name="output",
        kernel_initializer=seeded(
            initializer, (seed * 1000 + depth) % propagation.SEED_LIMIT)))
    return keras.Sequential(layers, name="mlp")


def _network(entry, depth, width, activation, seed, x_train):
    label, initializer = entry
    keras.utils.set_random_seed(seed)
    if initializer == LSUV:
        model = build_network("Orthogonal", depth, width, activation, seed)
        lsuv(model, x_train[:256], seed=seed)
        return model
    return build_network(initializer, depth, width, activation, seed)


def compare(initializers=DEFAULT_INITIALIZERS, *, epochs=15, depth=10,
            width=64, activation="relu", seed=0, output="compare_output",
            threshold=0.9, learning_rate=0.05, batch_size=64, progress=True):
    """Trains the same MLP with each initializer and writes the report.

    Args:
        initializers: a comma-separated string or a list of entries, each a
            name with optional keyword arguments
            (`"RandomNormal(stddev=0.01)"`), an initializer, or `"LSUV"`.
        epochs, depth, width, activation: training length and network:
            up to 10,000 epochs, 1,000 hidden layers of up to 8,192 units,
            at most 2**27 weights; a Keras activation.
        seed: an integer in [0, 2**31); seeds the split, the weights and
            the shuffling.
        output: folder for `curves.png`, `signal_propagation.png`,
            `weights_at_init.png`, `report.md` and `report.csv` (created if
            needed; those five files are overwritten in an existing one).
        threshold: the validation accuracy "epochs to reach" counts to, in
            (0, 1].
        learning_rate, batch_size: of plain SGD with momentum 0.9, which
            (unlike Adam) does not rescale away a badly scaled start.
        progress: show a progress bar on stderr.

    Returns:
        The list of `Run`s, in the order given.

    Raises:
        ValueError: for a bad argument (naming it) or an `output` it cannot
            write in, before anything is built, trained or written.
    """
    # Every argument is checked before anything is built or written.
    epochs = base.check_count("compare", "epochs", epochs,
                              maximum=MAX_EPOCHS)
    depth = base.check_count("compare", "depth", depth,
                             maximum=propagation.MAX_DEPTH)
    width = base.check_count("compare", "width", width,
                             maximum=propagation.MAX_WIDTH)
    batch_size = base.check_count("compare", "batch_size", batch_size,
                                  maximum=propagation.MAX_BATCH_SIZE)
    propagation.check_mlp_size("compare", depth, width, INPUTS,
                               batch_size)
    propagation.check_activation("compare", activation)
    seed = propagation.check_int_seed("compare", seed)
    threshold = check_threshold("compare", threshold)
    learning_rate = base.check_positive("compare", "learning_rate",
                                        learning_rate)
    if not isinstance(progress, bool):
        raise base.argument_error("compare", "progress", "True or False",
                                  progress)
    problem = output_problem(output)
    if problem:
        raise base.argument_error("compare", "output",
                                  f"a folder compare can write in ({problem})",
                                  output)
    entries = _entries(initializers)
    backend = keras.backend.backend()
    if backend not in TRAINABLE_BACKENDS:
        raise ValueError(
            f"The {backend} backend cannot train (Keras has no fit for it): "
            f"run compare with one of {list(TRAINABLE_BACKENDS)}.")
    x_train, x_val, y_train, y_val = load_digits(seed)
    # Build every network first: an initializer that cannot make a Dense
    # kernel fails here, before minutes of training.
    networks = []
    for entry in entries:
        try:
            networks.append(_network(entry, depth, width, activation, seed,
                                     x_train))
        except Exception as error:  # ValueError, or a backend's own
            raise ValueError(f"{entry[0]} cannot initialize this network: "
                             f"{type(error).__name__}: {error}") from None
    os.makedirs(output, exist_ok=True)
    signal = signal_propagation(models={
        label: model for (label, _), model in zip(entries, networks)},
        seed=seed)
    _save(plot_signal_propagation(signal, title=(
        f"Signal propagation at initialization: {depth} x Dense({width}, "
        f"{activation}) + Dense(10) ({backend})")), output,
        "signal_propagation.png")
    _save(_plot_initial_weights(entries, networks), output,
          "weights_at_init.png")
    runs = []
    bar = _Progress(len(entries) * epochs, progress)
    try:
        for (label, _), model in zip(entries, networks):
            keras.utils.set_random_seed(seed)
            model.compile(
                optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True),
                metrics=["accuracy"])
            bar.label = label
            start = time.perf_counter()
            history = model.fit(
                x_train, y_train, batch_size=batch_size, epochs=epochs,
                validation_data=(x_val, y_val), verbose=0, callbacks=[bar])
            runs.append(Run(label, history.history["val_accuracy"],
                            history.history["val_loss"],
                            time.perf_counter() - start))
    finally:
        bar.close()
    _save(_plot_curves(runs, threshold), output, "curves.png")
    settings = dict(backend=backend, keras=keras.__version__, epochs=epochs,
                    depth=depth, width=width, activation=activation,
                    seed=seed, threshold=threshold,
                    learning_rate=learning_rate, batch_size=batch_size,
                    train=len(x_train), validation=len(x_val))
    _write_reports(runs, settings, output)
    return runs


def _entries(initializers):
    """`[(label, initializer or "LSUV")]` of `compare`'s `initializers`."""
    if isinstance(initializers, str):
        return parse_initializers(initializers)
    items = (list(initializers) if isinstance(initializers, (list, tuple))
             else None)
    if not items:
        raise base.argument_error(
            "compare", "initializers",
            "a comma-separated string or a non-empty list of initializers",
            initializers)
    entries = []
    for item in items:
        if isinstance(item, str):
            entries.append(_parse_one(item))
            continue
        try:
            initializer = get(item)
        except ValueError:
            initializer = None
        if initializer is None:
            raise base.argument_error(
                "compare", "initializers",
                "a list of initializers, their names or configs",
                initializers)
        entries.append((initializer_name(initializer).replace("()", ""),
                        initializer))
    return entries


def check_threshold(owner, threshold):
    """Returns `threshold` as a float: a validation accuracy in (0, 1]."""
    value = base.as_float(threshold)
    if value is None or not 0.0 < value <= 1.0:  # NaN fails both
        raise base.argument_error(owner, "threshold",
                                  "a validation accuracy in (0, 1]",
                                  threshold)
    return value


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


class _Progress(keras.callbacks.Callback):
    """A tqdm bar over every epoch of every network (on stderr)."""

    def __init__(self, total, enabled):
        super().__init__()
        self.label = ""
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="epoch", desc="compare")

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.set_description(self.label)
            self.bar.set_postfix(val_accuracy=f"{logs['val_accuracy']:.3f}")
            self.bar.update()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _save(figure, output, name):
    figure.savefig(os.path.join(output, name), dpi=110)


def _plot_curves(runs, threshold):
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


def _plot_initial_weights(entries, networks):
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


def _write_reports(runs, settings, output):
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
    table = [header] + [
        (run.label, f"{run.val_accuracy[-1]:.4f}", f"{run.val_loss[-1]:.4f}",
         str(run.epochs_to(threshold) or "never")) for run in runs]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    return "\n".join("  ".join(
        cell.ljust(w) if i == 0 else cell.rjust(w)
        for i, (cell, w) in enumerate(zip(line, widths))) for line in table)
