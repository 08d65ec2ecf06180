"""keras_inits against keras.initializers: time and peak memory per backend.

    python benchmarks/initializers.py                  # all four backends
    python benchmarks/initializers.py --backends torch --repeats 9
    python benchmarks/initializers.py --shapes 1024x1024 3x3x64x64
    python benchmarks/initializers.py --quick          # small shapes, seconds
    python benchmarks/initializers.py --tables truncated --load 2

Two tables per backend. The catalogue (`--tables catalogue`): every
initializer of the core catalogue, keras_inits against keras. The truncated
normals (`--tables truncated`): each of keras_inits' truncated normals
(TruncatedNormal, the truncated He/Glorot/Lecun normals, TruncatedNormalRange
and TruncatedNormalSigmas with central, one-sided far-tail and narrow
bounds, ClippedNormal) against keras_inits' RandomNormal of the same shape
(`/normal`, the target is at most 2) and against Keras' TruncatedNormal
(`/keras`), all drawn alternately in one process. With `--load N`, N busy
processes (one Python loop each) run beside the truncated table's draws,
which are timed once before they start and once while they run
(`load/quiet`): on a machine with N cores, a draw whose operations wait for
each other's threads (PyTorch's intra-op threads) takes many times longer.

Each backend runs in its own subprocess (`KERAS_BACKEND` is fixed when Keras
is imported). There every initializer of the core catalogue is built twice
with the same arguments, once from `keras.initializers` and once from
`keras_inits`, and both draw the same shapes in float32.

Time: one warm-up call per side (compilation, lazy initialization), then
`--repeats` calls per side, alternating the two sides so that a noisy
neighbour slows both alike; each call is timed until one element of the
result has been copied to NumPy, which waits for the whole computation
(JAX dispatches asynchronously). The table shows the median of each side
and `speedup = keras time / keras_inits time` (above 1: keras_inits is
faster).

Peak memory: `tracemalloc` sees only Python's own allocations, not those of
TensorFlow, XLA or PyTorch (nor NumPy's on every platform), so each
measurement runs in a fresh subprocess and reads the kernel's peak resident
set size (`VmHWM` in /proc/self/status). The child makes one warm-up call at
the measured shape and frees it, resets the peak (writing 5 to
/proc/self/clear_refs), makes the measured call, and reports
`(peak - resident size before the call) / output size`: 1.0 is the output
alone, 2.0 the output plus one more tensor of its size. The child runs with
`MALLOC_MMAP_THRESHOLD_=65536` so that glibc returns freed blocks to the
system instead of keeping them for reuse, where a later allocation would not
show in the resident size. CPU allocators of these backends have no peak
statistics of their own (`torch.cuda.max_memory_allocated` and
`tf.config.experimental.get_memory_info` are for accelerators; JAX's CPU
device reports no `memory_stats`). Without /proc/self/clear_refs (not
Linux) memory is not measured. `mem ratio = keras peak / keras_inits peak`.
Memory is measured for the first shape only unless `--memory-shapes all`.
"""

import argparse
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import machine

BACKENDS = ["tensorflow", "jax", "torch", "numpy"]
SHAPES = [(4096, 4096), (3, 3, 512, 512)]
QUICK_SHAPES = [(128, 128), (3, 3, 16, 16)]
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
# The truncated table: (label, keras_inits class, constructor arguments).
INF = float("inf")
TRUNCATED = [
    ("TruncatedNormal", "TruncatedNormal", {"stddev": 0.02}),
    ("HeNormal", "HeNormal", {}),
    ("GlorotNormal", "GlorotNormal", {}),
    ("LecunNormal", "LecunNormal", {}),
    ("Range(-2, 2) sd 0.02", "TruncatedNormalRange", {"stddev": 0.02}),
    (
        "Range(-0.04, 0.04) sd 0.02",
        "TruncatedNormalRange",
        {"stddev": 0.02, "minval": -0.04, "maxval": 0.04},
    ),
    (
        "Range(0.06, inf) sd 0.02",
        "TruncatedNormalRange",
        {"stddev": 0.02, "minval": 0.06, "maxval": INF},
    ),
    ("Sigmas(-3, 3)", "TruncatedNormalSigmas", {"lower": -3.0, "upper": 3.0}),
    ("Sigmas(3, inf)", "TruncatedNormalSigmas", {"lower": 3.0, "upper": INF}),
    (
        "Sigmas(-inf, -8)",
        "TruncatedNormalSigmas",
        {"lower": -INF, "upper": -8.0},
    ),
    ("Sigmas(4, 4.5)", "TruncatedNormalSigmas", {"lower": 4.0, "upper": 4.5}),
    ("ClippedNormal", "ClippedNormal", {}),
]
TRUNCATED_SHAPES = [(1024, 4096), (128, 512)]
LOAD_SHAPES = [(1024, 1024), (128, 512)]
QUICK_INITIALIZERS = [
    "Zeros",
    "RandomUniform",
    "TruncatedNormal",
    "HeNormal",
    "Orthogonal",
]


