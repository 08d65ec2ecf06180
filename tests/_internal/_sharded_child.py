"""Run as `python -m tests._internal._sharded_child CASE ROWS COLUMNS` (by
test_sharded_memory.py, in a child process with 8 simulated JAX devices):
makes a sharded (ROWS, COLUMNS) float32 kernel as CASE says, and prints
one line of JSON: the kernel's bytes, the seconds it took, and the peak
resident memory it added (after a warm-up of the same path at a small
size, which pays for compiling and loading once)."""

import json
import sys
import time

import keras

import keras_inits


def _status(field):
    """A memory field of /proc/self/status (VmRSS, VmHWM), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak():
    """Starts the peak resident size (VmHWM) again from the current one."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


_INITIALIZERS = {
    "int-seed": lambda: keras_inits.RandomNormal(seed=1),
    "no-seed": lambda: keras_inits.RandomNormal(),
    "seed-generator": lambda: keras_inits.RandomNormal(
        seed=keras.random.SeedGenerator(3)
    ),
    "truncated": lambda: keras_inits.TruncatedNormalRange(
        0.0, 0.02, -2.0, 2.0, seed=1
    ),
    "portable": lambda: keras_inits.RandomNormal(
        seed=keras_inits.PortableSeed(1)
    ),
}


def _dense(case, rows, columns):
    """A built Dense of `columns` units on `rows` inputs, its kernel drawn
    by CASE's initializer (the `layout=` path Keras takes)."""
    layer = keras.layers.Dense(
        columns, kernel_initializer=_INITIALIZERS[case]()
    )
    layer.build((None, rows))
    return layer


def main(case, rows, columns):
    device_mesh = keras.distribution.DeviceMesh(
        (8,), ["model"], keras.distribution.list_devices()
    )
    layout_map = keras.distribution.LayoutMap(device_mesh)
    layout_map[".*kernel"] = (None, "model")
    keras.distribution.set_distribution(
        keras.distribution.ModelParallel(
            layout_map=layout_map, batch_dim_name="model"
        )
    )
    reinitialize = case.startswith("reinitialize-")
    draw_case = case.removeprefix("reinitialize-")
    warm = _dense(draw_case, 64, 64)
    if reinitialize:
        keras_inits.reinitialize(warm, seed=5)
        layer = _dense(draw_case, rows, columns)
    _reset_peak()
    start_rss = _status("VmRSS")
    start = time.perf_counter()
    if reinitialize:
        keras_inits.reinitialize(layer, seed=5)
    else:
        layer = _dense(draw_case, rows, columns)
    layer.kernel.value.block_until_ready()
    seconds = time.perf_counter() - start
    shards = len(layer.kernel.value.sharding.device_set)
    print(
        json.dumps(
            {
                "bytes": rows * columns * 4,
                "seconds": seconds,
                "added": _status("VmHWM") - start_rss,
                "devices": shards,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
