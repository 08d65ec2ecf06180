"""What the active backend can hold: how many bytes one tensor may take,
which floating-point dtypes it can store, and which integer seeds every
backend takes.

An initializer refuses a request that cannot fit before it allocates
anything: drawn piece by piece, a 32 EiB request would otherwise fill the
machine's memory for a minute before failing (or abort the process, as
XLA's allocator does). "Cannot fit" means that two tensors of the
result's size, in the dtype it is computed in, take more bytes than the
memory of the device the values go to: making one holds at least two at
its peak (the pieces drawn and their concatenation, a value and its scaled
or cast copy, a kernel built on the host and its tensor), so a request for
more than half the device's memory would exhaust it on the way. The
device's memory is:

- JAX: the device's `memory_stats()["bytes_limit"]` where it reports one
  (GPU, TPU); on CPU, the host's memory.
- PyTorch: `torch.cuda.get_device_properties(...).total_memory` when Keras
  places tensors on a CUDA device; otherwise the host's memory.
- TensorFlow and NumPy: the host's memory (TensorFlow reports no device
  total; its allocator refuses what a GPU cannot hold).

The host's memory is the physical memory, or the container's limit
(cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`) when that is lower.
A request that passes this check may still fail later for want of *free*
memory: the check is a bound, not a reservation.
"""

import functools
import math
import os
import warnings

import keras
import numpy as np

# Integer seeds below 2**31 are taken by every backend's seed handling
# (PyTorch's holds int32) and by NumPy: derived seeds, and the seeds of
# `reinitialize` and the experiments, stay below it.
SEED_LIMIT = 2**31

# Dtypes drawn and computed in float32, then cast: in their own precision
# the samplers lose most of their values (a float8 normal has 4-8 distinct
# values; JAX's float8 erfinv returns NaN).
LOW_PRECISION = ("float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")

_CGROUP_LIMITS = (
    "/sys/fs/cgroup/memory.max",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
)


@functools.cache
def host_memory():
    """Bytes of memory this process can use: the physical memory, or the
    container's limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _CGROUP_LIMITS:
        try:
            with open(path) as file:
                text = file.read().strip()
        except OSError:
            continue
        # "max" (v2) or a huge number (v1) means no limit.
        if text.isdigit():
            total = min(total, int(text))
    return total


def device_memory():
    """Bytes of memory of the device new tensors go to, as described in
    this module's docstring."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        stats = device.memory_stats() if device.platform != "cpu" else None
        if stats and stats.get("bytes_limit"):
            return int(stats["bytes_limit"])
    elif backend == "torch":
        import torch

        from keras_inits._internal import keras_internals

        device = torch.device(keras_internals.torch_device())
        if device.type == "cuda":
            return torch.cuda.get_device_properties(device).total_memory
    return host_memory()


# Tensors of the result's size that making it holds at its peak (see the
# module's docstring).
PEAK_COPIES = 2


def check_size(owner, shape, dtype, compute_dtype=None):
    """Raises a ValueError naming `owner` when a tensor of `shape` and
    `dtype` (computed in `compute_dtype`, if wider) cannot be made in the
    device's memory: `PEAK_COPIES` of it must fit."""
    compute_dtype = compute_dtype or dtype
    itemsize = max(
        bytes_per_value(dtype),
        bytes_per_value(compute_dtype),
    )
    size = math.prod(shape) * itemsize
    limit = device_memory()
    if size * PEAK_COPIES > limit:
        computed = (
            f" (computed in {compute_dtype})" if compute_dtype != dtype else ""
        )
        raise ValueError(
            f"{owner} cannot fill a tensor of shape={shape} and "
            f"dtype={dtype!r}: it takes {size:,} bytes ({_human(size)})"
            f"{computed}, and making it holds {PEAK_COPIES} such tensors, "
            f"more than the {_human(limit)} of memory of the device it "
            f"would go to. Received: shape={shape}"
        )


def float_max(dtype):
    """The largest finite value of the floating-point `dtype`."""
    return float(np.finfo(_numpy_name(dtype)).max)


def check_storable(owner, dtype):
    """Raises a ValueError naming `owner` when the backend cannot store
    `dtype` (a float8 type on a backend or device without it; uint64 on
    PyTorch)."""
    if not _can_store(keras.backend.backend(), dtype):
        raise ValueError(
            f"{owner} cannot make {dtype} values: the "
            f"{keras.backend.backend()} backend cannot store {dtype} here. "
            f"Received: dtype={dtype!r}"
        )


def stored_dtype(dtype: str) -> str:
    """The dtype a tensor asked for as `dtype` is stored in: JAX without
    `jax_enable_x64` (Keras' default) silently stores 64-bit types in 32
    bits, so `float64` holds only float32's range there."""
    if keras.backend.backend() == "jax":
        import jax

        # JAX's Config sets each option as a dynamic attribute.
        if not jax.config.jax_enable_x64:  # pyright: ignore[reportAttributeAccessIssue]
            return _JAX_32_BIT.get(dtype, dtype)
    return dtype


_JAX_32_BIT = {
    "float64": "float32",
    "int64": "int32",
    "uint64": "uint32",
    "complex128": "complex64",
}


@functools.cache
def _can_store(backend, dtype):
    """Whether the active backend, named `backend` (part of the cache's
    key), can store `dtype`: whether a float32 zero casts to it. A warning
    the cast gives (JAX's "float64 ... will be truncated to float32") says
    nothing of that, whatever the warnings filter makes of it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keras.ops.cast(keras.ops.zeros((1,), "float32"), dtype)
    except Exception:  # each backend raises its own error type
        return False
    return True


def bytes_per_value(dtype: str) -> int:
    """Bytes one value of `dtype` takes (a Keras dtype name): 1 for bool,
    the float8 types and int8, 2 for float16 and bfloat16, ...

    Examples:

    >>> from keras_inits._internal.limits import bytes_per_value
    >>> bytes_per_value("float8_e5m2"), bytes_per_value("bfloat16")
    (1, 2)
    """
    return np.dtype(_numpy_name(dtype)).itemsize


def _numpy_name(dtype):
    """What NumPy takes for `dtype`: the name itself, or the ml_dtypes type
    for bfloat16 and the float8 types, which NumPy names only through
    ml_dtypes."""
    if dtype in LOW_PRECISION[1:]:
        import ml_dtypes

        return getattr(ml_dtypes, dtype)
    return dtype


def _human(size):
    """`size` bytes for a message, in the largest binary unit it reaches,
    to 4 significant digits: "512 bytes", "1.5 GiB"."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if size < 1024 or unit == "EiB":
            return f"{size:.4g} {unit}" if unit != "bytes" else f"{size} bytes"
        size /= 1024
