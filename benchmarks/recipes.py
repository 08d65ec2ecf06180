"""Benchmark: a recipe on a large keras-hub model against building it.

What a user of a recipe waits for: keras-hub builds a backbone with its own
initializers, then `keras_inits.reinitialize(backbone, recipe=R, seed=0)`
gives it the published initialization. The target: the second costs at
most what the first did (ratio <= 1.0), with the report's measurement on,
and, on a loaded machine, with `measure=False`.

Two models, float32, built from config (no download):

- `llama`: `keras_hub.models.LlamaBackbone`, 8 layers, hidden 1024, 16
  heads, intermediate 3744, vocabulary 32,000: 191M parameters;
- `gpt2`: `keras_hub.models.GPT2Backbone`, 10 layers, hidden 1024, 16
  heads, intermediate 4096, vocabulary 50,257, 1,024 positions: 180M.

Each (backend, model, recipe) runs in a fresh process, so the call timed is
the first `reinitialize` of that process, with everything it does once
(imports, the model's trace, compiling a draw per shape) counted, as a user
meets it. In that process: import Keras, keras-hub and keras_inits; build
a tiny backbone of the same class (1 layer, hidden 32), so that the build
timed is not charged for keras-hub's first-call work while `reinitialize`
is; time the build with `time.perf_counter`, until one value of the last
weight is copied to NumPy (JAX computes asynchronously); then time
`reinitialize` the same way, with `measure=True` (the default) or
`--unmeasured`. A recipe that does not fit a model (it raises) is shown as
such, with the start of the error.

`--load N` starts N busy processes (`while True: pass`) for the whole run,
as on a shared machine.

    python benchmarks/recipes.py                           # 3 backends
    python benchmarks/recipes.py --backends torch --recipes gpt2,bert
    python benchmarks/recipes.py --models llama --unmeasured --load 2
    python benchmarks/recipes.py --quick       # 2 layers, hidden 256
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import machine

BACKENDS = ("tensorflow", "jax", "torch")
MODELS = ("llama", "gpt2")
RATIO_TARGET = 1.0


def build(kind, quick, tiny=False):
    """The keras-hub backbone `kind`, built with keras-hub's initializers
    (`tiny`: 1 layer, hidden 32, vocabulary 100, for a warm-up)."""
    import keras_hub

    if tiny:
        layers, hidden = 1, 32
    else:
        layers, hidden = (2, 256) if quick else (None, 1024)
    if kind == "llama":
        return keras_hub.models.LlamaBackbone(
            vocabulary_size=100 if tiny else 32000,
            num_layers=layers or 8,
            num_query_heads=16,
            num_key_value_heads=16,
            hidden_dim=hidden,
            intermediate_dim=4 * hidden if tiny or quick else 3744,
        )
    return keras_hub.models.GPT2Backbone(
        vocabulary_size=100 if tiny else 50257,
        num_layers=layers or 10,
        num_heads=16,
        hidden_dim=hidden,
        intermediate_dim=4 * hidden,
        max_sequence_length=1024,
    )


def computed(model):
    """Waits until the model's weights are computed (JAX is asynchronous)."""
    import keras

    keras.ops.convert_to_numpy(keras.ops.ravel(model.weights[-1].value)[:1])


def worker(kind, recipe, measure, quick):
    import keras_inits

    computed(build(kind, quick, tiny=True))
    start = time.perf_counter()
    model = build(kind, quick)
    computed(model)
    built = time.perf_counter() - start
    start = time.perf_counter()
    try:
        keras_inits.reinitialize(model, recipe=recipe, seed=0, measure=measure)
    except Exception as error:  # a recipe that does not fit this model
        return {"error": f"{type(error).__name__}: {error}"[:60]}
    computed(model)
    return {
        "build": built,
        "reinitialize": time.perf_counter() - start,
        "params": model.count_params(),
    }


def run(backend, kind, recipe, measure, quick):
    environment = dict(os.environ, KERAS_BACKEND=backend)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    command = [sys.executable, __file__, "--child", kind, recipe]
    command += [] if measure else ["--unmeasured"]
    command += ["--quick"] if quick else []
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:60]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def busy(count):
    """`count` processes that keep a core each busy."""
    return [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(count)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--recipes", help="default: every built-in recipe")
    parser.add_argument("--unmeasured", action="store_true")
    parser.add_argument("--load", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "RECIPE"))
    args = parser.parse_args()
    if args.child:
        kind, recipe = args.child
        result = worker(kind, recipe, not args.unmeasured, args.quick)
        print(json.dumps(result))
        return
    if args.recipes is None:
        from keras_inits import recipes

        args.recipes = ",".join(recipes.names())
    backends = args.backends.split(",")
    machine.print_header(backends)
    loaders = busy(args.load)
    measure = "off" if args.unmeasured else "on"
    print(f"busy processes: {args.load}; the report's measurement: {measure}")
    print(
        f"{'backend':<11} {'model':<6} {'recipe':<19} {'params':>6} "
        f"{'build s':>8} {'recipe s':>9} {'ratio':>6}"
    )
    ratios = {}
    try:
        for backend in backends:
            for kind in args.models.split(","):
                for recipe in args.recipes.split(","):
                    r = run(
                        backend, kind, recipe, not args.unmeasured, args.quick
                    )
                    head = f"{backend:<11} {kind:<6} {recipe:<19}"
                    if "error" in r:
                        print(
                            f"{head} does not apply: {r['error']}", flush=True
                        )
                        continue
                    ratio = r["reinitialize"] / r["build"]
                    ratios.setdefault(backend, []).append(ratio)
                    print(
                        f"{head} {r['params'] / 1e6:>5.0f}M {r['build']:>8.2f} "
                        f"{r['reinitialize']:>9.2f} {ratio:>5.2f}x",
                        flush=True,
                    )
    finally:
        for loader in loaders:
            loader.kill()
    for backend, values in ratios.items():
        verdict = "meets" if max(values) <= RATIO_TARGET else "misses"
        print(
            f"{backend}: recipe / build median {statistics.median(values):.2f}x,"
            f" worst {max(values):.2f}x ({verdict} <= {RATIO_TARGET}x)"
        )


if __name__ == "__main__":
    main()