def _make(library, name, arguments):
    import keras

    import keras_inits

    module = keras.initializers if library == "keras" else keras_inits
    return getattr(module, name)(**arguments)


def _materialize(values):
    import keras

    keras.ops.convert_to_numpy(values[(0,) * len(values.shape)])


def _status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure_memory(library, name, shape):
    """Peak resident growth of one call, as a multiple of the output size."""
    initializer = _make(library, name, dict(INITIALIZERS)[name])
    _materialize(initializer(shape))  # warm-up at the measured shape
    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current resident size
    before = _status_kib("VmRSS")
    values = initializer(shape)
    _materialize(values)
    peak = _status_kib("VmHWM")
    output_bytes = 4
    for dim in shape:
        output_bytes *= dim
    return (peak - before) * 1024 / output_bytes


def measure_times(names, shapes, repeats):
    rows = []
    for name in names:
        arguments = dict(INITIALIZERS)[name]
        for shape in shapes:
            times = {"keras": [], "keras_inits": []}
            initializers = {lib: _make(lib, name, arguments) for lib in times}
            for initializer in initializers.values():
                _materialize(initializer(shape))
            for _ in range(repeats):
                for library, initializer in initializers.items():
                    start = time.perf_counter()
                    values = initializer(shape)
                    _materialize(values)
                    times[library].append(time.perf_counter() - start)
                    del values
            rows.append(
                {
                    "initializer": name,
                    "shape": list(shape),
                    "keras_s": statistics.median(times["keras"]),
                    "keras_inits_s": statistics.median(times["keras_inits"]),
                }
            )
    return rows


def measure_truncated(shapes, repeats):
    """Rows of the truncated table: per shape, the median time of each
    case, of keras_inits' RandomNormal and of Keras' TruncatedNormal, each
    call alternating with the others'."""
    import keras

    import keras_inits

    rows = []
    for shape in shapes:
        makers = {
            "RandomNormal": lambda: keras_inits.RandomNormal(seed=1),
            "keras TruncatedNormal": lambda: (
                keras.initializers.TruncatedNormal(seed=1)
            ),
        }
        for label, name, arguments in TRUNCATED:
            makers[label] = lambda name=name, arguments=arguments: getattr(
                keras_inits, name
            )(seed=1, **arguments)
        initializers = {label: make() for label, make in makers.items()}
        times = {label: [] for label in initializers}
        for initializer in initializers.values():
            _materialize(initializer(shape))
        for _ in range(repeats):
            for label, initializer in initializers.items():
                start = time.perf_counter()
                values = initializer(shape)
                _materialize(values)
                times[label].append(time.perf_counter() - start)
                del values
        rows += [
            {"label": label, "shape": list(shape), "s": statistics.median(t)}
            for label, t in times.items()
        ]
    return rows


@contextlib.contextmanager
def busy_processes(count):
    """`count` processes that keep a core busy each, while the block runs."""
    processes = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(count)
    ]
    try:
        time.sleep(0.5)  # let the scheduler spread them
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()


def print_truncated(backend, rows, loaded=None):
    """The truncated table: time, `/normal` and `/keras` ratios, and with
    `loaded` (the same rows under load) the loaded time and `load/quiet`."""
    print(f"\n== {backend}: truncated normals ==")
    header = (
        f"{'initializer':<27} {'shape':<13} {'ms':>8} {'/normal':>8} "
        f"{'/keras':>7}"
    )
    if loaded is not None:
        header += f" {'loaded ms':>10} {'load/quiet':>11}"
    print(header)
    loaded_times = {
        (row["label"], tuple(row["shape"])): row["s"] for row in loaded or []
    }
    reference = {(row["label"], tuple(row["shape"])): row["s"] for row in rows}
    for row in rows:
        shape = tuple(row["shape"])
        line = (
            f"{row['label']:<27} {str(shape):<13} {1e3 * row['s']:>8.2f} "
            f"{row['s'] / reference['RandomNormal', shape]:>7.2f}x "
            f"{row['s'] / reference['keras TruncatedNormal', shape]:>6.2f}x"
        )
        if loaded is not None:
            under_load = loaded_times[row["label"], shape]
            line += (
                f" {1e3 * under_load:>10.2f} {under_load / row['s']:>10.2f}x"
            )
        print(line, flush=True)


def run_truncated(backend, shapes, repeats, load):
    """Prints the truncated table of `backend`: quiet, and with `load`
    busy processes beside the same draws."""
    arguments = ["truncated", json.dumps(shapes), str(repeats)]
    rows = _run_child(arguments, backend)
    loaded = None
    if load:
        with busy_processes(load):
            loaded = _run_child(arguments, backend)
    print_truncated(backend, rows, loaded)


def _run_child(arguments, backend, extra_environment=()):
    environment = dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        **dict(extra_environment),
    )
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"benchmark child {arguments} on {backend} "
            f"failed:\n{result.stderr[-3000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def can_measure_memory():
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        _status_kib("VmHWM")
    except (OSError, RuntimeError):
        return False
    return True


