"""Signal propagation: how activations and gradients grow or vanish with
depth, for several initializers, measured and plotted.

Forward, each weighted layer's output std on a batch of inputs: standard
normal ones, or data given as `x_batch`. Backward, the norm of the gradient
of `sum(output * r) / batch` with respect to each layer's kernel, where `r`
is a fixed standard normal matrix: the gradient that reaches the top has the
same size whatever the output's scale, so what the plot shows is how the
backward pass itself amplifies or damps it.
"""

import dataclasses
import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import keras
import numpy as np

from keras_inits._internal import before_keras
from keras_inits._internal import checks
from keras_inits._internal import networks
from keras_inits._internal import tables
from keras_inits._internal.autodiff import gradients
from keras_inits._internal.naming import short_name
from keras_inits._internal.plotting import LINE_STYLES
from keras_inits._internal.plotting import MARKERS
from keras_inits.initializers import InitializerLike
from keras_inits.initializers import get

if TYPE_CHECKING:  # matplotlib is imported only to draw
    from matplotlib.figure import Figure


@dataclasses.dataclass(frozen=True)
class SignalCurve:
    """One network's measurements, one entry per weighted layer."""

    label: str
    layers: tuple
    activation_std: tuple
    gradient_norm: tuple  # NaN without autodiff (the NumPy backend)


class SignalReport(tuple):
    """The `SignalCurve`s of `signal_propagation`; `str()` gives a table
    and `plot()` the figure."""

    def __str__(self):
        lines = []
        for curve in self:
            lines.append(curve.label)
            rows = [
                (name, f"{std:.4g}", f"{norm:.4g}")
                for name, std, norm in zip(
                    curve.layers, curve.activation_std, curve.gradient_norm
                )
            ]
            lines += [
                "  " + line
                for line in tables.format_table(
                    ("layer", "activation std", "gradient norm"), rows
                )
            ]
        return "\n".join(lines)

    def plot(self, title=None):
        return plot_signal_propagation(self, title=title)


def signal_propagation(
    initializers: InitializerLike | Sequence[InitializerLike] = (
        "RandomNormal",
        "GlorotUniform",
        "HeUniform",
    ),
    *,
    depth: int = 20,
    width: int = 128,
    activation: str | Callable | None = "relu",
    models: keras.Model | dict[str, keras.Model] | None = None,
    batch_size: int = 512,
    seed: int = 0,
    x_batch: object = None,
) -> SignalReport:
    """Measures per-layer activation std and gradient norm through a deep
    network, for several initializers.

    By default each initializer gets a `depth`-layer MLP of `Dense(width,
    activation)` layers (zero biases) fed standard normal inputs of width
    `width`: the setting of Glorot & Bengio (2010) and He et al. (2015),
    where a well-scaled initializer keeps both curves flat and a badly
    scaled one makes them shrink or grow geometrically with depth.

    Args:
        initializers: names, configs or instances (anything
            `keras_inits.get` takes). An unseeded random one is seeded from
            `seed`, so the measurement is reproducible.
        depth: the MLP's layers, up to 1,000.
        width: the units of each of its layers, up to 8,192; the MLP
            holds at most 2**27 weights (512 MiB of float32).
        activation: the MLP's activation.
        models: instead of MLPs, a built Sequential or Functional model, or
            a dict `{label: model}`, measured at every layer with weights
            (inputs drawn for its input shape, which must be fixed).
        batch_size: rows of the input batch, up to 65,536 (and 2**27
            values in all), when the inputs are drawn.
        seed: an integer in [0, 2**31); seeds the inputs, `r`, and
            unseeded initializers.
        x_batch: None to draw standard normal inputs, or the inputs to
            measure on (data, such as the batch `lsuv` calibrated on): an
            array of finite numbers, one row per sample, each row of every
            network's input shape; then `batch_size` is not used.

    Raises:
        ValueError: for any argument out of its range or of the wrong type,
            naming it, before anything is built.

    Returns:
        A `SignalReport` (a tuple of `SignalCurve`); `.plot()` draws it.

    Examples:

        >>> import keras_inits
        >>> report = keras_inits.signal_propagation(
        ...     ["RandomNormal", "HeNormal"], depth=8, width=64)
        >>> small, he = (curve.activation_std for curve in report)
        >>> small[-1] < 1e-3 < 0.1 < he[-1] < 10  # N(0, 0.05**2) vanishes
        True
    """
    owner = "signal_propagation"
    depth = checks.check_count(
        owner, "depth", depth, maximum=networks.MAX_DEPTH
    )
    width = checks.check_count(
        owner, "width", width, maximum=networks.MAX_WIDTH
    )
    batch_size = checks.check_count(
        owner, "batch_size", batch_size, maximum=networks.MAX_BATCH_SIZE
    )
    seed = networks.check_int_seed(owner, seed)
    if models is None:
        networks.check_activation(owner, activation)
        networks.check_mlp_size(owner, depth, width, width, batch_size)
        x_batch = _checked_batch(x_batch, {(width,)})
        models = _mlps(
            _initializers(initializers), depth, width, activation, seed
        )
    else:
        models = _given_models(models, batch_size)
        x_batch = _checked_batch(
            x_batch,
            {tuple(model.inputs[0].shape)[1:] for model in models.values()},
        )
    rng = np.random.default_rng(seed)
    return SignalReport(
        _measure(label, model, _inputs(model, x_batch, batch_size, rng), rng)
        for label, model in models.items()
    )


