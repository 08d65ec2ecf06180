"""Benchmark: `keras_inits.reinitialize` against `keras.models.clone_model`.

Each way gives an already built model freshly drawn weights; this measures
the time each takes and the peak memory it adds on top of the built model.
Four methods, on the same model:

- `reinitialize`: `keras_inits.reinitialize(model, seed=0)`, which redraws
  the model's own variables in place (its report is kept alive);
- `unmeasured`: `keras_inits.reinitialize(model, seed=0, measure=False)`,
  the same without the report's before/after moments: the difference is
  what the report costs;
- `clone+assign`: what resetting a model takes with Keras alone, and the
  comparison the performance targets are stated against:
  `clone = keras.models.clone_model(model)`, then
  `for v, w in zip(model.weights, clone.weights): v.assign(w)`;
- `clone_model`: `keras.models.clone_model(model)` alone, for reference (a
  second model with fresh weights; the original is left as it was).

Two models, `--models` (default both), float32:

- `stack`: `keras.Input((4096,))` then Dense(4096) + LayerNormalization
  blocks, as many as make `--params` (default 300e6: 18 blocks, 302M
  parameters; largest variable 64 MB). docs/reinitialize.md's table is
  about this model.
  Below 50e6 parameters the width is 256.
- `mlp_head`: a functional model with a wide head: `keras.Input((1024,))`, then
  30 x [Dense(4096, activation="relu"), Dense(1024)], then a Dense(50000)
  head: 303M parameters, largest variable (the head's kernel, 1024 x 50000)
  195 MB. With `--params`, the 30 blocks and the head stay and every width
  (1024, 4096, 50000) is scaled by sqrt(params / 303M).

`--quick` builds both with 2e6 parameters (mlp_head: widths 83, 333 and
4062): each measurement then takes well under a few seconds, and the run is
dominated by the 5-10 s each process spends importing Keras and its
backend (about 5 minutes for all four backends and both models).

Each (backend, model, method) runs in its own process, `--repeats` times
(default 1; runs of the methods interleaved), so one method's
allocations cannot hide another's peak. In that process: import, warm up
the method on a small model of the same kind (lazy imports and first-call
setup are not what is measured here: `benchmarks/first_call.py` measures
the first call in a fresh process; work done once per new shape, such as
compiling a draw for it, is), build the model, wait until its weights are
computed (JAX computes asynchronously), `gc.collect()`, then read the
resident set (the baseline) and time the one call with
`time.perf_counter`, until the new weights are computed. "peak extra" is
the highest resident set seen while the method runs (a thread samples it
every millisecond, and once more at the end) minus the baseline, in MB
(2**20 bytes), and as multiples of the model's largest variable (target:
<= 1.5x) and of all its weights. Memory an allocator kept from building the model and reuses is
not counted, for any method. The new values stay alive until the
measurement ends (the clone too), so freeing them is not timed.

The time reported is the median over the repeats, the peak the highest.
The output starts with the machine's core count, load average and the
versions of Python, Keras and each backend, and ends with one line per
(backend, model) in the terms of the performance targets:
reinitialize / (clone_model + assign) time (target <= 0.8x) and
reinitialize's peak extra / largest variable (target <= 1.5x), with and
without the report's moments.

    python benchmarks/reinitialize.py                 # both models, 300M
    python benchmarks/reinitialize.py --models mlp_head --backends tensorflow
    python benchmarks/reinitialize.py --params 50e6 --backends jax,torch
    python benchmarks/reinitialize.py --repeats 3     # median of 3 runs
    python benchmarks/reinitialize.py --quick         # smoke run, ~5 minutes
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time

import machine

QUICK_PARAMS = 2e6
STACK_PARAMS = 300e6
METHODS = ("reinitialize", "unmeasured", "clone_assign", "clone_model")
LABELS = {
    "reinitialize": "reinitialize",
    "unmeasured": "measure=False",
    "clone_assign": "clone+assign",
    "clone_model": "clone_model",
}
MODELS = ("stack", "mlp_head")
BACKENDS = ("tensorflow", "jax", "torch", "numpy")
# mlp_head at full size.
MLP_INPUTS, MLP_HIDDEN, MLP_BLOCKS, MLP_HEAD = 1024, 4096, 30, 50000
TIME_TARGET, MEMORY_TARGET = 0.8, 1.5


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples the resident set in a thread; `peak` is its highest value."""

    def __enter__(self):
        self.peak, self._running = rss_bytes(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def mlp_head_params(inputs, hidden, blocks, head):
    return (
        blocks * (inputs * hidden + hidden + hidden * inputs + inputs)
        + inputs * head
        + head
    )


def build_stack(params):
    import keras

    width = 4096 if params >= 50e6 else 256
    depth = max(1, round(params / (width * width + 3 * width)))
    inputs = keras.Input((width,))
    x = inputs
    for i in range(depth):
        x = keras.layers.Dense(width, name=f"dense_{i}")(x)
        x = keras.layers.LayerNormalization(name=f"norm_{i}")(x)
    return keras.Model(inputs, x, name="stack")


def build_mlp_head(params):
    """The wide-head model; `params=None` is its full size (303M)."""
    import keras

    scale = 1.0
    if params is not None:
        full = mlp_head_params(MLP_INPUTS, MLP_HIDDEN, MLP_BLOCKS, MLP_HEAD)
        scale = math.sqrt(params / full)
    inputs_width, hidden, head = (
        max(1, round(w * scale)) for w in (MLP_INPUTS, MLP_HIDDEN, MLP_HEAD)
    )
    inputs = keras.Input((inputs_width,))
    x = inputs
    for i in range(MLP_BLOCKS):
        x = keras.layers.Dense(hidden, activation="relu", name=f"up_{i}")(x)
        x = keras.layers.Dense(inputs_width, name=f"down_{i}")(x)
    x = keras.layers.Dense(head, name="head")(x)
    return keras.Model(inputs, x, name="mlp_head")


def build_model(kind, params):
    if kind == "stack":
        return build_stack(STACK_PARAMS if params is None else params)
    return build_mlp_head(params)


def variable_bytes(variable):
    import keras
    import numpy as np

    dtype = np.dtype(keras.backend.standardize_dtype(variable.dtype))
    return math.prod(variable.shape) * dtype.itemsize


def computed(model):
    """Waits until every weight of `model` is computed: JAX computes
    asynchronously. Before the measurement, a build still drawing its
    weights would count them as the method's memory and time; after the
    method, its own pending draws are part of what it costs."""
    import keras

    if keras.backend.backend() == "jax":
        for variable in model.weights:
            variable.value.block_until_ready()


def worker(method, kind, params):
    import gc

    import keras

    import keras_inits

    def apply(model):
        if method == "reinitialize":
            return keras_inits.reinitialize(model, seed=0)
        if method == "unmeasured":
            return keras_inits.reinitialize(model, seed=0, measure=False)
        clone = keras.models.clone_model(model)
        if method == "clone_assign":
            for v, w in zip(model.weights, clone.weights):
                v.assign(w)
        return clone

    # Warm up on a small model of the same kind: lazy imports and
    # first-call setup are not what is measured.
    apply(build_model(kind, QUICK_PARAMS / 10))
    gc.collect()
    model = build_model(kind, params)
    sizes = [variable_bytes(v) for v in model.weights]
    computed(model)
    gc.collect()
    baseline = rss_bytes()
    with PeakRss() as memory:
        start = time.perf_counter()
        result = apply(model)  # kept alive, as in use
        computed(result if method == "clone_model" else model)
        seconds = time.perf_counter() - start
    del result  # freed after the measurement, not timed
    print(
        json.dumps(
            {
                "params": model.count_params(),
                "weights_bytes": sum(sizes),
                "largest_bytes": max(sizes),
                "seconds": seconds,
                "peak_extra_bytes": memory.peak - baseline,
            }
        )
    )


def run(backend, method, kind, params):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, __file__, "--worker", method, "--models", kind]
    if params is not None:
        command += ["--params", repr(params)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(
            f"{backend} {kind} {method} failed "
            f"(exit {done.returncode}):\n{done.stderr[-4000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarize(runs):
    """Median time and highest peak over a method's runs."""
    times = [r["seconds"] for r in runs]
    return {
        **runs[0],
        "seconds": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "peak_extra_bytes": max(r["peak_extra_bytes"] for r in runs),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--params",
        type=float,
        default=None,
        help="model size in parameters (default: stack 300e6, mlp_head "
        "303M); mlp_head scales its widths to it",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a {QUICK_PARAMS:.0e}-parameter smoke run",
    )
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated, of {', '.join(MODELS)} (default both)",
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated (default {','.join(BACKENDS)})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="processes per measurement; the median time "
        "and the highest peak are reported (default 1)",
    )
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = QUICK_PARAMS if args.quick else args.params
    models = args.models.split(",")
    for kind in models:
        if kind not in MODELS:
            parser.error(f"unknown model {kind!r}; choose from {MODELS}")
    if args.worker:
        return worker(args.worker, models[0], params)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    backends = args.backends.split(",")

    machine.print_header(backends)
    mb = 2**20
    spread = args.repeats > 1
    print(
        f"{'backend':<11}{'model':<9}{'method':<13}{'params':>13}"
        f"{'seconds':>9}"
        + (f"{'min-max':>13}" if spread else "")
        + f"{'peak extra MB':>15}{'x largest':>11}{'x weights':>11}",
        flush=True,
    )
    summary = []
    for backend in backends:
        for kind in models:
            runs = {m: [] for m in METHODS}
            for _ in range(args.repeats):
                for method in METHODS:
                    runs[method].append(run(backend, method, kind, params))
            results = {m: summarize(r) for m, r in runs.items()}
            for method, r in results.items():
                extra = r["peak_extra_bytes"]
                print(
                    f"{backend:<11}{kind:<9}{LABELS[method]:<13}"
                    f"{r['params']:>13,}{r['seconds']:>9.2f}"
                    + (f"{r['min']:>6.2f}-{r['max']:<6.2f}" if spread else "")
                    + f"{extra / mb:>15,.1f}"
                    f"{extra / r['largest_bytes']:>11.2f}"
                    f"{extra / r['weights_bytes']:>11.2f}",
                    flush=True,
                )
            summary.append((backend, kind, results))

    print()
    print(
        f"targets: time <= {TIME_TARGET}x clone+assign, peak "
        f"extra <= {MEMORY_TARGET}x the largest variable"
        + (f"; median of {args.repeats} runs" if spread else "")
    )
    for backend, kind, results in summary:
        theirs = results["clone_assign"]
        for method in ("reinitialize", "unmeasured"):
            ours = results[method]
            ratio = ours["seconds"] / theirs["seconds"]
            memory = ours["peak_extra_bytes"] / ours["largest_bytes"]
            print(
                f"{backend:<11}{kind:<9}{LABELS[method]:<13} / "
                f"(clone_model + assign): time {ratio:.2f}x "
                f"({'met' if ratio <= TIME_TARGET else 'missed'}), peak "
                f"extra {memory:.2f}x largest variable "
                f"({'met' if memory <= MEMORY_TARGET else 'missed'}; "
                f"largest {ours['largest_bytes'] / mb:,.1f} MB, weights "
                f"{ours['weights_bytes'] / mb:,.1f} MB)"
            )


if __name__ == "__main__":
    main()
