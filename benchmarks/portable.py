"""Benchmark: portable seeds against each backend's native generator.

Draws a 4096x4096 float32 tensor with `keras_inits.PortableSeed` and with an
integer seed (`keras.random`, or the generator Keras seeds), for a uniform
(GlorotUniform), a normal (RandomNormal) and a truncated-normal (HeNormal)
initializer, and prints portable/native ratios of time and of peak memory.

Each (backend, mode, initializer) runs in its own process, so one mode's
allocations cannot hide the other's peak. In it: a warm-up draw (which also
compiles), then `--repeats` timed draws, each until its values are computed
(`time.perf_counter`, and the process's CPU time, `time.process_time`,
which a busy machine disturbs less: on NumPy, whose draws use one core,
it is the better measure of the work); memory is the peak resident set
during the draws (VmHWM, reset through /proc/self/clear_refs: no sampling
thread, whose wake-ups would take the GIL from NumPy's many short calls)
less the resident set before them. The processes of the modes run in
turn, `--rounds` times (the modes interleaved, so a change of the
machine's load falls on all), and a mode's times are the medians of its
rounds' medians, its memory the highest.

`--baseline DIR` adds a third mode: portable draws with the keras_inits
found in DIR (a checkout, e.g. `git worktree add /tmp/base HEAD`), so that
a change to the generator is measured against the code before it in the
same run ("change x" = portable / baseline).

    python benchmarks/portable.py
    python benchmarks/portable.py --backends jax,torch --size 1024
    python benchmarks/portable.py --backends numpy --baseline /tmp/base
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import machine

INITIALIZERS = ("GlorotUniform", "RandomNormal", "HeNormal")
MODES = ("native", "portable")


def kib(field):
    """The `field` of /proc/self/status (VmRSS, VmHWM), in KiB."""
    with open("/proc/self/status") as file:
        return int(re.search(rf"{field}:\s+(\d+)", file.read()).group(1))


def measure(name, mode, size, repeats):
    import keras

    import keras_inits

    seed = keras_inits.PortableSeed(1) if mode != "native" else 1
    init = getattr(keras_inits, name)(seed=seed)
    shape = (size, size)
    keras.ops.convert_to_numpy(init(shape)[0, 0])  # warm-up, compiles
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")  # resets VmHWM (the peak) to the resident set
    start = kib("VmRSS")
    times, cpu_times = [], []
    for _ in range(repeats):
        begin, cpu_begin = time.perf_counter(), time.process_time()
        values = init(shape)
        keras.ops.convert_to_numpy(values[0, 0])  # wait for the result
        times.append(time.perf_counter() - begin)
        cpu_times.append(time.process_time() - cpu_begin)
        del values
    return {
        "time": statistics.median(times),
        "cpu": statistics.median(cpu_times),
        "memory": max(kib("VmHWM") - start, 0) * 1024,
    }


def run_worker(backend, name, mode, args):
    """`measure` in a child process of `backend`; the baseline mode imports
    keras_inits from `args.baseline`."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if mode == "baseline":
        env["PYTHONPATH"] = os.path.abspath(args.baseline)
    out = subprocess.run(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--repeats",
            str(args.repeats),
            "--worker",
            name,
            mode,
            str(args.size),
        ],
        env=env,
        cwd=args.baseline if mode == "baseline" else None,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"{backend} {name} {mode} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="numpy,jax,tensorflow,torch")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="a checkout to compare with")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, mode, size = args.worker
        print(json.dumps(measure(name, mode, int(size), args.repeats)))
        return
    backends = args.backends.split(",")
    machine.print_header(backends)
    modes = MODES + (("baseline",) if args.baseline else ())
    print(f"{args.size}x{args.size} float32; ratios are portable / native")
    header = (
        f"{'backend':<11}{'initializer':<15}{'native s':>9}"
        f"{'portable s':>11}{'time x':>8}{'cpu x':>7}{'memory x':>10}"
    )
    if args.baseline:
        header += f"{'baseline s':>11}{'change x':>10}{'cpu x':>7}"
    print(header, flush=True)
    for backend in backends:
        for name in INITIALIZERS:
            rounds = [
                {mode: run_worker(backend, name, mode, args) for mode in modes}
                for _ in range(args.rounds)
            ]
            time_of, cpu_of = (
                {
                    mode: statistics.median(r[mode][key] for r in rounds)
                    for mode in modes
                }
                for key in ("time", "cpu")
            )
            memory_of = {
                mode: max(r[mode]["memory"] for r in rounds) for mode in modes
            }
            native, port = time_of["native"], time_of["portable"]
            line = (
                f"{backend:<11}{name:<15}{native:>9.3f}{port:>11.3f}"
                f"{ratio(port, native):>8.2f}"
                f"{ratio(cpu_of['portable'], cpu_of['native']):>7.2f}"
                f"{ratio(memory_of['portable'], memory_of['native']):>10.2f}"
            )
            if args.baseline:
                line += (
                    f"{time_of['baseline']:>11.3f}"
                    f"{ratio(port, time_of['baseline']):>10.2f}"
                    f"{ratio(cpu_of['portable'], cpu_of['baseline']):>7.2f}"
                )
            print(line, flush=True)
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
