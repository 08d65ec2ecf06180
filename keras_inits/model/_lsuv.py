"""Layer-sequential unit-variance initialization (LSUV) of a built model."""

import dataclasses
import math
import warnings
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal import tables
from keras_inits.initializers import Orthogonal
from keras_inits.random import Seed
from keras_inits.random import check_seed

MAX_ITERATIONS = 1_000
# What `lsuv` brings to unit variance: the linear part of each layer
# (before an activation it applies itself), or the layer's output.
NORMALIZE = ("pre_activation", "post_activation")


@dataclasses.dataclass(frozen=True)
class LayerReport:
    """What `lsuv` did to one layer: the number of rescalings, the output
    variance after the last one, and whether it is within tolerance."""

    layer: str
    iterations: int
    variance: float
    converged: bool


class LSUVReport(tuple[LayerReport, ...]):
    """The `LayerReport`s of `lsuv`, one per layer with a kernel, in order.

    A tuple; `str()` gives a table, and `converged` says whether every
    layer reached the tolerance.
    """

    @property
    def converged(self) -> bool:
        return all(row.converged for row in self)

    def __str__(self):
        header = ("layer", "iterations", "variance", "converged")
        rows = [
            (
                r.layer,
                str(r.iterations),
                f"{r.variance:.4f}",
                "yes" if r.converged else "NO",
            )
            for r in self
        ]
        return "\n".join(tables.format_table(header, rows))

    def __repr__(self):
        return f"LSUVReport({list(self)!r})"


def _kernel_layers(model):
    """The layers of `model.layers` whose `kernel` is a `keras.Variable`,
    in order. A nested model, or a layer whose kernels are its sublayers'
    (`MultiHeadAttention`), is not entered, with a warning that names it
    (at the caller of `lsuv`: four frames up)."""
    layers = []
    for layer in model.layers:
        if isinstance(getattr(layer, "kernel", None), keras.Variable):
            layers.append(layer)
            continue
        inner = [
            sub
            for sub in keras_internals.all_layers(layer)[1:]
            if isinstance(getattr(sub, "kernel", None), keras.Variable)
        ]
        if isinstance(layer, keras.Model):
            warnings.warn(
                f"lsuv does not enter the nested model {layer.name!r}; its "
                "layers keep their weights.",
                stacklevel=4,
            )
        elif inner:
            warnings.warn(
                f"lsuv does not enter {type(layer).__name__} {layer.name!r}: "
                "it measures a layer's own output, and the kernels of "
                f"{[sub.name for sub in inner]} are its sublayers'; they "
                "keep their weights.",
                stacklevel=4,
            )
    return layers


def _check_structure(model):
    """Raises unless `model` is Sequential or Functional: lsuv runs the
    model up to each layer's input, a sub-model of its graph of layers."""
    if isinstance(model, keras.Sequential):
        return
    try:
        _ = model.inputs  # a subclassed model has none
    except AttributeError:
        raise ValueError(
            "lsuv needs a Sequential or Functional model: it measures each "
            "layer on its input, which it gets from a model of the layers "
            "before it, and a subclassed model's `call` has no such graph. "
            "Build the same layers as a Functional model (`keras.Model("
            "inputs, outputs)`), run lsuv on it and copy the weights with "
            f"`set_weights`. Received: model {model.name!r} of class "
            f"{type(model).__name__}"
        ) from None


