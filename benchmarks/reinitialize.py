"""Benchmark: `keras_inits.reinitialize` against `keras.models.clone_model`.

Both give a model with freshly drawn weights; this measures the time each
takes and the peak memory it adds on top of the built model, on the same
model (a stack of Dense + LayerNormalization blocks, 300M parameters by
default). Each (backend, method) runs in its own process, so one method's
allocations cannot hide the other's peak. Memory is the process's resident
set, sampled every millisecond by a thread while the method runs.

    python benchmarks/reinitialize.py                 # 300M parameters
    python benchmarks/reinitialize.py --params 50e6 --backends jax,torch
    python benchmarks/reinitialize.py --quick         # smoke run, seconds
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

QUICK_PARAMS = 2e6
METHODS = ("reinitialize", "clone_model")


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


def build_model(params):
    import keras

    width = 4096 if params >= 50e6 else 256
    depth = max(1, round(params / (width * width + 3 * width)))
    inputs = keras.Input((width,))
    x = inputs
    for i in range(depth):
        x = keras.layers.Dense(width, name=f"dense_{i}")(x)
        x = keras.layers.LayerNormalization(name=f"norm_{i}")(x)
    return keras.Model(inputs, x, name="stack")


def worker(method, params):
    import gc

    import keras

    import keras_inits

    def apply(model):
        if method == "reinitialize":
            return keras_inits.reinitialize(model, seed=0)
        return keras.models.clone_model(model)

    # Warm up on a small model: lazy imports and first-call setup are not
    # what is measured.
    apply(build_model(QUICK_PARAMS / 10))
    model = build_model(params)
    gc.collect()
    baseline = rss_bytes()
    with PeakRss() as memory:
        start = time.perf_counter()
        result = apply(model)  # a clone stays alive, as in use  # noqa
        seconds = time.perf_counter() - start
    print(json.dumps({
        "params": model.count_params(),
        "weights_bytes": 4 * model.count_params(),
        "seconds": seconds,
        "peak_extra_bytes": memory.peak - baseline,
    }))


def run(backend, method, params):
    env = {**os.environ, "KERAS_BACKEND": backend,
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", method, "--params",
         str(params)], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=float, default=300e6,
                        help="model size in parameters (default 300e6)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a {QUICK_PARAMS:.0e}-parameter smoke run")
    parser.add_argument("--backends", default=os.environ.get(
        "KERAS_BACKEND", "jax"), help="comma-separated, e.g. jax,torch")
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = int(QUICK_PARAMS if args.quick else args.params)
    if args.worker:
        return worker(args.worker, params)

    mb = 2**20
    print(f"{'backend':<11}{'method':<14}{'params':>13}{'seconds':>9}"
          f"{'peak extra MB':>15}{'x weights':>11}")
    for backend in args.backends.split(","):
        results = {m: run(backend, m, params) for m in METHODS}
        for method, r in results.items():
            print(f"{backend:<11}{method:<14}{r['params']:>13,}"
                  f"{r['seconds']:>9.2f}{r['peak_extra_bytes'] / mb:>15.0f}"
                  f"{r['peak_extra_bytes'] / r['weights_bytes']:>11.2f}")
        ours, theirs = results["reinitialize"], results["clone_model"]
        print(f"{backend:<11}reinitialize / clone_model: time "
              f"{ours['seconds'] / theirs['seconds']:.2f}x, peak extra "
              f"memory {ours['peak_extra_bytes'] / theirs['peak_extra_bytes']:.2f}x"
              f" (weights: {ours['weights_bytes'] / mb:,.0f} MB)")


if __name__ == "__main__":
    main()
