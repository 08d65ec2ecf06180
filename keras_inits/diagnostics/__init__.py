"""Seeing what initialization does: each variable of a model beside the
std its initializer promises (`describe`, `expected_std`), histograms of
the weights (`plot_weight_histograms`), statistics recorded during
training (`WeightStats`), and how activations and gradients grow or vanish
with depth (`signal_propagation`).

matplotlib and pandas are imported only by what draws or makes a
DataFrame.

Examples:

    >>> import keras_inits
    >>> model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(
    ...     32, kernel_initializer="he_normal", name="d")], name="net")
    >>> row = keras_inits.diagnostics.describe(model)["net/d/kernel"]
    >>> round(row.expected_std, 4)  # sqrt(2 / 64)
    0.1768
"""

from keras_inits.diagnostics._describe import ModelDescription
from keras_inits.diagnostics._describe import VariableStats
from keras_inits.diagnostics._describe import describe
from keras_inits.diagnostics._describe import expected_std
from keras_inits.diagnostics._histograms import plot_weight_histograms
from keras_inits.diagnostics._propagation import SignalCurve
from keras_inits.diagnostics._propagation import SignalReport
from keras_inits.diagnostics._propagation import plot_signal_propagation
from keras_inits.diagnostics._propagation import signal_propagation
from keras_inits.diagnostics._weight_stats import WeightStats

__all__ = [
    "ModelDescription",
    "SignalCurve",
    "SignalReport",
    "VariableStats",
    "WeightStats",
    "describe",
    "expected_std",
    "plot_signal_propagation",
    "plot_weight_histograms",
    "signal_propagation",
]
