"""Benchmark: building a model with keras_inits against Keras' initializers.

Building a model creates and initializes its variables. On JAX each draw is
compiled once per distinct shape, so a model with many different kernel
shapes pays that compilation once per shape; this measures what building
costs end to end. The model: `keras.Input((64,))` then `--layers` (default
50) `keras.layers.Dense` layers of distinct widths 64 + 7*i (64, 71, ...,
407), so that every kernel shape and every bias shape is distinct. Two
sides, the same model:

- `keras`: `kernel_initializer=` Keras' string, as "glorot_uniform" (Keras
  makes a new initializer per layer from it);
- `keras_inits`: `kernel_initializer=keras_inits.GlorotUniform()`, a new
  instance per layer, as a user would write it.

Biases keep Dense's default, "zeros", on both sides, so the ratio is about
a whole build, not the kernels' draws alone.

Each (backend, initializer, side) is built in its own process, `--repeats`
times (default 3; the two sides alternate), so that nothing compiled or
cached for one build helps another. In that process: import Keras (and
keras_inits on its side), build a tiny warm-up model, Dense(3) on
`keras.Input((5,))` with the same initializer (lazy imports and first-call
setup are not what is measured; its shapes are none of the model's), then
time, with `time.perf_counter`, from before `keras.Input` to after one
element of the last kernel has been copied to NumPy with
`keras.ops.convert_to_numpy` (JAX dispatches draws asynchronously: this
waits for them). The table shows the median of each side and
`ratio = keras s / keras_inits s` (above 1: keras_inits builds faster).
Target: model building at least as fast as with Keras' initializers
(ratio >= 0.95, which leaves room for a noisy run).

    python benchmarks/building.py                    # all four backends
    python benchmarks/building.py --backends jax --repeats 5
    python benchmarks/building.py --initializers HeNormal,Orthogonal
    python benchmarks/building.py --quick            # 5 layers, 1 repeat
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import machine

BACKENDS = ("tensorflow", "jax", "torch", "numpy")
# keras_inits class name -> the string Keras users pass for the same thing.
INITIALIZERS = {
    "GlorotUniform": "glorot_uniform",
    "HeNormal": "he_normal",
    "RandomNormal": "random_normal",
    "TruncatedNormal": "truncated_normal",
    "Orthogonal": "orthogonal",
}
SIDES = ("keras", "keras_inits")
INPUT_WIDTH, WIDTH_STEP = 64, 7
QUICK_LAYERS = 5
RATIO_TARGET = 0.95


def widths(layers):
    """Distinct widths, so no two kernels (or biases) share a shape."""
    return [INPUT_WIDTH + WIDTH_STEP * i for i in range(layers)]


def worker(side, name, layers):
    import keras

    if side == "keras_inits":
        import keras_inits

        def make():
            return getattr(keras_inits, name)()
    else:

        def make():
            return INITIALIZERS[name]

    # Warm-up with shapes the model does not have: lazy imports and
    # first-call setup are done here, per-shape work is left to measure.
    inputs = keras.Input((5,))
    warm = keras.layers.Dense(3, kernel_initializer=make())
    keras.Model(inputs, warm(inputs))
    keras.ops.convert_to_numpy(warm.kernel[0, 0])

    start = time.perf_counter()
    inputs = keras.Input((INPUT_WIDTH,))
    x = inputs
    for units in widths(layers):
        layer = keras.layers.Dense(units, kernel_initializer=make())
        x = layer(x)
    model = keras.Model(inputs, x)
    keras.ops.convert_to_numpy(layer.kernel[0, 0])  # waits for every draw
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "params": model.count_params()}))


def run(backend, side, name, layers):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        side,
        "--initializers",
        name,
        "--layers",
        str(layers),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(
            f"{backend} {name} {side} failed "
            f"(exit {done.returncode}):\n{done.stderr[-4000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated (default {','.join(BACKENDS)})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="processes per side; the median is reported "
        "(default 3, 1 with --quick)",
    )
    parser.add_argument(
        "--layers",
        type=int,
        help="Dense layers in the model (default 50, "
        f"{QUICK_LAYERS} with --quick)",
    )
    parser.add_argument(
        "--initializers",
        help="comma-separated, of "
        f"{','.join(INITIALIZERS)} (default all; "
        "GlorotUniform with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_LAYERS} layers, 1 repeat, GlorotUniform: a smoke run",
    )
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Defaults by `is None`, so that an explicit 0 is an error below, not
    # silently the full-size default.
    names = args.initializers or (
        "GlorotUniform" if args.quick else ",".join(INITIALIZERS)
    )
    names = names.split(",")
    repeats = args.repeats
    if repeats is None:
        repeats = 1 if args.quick else 3
    layers = args.layers
    if layers is None:
        layers = QUICK_LAYERS if args.quick else 50
    for name in names:
        if name not in INITIALIZERS:
            parser.error(
                f"unknown initializer {name!r}; choose from "
                f"{list(INITIALIZERS)}"
            )
    if repeats < 1 or layers < 1:
        parser.error("--repeats and --layers must be at least 1")
    if args.worker:
        return worker(args.worker, names[0], layers)
    backends = args.backends.split(",")

    machine.print_header(backends)
    print(
        f"{layers} Dense layers of distinct widths "
        f"{INPUT_WIDTH}..{widths(layers)[-1]} on keras.Input(({INPUT_WIDTH},)); "
        f"seconds to build, median of {repeats} per side (a process "
        "each); "
        "ratio = keras / keras_inits (above 1: keras_inits builds faster)",
        flush=True,
    )
    summary = []
    for backend in backends:
        print(f"\n== {backend} ==")
        print(
            f"{'initializer':<16}{'params':>11}{'keras s':>10}"
            f"{'keras_inits s':>15}{'ratio':>8}",
            flush=True,
        )
        for name in names:
            times = {side: [] for side in SIDES}
            for _ in range(repeats):
                for side in SIDES:  # alternate, so noise slows both alike
                    result = run(backend, side, name, layers)
                    times[side].append(result["seconds"])
            theirs = statistics.median(times["keras"])
            ours = statistics.median(times["keras_inits"])
            ratio = theirs / ours
            print(
                f"{name:<16}{result['params']:>11,}{theirs:>10.3f}"
                f"{ours:>15.3f}{ratio:>7.2f}x",
                flush=True,
            )
            summary.append((backend, name, ratio))

    print()
    print(
        "target: model building at least as fast as with Keras' "
        f"initializers (ratio >= {RATIO_TARGET} in a noisy run)"
    )
    for backend, name, ratio in summary:
        verdict = "met" if ratio >= RATIO_TARGET else "missed"
        print(
            f"{backend:<11}{name:<16}keras / keras_inits build time "
            f"{ratio:.2f}x ({verdict})"
        )


if __name__ == "__main__":
    main()
