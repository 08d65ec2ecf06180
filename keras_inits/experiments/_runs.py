"""The runs of `compare` and `compare_recipes`: one network trained from
one seed, stopped when it diverges, recorded as a `Run`; `Summary`, one
initializer's (or recipe's) runs over its seeds; and the progress bar.

Validation accuracy is a fraction of the validation images (360), which
Keras computes in float32: 324/360 comes out as 0.89999998. The reports
print 4 decimals, enough to tell every fraction of 360 apart, and whether a
run reached the threshold is decided on the printed value (`shown`), so a
report never shows 0.9000 next to "never reached 90%".
"""

import contextlib
import dataclasses
import math
import time
from collections.abc import Sequence

import keras
import numpy as np

from keras_inits._internal import defaults
from keras_inits._internal import keras_internals

DIGITS = 4  # decimals of the accuracies and losses the reports print


def shown(value):
    """`value` rounded to the `DIGITS` decimals the reports print."""
    return float(f"{value:.{DIGITS}f}")


@dataclasses.dataclass
class Run:
    """One initializer trained from one seed.

    `val_accuracy` and `val_loss` hold one value per epoch whose training
    and validation losses were finite. `diverged_at` is the epoch
    (1-based) whose training or validation loss was NaN or infinite, where
    training stopped, or None if the run finished every epoch.
    """

    label: str
    seed: int
    val_accuracy: list
    val_loss: list
    seconds: float
    diverged_at: int | None = None

    @property
    def diverged(self):
        """Whether training stopped on a NaN or infinite loss."""
        return self.diverged_at is not None

    def epochs_to(self, threshold):
        """The first epoch (1-based) whose validation accuracy, as the
        report prints it, reaches `threshold`; None if none does."""
        for epoch, accuracy in enumerate(self.val_accuracy, 1):
            if shown(accuracy) >= threshold:
                return epoch
        return None


@dataclasses.dataclass(frozen=True)
class Summary:
    """One initializer's runs over its seeds.

    `final_accuracy`, `best_accuracy`, `final_loss` and `best_loss` are
    (mean, sample standard deviation) over the runs that did not diverge
    ((nan, nan) without any; the deviation is nan with one).
    `epochs_to_threshold` is the mean over the `reached` runs (those of
    them that reached the threshold), None if none did; `diverged_at`
    holds the epoch of each diverged run; `seconds` is the mean training
    time of a run.
    """

    label: str
    seeds: int
    final_accuracy: tuple
    best_accuracy: tuple
    final_loss: tuple
    best_loss: tuple
    epochs_to_threshold: float | None
    reached: int
    diverged_at: tuple
    seconds: float


def mean_and_std(values):
    """(mean, sample standard deviation) of `values`, the deviation with
    n - 1 in its denominator: (nan, nan) if empty, nan for one value."""
    values = np.asarray(values, dtype="float64")
    if not values.size:
        return math.nan, math.nan
    std = float(values.std(ddof=1)) if values.size > 1 else math.nan
    return float(values.mean()), std


def summarize(runs: Sequence[Run], threshold: float) -> list[Summary]:
    """One `Summary` per label of `runs`, in their order of first
    appearance, each over every run with that label."""
    labels = list(dict.fromkeys(run.label for run in runs))
    summaries = []
    for label in labels:
        mine = [run for run in runs if run.label == label]
        finished = [run for run in mine if not run.diverged]
        epochs = [run.epochs_to(threshold) for run in finished]
        epochs = [epoch for epoch in epochs if epoch is not None]
        summaries.append(
            Summary(
                label=label,
                seeds=len(mine),
                final_accuracy=mean_and_std(
                    [run.val_accuracy[-1] for run in finished]
                ),
                best_accuracy=mean_and_std(
                    [max(run.val_accuracy) for run in finished]
                ),
                final_loss=mean_and_std(
                    [run.val_loss[-1] for run in finished]
                ),
                best_loss=mean_and_std(
                    [min(run.val_loss) for run in finished]
                ),
                epochs_to_threshold=float(np.mean(epochs)) if epochs else None,
                reached=len(epochs),
                diverged_at=tuple(
                    run.diverged_at for run in mine if run.diverged
                ),
                seconds=float(np.mean([run.seconds for run in mine])),
            )
        )
    return summaries


class StopOnDivergence(keras.callbacks.Callback):
    """Stops training at the end of the first epoch whose training or
    validation loss is NaN or infinite, and keeps that epoch (1-based) in
    `epoch`.

    Checked once an epoch: the epoch's training loss is the mean of its
    batches' losses, non-finite as soon as one of them is, and one check
    per epoch keeps the backends' batches running without a sync.
    """

    def __init__(self):
        super().__init__()
        self.epoch = None

    def on_epoch_end(self, epoch, logs=None):
        assert logs is not None  # fit passes every epoch's logs
        losses = [float(logs[key]) for key in ("loss", "val_loss")]
        if not all(math.isfinite(loss) for loss in losses):
            self.epoch = epoch + 1
            model = self.model
            assert model is not None  # fit sets it before any hook
            model.stop_training = True


