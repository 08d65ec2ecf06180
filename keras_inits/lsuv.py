"""Layer-sequential unit-variance initialization (LSUV) of a built model."""

import dataclasses
import math
import warnings

import keras
import numpy as np
from keras import ops

from keras_inits import base
from keras_inits.orthogonal import Orthogonal


@dataclasses.dataclass(frozen=True)
class LayerReport:
    """What `lsuv` did to one layer: the number of rescalings, the output
    variance after the last one, and whether it is within tolerance."""

    layer: str
    iterations: int
    variance: float
    converged: bool


class LSUVReport(tuple):
    """The `LayerReport`s of `lsuv`, one per layer with a kernel, in order.

    A tuple; `str()` gives a table, and `converged` says whether every
    layer reached the tolerance.
    """

    @property
    def converged(self):
        return all(row.converged for row in self)

    def __str__(self):
        header = ("layer", "iterations", "variance", "converged")
        rows = [(r.layer, str(r.iterations), f"{r.variance:.4f}",
                 "yes" if r.converged else "NO") for r in self]
        widths = [max(len(row[i]) for row in [header] + rows)
                  for i in range(4)]
        lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                           for i, (cell, w) in enumerate(zip(row, widths)))
                 for row in [header] + rows]
        return "\n".join(lines)

    def __repr__(self):
        return f"LSUVReport({list(self)!r})"


def _kernel_layers(model):
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            warnings.warn(
                f"lsuv does not enter the nested model {layer.name!r}; its "
                "layers keep their weights.", stacklevel=3)
        elif isinstance(getattr(layer, "kernel", None), keras.Variable):
            layers.append(layer)
    return layers


def _check_inputs(model, x_batch):
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
        shape, wanted = tuple(ops.shape(x)), tuple(spec.shape)
        if len(shape) != len(wanted) or any(
            w is not None and w != s for s, w in zip(shape[1:], wanted[1:])
        ):
            raise ValueError(
                f"lsuv needs x_batch of shape {wanted} (None: any size) for "
                f"model {model.name!r}. Received: shape={shape}"
            )


def _variance(owner, outputs):
    values = np.asarray(ops.convert_to_numpy(ops.cast(outputs, "float32")),
                        dtype="float64")
    variance = float(values.var())
    if not math.isfinite(variance) or variance == 0.0:
        raise ValueError(
            f"lsuv cannot rescale layer {owner!r}: its output variance on "
            f"x_batch is {variance}. Check the batch and the layers before "
            "it (dead ReLUs, constant inputs)."
        )
    return variance


def lsuv(model, x_batch, *, tolerance=0.1, max_iterations=10,
         orthogonal_start=True, seed=None):
    """Initializes a model's kernels by layer-sequential unit variance.

    For each layer with a `kernel` (Dense, Conv*, EinsumDense...), in the
    order of `model.layers`: the kernel is replaced by a Haar-orthogonal one
    (`Orthogonal`), then divided by `sqrt(v)` while the variance `v` of the
    layer's output on `x_batch` (over all its values, in inference mode) is
    farther than `tolerance` from 1, at most `max_iterations` times. The
    output is the layer's, after its activation if it has one; biases are
    left as they are. Layers without a kernel are passed through, and a
    nested model's layers are left alone (with a warning). Works with
    Sequential and Functional models on any backend.

    A layer that has not reached the tolerance after `max_iterations`
    keeps its last kernel, is marked in the report and named in a
    warning (a saturating activation such as tanh may never reach
    variance 1). Any error midway (a bad batch, a layer whose output
    variance is 0 or not finite, an interrupt) restores every kernel to
    what it was before the call, so `lsuv` either completes or changes
    nothing.

    Args:
        model: A `keras.Model`, built or buildable on `x_batch`.
        x_batch: One batch of inputs, as the model takes them; a few
            hundred samples are enough.
        tolerance: How close to 1 each output variance must come, a
            positive number.
        max_iterations: The most rescalings per layer, a positive integer.
        orthogonal_start: Whether to replace each kernel by an orthogonal
            one first (the paper's LSUV), or rescale the kernels as they
            are.
        seed: Seed of the orthogonal start: None, an int or a
            `keras.random.SeedGenerator`.

    Returns:
        An `LSUVReport`: per layer, its name, the number of rescalings, the
        final output variance and whether it converged. Printing it gives a
        table.

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
    if not isinstance(model, keras.Model):
        raise ValueError(f"lsuv needs a keras.Model. Received: {model!r}")
    tolerance = base.check_positive("lsuv", "tolerance", tolerance)
    if not base._is_whole_number(max_iterations) or max_iterations < 1:
        raise base.argument_error("lsuv", "max_iterations",
                                  "a positive integer", max_iterations)
    if not isinstance(orthogonal_start, bool):
        raise base.argument_error("lsuv", "orthogonal_start", "a bool",
                                  orthogonal_start)
    start = Orthogonal(seed=base.check_seed("lsuv", seed))
    if not model.layers:
        raise ValueError(f"lsuv needs a model with layers. Received: model "
                         f"{model.name!r} without layers.")
    _check_inputs(model, x_batch)
    try:
        model(x_batch, training=False)  # builds a lazy Sequential
    except Exception as error:
        raise ValueError(
            f"lsuv could not run model {model.name!r} on x_batch: {error}"
        ) from error
    layers = _kernel_layers(model)
    if not layers:
        raise ValueError(f"lsuv found no layer with a kernel in model "
                         f"{model.name!r}.")
    # A layer called twice has one input per call; Keras has no public
    # count of a layer's calls.
    shared = [l.name for l in layers if len(getattr(l, "_inbound_nodes", ())) > 1]
    if shared:
        raise ValueError(
            "lsuv needs each layer with a kernel to be called once in the "
            f"model. Received: shared layers {shared}.")
    try:
        structure = model.input
    except AttributeError:  # Sequential names its inputs only as a list.
        structure = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    stage_inputs = keras.Model(structure, [l.input for l in layers])

    saved = [ops.convert_to_numpy(layer.kernel) for layer in layers]
    try:
        report = [_rescale(layer, index, stage_inputs, x_batch, start,
                           orthogonal_start, tolerance, max_iterations)
                  for index, layer in enumerate(layers)]
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
            stacklevel=2)
    return report


def _rescale(layer, index, stage_inputs, x_batch, start, orthogonal_start,
             tolerance, max_iterations):
    # The layer's input is fixed once the layers before it are done, so one
    # forward pass per layer; each rescaling then reruns this layer only.
    inputs = stage_inputs(x_batch, training=False)
    if isinstance(inputs, (list, tuple)):  # one output may come back bare
        inputs = inputs[index]
    kernel = layer.kernel
    if orthogonal_start:
        kernel.assign(start(tuple(kernel.shape), dtype=kernel.dtype))
    variance = _variance(layer.name, layer(inputs, training=False))
    iterations = 0
    while abs(variance - 1.0) > tolerance and iterations < max_iterations:
        factor = ops.cast(1.0 / math.sqrt(variance), kernel.dtype)
        kernel.assign(kernel * factor)
        iterations += 1
        variance = _variance(layer.name, layer(inputs, training=False))
    return LayerReport(layer.name, iterations, variance,
                       abs(variance - 1.0) <= tolerance)
