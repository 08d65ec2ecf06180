"""The comparison experiment: one network trained with several initializers
on the 8x8 digits scikit-learn ships (offline), each from several seeds,
with its figures and report.

This is what `python -m keras_inits compare` runs. A run (one initializer,
one seed) takes every source of randomness from its seed: the
train/validation split, the weights (each layer's initializer gets its own
seed), and Keras' shuffling (Keras' global seeds, set before each fit by
`keras_internals.set_random_seed`), so the same seeds on the same backend
give the same numbers.
"""

import os
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import keras

from keras_inits._internal import checks
from keras_inits._internal import defaults
from keras_inits._internal import keras_internals
from keras_inits._internal import networks
from keras_inits._internal.limits import SEED_LIMIT
from keras_inits.diagnostics import plot_signal_propagation
from keras_inits.diagnostics import signal_propagation
from keras_inits.experiments import _reports
from keras_inits.experiments import _runs as runs_module
from keras_inits.experiments._initializer_lists import LSUV
from keras_inits.experiments._initializer_lists import read_entries

# The report's names, importable from here too: the comparison notebook
# prints `comparison.format_table(runs, threshold)`.
from keras_inits.experiments._reports import OUTPUTS  # noqa: F401
from keras_inits.experiments._reports import format_table  # noqa: F401
from keras_inits.experiments._reports import output_problem  # noqa: F401
from keras_inits.experiments._runs import Run  # noqa: F401
from keras_inits.experiments._runs import summarize  # noqa: F401
from keras_inits.initializers import InitializerLike
from keras_inits.initializers import get
from keras_inits.model import lsuv

DEFAULT_INITIALIZERS = defaults.DEFAULT_INITIALIZERS
TRAINABLE_BACKENDS = runs_module.TRAINABLE_BACKENDS
MAX_EPOCHS = defaults.MAX_EPOCHS
MAX_SEEDS = defaults.MAX_SEEDS
INPUTS = defaults.INPUTS
"""The MLP's inputs: the 64 features of an 8x8 digit."""
# Training images LSUV calibrates on, and the signal plot measures on.
CALIBRATION_IMAGES = 256


def run_seeds(seed, seeds):
    """The seeds of the runs of each initializer: `seed`, `seed + 1`, ...,
    `seeds` of them, each taken modulo 2**31 (the seeds every backend
    takes; below 2**31 the modulo changes nothing)."""
    return [(seed + i) % SEED_LIMIT for i in range(seeds)]


