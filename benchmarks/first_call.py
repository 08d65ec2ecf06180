"""Benchmark: the memory and time of the first `keras_inits.reinitialize` in
a fresh process, and of the second.

`benchmarks/reinitialize.py` warms each method up on a small model before
it measures, so lazy imports and one-off setup are left out of its numbers.
A user's first call has no such warm-up: whatever keras_inits, Keras or the
backend do once per process (modules imported on first use, compilation
caches, thread pools, allocator arenas) lands on it. This benchmark
measures that call as a user meets it.

Each (backend, case) runs in a process of its own, which imports Keras and
keras_inits, builds the model, waits until its weights are computed (JAX
computes asynchronously), `gc.collect()`s, and then, with nothing else
warmed up, calls the case's `reinitialize` twice. For each call: the time
(`time.perf_counter`, until the new weights are computed), and the "peak
extra", the highest resident set seen while it runs (a thread reads
/proc/self/statm every millisecond, and once more at the end) minus the
resident set just before it, in MB (2**20 bytes) and as multiples of the
model's largest variable (target 3 of issue 28: at most 1.5x for the first
call); "kept" is the resident set after the call (its report dropped,
`gc.collect()`) minus the one before. The process also reports whether the
first call imported TensorFlow under another backend, and how many modules
it imported.

Cases, `--cases` (default all that apply):

- `mlp_head`: `benchmarks/reinitialize.py`'s wide-head model (303M
  parameters, largest variable 195 MB), `reinitialize(model, seed=0)`;
- `mlp_head_unmeasured`: the same, `measure=False` (no report moments);
- `gpt2`: keras-hub's `GPT2Backbone` at GPT-2 small's size (124M
  parameters, largest variable the 50257 x 768 token embedding, 147 MB),
  `reinitialize(model, seed=0, recipe="gpt2")`; skipped without
  keras-hub.

`--params` scales `mlp_head` as `benchmarks/reinitialize.py` does;
`--quick` runs 20e6 parameters and GPT-2 with 2 layers (a smoke run).

    python benchmarks/first_call.py
    python benchmarks/first_call.py --backends jax,torch --cases mlp_head
    python benchmarks/first_call.py --quick
"""

import argparse
import gc
import importlib.util
import json
import os
import subprocess
import sys
import time
from typing import Any

import machine
from reinitialize import BACKENDS
from reinitialize import MEMORY_TARGET
from reinitialize import PeakRss
from reinitialize import build_model
from reinitialize import computed
from reinitialize import rss_bytes
from reinitialize import variable_bytes

CASES = ("mlp_head", "mlp_head_unmeasured", "gpt2")
QUICK_PARAMS = 20e6
MB = 2**20


def build_gpt2(quick):
    """keras-hub's GPT2Backbone, GPT-2 small's size (2 layers if `quick`),
    built from its arguments: nothing is downloaded."""
    import keras_hub

    return keras_hub.models.GPT2Backbone(
        vocabulary_size=50257,
        num_layers=2 if quick else 12,
        num_heads=12,
        hidden_dim=768,
        intermediate_dim=3072,
        max_sequence_length=1024,
    )


def worker(case, params, quick):
    import keras

    import keras_inits

    arguments: dict[str, Any]
    if case == "gpt2":
        model = build_gpt2(quick)
        arguments = dict(seed=0, recipe="gpt2")
    else:
        model = build_model("mlp_head", params)
        arguments = dict(seed=0, measure=case != "mlp_head_unmeasured")
    sizes = [variable_bytes(v) for v in model.weights]
    computed(model)
    gc.collect()
    calls = []
    for _ in range(2):
        modules = set(sys.modules)
        baseline = rss_bytes()
        with PeakRss() as memory:
            start = time.perf_counter()
            report = keras_inits.reinitialize(model, **arguments)
            computed(model)
            seconds = time.perf_counter() - start
        del report
        gc.collect()
        imported = set(sys.modules) - modules
        calls.append(
            {
                "seconds": seconds,
                "peak_extra_bytes": memory.peak - baseline,
                "kept_bytes": rss_bytes() - baseline,
                "modules": len(imported),
                "tensorflow": "tensorflow" in imported,
            }
        )
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "params": model.count_params(),
                "largest_bytes": max(sizes),
                "calls": calls,
            }
        )
    )


def run(backend, case, params, quick):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, __file__, "--worker", case]
    if params is not None:
        command += ["--params", repr(params)]
    if quick:
        command += ["--quick"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(
            f"{backend} {case} failed (exit {done.returncode}):\n"
            f"{done.stderr[-4000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--params",
        type=float,
        default=None,
        help="mlp_head's size in parameters (default 303M)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"mlp_head with {QUICK_PARAMS:.0e} parameters, GPT-2 with "
        "2 layers",
    )
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"comma-separated, of {', '.join(CASES)} (default all)",
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated (default {','.join(BACKENDS)})",
    )
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = QUICK_PARAMS if args.quick else args.params
    if args.worker:
        return worker(args.worker, params, args.quick)
    cases = args.cases.split(",")
    for case in cases:
        if case not in CASES:
            parser.error(f"unknown case {case!r}; choose from {CASES}")
    if "gpt2" in cases and importlib.util.find_spec("keras_hub") is None:
        print("keras-hub is not installed: the gpt2 case is skipped")
        cases.remove("gpt2")
    backends = args.backends.split(",")

    machine.print_header(backends)
    print(
        f"{'backend':<11}{'case':<21}{'params':>13}{'call':>7}{'seconds':>9}"
        f"{'peak extra MB':>15}{'x largest':>11}{'kept MB':>9}"
        f"{'modules':>9}{'  imported tensorflow'}",
        flush=True,
    )
    summary = []
    for backend in backends:
        for case in cases:
            r = run(backend, case, params, args.quick)
            for name, call in zip(("first", "second"), r["calls"]):
                extra = call["peak_extra_bytes"]
                print(
                    f"{backend:<11}{case:<21}{r['params']:>13,}{name:>7}"
                    f"{call['seconds']:>9.2f}{extra / MB:>15,.1f}"
                    f"{extra / r['largest_bytes']:>11.2f}"
                    f"{call['kept_bytes'] / MB:>9,.1f}"
                    f"{call['modules']:>9}"
                    f"  {'yes' if call['tensorflow'] else 'no'}",
                    flush=True,
                )
            summary.append((backend, case, r))

    print()
    print(
        f"target: the first call's peak extra <= {MEMORY_TARGET}x the "
        "largest variable, and no TensorFlow imported under another backend"
    )
    for backend, case, r in summary:
        first = r["calls"][0]
        ratio = first["peak_extra_bytes"] / r["largest_bytes"]
        stray = first["tensorflow"] and backend != "tensorflow"
        met = ratio <= MEMORY_TARGET and not stray
        print(
            f"{backend:<11}{case:<21} first call: peak extra {ratio:.2f}x "
            f"largest variable ({r['largest_bytes'] / MB:,.1f} MB)"
            + (", imported TensorFlow" if stray else "")
            + f" ({'met' if met else 'missed'})"
        )


if __name__ == "__main__":
    main()
