"""The comparison experiment: one network trained with several initializers
on the 8x8 digits scikit-learn ships (offline), with its figures and report.

This is what `python -m keras_inits compare` runs. Every source of
randomness is seeded from `seed`: the train/validation split, the weights
(each layer's initializer gets its own seed), and Keras' shuffling
(`keras.utils.set_random_seed` before each network), so the same seed on
the same backend gives the same numbers.
"""

import dataclasses
import os
import time

import keras

from keras_inits import checks
from keras_inits import networks
from keras_inits import reports
from keras_inits.initializer_lists import LSUV
from keras_inits.initializer_lists import read_entries
from keras_inits.lsuv import lsuv
from keras_inits.propagation import plot_signal_propagation
from keras_inits.propagation import signal_propagation
# The report's names, importable from here too: the comparison notebook
# prints `comparison.format_table(runs, threshold)`.
from keras_inits.reports import OUTPUTS  # noqa: F401
from keras_inits.reports import format_table  # noqa: F401
from keras_inits.reports import output_problem  # noqa: F401

DEFAULT_INITIALIZERS = ("Zeros", "RandomNormal(stddev=0.01)", "GlorotUniform",
                        "HeUniform", "Orthogonal", LSUV)
TRAINABLE_BACKENDS = ("tensorflow", "jax", "torch")
MAX_EPOCHS = 10_000
INPUTS = 64  # features of an 8x8 digit


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
    return networks.mlp(initializer, inputs=inputs, depth=depth, width=width,
                        activation=activation, first_seed=seed * 1000,
                        prefix="hidden", classes=classes, name="mlp")


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
    settings = _checked_settings(
        epochs=epochs, depth=depth, width=width, activation=activation,
        seed=seed, threshold=threshold, learning_rate=learning_rate,
        batch_size=batch_size, progress=progress, output=output)
    entries = read_entries(initializers)
    settings["backend"] = _trainable_backend()
    x_train, x_val, y_train, y_val = load_digits(settings["seed"])
    settings.update(keras=keras.__version__, train=len(x_train),
                    validation=len(x_val))
    models = _build_all(entries, settings, x_train)
    os.makedirs(output, exist_ok=True)
    _plot_initialization(entries, models, settings, output)
    runs = _train_all(entries, models, settings, (x_train, y_train),
                      (x_val, y_val))
    reports.save_figure(reports.plot_curves(runs, settings["threshold"]),
                        output, "curves.png")
    reports.write_reports(runs, settings, output)
    return runs


def _checked_settings(*, epochs, depth, width, activation, seed, threshold,
                      learning_rate, batch_size, progress, output):
    """`compare`'s arguments, checked in the order of its signature and
    normalized, as a dict; a ValueError names the first bad one."""
    epochs = checks.check_count("compare", "epochs", epochs,
                                maximum=MAX_EPOCHS)
    depth = checks.check_count("compare", "depth", depth,
                               maximum=networks.MAX_DEPTH)
    width = checks.check_count("compare", "width", width,
                               maximum=networks.MAX_WIDTH)
    batch_size = checks.check_count("compare", "batch_size", batch_size,
                                    maximum=networks.MAX_BATCH_SIZE)
    networks.check_mlp_size("compare", depth, width, INPUTS, batch_size)
    networks.check_activation("compare", activation)
    seed = networks.check_int_seed("compare", seed)
    threshold = check_threshold("compare", threshold)
    learning_rate = checks.check_positive("compare", "learning_rate",
                                          learning_rate)
    if not isinstance(progress, bool):
        raise checks.argument_error("compare", "progress", "True or False",
                                    progress)
    problem = output_problem(output)
    if problem:
        raise checks.argument_error(
            "compare", "output", f"a folder compare can write in ({problem})",
            output)
    return dict(epochs=epochs, depth=depth, width=width,
                activation=activation, seed=seed, threshold=threshold,
                learning_rate=learning_rate, batch_size=batch_size,
                progress=progress)


def _trainable_backend():
    """The active backend, or a ValueError if Keras cannot train on it."""
    backend = keras.backend.backend()
    if backend not in TRAINABLE_BACKENDS:
        raise ValueError(
            f"The {backend} backend cannot train (Keras has no fit for it): "
            f"run compare with one of {list(TRAINABLE_BACKENDS)}.")
    return backend


def _build_all(entries, settings, x_train):
    """One network per entry, all built before any training: an
    initializer that cannot make a Dense kernel fails here, before
    minutes of training."""
    models = []
    for entry in entries:
        try:
            models.append(_network(
                entry, settings["depth"], settings["width"],
                settings["activation"], settings["seed"], x_train))
        except Exception as error:  # ValueError, or a backend's own
            raise ValueError(f"{entry[0]} cannot initialize this network: "
                             f"{type(error).__name__}: {error}") from None
    return models


def _plot_initialization(entries, models, settings, output):
    """Writes the figures of the networks before training: the signal
    through them and their kernels."""
    signal = signal_propagation(models={
        label: model for (label, _), model in zip(entries, models)},
        seed=settings["seed"])
    title = (f"Signal propagation at initialization: {settings['depth']} x "
             f"Dense({settings['width']}, {settings['activation']}) + "
             f"Dense(10) ({settings['backend']})")
    reports.save_figure(plot_signal_propagation(signal, title=title), output,
                        "signal_propagation.png")
    reports.save_figure(reports.plot_initial_weights(entries, models),
                        output, "weights_at_init.png")


def _train_all(entries, models, settings, train, validation):
    """Trains each model in turn from the same seed; returns the `Run`s."""
    runs = []
    bar = _Progress(len(entries) * settings["epochs"], settings["progress"])
    try:
        for (label, _), model in zip(entries, models):
            keras.utils.set_random_seed(settings["seed"])
            model.compile(
                optimizer=keras.optimizers.SGD(settings["learning_rate"],
                                               momentum=0.9),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True),
                metrics=["accuracy"])
            bar.label = label
            start = time.perf_counter()
            history = model.fit(
                *train, batch_size=settings["batch_size"],
                epochs=settings["epochs"], validation_data=validation,
                verbose=0, callbacks=[bar])
            runs.append(Run(label, history.history["val_accuracy"],
                            history.history["val_loss"],
                            time.perf_counter() - start))
    finally:
        bar.close()
    return runs


def check_threshold(owner, threshold):
    """Returns `threshold` as a float: a validation accuracy in (0, 1]."""
    value = checks.as_float(threshold)
    if value is None or not 0.0 < value <= 1.0:  # NaN fails both
        raise checks.argument_error(owner, "threshold",
                                    "a validation accuracy in (0, 1]",
                                    threshold)
    return value


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
