"""Run as `python -m tests._internal._multiprocess_child OUT WIDTH [PROCESS
PORT]` (by test_multiprocess.py and benchmarks/multiprocess.py). With
PROCESS and PORT: process PROCESS of two
under JAX's multi-process runtime (coordinator on localhost:PORT, CPU
collectives over gloo), each with the 4 CPU devices XLA_FLAGS gives it;
without: one process with 8. Either way the same 8-device mesh, and:

1. builds a model of keras_inits initializers (int seeds, a
   SeedGenerator, a PortableSeed) under `keras.distribution.ModelParallel`,
   then `reinitialize(model, seed=0)`;
2. builds tests/recipe_models.decoder under the same distribution and
   reinitializes it with `recipe="gpt2"`;
3. unless WIDTH is 0, builds a model of two sharded (WIDTH, WIDTH)
   kernels, reinitializes it, then with a recipe, sampling the resident
   set and timing each step.

Writes to OUT (pickle) the values this process holds after each step (each
variable's distinct addressable shards with their index), the reports'
moments, and the memory measured.
"""

import os
import pickle
import sys
import threading
import time


def _connect(process, port):
    """Joins the two processes: JAX's runtime through Keras, which also
    agrees a global seed among them (the unseeded initializers of Keras'
    own layers would otherwise draw different values in each process, and
    Keras' `device_put` of them refuses that)."""
    import jax
    import keras

    # CPU devices of different processes talk through gloo.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    keras.distribution.initialize(f"localhost:{port}", 2, process)


def _rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples the resident set in a thread; `peak` is its highest value."""

    def __enter__(self):
        self.start = self.peak = _rss()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _distribution(keras, rules):
    mesh = keras.distribution.DeviceMesh(
        (1, 8), ["batch", "model"], keras.distribution.list_devices()
    )
    layout_map = keras.distribution.LayoutMap(mesh)
    for pattern, axes in rules.items():
        layout_map[pattern] = axes
    return keras.distribution.ModelParallel(
        layout_map=layout_map, batch_dim_name="batch"
    )


def _pieces(variable):
    """`variable`'s distinct addressable shards: [(index, values)], the index
    as ((start, stop), ...) per axis."""
    import numpy as np

    pieces, seen = [], set()
    for shard in variable.value.addressable_shards:
        index = tuple(
            (s.start or 0, variable.shape[a] if s.stop is None else s.stop)
            for a, s in enumerate(shard.index)
        )
        if index not in seen:
            seen.add(index)
            pieces.append((index, np.asarray(shard.data)))
    return pieces


def _held(model, whole):
    """Each variable's values this process holds: its pieces, or `whole`,
    the full array (one process holds every value)."""
    import numpy as np

    if whole:
        return {v.path: np.asarray(v.value) for v in model.weights}
    return {v.path: _pieces(v) for v in model.weights}


def _moments(report):
    return {
        row.path: (
            row.mean_before,
            row.std_before,
            row.mean_after,
            row.std_after,
        )
        for row in report.rows
    }


def _restored_after_failure(keras_inits, model):
    """Runs `reinitialize(model, backup=True)` with every assignment to
    proj/kernel failing; returns the error's note."""
    from keras_inits.model import _applying

    assign = _applying.keras_internals.assign

    def failing(variable, values, fresh=False):
        if variable.path == "proj/kernel":
            raise RuntimeError("a device failed")
        assign(variable, values, fresh)

    _applying.keras_internals.assign = failing
    try:
        keras_inits.reinitialize(model, seed=9, backup=True)
    except RuntimeError as error:
        if str(error) != "a device failed":
            raise
        return " ".join(getattr(error, "__notes__", []))
    finally:
        _applying.keras_internals.assign = assign
    raise AssertionError("reinitialize did not re-raise the failure")


def _stack(keras, keras_inits, width):
    """Two Dense layers of `width` units, each kernel drawn by a
    keras_inits initializer (an int seed, then a PortableSeed)."""
    return keras.Sequential(
        [keras.Input((width,))]
        + [
            keras.layers.Dense(
                width,
                kernel_initializer=keras_inits.HeNormal(
                    seed=keras_inits.PortableSeed(i) if i else i
                ),
                name=f"dense{i}",
            )
            for i in range(2)
        ]
    )


