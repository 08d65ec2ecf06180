"""Benchmark: how long the command line takes to answer without Keras.

`python -m keras_inits list`, `recipes`, `recommend relu`, `--help` and
every usage error are answered from static tables before Keras loads
(`keras_inits._startup`, `keras_inits.cli.prepare`): the target (issue 28,
target 4) is under 1 s each on a loaded machine. This measures each as a
user meets it: a fresh `python -m keras_inits ...` process, timed from
its start to its exit (`time.perf_counter` around `subprocess.run`), with
Python's own start-up (`python -c pass`, measured the same way) as the
unit. Each command also reports whether it imported Keras or a backend
(`python -X importtime`, in a separate run, so the timed runs pay nothing
for it).

Quiet, then with `--load N` processes (default 2, one per core here)
running `while True: pass` beside it: each (load, command) runs
`--repeats` times (default 7), the commands interleaved, and the median
is printed, with the ratio to `python -c pass` measured in the same
rounds.

    python benchmarks/cli.py
    python benchmarks/cli.py --load 0 --repeats 3
    python benchmarks/cli.py --load 4
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import machine

# (label, arguments of `python -m keras_inits`, expected exit status).
# "{file}" is an existing file.
COMMANDS = (
    ("--help", ["--help"], 0),
    ("list", ["list"], 0),
    ("recipes", ["recipes"], 0),
    ("recommend relu", ["recommend", "relu"], 0),
    ("unknown initializer", ["compare", "--initializers", "HeNormall"], 2),
    (
        "unknown recipe",
        ["compare", "--model", "transformer", "--recipes", "gtp2"],
        2,
    ),
    ("--output a file", ["compare", "--output", "{file}"], 2),
    ("--backend numpy compare", ["--backend", "numpy", "compare"], 2),
)
HEAVY = ("keras", "tensorflow", "jax", "torch", "numpy")
TARGET = 1.0  # seconds


def timed(command, environment):
    """Seconds from the start of `command` to its exit; its exit status."""
    start = time.perf_counter()
    done = subprocess.run(
        command,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start, done.returncode


def imported(arguments, environment):
    """Which of `HEAVY` `python -m keras_inits ARGUMENTS` imports, read
    from its `-X importtime` lines."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keras_inits", *arguments],
        env=environment,
        capture_output=True,
        text=True,
    )
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in (done.stderr or "").splitlines()
        if line.startswith("import time:")
    }
    return sorted(names & set(HEAVY))


def busy(count):
    """`count` processes each keeping a core busy."""
    return [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(count)
    ]


def measure(cases, environment, repeats):
    """Median seconds of each case (label -> command), the cases
    interleaved in each of `repeats` rounds; exits on an unexpected
    exit status."""
    times = {label: [] for label in cases}
    for _ in range(repeats):
        for label, (command, status) in cases.items():
            seconds, code = timed(command, environment)
            if code != status:
                sys.exit(f"{label}: exit status {code}, expected {status}")
            times[label].append(seconds)
    return {label: statistics.median(t) for label, t in times.items()}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--load",
        type=int,
        default=2,
        help="busy processes beside the loaded runs (default 2; 0: quiet "
        "runs only)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=7,
        help="runs of each command per load; the median is printed "
        "(default 7)",
    )
    args = parser.parse_args()
    if args.repeats < 1 or args.load < 0:
        parser.error("--repeats must be at least 1 and --load at least 0")
    # The backend the commands name: one Keras would load, not that it does.
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    # Outside the checkout, so the installed keras_inits is the one run.
    os.chdir(tempfile.gettempdir())
    with tempfile.NamedTemporaryFile() as file:
        cases = {"python -c pass": ([sys.executable, "-c", "pass"], 0)}
        for label, arguments, status in COMMANDS:
            arguments = [a.replace("{file}", file.name) for a in arguments]
            command = [sys.executable, "-m", "keras_inits", *arguments]
            cases[label] = (command, status)
        heavy = {
            label: imported(command[3:], environment)
            for label, (command, _) in cases.items()
            if label != "python -c pass"
        }
        machine.print_header([])
        loads = [0] + ([args.load] if args.load else [])
        results = {}
        for load in loads:
            workers = busy(load)
            try:
                time.sleep(0.5 if load else 0)  # let them take the cores
                results[load] = measure(cases, environment, args.repeats)
            finally:
                for worker in workers:
                    worker.kill()
                    worker.wait()

    print(
        f"median of {args.repeats} fresh processes each; x pass: the ratio "
        "to `python -c pass` in the same rounds"
    )
    header = f"{'command':<25}"
    for load in loads:
        title = "quiet" if load == 0 else f"{load} busy"
        header += f"{title + ' s':>12}{'x pass':>8}"
    print(header + "  imports Keras or a backend")
    for label in cases:
        row = f"{label:<25}"
        for load in loads:
            seconds = results[load][label]
            row += f"{seconds:>12.3f}"
            row += f"{seconds / results[load]['python -c pass']:>8.1f}"
        if label != "python -c pass":
            row += f"  {', '.join(heavy[label]) or 'no'}"
        print(row)
    print()
    slowest = max(
        (results[load][label], label, load)
        for load in loads
        for label in cases
        if label != "python -c pass"
    )
    stray = sorted(label for label, names in heavy.items() if names)
    met = slowest[0] < TARGET and not stray
    print(
        f"target: every command under {TARGET:.0f} s, importing neither "
        f"Keras nor a backend: {'met' if met else 'missed'} (slowest: "
        f"{slowest[1]!r}, {slowest[0]:.3f} s with {slowest[2]} busy"
        + (f"; imports: {', '.join(stray)}" if stray else "")
        + ")"
    )


if __name__ == "__main__":
    main()