def run_backend(backend, names, shapes, repeats, memory_shapes):
    rows = _run_child(
        ["times", json.dumps(names), json.dumps(shapes), str(repeats)], backend
    )
    for row in rows:
        if row["shape"] not in memory_shapes:
            continue
        for library in ("keras", "keras_inits"):
            row[f"{library}_mem"] = _run_child(
                [
                    "memory",
                    library,
                    row["initializer"],
                    json.dumps(row["shape"]),
                ],
                backend,
                {
                    "MALLOC_MMAP_THRESHOLD_": "65536",
                    "MALLOC_TRIM_THRESHOLD_": "65536",
                },
            )
    return rows


def print_table(backend, rows):
    print(f"\n== {backend} ==")
    print(
        f"{'initializer':<16} {'shape':<17} {'keras ms':>9} {'ours ms':>9} "
        f"{'speedup':>8} {'keras mem':>10} {'ours mem':>9} {'mem ratio':>10}"
    )
    for row in rows:
        memory = ("", "", "")
        if "keras_mem" in row:
            ours = row["keras_inits_mem"]
            memory = (
                f"{row['keras_mem']:.2f}",
                f"{ours:.2f}",
                f"{row['keras_mem'] / ours:.2f}x" if ours > 0.05 else "",
            )
        print(
            f"{row['initializer']:<16} {str(tuple(row['shape'])):<17} "
            f"{1e3 * row['keras_s']:>9.1f} "
            f"{1e3 * row['keras_inits_s']:>9.1f} "
            f"{row['keras_s'] / row['keras_inits_s']:>7.2f}x "
            f"{memory[0]:>10} {memory[1]:>9} {memory[2]:>10}",
            flush=True,
        )


def child(arguments):
    if arguments[0] == "truncated":
        result = measure_truncated(
            [tuple(s) for s in json.loads(arguments[1])], int(arguments[2])
        )
    elif arguments[0] == "times":
        names, shapes = json.loads(arguments[1]), json.loads(arguments[2])
        result = measure_times(
            names, [tuple(s) for s in shapes], int(arguments[3])
        )
    else:
        library, name, shape = arguments[1:4]
        result = measure_memory(library, name, tuple(json.loads(shape)))
    print(json.dumps(result))


def parse_shape(text):
    try:
        shape = [int(dim) for dim in text.lower().split("x")]
    except ValueError:
        shape = None
    if not shape or any(dim < 1 for dim in shape):
        raise argparse.ArgumentTypeError(
            f"a shape is positive dimensions joined by 'x', as 3x3x64x64; "
            f"received {text!r}"
        )
    return shape


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(sys.argv[2:])
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument(
        "--backends", nargs="+", default=BACKENDS, choices=BACKENDS
    )
    parser.add_argument(
        "--shapes",
        nargs="+",
        type=parse_shape,
        help="shapes to draw, as 4096x4096 (default: 4096x4096 3x3x512x512)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="timed calls per side (default 5, 2 with --quick)",
    )
    parser.add_argument(
        "--initializers",
        nargs="+",
        choices=[name for name, _ in INITIALIZERS],
        help="a subset of the catalogue (default: all)",
    )
    parser.add_argument(
        "--memory-shapes", choices=["first", "all", "none"], default="first"
    )
    parser.add_argument(
        "--tables",
        choices=["catalogue", "truncated", "both"],
        default="both",
        help="the catalogue against keras, the truncated normals against "
        "RandomNormal, or both (default)",
    )
    parser.add_argument(
        "--load",
        type=int,
        default=0,
        metavar="N",
        help="time the truncated table again beside N busy processes "
        "(default 0; its shapes are then 1024x1024 and 128x512)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small shapes, a few initializers, 2 repeats, no "
        "memory: a smoke run of seconds per backend",
    )
    args = parser.parse_args()
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.load < 0:
        parser.error("--load must be at least 0")
    names = args.initializers or [name for name, _ in INITIALIZERS]
    shapes = args.shapes or [list(shape) for shape in SHAPES]
    repeats, memory = args.repeats or 5, args.memory_shapes
    if args.quick:
        names = args.initializers or QUICK_INITIALIZERS
        shapes = args.shapes or [list(shape) for shape in QUICK_SHAPES]
        repeats, memory = args.repeats or 2, "none"
    if memory != "none" and not can_measure_memory():
        print("(no /proc/self/clear_refs here: memory is not measured)")
        memory = "none"
    memory_shapes = {"first": shapes[:1], "all": shapes, "none": []}[memory]
    machine.print_header(args.backends)
    print(
        f"float32; time: median of {repeats} calls after a warm-up; "
        "speedup = keras time / keras_inits time; mem = peak resident "
        "growth during one call / output size; mem ratio = keras / ours"
    )
    truncated_shapes = args.shapes or [
        list(shape)
        for shape in (LOAD_SHAPES if args.load else TRUNCATED_SHAPES)
    ]
    for backend in args.backends:
        if args.tables != "truncated":
            print_table(
                backend,
                run_backend(backend, names, shapes, repeats, memory_shapes),
            )
        if args.tables != "catalogue":
            run_truncated(backend, truncated_shapes, repeats, args.load)


if __name__ == "__main__":
    main()
