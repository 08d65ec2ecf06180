"""What the active backend can hold: how many bytes one tensor may take,
which floating-point dtypes it can store, and which integer seeds every
backend takes.

An initializer refuses a request that cannot fit before it allocates
anything: drawn piece by piece, a 32 EiB request would otherwise fill the
machine's memory for a minute before failing (or abort the process, as
XLA's allocator does), and one a little too large would fail with an
out-of-memory error long after the call. "Cannot fit" means that the
tensors of the result's size, in the dtype it is computed in, that making
it holds at its peak take more bytes than the tightest limit on this
process's memory. How many it holds depends on how the values are made
(the initializer's `draw_family`) and on the backend: `PEAK_COPIES` holds
what was measured (tests/_internal/test_peak_memory.py measures it again,
so a path cannot hold more than it declares), plus the cast copy of a
float16, bfloat16 or float8 result computed in float32. The limits are:

- The memory of the device the values go to. JAX: the device's
  `memory_stats()["bytes_limit"]` where it reports one (GPU, TPU).
  PyTorch: `torch.cuda.get_device_properties(...).total_memory` when
  Keras places tensors on a CUDA device. Otherwise (and with TensorFlow,
  which reports no device total; its allocator refuses what a GPU cannot
  hold) the host's physical memory, and, for values made on the host:
- The container's limit: the lowest `memory.max` (cgroup v2) or
  `memory.limit_in_bytes` (v1) of this process's cgroup and its
  ancestors, as `/proc/self/cgroup` names them.
- The address space this process may still map under its `RLIMIT_AS`
  (`ulimit -v`): the limit less what is mapped already (`VmSize`).

A request that passes this check may still fail later for want of *free*
memory: the check is a bound, not a reservation.
"""

import dataclasses
import functools
import math
import os
import re
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

# Where the limits are read from; tests point them at a fake tree.
PROC = "/proc"
CGROUP_ROOT = "/sys/fs/cgroup"


@dataclasses.dataclass(frozen=True)
class MemoryLimit:
    """A limit on the memory new tensors take: `size` bytes, and what the
    limit is (`name`, as error messages say it after "the N GiB of")."""

    size: int
    name: str


DEVICE = "memory of the device it would go to"
CONTAINER = "memory this process's cgroup allows (its container's limit)"
ADDRESS_SPACE = (
    "address space this process may still map under its limit (RLIMIT_AS)"
)


def memory_limit() -> MemoryLimit:
    """The tightest limit on the memory of new tensors, as described in
    this module's docstring."""
    accelerator = _accelerator_memory()
    if accelerator is not None:
        return MemoryLimit(accelerator, DEVICE)
    found = [MemoryLimit(_physical_memory(), DEVICE)]
    container = cgroup_memory()
    if container is not None:
        found.append(MemoryLimit(container, CONTAINER))
    room = address_space_room()
    if room is not None:
        found.append(MemoryLimit(room, ADDRESS_SPACE))
    return min(found, key=lambda limit: limit.size)


def host_memory():
    """Bytes of memory this process can use: the physical memory, or the
    container's limit when that is lower."""
    container = cgroup_memory()
    physical = _physical_memory()
    return physical if container is None else min(physical, container)


def device_memory():
    """Bytes of memory of the device new tensors go to: an accelerator's,
    or the host's (`host_memory`)."""
    accelerator = _accelerator_memory()
    return host_memory() if accelerator is None else accelerator


def _physical_memory():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _accelerator_memory():
    """Bytes of memory of the accelerator new tensors go to, or None when
    they go to the host."""
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
    return None


