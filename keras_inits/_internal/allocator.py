"""Giving the host memory that freed arrays leave behind back to the
operating system.

Arrays on the host (JAX's and TensorFlow's CPU buffers, PyTorch's CPU
tensors, NumPy's arrays) are allocated with the C library's `malloc`.
glibc serves a block above its mmap threshold with a mapping of its own,
returned to the system when freed; but freeing such a block raises the
threshold (up to 32 MiB), so later blocks of a variable's size come from
its heaps, and once freed stay there. Re-drawing a model frees one
variable's old or drawn values after another: the heaps then grow by
several times the largest variable (a first `reinitialize` of a keras-hub
GPT-2 on JAX added 1.85x it, a second one of a 303M-parameter MLP 4.4x),
memory no other program can use until the process ends. `malloc_trim`
returns the heaps' free pages.
"""

import ctypes
import functools
import sys


def release_freed_memory() -> None:
    """Returns the free pages of the C library's heaps to the operating
    system (glibc's `malloc_trim(0)`); does nothing with another C library
    (macOS, Windows, musl), which has no such call."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's `malloc_trim`, or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim
