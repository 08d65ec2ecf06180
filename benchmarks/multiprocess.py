"""Benchmark: building and reinitializing a sharded model under JAX's
multi-process runtime, 2 processes x 4 CPU devices against 1 process x 8.

The model: two Dense layers of (WIDTH, WIDTH) float32 kernels (HeNormal,
an int seed and a PortableSeed), sharded by columns over a (1, 8) mesh
under `keras.distribution.ModelParallel`. Three steps, each timed and its
peak resident set sampled every millisecond (over the resident set before
building): build, `reinitialize(model, seed=1)` and `reinitialize(model,
seed=2, recipe="gpt2")`. Each step runs first on a small model, so compiling
and loading are paid before. The processes are tests/_internal/
_multiprocess_child.py (which also checks the values), run from the
repository's root: the reference alone, then the two workers together
(joined by `keras.distribution.initialize` on localhost, gloo collectives).

Simulated devices share their process's memory: "peak added" per process
is what its 4 (or 8) devices and the host need together. Each of the two
processes should need half of what the one process needs. glibc keeps
freed shard-sized buffers resident once its mmap threshold has grown; the
figures are given as a user sees them, and with MALLOC_MMAP_THRESHOLD_
fixed (`--fixed-threshold`), closer to the memory actually held.

    python benchmarks/multiprocess.py            # 8192: 512 MiB of kernels
    python benchmarks/multiprocess.py --quick    # 4096: 128 MiB
"""

import argparse
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time

import machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = "tests._internal._multiprocess_child"
STEPS = ("build", "reinitialize", "recipe")
TIMEOUT = 1800


def free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def launch(folder, name, devices, arguments, fixed_threshold):
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        TF_CPP_MIN_LOG_LEVEL="2",
        XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
    )
    if fixed_threshold:
        env["MALLOC_MMAP_THRESHOLD_"] = "65536"
    return subprocess.Popen(
        [sys.executable, "-m", CHILD, os.path.join(folder, name), *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(width, fixed_threshold):
    """{process name: its memory results}: the single process first, then
    the two workers at once (each its own run, so neither's allocations
    hide the other's peak, and the two share the cores as hosts would
    not)."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        port = str(free_port())
        rounds = [
            {"1x8": (8, [str(width)])},
            {f"2x4 #{i}": (4, [str(width), str(i), port]) for i in range(2)},
        ]
        for launches in rounds:
            start = time.perf_counter()
            children = {
                name: launch(folder, name, devices, arguments, fixed_threshold)
                for name, (devices, arguments) in launches.items()
            }
            try:
                for name, child in children.items():
                    _, errors = child.communicate(timeout=TIMEOUT)
                    if child.returncode:  # -9: most often out of memory
                        sys.exit(
                            f"{name} failed ({child.returncode}):\n"
                            f"{errors[-3000:]}"
                        )
            finally:
                for child in children.values():
                    if child.poll() is None:
                        child.kill()
                        child.wait()
            wall = time.perf_counter() - start
            for name in launches:
                with open(os.path.join(folder, name), "rb") as file:
                    results[name] = pickle.load(file)["memory"]
                results[name]["wall"] = wall
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--fixed-threshold", action="store_true")
    args = parser.parse_args()
    width = args.width or (4096 if args.quick else 8192)
    machine.print_header(["jax"])
    mib = 2**20
    results = run(width, args.fixed_threshold)
    one = results["1x8"]
    print(
        f"Two ({width}, {width}) float32 kernels, {one['weights'] / mib:,.0f}"
        " MiB, sharded by columns over 8 CPU devices"
        + (" (MALLOC_MMAP_THRESHOLD_=65536)" if args.fixed_threshold else "")
        + "."
    )
    print(
        f"{'processes':<10} {'holds (MiB)':>12}"
        + "".join(f" {s + ' s':>15} {s + ' MiB':>17}" for s in STEPS)
        + f" {'wall s':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:<10} {r['held'] / mib:>12,.0f}"
            + "".join(
                f" {r['seconds'][s]:>15.2f} {r['steps'][s] / mib:>17,.0f}"
                for s in STEPS
            )
            + f" {r['wall']:>7.1f}"
        )
    workers = [results["2x4 #0"], results["2x4 #1"]]
    for step in STEPS:
        memory = max(w["steps"][step] for w in workers) / one["steps"][step]
        seconds = (
            max(w["seconds"][step] for w in workers) / one["seconds"][step]
        )
        bound = max(
            w["steps"][step] / (w["held"] + 1.5 * w["largest_variable"])
            for w in workers
        )
        print(
            f"{step}: 2x4 / 1x8 peak added per process {memory:.2f}x, "
            f"time {seconds:.2f}x; 2x4 peak / (held + 1.5 x largest "
            f"variable's part) {bound:.2f}"
        )
    print(
        "The two processes share this machine's cores: on two hosts each "
        "would have its own."
    )


if __name__ == "__main__":
    main()
