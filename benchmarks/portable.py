"""Benchmark: portable seeds against each backend's native generator.

Draws a 4096x4096 float32 tensor with `keras_inits.PortableSeed` and with a
`keras.random.SeedGenerator`, for a uniform (GlorotUniform), a normal
(RandomNormal) and a truncated-normal (HeNormal) initializer, and prints
portable/native ratios of time (best of `--repeats` draws after a warm-up,
which also compiles) and of peak memory. Each (backend, mode, initializer)
runs in its own process, so one mode's allocations cannot hide the other's
peak; memory is the resident set added during the draws, sampled every
millisecond by a thread.

    python benchmarks/portable.py
    python benchmarks/portable.py --backends jax,torch --size 1024
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

INITIALIZERS = ("GlorotUniform", "RandomNormal", "HeNormal")
MODES = ("native", "portable")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(name, mode, size, repeats):
    import keras

    import keras_inits

    seed = keras_inits.PortableSeed(1) if mode == "portable" else 1
    init = getattr(keras_inits, name)(seed=seed)
    shape = (size, size)
    keras.ops.convert_to_numpy(init(shape)[0, 0])  # warm-up, compiles
    start_rss, peak, running = rss_bytes(), [0], [True]

    def sample():
        while running[0]:
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.001)

    thread = threading.Thread(target=sample)
    thread.start()
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        values = init(shape)
        keras.ops.convert_to_numpy(values[0, 0])  # wait for the result
        times.append(time.perf_counter() - begin)
        del values
    running[0] = False
    thread.join()
    return {"time": min(times), "memory": max(peak[0] - start_rss, 0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="numpy,jax,tensorflow,torch")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, mode, size = args.worker
        print(json.dumps(measure(name, mode, int(size), args.repeats)))
        return
    print(f"{args.size}x{args.size} float32; ratios are portable / native")
    print(
        f"{'backend':<11}{'initializer':<15}{'native s':>9}"
        f"{'portable s':>11}{'time x':>8}{'memory x':>10}"
    )
    for backend in args.backends.split(","):
        for name in INITIALIZERS:
            result = {}
            for mode in MODES:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--repeats",
                        str(args.repeats),
                        "--worker",
                        name,
                        mode,
                        str(args.size),
                    ],
                    env={**os.environ, "KERAS_BACKEND": backend},
                    capture_output=True,
                    text=True,
                )
                if out.returncode:
                    sys.exit(
                        f"{backend} {name} {mode} failed:\n"
                        f"{out.stderr[-2000:]}"
                    )
                result[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            native, port = result["native"], result["portable"]
            memory = (
                port["memory"] / native["memory"]
                if native["memory"]
                else float("nan")
            )
            print(
                f"{backend:<11}{name:<15}{native['time']:>9.3f}"
                f"{port['time']:>11.3f}"
                f"{port['time'] / native['time']:>8.1f}{memory:>10.2f}"
            )


if __name__ == "__main__":
    main()
