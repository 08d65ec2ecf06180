"""Benchmark: `reinitialize` of a model sharded over 8 devices.

A model whose largest variable is a 1 GiB kernel (16384 x 16384 float32),
built under `keras.distribution.ModelParallel` on 8 simulated CPU devices
(XLA_FLAGS=--xla_force_host_platform_device_count=8, set here), its kernels
sharded by columns. Two ways to give it fresh weights, each in its own
process so that one's allocations cannot hide the other's peak:

- `sharded`: `keras_inits.reinitialize(model)`, which draws every sharded
  variable shard by shard on the devices that hold it, and reads its
  moments one shard at a time;
- `whole`: what is left without it: draw each variable whole, on one
  device, with its initializer compiled by `jax.jit` (drawn eagerly, a
  1 GiB truncated normal took over 20 GB of temporaries and was killed),
  then `variable.assign` it (Keras then splits it over the devices).

And three ways to build the model, the kernel drawn through Keras' `layout=`
path with `HeNormal(seed=1)`: keras_inits' (`build`), Keras' own
(`build-keras`), and keras_inits' with a `PortableSeed` (`build-portable`).

Simulated devices share the host's memory, so the process's resident set
(sampled every millisecond) adds up all 8 devices: "host peak added" is
what the method needs on top of the built model, summed over devices. "draw
peak per device" is what the device busiest with the big kernel's draw needs
(XLA's memory analysis of the compiled draw: output plus temporaries), the
number that decides whether a real accelerator runs out of memory.

    python benchmarks/sharding.py            # 1 GiB kernel
    python benchmarks/sharding.py --quick    # 64 MiB kernel, seconds
"""

import argparse
import functools
import json
import os
import subprocess
import sys
import time

from reinitialize import PeakRss  # benchmarks/reinitialize.py

METHODS = ("sharded", "whole", "build", "build-keras", "build-portable")
DEVICES = 8


def build(width, method="build"):
    import keras

    import keras_inits

    kernel_initializer = {
        "build-keras": lambda: keras.initializers.HeNormal(seed=1),
        "build-portable": lambda: keras_inits.HeNormal(
            seed=keras_inits.PortableSeed(1)
        ),
    }.get(method, lambda: keras_inits.HeNormal(seed=1))()

    mesh = keras.distribution.DeviceMesh(
        (1, DEVICES), ["batch", "model"], keras.distribution.list_devices()
    )
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*kernel"] = (None, "model")
    layout_map[".*bias"] = ("model",)
    keras.distribution.set_distribution(
        keras.distribution.ModelParallel(
            layout_map=layout_map, batch_dim_name="batch"
        )
    )
    return keras.Sequential(
        [
            keras.Input((width,)),
            keras.layers.Dense(
                width,
                name="big",
                kernel_initializer=kernel_initializer,
            ),
            keras.layers.Dense(DEVICES * 128, name="head"),
        ]
    )


def whole(model):
    """Each variable drawn whole on one device, then assigned."""
    import jax

    for layer in model.layers:  # Dense layers: a kernel, then a bias
        initializers = (layer.kernel_initializer, layer.bias_initializer)
        for variable, initializer in zip(layer.weights, initializers):
            shape, dtype = tuple(variable.shape), variable.dtype
            value = jax.jit(
                functools.partial(initializer, shape, dtype=dtype),
                out_shardings=jax.sharding.SingleDeviceSharding(
                    jax.devices()[0]
                ),
            )()
            variable.assign(value)
            del value


def run(method, width):
    import jax
    import numpy as np

    import keras_inits

    if method.startswith("build"):
        build(64, method)  # compiles and loads once, as a first layer would
        start = time.perf_counter()
        with PeakRss() as peak:
            base = peak.peak
            model = build(width, method)
            model.get_layer("big").kernel.value.block_until_ready()
    else:
        model = build(width)
        start = time.perf_counter()
        with PeakRss() as peak:
            base = peak.peak
            if method == "sharded":
                keras_inits.reinitialize(model, seed=2)
            else:
                whole(model)
    seconds = time.perf_counter() - start
    kernel = model.get_layer("big").kernel
    shards = kernel.value.addressable_shards
    # What one device needs for the big kernel's draw, from XLA's own
    # accounting of the same compiled program: output plus temporaries.
    target = (
        jax.sharding.SingleDeviceSharding(jax.devices()[0])
        if method == "whole"
        else kernel.value.sharding
    )
    init = keras_inits.HeNormal(seed=1)
    memory = (
        jax.jit(lambda: init((width, width)), out_shardings=target)
        .lower()
        .compile()
        .memory_analysis()
    )
    values = np.asarray(shards[0].data)
    return {
        "seconds": seconds,
        "peak_added": peak.peak - base,
        "kernel_bytes": kernel.value.nbytes,
        "largest_piece": max(s.data.nbytes for s in shards),
        "device_peak": memory.output_size_in_bytes + memory.temp_size_in_bytes,
        "spec": str(kernel.value.sharding.spec),
        "devices": jax.device_count(),
        # He normal, fan_in = width: std sqrt(2 / width).
        "std_ratio": float(values.std() / np.sqrt(2 / width)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", choices=METHODS)
    parser.add_argument("--width", type=int, default=None)
    args = parser.parse_args()
    width = args.width or (4096 if args.quick else 16384)
    if args.child:
        print(json.dumps(run(args.child, width)))
        return
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        TF_CPP_MIN_LOG_LEVEL="2",
        XLA_FLAGS=f"--xla_force_host_platform_device_count={DEVICES}",
    )
    results = {}
    for method in METHODS:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                method,
                "--width",
                str(width),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode:  # -9: killed, most often out of memory
            sys.exit(
                f"{method} failed ({out.returncode}):\n{out.stderr[-3000:]}"
            )
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
        print(method, results[method], flush=True)
    mib = 2**20
    kernel = results["sharded"]["kernel_bytes"]
    print(
        f"Kernel {width} x {width} float32 = {kernel / mib:,.0f} MiB, "
        f"sharded {results['sharded']['spec']} over "
        f"{results['sharded']['devices']} simulated CPU devices."
    )
    print(
        f"{'method':<14} {'time (s)':>9} {'host peak added (MiB)':>22} "
        f"{'draw peak per device (MiB)':>27} {'std / expected':>15}"
    )
    for method, r in results.items():
        print(
            f"{method:<14} {r['seconds']:>9.2f} "
            f"{r['peak_added'] / mib:>22,.0f} "
            f"{r['device_peak'] / mib:>27,.0f} {r['std_ratio']:>15.4f}"
        )
    s, w = results["sharded"], results["whole"]
    print(
        f"sharded / whole: time {s['seconds'] / w['seconds']:.2f}x, "
        f"host peak added {s['peak_added'] / max(w['peak_added'], 1):.2f}x,"
        f" draw peak per device {s['device_peak'] / w['device_peak']:.2f}x."
        " The host adds up all 8 simulated devices."
    )
    b, k, p = (results[m] for m in ("build", "build-keras", "build-portable"))
    print(
        f"Building, keras_inits / Keras: time {b['seconds'] / k['seconds']:.2f}"
        f"x, host peak added {b['peak_added'] / k['peak_added']:.2f}x; "
        f"keras_inits / PortableSeed: time {b['seconds'] / p['seconds']:.2f}"
        f"x, host peak added {b['peak_added'] / p['peak_added']:.2f}x. "
        f"Host peak added / kernel: build {b['peak_added'] / kernel:.2f}x, "
        f"reinitialize {s['peak_added'] / kernel:.2f}x."
    )


if __name__ == "__main__":
    main()