def _memory(keras, keras_inits, width):
    """The peak resident memory added by building a `_stack` of `width`,
    by `reinitialize`, and by `reinitialize` with a recipe, over the
    resident memory before building; and what this process then holds.
    Each step runs first on a small stack, to compile and load once."""
    import gc

    with _distribution(
        keras, {".*kernel": (None, "model"), ".*bias": ("model",)}
    ).scope():
        small = _stack(keras, keras_inits, 64)
        keras_inits.reinitialize(small, seed=1)
        keras_inits.reinitialize(small, seed=2, recipe="gpt2")
        del small
        gc.collect()
        steps, seconds = {}, {}
        begin = time.perf_counter()
        with PeakRss() as peak:
            model = _stack(keras, keras_inits, width)
            for v in model.weights:
                v.value.block_until_ready()
        seconds["build"] = time.perf_counter() - begin
        start = peak.start  # every step's peak is over the model's absence
        steps["build"] = peak.peak - start
        for step, arguments in (
            ("reinitialize", {"seed": 1}),
            ("recipe", {"seed": 2, "recipe": "gpt2"}),
        ):
            begin = time.perf_counter()
            with PeakRss() as peak:
                keras_inits.reinitialize(model, **arguments)
            seconds[step] = time.perf_counter() - begin
            steps[step] = peak.peak - start
        # This process's part of each variable, in bytes.
        held = [sum(p.nbytes for _, p in _pieces(v)) for v in model.weights]
        return {
            "seconds": seconds,
            "steps": steps,
            "held": sum(held),
            "largest_variable": max(held),
            "weights": sum(v.value.nbytes for v in model.weights),
        }


def main(out, width, process=None, port=None):
    # Imported only now: JAX's runtime must be joined before JAX starts
    # its backends.
    if process is not None:
        _connect(process, port)
    import jax
    import keras

    import keras_inits
    from tests import recipe_models

    result = {"devices": jax.device_count(), "local": jax.local_device_count()}
    layers = keras.layers
    with _distribution(
        keras,
        {
            "tokens/embeddings": ("model", None),
            "fc/kernel": (None, "model"),
            "fc/bias": ("model",),
            "proj/kernel": ("model", None),
            "head/kernel": (None, "model"),
        },
    ).scope():
        tokens = keras.Input((8,), dtype="int32")
        x = layers.Embedding(
            64,
            32,
            embeddings_initializer=keras_inits.RandomNormal(0.0, 0.02, seed=1),
            name="tokens",
        )(tokens)
        x = layers.Dense(
            128,
            kernel_initializer=keras_inits.HeNormal(seed=2),
            bias_initializer=keras_inits.RandomUniform(-0.1, 0.1, seed=3),
            name="fc",
        )(x)
        x = layers.Dense(
            32,
            kernel_initializer=keras_inits.TruncatedNormal(
                seed=keras_inits.PortableSeed(4)
            ),
            name="proj",
        )(x)
        x = layers.Dense(
            64,
            kernel_initializer=keras_inits.GlorotUniform(
                seed=keras.random.SeedGenerator(5)
            ),
            name="head",
        )(x)
        model = keras.Model(tokens, x)
        result["built"] = _held(model, process is None)
        report = keras_inits.reinitialize(model, seed=0)
        result["reinitialized"] = _held(model, process is None)
        result["reinitialized-moments"] = _moments(report)
        # An assignment that keeps failing: the variables already re-drawn
        # are restored from the backup, this process's shards of each.
        result["restored"] = _restored_after_failure(keras_inits, model)
        result["after-restore"] = _held(model, process is None)

    with _distribution(
        keras,
        {
            "tokens/embeddings": ("model", None),
            "positions/embeddings": ("model", None),
            "fc.*/kernel": (None, "model"),
            "proj.*/kernel": ("model", None),
            "head/kernel": (None, "model"),
        },
    ).scope():
        decoder = recipe_models.decoder(depth=2, width=32, vocab=64, length=8)
        report = keras_inits.reinitialize(decoder, seed=0, recipe="gpt2")
        result["recipe"] = _held(decoder, process is None)
        result["recipe-moments"] = _moments(report)
    if width:
        result["memory"] = _memory(keras, keras_inits, width)
    with open(out, "wb") as file:
        pickle.dump(result, file)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
