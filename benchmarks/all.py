"""Every benchmark of the performance targets, for one backend, in one run.

Prints a header (UTC date and time, cores, load average, versions of
Python, Keras, keras_inits and the backend), then runs, one after the
other and each as its own process with the same Python, streaming its
output:

1. `initializers.py`: keras_inits against `keras.initializers`, time and
   peak memory of each draw;
2. `portable.py`: portable seeds against the backend's native draws;
3. `reinitialize.py`: `reinitialize` against `clone_model` + assign, on
   both of its models;
4. `building.py`: building a 50-layer model with keras_inits against
   Keras' initializers;
5. `recipes.py`: each built-in recipe on large keras-hub backbones against
   building them;
6. `first_call.py`: memory and time of the first `reinitialize` in a fresh
   process;
7. on JAX only, `sharding.py` and `multiprocess.py`: a sharded model over 8
   simulated devices, and over two processes of 4.

`cli.py` measures the command line, which loads no backend: run it on its
own.

The performance figures of the guides (docs/differences.md and the pages
it links) are refreshed from one such run per backend, on
a quiet machine (the header records how quiet it was). A benchmark that
fails prints its error and the run goes on with the next; the exit status
is then non-zero. `--quick` makes every benchmark a smoke run (small
shapes and models, one repeat): a check that they all still run, not
numbers to publish.

    python benchmarks/all.py --backend jax
    python benchmarks/all.py --backend numpy --quick
"""

import argparse
import datetime
import os
import subprocess
import sys
import time

import machine

BACKENDS = ("tensorflow", "jax", "torch", "numpy")
HERE = os.path.dirname(os.path.abspath(__file__))


def benchmarks(backend, quick):
    """(script, arguments) of each benchmark, in the order they run.

    The scripts do not share an interface: initializers.py takes backends
    as separate arguments, the others comma-separated, portable.py has
    no --quick (its smallest useful run is spelled out instead), and the
    JAX-only ones take no backend.
    """
    quick_flag = ["--quick"] if quick else []
    jax_only = [("sharding.py", quick_flag), ("multiprocess.py", quick_flag)]
    return [
        (
            "initializers.py",
            ["--backends", backend] + quick_flag,
        ),
        (
            "portable.py",
            ["--backends", backend]
            + (["--size", "256", "--repeats", "1"] if quick else []),
        ),
        (
            "reinitialize.py",
            ["--backends", backend] + quick_flag,
        ),
        (
            "building.py",
            ["--backends", backend] + quick_flag,
        ),
        ("recipes.py", ["--backends", backend] + quick_flag),
        ("first_call.py", ["--backends", backend] + quick_flag),
    ] + (jax_only if backend == "jax" else [])


def header(backend):
    now = datetime.datetime.now(datetime.UTC)
    print(f"{now:%Y-%m-%d %H:%M} UTC; backend {backend}")
    machine.print_header([backend])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--backend", required=True, choices=BACKENDS)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run of every benchmark"
    )
    args = parser.parse_args()

    header(args.backend)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    failed = []
    for script, arguments in benchmarks(args.backend, args.quick):
        command = [sys.executable, os.path.join(HERE, script), *arguments]
        print(f"\n### {script} {' '.join(arguments)}", flush=True)
        start = time.perf_counter()
        # Not captured: the output streams as it comes, errors included.
        done = subprocess.run(command, env=env)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            failed.append(script)
            print(
                f"### {script} FAILED (exit {done.returncode}) after "
                f"{elapsed:.0f} s; going on",
                flush=True,
            )
        else:
            print(f"### {script} done in {elapsed:.0f} s", flush=True)

    print()
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")
    print("all benchmarks ran")


if __name__ == "__main__":
    main()