@functools.cache
def cgroup_memory() -> int | None:
    """The lowest memory limit, in bytes, of this process's cgroups and
    their ancestors, or None if none has one: `memory.max` (v2, the line
    `0::/path` of /proc/self/cgroup) and `memory.limit_in_bytes` (v1, the
    line of the `memory` controller), read from the cgroup's directory up
    to the root of its hierarchy. A nested cgroup (a container's, a
    systemd slice's) may set a lower limit than its parents; a directory
    that is not there (a container that mounts only its own cgroup as the
    root) is skipped. Cached: limits change rarely, and reading them costs
    a few files per call."""
    lowest = None
    for line in _read(f"{PROC}/self/cgroup").splitlines():
        if line.count(":") < 2:  # not "hierarchy:controllers:path"
            continue
        hierarchy, controllers, path = line.split(":", 2)
        if hierarchy == "0" and not controllers:
            root, name = CGROUP_ROOT, "memory.max"
        elif "memory" in controllers.split(","):
            root, name = f"{CGROUP_ROOT}/memory", "memory.limit_in_bytes"
        else:
            continue
        parts = [part for part in path.split("/") if part]
        for depth in range(len(parts), -1, -1):
            text = _read(os.path.join(root, *parts[:depth], name))
            # "max" (v2) means no limit; v1 says so with a huge number,
            # beyond the physical memory.
            if text.isdigit() and int(text) < 2**62:
                size = int(text)
                lowest = size if lowest is None else min(lowest, size)
    return lowest


def address_space_room() -> int | None:
    """Bytes of address space this process may still map under its
    `RLIMIT_AS` (the limit less the `VmSize` of /proc/self/status), or
    None without a limit. Not cached: the mapped space changes with every
    allocation."""
    try:
        import resource
    except ImportError:  # Windows has no rlimits
        return None
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return None
    mapped = re.search(r"VmSize:\s+(\d+) kB", _read(f"{PROC}/self/status"))
    return max(limit - (int(mapped.group(1)) * 1024 if mapped else 0), 0)


def _read(path):
    """The text of the file at `path`, stripped, or "" if it cannot be
    read."""
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return ""


# Tensors of the result's size (in the dtype it is computed in) that
# making it holds at its peak, by the initializer's `draw_family` and the
# backend (`"<backend> float64"` where float64 differs): the most that a
# draw of 128 or 256 MiB added to the resident memory, on CPU, in a
# process of its own (tests/_internal/test_peak_memory.py measures again),
# rounded up with a quarter or more to spare. Each comment says what the
# copies are. TensorFlow draws float32 normals with keras_inits' compiled
# generator, float64 ones with Keras' ops, each a pass over the tensor;
# so does JAX (float64 measured with `jax_enable_x64`; without it the
# values are float32, half the bytes counted); PyTorch and NumPy fill
# uniform and normal values in place.
PEAK_COPIES = {
    # Filled by the backend (zeros, ones, a number; Identity's eye and its
    # product with the gain): the tensor, and a product or cast copy. JAX's
    # eye holds a comparison mask too.
    "filled": {"tensorflow": 2.5, "jax": 3.75, "torch": 2.25, "numpy": 1.25},
    # Built in NumPy on the host and converted (Dirac, Bilinear, STFT, ZerO,
    # an array broadcast by Constant): the kernel and the matrix it is made
    # from (ZerO's Hadamard block: in float64, and its scaled copy), its
    # `astype` copy, the tensor, and TensorFlow's copy of that.
    "host": {"tensorflow": 6.75, "jax": 6.5, "torch": 6.5, "numpy": 6.5},
    # TensorFlow: 32 random bits per value, their float32 image and its
    # scaled and shifted copy. JAX: the generator's values and, for bounds
    # not symmetric about 0, their clipped copy. PyTorch and NumPy: the
    # values, filled in place.
    "uniform": {
        "tensorflow": 3.5,
        "jax": 2.5,
        "jax float64": 3.0,
        "torch": 1.25,
        "numpy": 1.25,
    },
    # TensorFlow: the generator's values and a scaled copy (float64: Keras'
    # uniform bits and the Box-Muller pass). Elsewhere in place.
    "normal": {
        "tensorflow": 3.5,
        "jax": 1.5,
        "jax float64": 3.0,
        "torch": 1.25,
        "numpy": 1.25,
    },
    # Truncated at two sigma: TensorFlow and JAX, the generator's values
    # (TensorFlow: and a scaled copy); PyTorch and NumPy, float32 words
    # looked up in a quantile table chunk by chunk, written into the
    # output; in float64, the uniform draw and its erfinv, scaled in place.
    "truncated_normal": {
        "tensorflow": 3.5,
        "jax": 1.5,
        "jax float64": 3.0,
        "torch": 1.25,
        "torch float64": 2.25,
        "numpy": 1.25,
        "numpy float64": 2.25,
    },
    # Other bounds: by the generator (TensorFlow float32, JAX) its values
    # and the clipped copy; PyTorch and NumPy, as at two sigma; in float64
    # (and on TensorFlow inside tf.function) the uniform draw, the two tail
    # probabilities, their minimum, its quantile (`ndtri`), the mirrored
    # and the clipped result (NumPy's float64 peak was 5.1 in one run and
    # 7.06 in another, TensorFlow's 4.4 and 5.26: how many of those are
    # alive at once varies).
    "bounded_normal": {
        "tensorflow": 4.75,
        "tensorflow float64": 5.5,
        "jax": 2.5,
        "jax float64": 8.0,
        "torch": 1.25,
        "torch float64": 4.5,
        "numpy": 1.25,
        "numpy float64": 7.25,
    },
    # ClippedNormal: the normal values and their clipped copy (on
    # TensorFlow the generator's values and a scaled copy first); PyTorch
    # and NumPy clip in place.
    "clipped_normal": {
        "tensorflow": 4.75,
        "jax": 2.5,
        "jax float64": 3.0,
        "torch": 1.25,
        "numpy": 1.25,
    },
    # The normal matrix and its Householder reflections or QR factors
    # (TensorFlow: Q, R and LAPACK's workspace), the sign-corrected Q, its
    # scaled copy, and BlockOrthogonal's concatenation.
    "orthogonal": {
        "tensorflow": 7.5,
        "jax": 3.5,
        "torch": 3.25,
        "numpy": 3.5,
    },
    # Sparse: the normal values, the uniform keys, two int64 argsorts (two
    # tensors' worth each) and the zeroed result.
    "sparse": {"tensorflow": 10.5, "jax": 5.5, "torch": 6.25, "numpy": 7.5},
    # A wrapper (DepthScaled, ICNR), around the call of its initializer:
    # that call's peak, then its result and the scaled or tiled copy.
    "wrapper": {
        "tensorflow": 4.5,
        "jax": 2.5,
        "jax float64": 3.0,
        "torch": 2.25,
        "numpy": 2.25,
    },
}

