"""NumPy's and PyTorch's own functions under the names of `keras.ops`, for
the generator's integer arithmetic (threefry.py) and the native samplers'
table lookups (`random._samplers`): on those backends `keras.ops` converts
and copies the operands of every call, and has no `out=`. Beyond Keras'
names, `take_into(table, index, out)` gathers `table[index]` into `out`;
`right_shift`, `bitwise_and` and `clip` take `out=` on both."""

import types
from typing import Any

import keras
import numpy as np
from keras import ops

# PyTorch runs an elementwise operation on fewer values than its
# `GRAIN_SIZE` (32768) on the calling thread, and larger ones on all its
# intra-op threads, which wait for each other at the end: on a busy machine,
# which deschedules one of them, each such pass waits a time slice. Passes
# over chunks of this many values (aligned to 4 KiB) never wait.
SERIAL_CHUNK = 2**15 - 2**10


def clip_in_place(values, low: float, high: float):
    """`values` (a new tensor of the active backend) clipped to `[low,
    high]`: in place on NumPy and PyTorch, on the host in chunks of
    `SERIAL_CHUNK`; elsewhere `keras.ops.clip`."""
    backend = keras.backend.backend()
    if backend == "numpy":
        return np.clip(values, low, high, out=values)
    if backend != "torch":
        return ops.clip(values, low, high)
    flat = values.view(-1)
    chunk = SERIAL_CHUNK if values.device.type == "cpu" else flat.shape[0]
    for begin in range(0, flat.shape[0], max(chunk, 1)):
        flat[begin : begin + chunk].clamp_(low, high)
    return values


# What a function of keras_inits' generator runs with (its `xp`):
# `keras.ops`, or one of the namespaces below.
Ops = types.ModuleType | types.SimpleNamespace


def numpy_ops():
    """NumPy's functions under the names of `keras.ops`."""
    return types.SimpleNamespace(
        add=np.add,
        bitwise_and=np.bitwise_and,
        bitwise_or=np.bitwise_or,
        bitwise_xor=np.bitwise_xor,
        left_shift=np.left_shift,
        right_shift=np.right_shift,
        where=np.where,
        take=np.take,
        maximum=np.maximum,
        arange=np.arange,
        zeros=np.zeros,
        stack=np.stack,
        reshape=np.reshape,
        cast=lambda x, dtype: x.astype(dtype, copy=False),
        view=lambda x, dtype: x.view(dtype),
        convert_to_tensor=lambda x, dtype: np.asarray(x, dtype=dtype),
        empty=lambda shape, dtype: np.empty(shape, dtype=dtype),
        # "clip" mode: no bounds check, which would buffer `out`.
        take_into=lambda table, index, out: np.take(
            table, index, out=out, mode="clip"
        ),
        clip=np.clip,
    )


def torch_ops():
    """PyTorch's functions under the names of `keras.ops`, making new
    tensors where Keras puts them."""
    import torch

    zero: Any = ops.zeros(())  # a torch.Tensor
    device = zero.device  # where Keras puts new tensors

    def dtype_of(name):
        return getattr(torch, name)

    return types.SimpleNamespace(
        add=torch.add,
        bitwise_and=torch.bitwise_and,
        bitwise_or=torch.bitwise_or,
        bitwise_xor=torch.bitwise_xor,
        left_shift=torch.bitwise_left_shift,
        right_shift=torch.bitwise_right_shift,
        where=torch.where,
        take=lambda table, index: torch.index_select(table, 0, index),
        maximum=lambda x, low: torch.clamp(x, min=low),
        arange=lambda n, dtype: torch.arange(
            n, dtype=dtype_of(dtype), device=device
        ),
        zeros=lambda shape, dtype: torch.zeros(
            shape, dtype=dtype_of(dtype), device=device
        ),
        stack=lambda xs, axis: torch.stack(xs, dim=axis),
        reshape=torch.reshape,
        cast=lambda x, dtype: x.to(dtype_of(dtype)),
        view=lambda x, dtype: x.view(dtype_of(dtype)),
        convert_to_tensor=lambda x, dtype: torch.as_tensor(
            x, dtype=dtype_of(dtype), device=device
        ),
        empty=lambda shape, dtype: torch.empty(
            shape, dtype=dtype_of(dtype), device=device
        ),
        take_into=lambda table, index, out: torch.index_select(
            table, 0, index, out=out
        ),
        clip=torch.clamp,
    )
