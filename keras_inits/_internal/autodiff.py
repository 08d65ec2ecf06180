"""Gradients with the active backend's own autodiff, for the measurements
that need one (`signal_propagation`, `WeightStats`).

Keras 3 has no backend-neutral gradient function, so this module holds the
three backends' ways of taking one. It imports nothing of keras_inits.
"""

import keras
import numpy as np


def gradients(loss_of, variables):
    """Gradients of `loss_of()` with respect to `variables`, as numpy
    arrays, with the active backend's autodiff; None on the NumPy backend,
    which has none. A variable the loss does not reach gets zeros."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        found = _tensorflow(loss_of, variables)
    elif backend == "torch":
        found = _torch(loss_of, variables)
    elif backend == "jax":
        found = _jax(loss_of, variables)
    else:
        return None
    return [
        np.zeros(tuple(v.shape))
        if g is None
        else np.asarray(keras.ops.convert_to_numpy(g), dtype="float64")
        for v, g in zip(variables, found)
    ]


def _tensorflow(loss_of, variables):
    """`gradients` on TensorFlow: a `GradientTape` that watches each
    variable's value; a variable the loss does not reach gets None."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        for variable in variables:
            tape.watch(variable.value)
        loss = loss_of()
    return tape.gradient(loss, [v.value for v in variables])


def _torch(loss_of, variables):
    """`gradients` on PyTorch: `torch.autograd.grad` of `loss_of()` with
    respect to the values that require a gradient; the others, and those
    the loss does not reach, get None."""
    import torch

    values = [v.value for v in variables]
    with torch.enable_grad():
        loss = loss_of()
        found = torch.autograd.grad(
            loss, [x for x in values if x.requires_grad], allow_unused=True
        )
    found = iter(found)
    return [next(found) if x.requires_grad else None for x in values]


def _jax(loss_of, variables):
    """`gradients` on JAX: `jax.grad` of `loss_of()` run with each
    variable's value replaced by the traced argument (a
    `keras.StatelessScope`)."""
    import jax

    def loss_at(values):
        # Inside the scope, every read of a variable gives the traced
        # value, so jax.grad sees the whole computation.
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return loss_of()

    return jax.grad(loss_at)([v.value for v in variables])