def _checked_batch(x_batch, shapes):
    """`x_batch` as an array of Keras' float type, or None; a ValueError
    naming it unless it is None or finite numbers with a row of the
    models' one input shape (`shapes`, a set) per sample."""
    if x_batch is None:
        return None
    if len(shapes) > 1:
        raise ValueError(
            "signal_propagation measures every model on x_batch, so they "
            f"need one input shape. Received: shapes {sorted(shapes)}"
        )
    try:
        values = np.asarray(
            keras.ops.convert_to_numpy(x_batch), dtype="float64"
        )
    except Exception:  # strings, objects, ragged lists...
        values = None
    if (
        values is None
        or values.ndim < 2
        or not len(values)
        or values.size > before_keras.MAX_VALUES
        or not np.isfinite(values).all()
        or shapes != {values.shape[1:]}
    ):
        raise checks.argument_error(
            "signal_propagation",
            "x_batch",
            "None or an array of finite numbers, at most 2**27, with a row "
            f"of shape {min(shapes)} per sample",
            x_batch,
        )
    return values.astype(keras.config.floatx())


def _inputs(model, x_batch, batch_size, rng):
    """`x_batch` (checked), or a batch of `batch_size` standard normal rows
    drawn from `rng` for `model`'s input shape."""
    if x_batch is not None:
        return x_batch
    shape = (batch_size, *tuple(model.inputs[0].shape)[1:])
    return rng.standard_normal(shape).astype(keras.config.floatx())


def _mlps(initializers, depth, width, activation, seed):
    """`{label: MLP}`, one MLP per initializer, each fed `width` features;
    layer `i` of each (from 0) gets the seed `seed + i`."""
    models = {}
    for initializer in initializers:
        label = short_name(initializer)
        try:
            models[label] = networks.mlp(
                initializer,
                inputs=width,
                depth=depth,
                width=width,
                activation=activation,
                first_seed=seed,
                prefix="dense",
                name=f"mlp_{depth}x{width}",
            )
        except ValueError as error:  # e.g. a convolution-only one
            raise ValueError(
                f"signal_propagation cannot build its MLP with {label}: "
                f"{error}"
            ) from None
    return models


def _given_models(models, batch_size):
    """`models` (a model or a dict of them) as `{label: model}`, or a
    ValueError naming signal_propagation."""
    if isinstance(models, keras.Model):
        models = {models.name: models}
    if not (
        isinstance(models, dict)
        and models
        and all(
            isinstance(label, str) and isinstance(model, keras.Model)
            for label, model in models.items()
        )
    ):
        raise checks.argument_error(
            "signal_propagation",
            "models",
            "None, a keras.Model or a non-empty dict {label: keras.Model}",
            models,
        )
    for model in models.values():
        _check_model(model, batch_size)
    return models


def _initializers(initializers):
    """The initializers `initializers` names, resolved, or a ValueError
    naming signal_propagation."""
    items = initializers
    if isinstance(items, (str, dict)) or not hasattr(items, "__iter__"):
        items = [items]
    resolved = []
    for item in items:
        try:
            found = get(item)
        except ValueError as error:
            found, reason = None, f" ({error})"
        else:
            reason = ""
        if found is None:
            raise ValueError(
                "Argument `initializers` of signal_propagation must hold "
                f"initializers, their names or configs{reason}. Received: "
                f"initializers={initializers!r}"
            )
        resolved.append(found)
    if not resolved:
        raise checks.argument_error(
            "signal_propagation",
            "initializers",
            "one initializer or more",
            initializers,
        )
    return resolved


