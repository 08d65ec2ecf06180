"""Measures the memory a draw adds at its peak, in a child process.

`python -m tests._internal._peak_child LIMIT CASE:DTYPE ...` (from the
repository's root, with `KERAS_BACKEND` set) sets an address-space limit
of LIMIT bytes on itself, then for each catalogue case (`tests.catalogue`)
draws a ~128 MiB tensor of `LARGE[CASE]`'s shape in DTYPE and prints one
JSON line: `{"CASE:DTYPE": copies}`, where `copies` is the resident memory
the draw added at its peak (VmHWM after resetting it through
`/proc/self/clear_refs`, minus the resident memory before) divided by the
bytes of the tensor in the dtype it is computed in (the size the library's
check counts, `limits.check_size`). It stops after a draw whose memory the
allocator kept (TensorFlow's does), which would hide later draws' peaks:
the caller measures the rest in a new process.

A draw of the catalogue's small shape comes first: it compiles (JAX,
TensorFlow's generator), fills caches and starts thread pools, none of
which grows with the tensor. Then the large draw is measured.
"""

import gc
import json
import math
import re
import resource
import sys

# Shapes of ~2**25 values (128 MiB of float32) that keep each catalogue
# case's constraints (square identity blocks, kernel layouts, divisibility);
# orthogonal ones tall and thin, so that the QR stays quick; Sparse's a
# quarter of that, as its two sorts take minutes on TensorFlow. Others
# take a wide matrix (ZerO's Hadamard path), half as wide in float64.
LARGE = {
    "Sparse": (4096, 2048),
    "STFT": (256, 1024, 129),
    "Orthogonal": (2**17, 256),
    "Dirac": (3, 3, 1930, 1930),
    "DeltaOrthogonal": (3, 3, 256, 14563),
    "ICNR": (3, 3, 2048, 1820),
    "Bilinear": (4, 4, 1448, 1448),
    "BlockOrthogonal": (256, 2**17),
}


def large_shape(name, dtype):
    """The shape of the measured draw of case `name` in `dtype`."""
    if name in LARGE:
        return LARGE[name]
    return (2048, 8192) if dtype == "float64" else (4096, 8192)


_STATUS = "/proc/self/status"


def _kib(field):
    """The `field` of /proc/self/status (VmRSS, VmHWM), in KiB."""
    with open(_STATUS) as file:
        found = re.search(rf"{field}:\s+(\d+)", file.read())
    assert found is not None, f"no {field} in {_STATUS}"
    return int(found.group(1))


def measure(case, dtype):
    """`(copies, kept)`: the peak the draw of `case` in `dtype` added, in
    tensors of its size, and whether the memory stayed resident after the
    values were freed (the allocator keeps it for later draws, which it
    would then hide)."""
    from keras_inits._internal import limits

    shape = large_shape(case.name, dtype)
    initializer = case.make(1)
    initializer(case.shape, dtype=dtype)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")  # resets VmHWM to the current resident memory
    before = _kib("VmRSS")
    values = initializer(shape, dtype=dtype)
    if hasattr(values, "block_until_ready"):  # JAX computes asynchronously
        values.block_until_ready()
    added = (_kib("VmHWM") - before) * 1024
    del values
    gc.collect()
    kept = (_kib("VmRSS") - before) * 1024
    compute = "float32" if dtype in limits.LOW_PRECISION else dtype
    itemsize = max(
        limits.bytes_per_value(dtype), limits.bytes_per_value(compute)
    )
    size = math.prod(shape) * itemsize
    return added / size, kept > size / 4


def main(argv):
    limit = int(argv[0])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from tests.catalogue import CASES

    cases = {case.name: case for case in CASES}
    for request in argv[1:]:
        name, dtype = request.split(":")
        copies, kept = measure(cases[name], dtype)
        print(json.dumps({request: copies}), flush=True)
        if kept:  # later draws would reuse it: measure them afresh
            break


if __name__ == "__main__":
    main(sys.argv[1:])