def _check_batch(x_batch):
    """Raises unless every array of `x_batch` holds numbers (finite ones,
    for floats) along a batch axis of the same size, one sample or more."""
    arrays = []
    for leaf in keras.tree.flatten(x_batch):
        try:
            values = np.asarray(ops.convert_to_numpy(leaf))
            dtype = keras.backend.standardize_dtype(values.dtype)
        except Exception:  # None, strings, objects, 10**400...
            values, dtype = None, None
        floats = dtype is not None and keras.backend.is_float_dtype(dtype)
        if (
            values is None
            or values.ndim == 0
            or not (
                floats or keras.backend.is_int_dtype(dtype) or dtype == "bool"
            )
        ):
            raise ValueError(
                "Argument `x_batch` of lsuv must be an array of numbers with "
                "a batch axis (or a structure of them, as the model takes "
                f"its inputs). Received: x_batch holding {_summary(leaf)}"
            )
        bad = (
            (
                np.size(values)
                - int(np.isfinite(values.astype("float64")).sum())
            )
            if floats
            else 0
        )
        if bad:
            raise ValueError(
                "lsuv needs x_batch of finite values: NaN or infinity makes "
                "every output variance NaN. Received: an array of shape "
                f"{values.shape} with {bad} non-finite values"
            )
        arrays.append(values)
    if not arrays or min(a.shape[0] for a in arrays) == 0:
        raise ValueError(
            "lsuv needs x_batch with one sample or more. Received: "
            f"x_batch of shapes {[a.shape for a in arrays]}"
        )
    if len({a.shape[0] for a in arrays}) > 1:
        raise ValueError(
            "lsuv needs every array of x_batch to have the same batch size. "
            f"Received: shapes {[a.shape for a in arrays]}"
        )