def _check_model(model, batch_size):
    """Raises unless `_measure` can probe `model`: one input of a fixed
    shape, layers with weights, and a batch of inputs within MAX_VALUES."""
    try:
        inputs = model.inputs
    except AttributeError as error:  # subclassed, or Sequential unbuilt
        raise ValueError(
            "signal_propagation needs a built Sequential or Functional model "
            f"(one with symbolic inputs). {model.name} is not one: {error}"
        ) from None
    if len(inputs) != 1:
        raise ValueError(
            "signal_propagation needs a model with one input. Received: "
            f"{model.name} with {len(inputs)} inputs"
        )
    shape = tuple(inputs[0].shape)[1:]
    if any(d is None for d in shape):
        raise ValueError(
            "signal_propagation needs a model whose input shape is fixed "
            "(but for the batch), to draw its inputs. Received: "
            f"{model.name} with input shape {tuple(inputs[0].shape)}"
        )
    if not any(layer.weights for layer in model.layers):
        raise ValueError(
            f"signal_propagation found no layer with weights in {model.name}."
        )
    if batch_size * math.prod(shape) > before_keras.MAX_VALUES:
        raise ValueError(
            f"signal_propagation would draw {batch_size * math.prod(shape):,} "
            f"input values for {model.name}: at most "
            f"{before_keras.MAX_VALUES:,}. Use a smaller batch size. Received: "
            f"batch_size={batch_size}"
        )


def _measure(label, model, x, rng):
    """The `SignalCurve` of `model` on the inputs `x`; `rng` draws `r`."""
    weighted = [layer for layer in model.layers if layer.weights]
    try:
        probe = keras.Model(
            model.inputs[0], [layer.output for layer in weighted]
        )
    except (AttributeError, ValueError) as error:
        raise ValueError(
            "signal_propagation needs a built Sequential or Functional model "
            f"(one with symbolic inputs). {model.name} is not one: {error}"
        ) from None
    batch_size = len(x)
    outputs = [
        np.asarray(keras.ops.convert_to_numpy(o), dtype="float64")
        for o in probe(x, training=False)
    ]
    # A tensor, not a NumPy array: torch cannot multiply a tensor that
    # requires grad by an ndarray.
    r = keras.ops.convert_to_tensor(
        rng.standard_normal(outputs[-1].shape).astype(keras.config.floatx())
    )
    kernels = [layer.weights[0] for layer in weighted]

    def loss_of():
        total: Any = keras.ops.sum(model(x, training=False) * r)
        return total / batch_size

    found = gradients(loss_of, kernels)
    norms = (
        [math.nan] * len(kernels)
        if found is None
        else [float(np.linalg.norm(g)) for g in found]
    )
    return SignalCurve(
        label,
        tuple(layer.name for layer in weighted),
        tuple(float(o.std()) for o in outputs),
        tuple(norms),
    )


def plot_signal_propagation(
    report: Sequence[SignalCurve], title: str | None = None
) -> "Figure":
    """Two panels, activation std and gradient norm against depth, on a log
    scale: flat lines are healthy, falling lines vanish, rising ones
    explode. A curve that is exactly 0 (Zeros) is drawn on the dotted
    floor line.

    Args:
        report: a `SignalReport`, or any non-empty sequence of
            `SignalCurve`s.
        title: None for a title naming the depth and backend, or a string.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    curves = list(report) if isinstance(report, (tuple, list)) else None
    if not curves or not all(isinstance(c, SignalCurve) for c in curves):
        raise checks.argument_error(
            "plot_signal_propagation",
            "report",
            "a SignalReport (or a non-empty list of SignalCurves)",
            report,
        )
    if title is not None and not isinstance(title, str):
        raise checks.argument_error(
            "plot_signal_propagation", "title", "None or a string", title
        )
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    panels = figure.subplots(1, 2)
    for ax, key, name in (
        (panels[0], "activation_std", "activation std (forward)"),
        (panels[1], "gradient_norm", "kernel gradient norm (backward)"),
    ):
        values = [np.asarray(getattr(c, key), dtype="float64") for c in report]
        positive = np.concatenate([v[v > 0] for v in values] + [[]])
        if not positive.size:
            ax.text(
                0.5,
                0.5,
                "not available on the "
                f"{keras.backend.backend()} backend (no autodiff)"
                if key == "gradient_norm"
                else "all values are 0",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set_axis_off()
            continue
        floor = positive.min() / 10.0
        for index, (curve, v) in enumerate(zip(report, values)):
            layers = np.arange(1, len(v) + 1)
            ax.plot(
                layers,
                np.where(v > 0, v, floor),
                linestyle=LINE_STYLES[index % len(LINE_STYLES)],
                marker=MARKERS[index % len(MARKERS)],
                markersize=4,
                markerfacecolor="none",
                label=curve.label + (" (all 0)" if not (v > 0).any() else ""),
            )
        ax.axhline(floor, color="grey", linestyle=":", linewidth=1)
        ax.text(1, floor, " 0", va="bottom", fontsize=8, color="grey")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer (input side to output side)")
        ax.set_ylabel(name)
        ax.set_title(name[0].upper() + name[1:] + " per layer")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    depth = max(len(c.layers) for c in report)
    figure.suptitle(
        title
        or f"Signal propagation through {depth} layers "
        f"({keras.backend.backend()} backend)"
    )
    return figure
