"""keras_inits against keras.initializers: time and peak memory per backend.

    python benchmarks/initializers.py                  # all four backends
    python benchmarks/initializers.py --backends torch --repeats 9
    python benchmarks/initializers.py --quick          # small shapes, seconds

For each backend (one subprocess each: the backend is fixed when Keras is
imported) and each initializer, the same shapes are drawn by Keras' class
and by keras_inits' class with the same arguments. The table prints each
side's median time and the ratio `keras / keras_inits` (above 1: keras_inits
is faster), measured in the same run, alternating the two sides so that a
noisy neighbour slows both alike.

Peak memory is the growth of the process's resident set while one call runs,
sampled every 0.2 ms by a thread, in a fresh process per measurement (after
a small warm-up draw, so that compiled code and library buffers do not count),
reported in units of the output's own size: 1.0 is the output alone. It
sees native allocations that tracemalloc cannot (TensorFlow, XLA, PyTorch),
and on the NumPy backend it agrees with tracemalloc. Memory is measured for
the first shape only (`--memory-shapes all` for every shape).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

BACKENDS = ["tensorflow", "jax", "torch", "numpy"]
SHAPES = [(4096, 4096), (3, 3, 512, 512)]
QUICK_SHAPES = [(256, 256), (3, 3, 32, 32)]
# (name, constructor arguments) of each initializer, the same for both sides.
INITIALIZERS = [
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {"value": 0.5}),
    ("RandomNormal", {"seed": 1}),
    ("RandomUniform", {"seed": 1}),
    ("TruncatedNormal", {"seed": 1}),
    ("VarianceScaling", {"seed": 1}),
    ("GlorotNormal", {"seed": 1}),
    ("GlorotUniform", {"seed": 1}),
    ("HeNormal", {"seed": 1}),
    ("HeUniform", {"seed": 1}),
    ("LecunNormal", {"seed": 1}),
    ("LecunUniform", {"seed": 1}),
    ("Orthogonal", {"seed": 1}),
]


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _make(library, name, arguments):
    import keras

    import keras_inits

    module = keras.initializers if library == "keras" else keras_inits
    return getattr(module, name)(**arguments)


def _materialize(values):
    # JAX dispatches asynchronously; reading one element waits for the whole
    # computation on every backend.
    import keras

    keras.ops.convert_to_numpy(values[(0,) * len(values.shape)])


def measure_memory(library, name, arguments, shape):
    """Peak resident growth of one call, as a multiple of the output size."""
    initializer = _make(library, name, arguments)
    _materialize(initializer((8,) * len(shape)))  # warm-up
    baseline = peak = _rss_bytes()
    done = False

    def sample():
        nonlocal peak
        while not done:
            peak = max(peak, _rss_bytes())
            time.sleep(0.0002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    values = initializer(shape)
    _materialize(values)
    done = True
    sampler.join()
    peak = max(peak, _rss_bytes())
    output_bytes = 4
    for dim in shape:
        output_bytes *= dim
    return (peak - baseline) / output_bytes


def measure_times(shapes, repeats):
    rows = []
    for name, arguments in INITIALIZERS:
        for shape in shapes:
            times = {"keras": [], "keras_inits": []}
            initializers = {lib: _make(lib, name, arguments) for lib in times}
            for initializer in initializers.values():
                _materialize(initializer(shape))  # warm-up (and compile)
            for _ in range(repeats):
                for library, initializer in initializers.items():
                    start = time.perf_counter()
                    _materialize(initializer(shape))
                    times[library].append(time.perf_counter() - start)
            rows.append({
                "initializer": name,
                "shape": list(shape),
                "keras_s": statistics.median(times["keras"]),
                "keras_inits_s": statistics.median(times["keras_inits"]),
            })
    return rows


def _run_child(arguments):
    """Runs this script in a subprocess with KERAS_BACKEND set."""
    environment = dict(os.environ, KERAS_BACKEND=arguments[1],
                       TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child {arguments} failed:\n"
                           f"{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_backend(backend, shapes, repeats, memory_shapes):
    rows = _run_child(["times", backend, json.dumps(shapes), str(repeats)])
    for row in rows:
        if tuple(row["shape"]) not in memory_shapes:
            continue
        for library in ("keras", "keras_inits"):
            row[f"{library}_mem"] = _run_child(
                ["memory", backend, library, row["initializer"],
                 json.dumps(row["shape"])])
    return rows


def print_table(backend, rows):
    print(f"\n== {backend} ==")
    print(f"{'initializer':<16} {'shape':<16} {'keras ms':>9} "
          f"{'ours ms':>9} {'speedup':>8} {'keras mem':>10} {'ours mem':>9}")
    for row in rows:
        memory = ("", "")
        if "keras_mem" in row:
            memory = (f"{row['keras_mem']:.2f}x", f"{row['keras_inits_mem']:.2f}x")
        print(f"{row['initializer']:<16} {str(tuple(row['shape'])):<16} "
              f"{1e3 * row['keras_s']:>9.1f} {1e3 * row['keras_inits_s']:>9.1f} "
              f"{row['keras_s'] / row['keras_inits_s']:>7.2f}x "
              f"{memory[0]:>10} {memory[1]:>9}")


def child(arguments):
    kind, backend = arguments[0], arguments[1]
    if kind == "times":
        shapes = [tuple(s) for s in json.loads(arguments[2])]
        print(json.dumps(measure_times(shapes, int(arguments[3]))))
    else:
        library, name, shape = arguments[2], arguments[3], arguments[4]
        arguments_of = dict(INITIALIZERS)[name]
        print(json.dumps(measure_memory(library, name, arguments_of,
                                        tuple(json.loads(shape)))))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=BACKENDS,
                        choices=BACKENDS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="small shapes, 2 repeats, no memory: a smoke run")
    parser.add_argument("--memory-shapes", choices=["first", "all", "none"],
                        default="first")
    args = parser.parse_args()
    shapes = QUICK_SHAPES if args.quick else SHAPES
    repeats = 2 if args.quick else args.repeats
    memory_shapes = {"first": shapes[:1], "all": shapes, "none": []}[
        "none" if args.quick else args.memory_shapes]
    print("time: median of", repeats, "calls; speedup = keras / keras_inits;"
          " mem = peak resident growth during one call / output size")
    for backend in args.backends:
        print_table(backend, run_backend(backend, [list(s) for s in shapes],
                                         repeats, [tuple(s) for s in memory_shapes]))


if __name__ == "__main__":
    main()