def _summary(value):
    """A short description of `value` for an error message: its type, and
    its shape and dtype or its (shortened) repr."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return (
            f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
        )
    return f"{type(value).__name__}: {checks.shown(value)}"


def _check_inputs(model, x_batch):
    """Raises a ValueError unless `x_batch` holds one array per input of
    `model`, each of that input's rank and, past the batch axis, its shape
    (None takes any size). A Sequential built lazily has no inputs yet:
    its call checks the batch."""
    try:
        expected = model.inputs
    except AttributeError:  # A Sequential built lazily: its call checks.
        return
    given = keras.tree.flatten(x_batch)
    if len(given) != len(expected):
        raise ValueError(
            f"lsuv needs x_batch with the {len(expected)} input(s) of model "
            f"{model.name!r}. Received: {len(given)} array(s)."
        )
    for x, spec in zip(given, expected):
        given_shape: Any = ops.shape(x)  # a tuple
        shape, wanted = tuple(given_shape), tuple(spec.shape)
        if len(shape) != len(wanted) or any(
            w is not None and w != s for s, w in zip(shape[1:], wanted[1:])
        ):
            raise ValueError(
                f"lsuv needs x_batch of shape {wanted} (None: any size) for "
                f"model {model.name!r}. Received: shape={shape}"
            )


def _variance(layer, inputs, normalize):
    """The variance, over all its values, of `layer`'s output on `inputs`
    (in inference mode); for "pre_activation", of its output with its own
    activation left out for the call."""
    # Dense, Conv* and EinsumDense keep their activation in an attribute,
    # which the call reads; a layer without one is measured as it is.
    fused = normalize == "pre_activation" and "activation" in vars(layer)
    if fused:
        activation = layer.activation
        layer.activation = keras.activations.linear
    try:
        outputs = layer(inputs, training=False)
    finally:
        if fused:
            layer.activation = activation
    values = np.asarray(
        ops.convert_to_numpy(ops.cast(outputs, "float32")), dtype="float64"
    )
    variance = float(values.var())
    if not math.isfinite(variance) or variance == 0.0:
        raise ValueError(
            f"lsuv cannot rescale layer {layer.name!r}: its output variance "
            f"on x_batch is {variance}. Check the batch and the layers "
            "before it (dead ReLUs, constant inputs)."
        )
    return variance


def lsuv(
    model: keras.Model,
    x_batch: object,
    *,
    tolerance: float = 0.1,
    max_iterations: int = 10,
    orthogonal_start: bool = True,
    normalize: str = "pre_activation",
    seed: Seed = None,
) -> LSUVReport:
    """Initializes a model's kernels by layer-sequential unit variance.

    For each layer with a `kernel` (Dense, Conv*, EinsumDense...), in the
    order of `model.layers`: the kernel is replaced by a Haar-orthogonal one
    (`Orthogonal`), then divided by `sqrt(v)` while the variance `v` of the
    layer's output on `x_batch` (over all its values, in inference mode) is
    farther than `tolerance` from 1, at most `max_iterations` times. By
    default that output is the layer's linear part, before the activation
    the layer applies itself (`Dense(64, activation="tanh")`): what LSUV
    implementations that hook the linear layer measure, and what keeps a
    tanh or sigmoid unit out of saturation and a softmax head's logits at
    unit scale. `normalize="post_activation"` measures the layer's output,
    after its activation (a saturating activation cannot reach variance 1
    there: tanh's output approaches it only by saturating, sigmoid's stays
    below 1/4). Biases
    are left as they are. Layers without a kernel are passed through, and
    a nested model's layers are left alone (with a warning). Works with
    Sequential and Functional models on any backend.

    A layer that has not reached the tolerance after `max_iterations`
    keeps the kernel whose variance came closest to 1, is marked in the
    report and named in a warning. Any error midway (a bad batch, a layer whose output
    variance is 0 or not finite, an interrupt) restores every kernel to
    what it was before the call, so `lsuv` either completes or changes
    nothing.

    Args:
        model: A Sequential or Functional `keras.Model`, built or buildable
            on `x_batch`. A subclassed model is refused: lsuv runs the
            layers before each one as a sub-model, which needs the model's
            graph of layers.
        x_batch: One batch of inputs, as the model takes them: arrays of
            finite numbers, one sample or more; a few hundred samples are
            enough.
        tolerance: How close to 1 each output variance must come, a
            positive number.
        max_iterations: The most rescalings per layer, a positive integer
            up to 1,000.
        orthogonal_start: Whether to replace each kernel by an orthogonal
            one first (the paper's LSUV), or rescale the kernels as they
            are.
        normalize: "pre_activation" (the default) or "post_activation":
            whether each layer's output is measured before or after the
            activation it applies itself. A layer whose activation is a
            separate layer (`Activation`, `ReLU`) is measured before it
            either way.
        seed: Seed of the orthogonal start: None, an int, a
            `keras.random.SeedGenerator` or a `keras_inits.PortableSeed`.

    Returns:
        An `LSUVReport`: per layer, its name, the number of rescalings, the
        output variance of the kernel it keeps and whether that is within
        `tolerance` of 1. Printing it gives a
        table.

    Raises:
        ValueError: for a bad argument, naming it, before any kernel
            changes.

    Examples:

        >>> import numpy as np, keras_inits
        >>> model = keras.Sequential([keras.Input((16,))] + [
        ...     keras.layers.Dense(32, activation="relu") for _ in range(3)])
        >>> x = np.random.default_rng(0).normal(size=(256, 16))
        >>> report = keras_inits.lsuv(model, x, seed=1)
        >>> report.converged, len(report)
        (True, 3)

    Reference:
        [Mishkin & Matas, 2016](https://arxiv.org/abs/1511.06422)
    """
    tolerance, max_iterations, start = _checked_arguments(
        model, tolerance, max_iterations, orthogonal_start, normalize, seed
    )
    layers = _checked_layers(model, x_batch)
    stage_inputs = _stage_inputs(model, layers)
    saved = [ops.convert_to_numpy(layer.kernel) for layer in layers]
    try:
        report = [
            _rescale(
                layer,
                index,
                stage_inputs,
                x_batch,
                start,
                orthogonal_start,
                normalize,
                tolerance,
                max_iterations,
            )
            for index, layer in enumerate(layers)
        ]
    except BaseException:
        for layer, kernel in zip(layers, saved):
            layer.kernel.assign(kernel)
        raise
    report = LSUVReport(report)
    if not report.converged:
        names = [row.layer for row in report if not row.converged]
        warnings.warn(
            f"lsuv: the output variance of {names} is not within "
            f"{tolerance} of 1 after {max_iterations} rescalings.",
            stacklevel=2,
        )
    return report


def _checked_arguments(
    model, tolerance, max_iterations, orthogonal_start, normalize, seed
):
    """`(tolerance, max_iterations, start)`: lsuv's numbers checked and
    normalized, and the orthogonal initializer of the start."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"lsuv needs a keras.Model. Received: {model!r}")
    tolerance = checks.check_positive("lsuv", "tolerance", tolerance)
    max_iterations = checks.check_count(
        "lsuv",
        "max_iterations",
        max_iterations,
        maximum=MAX_ITERATIONS,
        requirement="a positive integer",
    )
    if not isinstance(orthogonal_start, bool):
        raise checks.argument_error(
            "lsuv", "orthogonal_start", "a bool", orthogonal_start
        )
    if not isinstance(normalize, str) or normalize not in NORMALIZE:
        raise checks.argument_error(
            "lsuv",
            "normalize",
            '"pre_activation" or "post_activation"',
            normalize,
        )
    start = Orthogonal(seed=check_seed("lsuv", seed))
    return tolerance, max_iterations, start


def _checked_layers(model, x_batch):
    """The layers lsuv rescales, once `model` is known to run on `x_batch`
    (which builds a lazy Sequential), each called once in the model."""
    if not model.layers:
        raise ValueError(
            f"lsuv needs a model with layers. Received: model "
            f"{model.name!r} without layers."
        )
    _check_structure(model)
    _check_batch(x_batch)
    _check_inputs(model, x_batch)
    try:
        model(x_batch, training=False)
    except Exception as error:
        raise ValueError(
            f"lsuv could not run model {model.name!r} on x_batch: {error}"
        ) from error
    layers = _kernel_layers(model)
    if not layers:
        raise ValueError(
            f"lsuv found no layer with a kernel in model {model.name!r}."
        )
    # A layer called twice has one input per call.
    shared = [
        layer.name
        for layer in layers
        if keras_internals.inbound_node_count(layer) > 1
    ]
    if shared:
        raise ValueError(
            "lsuv needs each layer with a kernel to be called once in the "
            f"model. Received: shared layers {shared}."
        )
    return layers


def _stage_inputs(model, layers):
    """A model from `model`'s inputs to the input of each of `layers`."""
    try:
        structure = model.input
    except AttributeError:  # Sequential names its inputs only as a list.
        structure = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(structure, [layer.input for layer in layers])


def _rescale(
    layer,
    index,
    stage_inputs,
    x_batch,
    start,
    orthogonal_start,
    normalize,
    tolerance,
    max_iterations,
):
    """LSUV of `layer`, whose input is output `index` of `stage_inputs`:
    its kernel drawn from `start` (with `orthogonal_start`), then
    divided by the square root of its output variance until that is within
    `tolerance` of 1 or after `max_iterations` rescalings, ending on the
    closest scale seen; returns its `LayerReport`. The layer's input is
    fixed once the layers before it are done, so one forward pass per
    layer; each rescaling then reruns this layer only."""
    inputs = stage_inputs(x_batch, training=False)
    if isinstance(inputs, (list, tuple)):  # one output may come back bare
        inputs = inputs[index]
    kernel = layer.kernel
    if orthogonal_start:
        kernel.assign(start(tuple(kernel.shape), dtype=kernel.dtype))
    variance = _variance(layer, inputs, normalize)
    # The kernel is its start times `scale`; the best scale so far is kept
    # in case the variance moves away from 1 (a bias that outweighs the
    # kernel's part can make it).
    scale = 1.0
    best = (abs(variance - 1.0), 1.0, variance)  # (distance, scale, variance)
    iterations = 0
    while abs(variance - 1.0) > tolerance and iterations < max_iterations:
        factor = 1.0 / math.sqrt(variance)
        kernel.assign(kernel * ops.cast(factor, kernel.dtype))
        scale *= factor
        iterations += 1
        variance = _variance(layer, inputs, normalize)
        best = min(best, (abs(variance - 1.0), scale, variance))
    if best[1] != scale:
        kernel.assign(kernel * ops.cast(best[1] / scale, kernel.dtype))
        variance = _variance(layer, inputs, normalize)
    return LayerReport(
        layer.name, iterations, variance, abs(variance - 1.0) <= tolerance
    )