def load_digits(seed: int) -> list[Any]:
    """The 1,797 8x8 digits, scaled to [0, 1], split 80/20 stratified by
    `seed`: (x_train, x_val, y_train, y_val), 1,437 and 360 images."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    x, y = sklearn_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return train_test_split(
        x, y.astype("int32"), test_size=0.2, random_state=seed, stratify=y
    )


def build_network(
    initializer: InitializerLike,
    depth: int,
    width: int,
    activation: str | Callable | None,
    seed: int,
    inputs: int = 64,
    classes: int = 10,
) -> keras.Sequential:
    """`depth` hidden `Dense(width, activation)` layers and a linear output
    of logits, every kernel from `initializer` (a seeded copy per layer),
    zero biases.

    Layer `i` (the output layer is `depth`) gets the seed
    `(seed * 1000 + i) % 2**31`: the seeds every backend takes (PyTorch's
    seed generators hold int32); below 2**31 the modulo changes nothing.
    `initializer` is anything `keras_inits.get` takes.
    """
    return networks.mlp(
        get(initializer),
        inputs=inputs,
        depth=depth,
        width=width,
        activation=activation,
        first_seed=seed * 1000,
        prefix="hidden",
        classes=classes,
        name="mlp",
    )


def _network(entry, depth, width, activation, seed, x_train):
    """The network of one `(label, initializer)` entry of
    `parse_initializers`, built after Keras' global seed is set to `seed`;
    for `LSUV`, Orthogonal kernels rescaled by `lsuv` on the first
    `CALIBRATION_IMAGES` images of `x_train`."""
    label, initializer = entry
    keras_internals.set_random_seed(seed)
    if initializer == LSUV:
        model = build_network("Orthogonal", depth, width, activation, seed)
        lsuv(model, x_train[:CALIBRATION_IMAGES], seed=seed)
        return model
    return build_network(initializer, depth, width, activation, seed)


def compare(
    initializers: str | Sequence[object] = DEFAULT_INITIALIZERS,
    *,
    epochs: int = 15,
    depth: int = 10,
    width: int = 64,
    activation: str | Callable | None = "relu",
    seed: int = 0,
    seeds: int = 3,
    output: str = "compare_output",
    threshold: float = 0.9,
    learning_rate: float = 0.05,
    batch_size: int = defaults.BATCH_SIZE,
    progress: bool = True,
) -> list[Run]:
    """Trains the same MLP with each initializer from several seeds and
    writes the report.

    Args:
        initializers: a comma-separated string or a list of entries, each a
            name with optional keyword arguments
            (`"RandomNormal(stddev=0.01)"`), an initializer, or `"LSUV"`
            (Orthogonal, then `lsuv` on 256 training images); each once.
        epochs: training length, up to 10,000 epochs.
        depth: the network's hidden layers, up to 1,000.
        width: the units of each hidden layer, up to 8,192; the network
            holds at most 2**27 weights.
        activation: a Keras activation.
        seed: an integer in [0, 2**31), the first seed.
        seeds: how many seeds each initializer is trained from, 1 to 100:
            `seed`, `seed + 1`, ... (modulo 2**31). A run's seed drives its
            train/validation split, its weights and its shuffling.
        output: folder for `curves.png` (per initializer, the mean over
            seeds with a min-max band), `signal_propagation.png` and
            `weights_at_init.png` (the first seed's networks; the signal
            measured on the 256 training images LSUV calibrates on),
            `report.md` and `report.csv` (per initializer, mean and
            standard deviation over seeds), and `runs.csv` (per initializer
            and seed, with its curves); created if needed, those six files
            overwritten in an existing one.
        threshold: the validation accuracy "epochs to reach" counts to, in
            (0, 1], compared with accuracies as the report prints them.
        learning_rate: of plain SGD with momentum 0.9, which (unlike
            Adam) does not rescale away a badly scaled start.
        batch_size: of the same SGD.
        progress: show a progress bar on stderr.

    A run whose training or validation loss becomes NaN or infinite stops
    at that epoch and is reported as diverged there.

    Returns:
        The list of `Run`s (one per initializer and seed), grouped by
        initializer in the order given, seeds in order;
        `summarize(runs, threshold)` gives the statistics over seeds.

    Raises:
        ValueError: for a bad argument (naming it) or an `output` it cannot
            write in, before anything is built, trained or written.
    """
    settings = _checked_settings(
        epochs=epochs,
        depth=depth,
        width=width,
        activation=activation,
        seed=seed,
        seeds=seeds,
        threshold=threshold,
        learning_rate=learning_rate,
        batch_size=batch_size,
        progress=progress,
        output=output,
    )
    entries = read_entries(initializers)
    settings.update(
        backend=runs_module.trainable_backend("compare"),
        keras=keras.__version__,
    )
    bar = runs_module.Progress(
        len(entries) * len(settings["seeds"]) * settings["epochs"],
        settings["progress"],
    )
    runs = []
    try:
        with runs_module.torch_threads_for(
            settings["batch_size"], settings["width"], INPUTS
        ):
            for index, seed in enumerate(settings["seeds"]):
                runs += _run_seed(
                    entries, settings, seed, index == 0, output, bar
                )
    finally:
        bar.close()
    labels = [label for label, _ in entries]
    runs.sort(key=lambda run: labels.index(run.label))  # stable: seeds
    _reports.save_figure(
        _reports.plot_curves(runs, settings["threshold"]), output, "curves.png"
    )
    _reports.write_reports(runs, settings, output)
    return runs


def _run_seed(entries, settings, seed, first, output, bar):
    """Builds every entry's network from `seed` (each before any trains),
    draws the figures at initialization if it is the `first` seed, then
    trains them; returns their `Run`s."""
    x_train, x_val, y_train, y_val = load_digits(seed)
    models = _build_all(entries, settings, seed, x_train)
    if first:
        settings.update(train=len(x_train), validation=len(x_val))
        os.makedirs(output, exist_ok=True)
        _plot_initialization(
            entries,
            models,
            settings,
            seed,
            x_train[:CALIBRATION_IMAGES],
            output,
        )
    found = []
    for (label, _), model in zip(entries, models):
        bar.label = f"{label}, seed {seed}"
        run = runs_module.train(
            model,
            label,
            seed,
            (x_train, y_train),
            (x_val, y_val),
            settings,
            callbacks=[bar],
        )
        bar.update(
            settings["epochs"] - len(run.val_loss) - run.diverged
        )  # the epochs a diverged run skipped
        found.append(run)
    return found


def _checked_settings(
    *,
    epochs,
    depth,
    width,
    activation,
    seed,
    seeds,
    threshold,
    learning_rate,
    batch_size,
    progress,
    output,
) -> dict[str, Any]:
    """`compare`'s arguments, checked in the order of its signature and
    normalized, as a dict (`seeds`: the list of the runs' seeds); a
    ValueError names the first bad one."""
    epochs = checks.check_count(
        "compare", "epochs", epochs, maximum=MAX_EPOCHS
    )
    depth = checks.check_count(
        "compare", "depth", depth, maximum=networks.MAX_DEPTH
    )
    width = checks.check_count(
        "compare", "width", width, maximum=networks.MAX_WIDTH
    )
    batch_size = checks.check_count(
        "compare", "batch_size", batch_size, maximum=networks.MAX_BATCH_SIZE
    )
    networks.check_mlp_size("compare", depth, width, INPUTS, batch_size)
    networks.check_activation("compare", activation)
    seed = networks.check_int_seed("compare", seed)
    if not (checks.is_whole_number(seeds) and 1 <= seeds <= MAX_SEEDS):
        raise checks.argument_error(
            "compare", "seeds", f"an integer from 1 to {MAX_SEEDS}", seeds
        )
    threshold = check_threshold("compare", threshold)
    learning_rate = checks.check_positive(
        "compare", "learning_rate", learning_rate
    )
    if not isinstance(progress, bool):
        raise checks.argument_error(
            "compare", "progress", "True or False", progress
        )
    problem = output_problem(output)
    if problem:
        raise checks.argument_error(
            "compare",
            "output",
            f"a folder compare can write in ({problem})",
            output,
        )
    return dict(
        epochs=epochs,
        depth=depth,
        width=width,
        activation=activation,
        seed=seed,
        seeds=run_seeds(seed, int(seeds)),
        threshold=threshold,
        learning_rate=learning_rate,
        batch_size=batch_size,
        progress=progress,
    )


def _build_all(entries, settings, seed, x_train):
    """One network per entry from `seed`, all built before any training:
    an initializer that cannot make a Dense kernel fails here, before
    minutes of training."""
    models = []
    for entry in entries:
        try:
            models.append(
                _network(
                    entry,
                    settings["depth"],
                    settings["width"],
                    settings["activation"],
                    seed,
                    x_train,
                )
            )
        except Exception as error:  # ValueError, or a backend's own
            raise ValueError(
                f"{entry[0]} cannot initialize this network: "
                f"{type(error).__name__}: {error}"
            ) from None
    return models


def _plot_initialization(entries, models, settings, seed, x_batch, output):
    """Writes the figures of the networks before training: the signal
    through them on `x_batch` (the images LSUV calibrates on) and their
    kernels."""
    signal = signal_propagation(
        models={label: model for (label, _), model in zip(entries, models)},
        x_batch=x_batch,
        seed=seed,
    )
    title = (
        f"Signal propagation at initialization, measured on "
        f"{len(x_batch)} training digits (seed {seed}): "
        f"{settings['depth']} x Dense({settings['width']}, "
        f"{settings['activation']}) + Dense(10) "
        f"({settings['backend']})"
    )
    _reports.save_figure(
        plot_signal_propagation(signal, title=title),
        output,
        "signal_propagation.png",
    )
    _reports.save_figure(
        _reports.plot_initial_weights(entries, models, seed),
        output,
        "weights_at_init.png",
    )


def check_threshold(owner, threshold):
    """Returns `threshold` as a float: a validation accuracy in (0, 1]."""
    value = checks.as_float(threshold)
    if value is None or not 0.0 < value <= 1.0:  # NaN fails both
        raise checks.argument_error(
            owner, "threshold", "a validation accuracy in (0, 1]", threshold
        )
    return value
