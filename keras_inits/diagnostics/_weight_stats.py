"""`WeightStats`, a callback recording each weight's statistics during
training, with the gradient norms the backend's autodiff gives.

matplotlib and pandas are imported only by the methods that need them.
"""

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_inits._internal import checks
from keras_inits._internal import tables
from keras_inits._internal.autodiff import gradients
from keras_inits._internal.tables import number_cell


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

    def __init__(
        self,
        variables: Callable[[str], bool] | None = None,
        gradient_data: tuple[object, object] | None = None,
        verbose: bool = False,
    ):
        super().__init__()
        if variables is not None and not callable(variables):
            raise checks.argument_error(
                "WeightStats", "variables", "None or a predicate", variables
            )
        if gradient_data is not None and not (
            isinstance(gradient_data, (tuple, list))
            and len(gradient_data) == 2
        ):
            raise checks.argument_error(
                "WeightStats",
                "gradient_data",
                "None or a pair (x, y)",
                gradient_data,
            )
        if not (
            isinstance(verbose, bool)
            or (isinstance(verbose, int) and verbose in (0, 1))
        ):
            raise checks.argument_error(
                "WeightStats", "verbose", "True or False", verbose
            )
        self.variables = variables
        self.gradient_data = gradient_data
        self.verbose = bool(verbose)
        self.history = []

    @property
    def _trained_model(self) -> keras.Model:
        """`self.model`, which Keras' `fit` sets (`set_model`) before it
        calls any hook (the class's example calls `set_model` by hand)."""
        model = self.model
        assert model is not None
        return model

    def _chosen(self):
        return [
            v
            for v in self._trained_model.trainable_variables
            if self.variables is None or self.variables(v.path)
        ]

    def _record(self, epoch):
        chosen = self._chosen()
        norms = [math.nan] * len(chosen)
        if self.gradient_data is not None:
            x, y = self.gradient_data
            # The compiled loss function (Keras' `get` is unannotated).
            loss: Any = keras.losses.get(self._trained_model.loss)
            found = gradients(
                lambda: keras.ops.mean(
                    loss(y, self._trained_model(x, training=False))
                ),
                chosen,
            )
            if found is not None:
                norms = [float(np.linalg.norm(g)) for g in found]
        rows = []
        for variable, norm in zip(chosen, norms):
            values = np.asarray(
                keras.ops.convert_to_numpy(variable), dtype="float64"
            )
            rows.append(
                {
                    "epoch": epoch,
                    "path": variable.path,
                    "mean": float(values.mean()),
                    "std": float(values.std()),
                    "min": float(values.min()),
                    "max": float(values.max()),
                    "gradient_norm": norm,
                }
            )
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
        rows = [
            (
                str(r["epoch"]),
                r["path"],
                *(
                    number_cell(r[k])
                    for k in ("mean", "std", "min", "max", "gradient_norm")
                ),
            )
            for r in self.history
            if r["epoch"] == epoch
        ]
        # The epoch, a number, is right-aligned before the path, which is
        # left-aligned: padded here, the table keeps both as they are.
        width = max([len(header[0])] + [len(row[0]) for row in rows])
        header = (header[0].rjust(width), *header[1:])
        rows = [(row[0].rjust(width), *row[1:]) for row in rows]
        return "\n".join(tables.format_table(header, rows, left=2))

    def series(self, statistic):
        """`{path: [value at epoch 0, 1, ...]}` for one statistic."""
        checks.check_choice(
            "WeightStats.series",
            "statistic",
            statistic,
            ("mean", "std", "min", "max", "gradient_norm"),
        )
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
            ax.plot(
                range(len(values)),
                values,
                marker="o",
                markersize=3,
                label=path,
            )
        ax.set_xlabel("epoch (0 = initial weights)")
        ax.set_ylabel(statistic.replace("_", " "))
        ax.set_title(f"Weight {statistic.replace('_', ' ')} per epoch")
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
        return figure