def compile_for_training(model, optimizer):
    """Compiles `model` with `optimizer`, sparse cross-entropy on logits
    and accuracy: what `train` trains."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def train(
    model,
    label,
    seed,
    train_data,
    validation_data,
    settings,
    callbacks=(),
    steps_per_epoch=None,
    compiled=False,
    validation_batch_size=None,
):
    """Trains `model` (built) from `seed` on `train_data` `(x, y)` and
    returns its `Run`.

    `seed` seeds Keras' shuffling (`keras_internals.set_random_seed`);
    `settings` gives `batch_size` and `epochs`. The model is compiled
    with SGD (`settings["learning_rate"]`, momentum 0.9), or with
    `compiled=True` trained as `compile_for_training` left it: a model
    that `reinitialize(..., reset_optimizer=True)` reset trains as a new
    one, without tracing its functions again.

    Without `steps_per_epoch`, an epoch is a pass over `train_data`,
    shuffled; with it, an epoch is that many batches, in order, each epoch
    going on where the last stopped (Keras keeps its place in the data
    when `steps_per_epoch` is given). `validation_batch_size` defaults to
    the batch size.
    """
    keras_internals.set_random_seed(seed)
    if not compiled:
        compile_for_training(
            model,
            keras.optimizers.SGD(settings["learning_rate"], momentum=0.9),
        )
    watch = StopOnDivergence()
    start = time.perf_counter()
    history = model.fit(
        *train_data,
        batch_size=settings["batch_size"],
        epochs=settings["epochs"],
        steps_per_epoch=steps_per_epoch,
        shuffle=steps_per_epoch is None,
        validation_data=validation_data,
        validation_batch_size=validation_batch_size,
        verbose=0,
        callbacks=[watch, *callbacks],
    )
    seconds = time.perf_counter() - start
    # A diverged epoch's numbers are those of NaN weights: left out.
    kept = len(history.history["val_loss"]) - (watch.epoch is not None)
    return Run(
        label,
        seed,
        [float(v) for v in history.history["val_accuracy"][:kept]],
        [float(v) for v in history.history["val_loss"][:kept]],
        seconds,
        watch.epoch,
    )


TRAINABLE_BACKENDS = defaults.TRAINABLE_BACKENDS
"""The Keras backends the experiments train on: the NumPy backend has no
`fit`."""


def trainable_backend(owner):
    """The active backend, or a ValueError naming `owner` (the function
    that trains) if Keras cannot train on it."""
    backend = keras.backend.backend()
    if backend not in TRAINABLE_BACKENDS:
        raise ValueError(
            f"The {backend} backend cannot train (Keras has no fit for it): "
            f"run {owner} with one of {list(TRAINABLE_BACKENDS)}."
        )
    return backend


class Progress(keras.callbacks.Callback):
    """A tqdm bar on stderr over `total` epochs of every run, counted in
    `unit`s; `label` (set between runs) names the run in training."""

    def __init__(self, total, enabled, unit="epoch", name="compare"):
        super().__init__()
        self.label = ""
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit=unit, desc=name)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            assert logs is not None  # fit passes every epoch's logs
            self.bar.set_description(self.label)
            self.bar.set_postfix(
                val_loss=f"{logs['val_loss']:.3f}",
                val_accuracy=f"{logs['val_accuracy']:.3f}",
            )
        self.update(1)

    def update(self, epochs):
        """Advances the bar by `epochs`."""
        if self.bar is not None and epochs:
            self.bar.update(epochs)

    def close(self):
        if self.bar is not None:
            self.bar.close()


# The largest matrix product (rows x inner x columns) PyTorch runs on one
# thread in `compare`: 64 x 256 x 256. Up to that size a second thread
# gains nothing (measured on 2 cores: 0.103 s an epoch with one or two at
# width 256; 0.24 s against 0.19 s at 512), while PyTorch's OpenMP team
# spins on every small product and, when another process wants a core,
# waits for a descheduled thread: the default run took 257 s on two
# threads beside one busy process, 61 s on one.
ONE_THREAD_PRODUCT = 64 * 256 * 256
# The same for `compare_recipes`' transformer, whose largest product is its
# MLP's: (batch x length) x width x 4 width, up to 32 x 64 windows of width
# 64. There a second thread gains a third when the machine is quiet (52
# against 81 ms a step at batch 32, 39 against 49 at 16), and loses 4x
# beside busy processes (400 against 100 ms at batch 32, load 3-4): one
# thread is the safe choice.
ONE_THREAD_TRANSFORMER = 32 * 64 * 64 * 256


@contextlib.contextmanager
def torch_threads_for(batch_size, width, inputs, largest=ONE_THREAD_PRODUCT):
    """On PyTorch, runs the body on one CPU thread when the network's
    largest matrix product (`batch_size` x `inputs` or `width` x `width`)
    is at most `largest`, restoring the thread count after; on the other
    backends, and for larger networks, changes nothing."""
    if keras.backend.backend() != "torch" or (
        batch_size * width * max(width, inputs) > largest
    ):
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