# The `draw_family` of an initializer that does not declare one (a
# subclass outside keras_inits): the most of any.
UNKNOWN = "unknown"


def peak_copies(family: str, dtype: str = "float32") -> float:
    """Tensors of the result's size that making it in `dtype` (the dtype
    it is computed in) as `family` draws holds at its peak on the active
    backend (`PEAK_COPIES`); for `UNKNOWN`, or a family or backend the
    table does not know, the most of any."""
    if family not in PEAK_COPIES:
        return max(peak_copies(known, dtype) for known in PEAK_COPIES)
    copies = PEAK_COPIES[family]
    backend = keras.backend.backend()
    return copies.get(
        f"{backend} {dtype}", copies.get(backend, max(copies.values()))
    )


def check_size(owner, shape, dtype, compute_dtype=None, family=UNKNOWN):
    """Raises a ValueError naming `owner` when a tensor of `shape` and
    `dtype` (computed in `compute_dtype`, if wider), made as `family` draws
    (a key of `PEAK_COPIES`), cannot be made within `memory_limit()`:
    `peak_copies(family, compute_dtype)` of it, and its cast copy, must
    fit."""
    compute_dtype = compute_dtype or dtype
    itemsize = max(
        bytes_per_value(dtype),
        bytes_per_value(compute_dtype),
    )
    size = math.prod(shape) * itemsize
    copies = peak_copies(family, compute_dtype)
    if compute_dtype != dtype:  # the cast result, beside the computed one
        copies += bytes_per_value(dtype) / itemsize
    limit = memory_limit()
    if size * copies > limit.size:
        computed = (
            f" (computed in {compute_dtype})" if compute_dtype != dtype else ""
        )
        raise ValueError(
            f"{owner} cannot fill a tensor of shape={shape} and "
            f"dtype={dtype!r}: it takes {size:,} bytes ({_human(size)})"
            f"{computed}, and making it holds {copies:g} such tensors "
            f"({_human(size * copies)}), more than the "
            f"{_human(limit.size)} of {limit.name}. Received: shape={shape}"
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
