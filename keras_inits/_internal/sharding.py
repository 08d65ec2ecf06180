"""Initial values of sharded variables (`keras.distribution`, JAX backend).

Keras creates a variable that has a layout in one of two ways (see
`_initialize_with_initializer` in keras/src/backend/jax/core.py): it calls
`initializer(shape, dtype=..., layout=...)` when `__call__` takes `layout`
(which every keras_inits initializer does), or else it traces
`initializer.__call__` under `jax.jit` with the variable's sharding as the
output sharding, for variables above about 250 MB per mesh.

Inside a trace a `keras.random.SeedGenerator` would store a tracer as its
new state, which breaks its next use (`UnexpectedTracerError`). So here the
state is always advanced by concrete computation: the draw runs as a pure
function of the state (a `keras.StatelessScope` maps the generator's state to
an argument), compiled with `jax.jit`, and the generator is assigned the
concrete state it returns. Values come out of that compiled function with the
requested sharding: XLA partitions the computation, so every device computes
only its own shard. With `jax_threefry_partitionable` (on by default in the
JAX this is tested with, 0.10) each value depends only on the seed and its
index, so the values do not depend on the mesh, and equal an unsharded draw
of the same seed (tests/test_sharding.py).

Under JAX's multi-process runtime (one process per host, each with its own
devices, `keras.distribution.initialize`), the same compiled draw runs in
every process, and each computes and holds only its own devices' shards:
the values are those of one process with every device
(tests/_internal/test_multiprocess.py). No process can read a variable
whole there: `reinitialize` measures and backs up each process's shards
(`device_pieces`, `saved`), and combines the measurements across processes
(`combined_moments`).
"""

import contextlib
import dataclasses
import inspect
import json
import math
import threading
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

# The names of backends where Keras implements keras.distribution.
_DISTRIBUTED_BACKENDS = ("jax",)


def takes_layout(function):
    """Whether `function` (for a callable object, its `__call__`) takes an
    argument named `layout`, which Keras then passes it for a sharded
    variable."""
    return "layout" in inspect.signature(function).parameters


def accept_layout(call):
    """`call(self, shape, dtype=None)` as the layout protocol's
    `__call__(self, shape, dtype=None, layout=None)`: with a layout, its
    values are computed under `jax.jit` with that output sharding."""

    # Not functools.wraps: inspect.signature would follow `__wrapped__` to
    # the signature without `layout`, and Keras would not pass one.
    def __call__(
        self,
        shape: Sequence[int],
        dtype: str | None = None,
        layout: object = None,
    ) -> Any:
        if layout is None:
            return call(self, shape, dtype)
        sharding = as_sharding(type(self).__name__, layout)
        return _compiled(lambda: call(self, shape, dtype), sharding)()

    for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(__call__, attribute, getattr(call, attribute))
    return __call__


def is_tracing():
    """Whether JAX is tracing (under `jax.jit`, `jax.grad`...): an operation
    then gives a tracer instead of a value."""
    if keras.backend.backend() != "jax":
        return False
    import jax
    import jax.core

    return isinstance(jax.numpy.zeros(()), jax.core.Tracer)


def is_tracer(value):
    """Whether `value` is a JAX tracer, a stand-in for a value while JAX
    traces a function of it (not a number that can be read)."""
    if keras.backend.backend() != "jax":
        return False
    import jax.core

    return isinstance(value, jax.core.Tracer)


def eagerly():
    """A context in which JAX computes values even inside a trace (on other
    backends, one that does nothing): a seed generator made in it gets a
    concrete initial state, not a tracer."""
    if keras.backend.backend() != "jax":
        return contextlib.nullcontext()
    import jax

    return jax.ensure_compile_time_eval()


def as_sharding(owner, layout):
    """`layout` (a `keras.distribution.TensorLayout` or a
    `jax.sharding.NamedSharding`) as a NamedSharding of a concrete mesh with
    automatic axes, which lets XLA partition the computation of the value.

    Keras passes a NamedSharding of the abstract mesh with explicit axes
    set by `jax.set_mesh`; its concrete mesh is then the one set.
    """
    backend = keras.backend.backend()
    if backend not in _DISTRIBUTED_BACKENDS:
        raise ValueError(
            f"{owner} got a `layout`, but Keras distributes variables only "
            f"on the JAX backend; this is {backend!r}. Call it without "
            "`layout` and place the value yourself, or use "
            "KERAS_BACKEND=jax. Received: layout={layout!r}"
        )
    import jax

    if isinstance(layout, keras.distribution.TensorLayout):
        layout = layout.backend_layout
    if not isinstance(layout, jax.sharding.NamedSharding):
        if isinstance(layout, jax.sharding.Sharding):
            return layout  # single-device and positional shardings
        raise ValueError(
            f"{owner} needs a `layout` that is a "
            "keras.distribution.TensorLayout or a jax.sharding.Sharding. "
            f"Received: layout={layout!r}"
        )
    mesh = layout.mesh
    if isinstance(mesh, jax.sharding.AbstractMesh):
        mesh = jax.sharding.get_mesh()
        if tuple(mesh.axis_names) != tuple(layout.mesh.axis_names):
            raise ValueError(
                f"{owner} got a `layout` on an abstract mesh, and needs "
                "the concrete mesh set with `jax.set_mesh`. Received: "
                f"layout={layout!r}"
            )
    auto = jax.sharding.Mesh(mesh.devices, mesh.axis_names)
    return jax.sharding.NamedSharding(auto, layout.spec)


def _compiled(function, sharding, *state_shardings):
    """`function` compiled to return its values with `sharding` (and its
    seed state replicated), under a mesh of automatic axes: with Keras'
    explicit axes, XLA would compute every value on every device."""
    import jax

    compiled = jax.jit(
        function,
        out_shardings=(sharding, *state_shardings)
        if state_shardings
        else sharding,
    )

    def run(*args):
        mesh = getattr(sharding, "mesh", None)
        with (
            jax.set_mesh(mesh)
            if mesh is not None
            else (contextlib.nullcontext())
        ):
            return compiled(*args)

    return run


# Compiled draws, by initializer class and config without its seed, shape,
# dtype and sharding: the seed state is their argument, so one compilation
# serves every layer of the same shape and every later draw.
_compiled_draws = {}
_CACHE_SIZE = 256
# Draws from different generators run at once in different threads: two
# could evict the same entry. `make` only wraps a function (jax.jit
# compiles at the first call), so holding this lock costs nothing.
_cache_lock = threading.Lock()


def _cached(key, make):
    """The compiled draw cached under `key`, made by `make()` when missing;
    beyond `_CACHE_SIZE` entries, the one made first is dropped."""
    with _cache_lock:
        if key not in _compiled_draws:
            if len(_compiled_draws) >= _CACHE_SIZE:
                _compiled_draws.pop(next(iter(_compiled_draws)))
            _compiled_draws[key] = make()
        return _compiled_draws[key]


def draw(initializer, draw_values, shape, dtype, layout):
    """`draw_values()` of a random initializer of `shape` and `dtype`,
    either with `layout`, or, `layout=None`, inside a trace, without leaving
    a tracer in its seed generator."""
    import jax

    owner = type(initializer).__name__
    sharding = None if layout is None else as_sharding(owner, layout)
    # Made eagerly on the first draw, even inside a trace (see
    # base.RandomInitializer.seed_generator).
    generator = initializer.seed_generator
    if not isinstance(generator, keras.random.SeedGenerator):
        # A PortableSeed keeps its state in Python, which tracing advances:
        # a new function is traced at every call, so it advances each time.
        if sharding is None:
            return draw_values()
        return _compiled(lambda: draw_values(), sharding)()
    state = generator.state

    def pure(start):
        with keras.StatelessScope(state_mapping=[(state, start)]) as scope:
            values = draw_values()
        end = scope.get_current_value(state)
        return values, start if end is None else end

    config = {k: v for k, v in initializer.get_config().items() if k != "seed"}
    key = (
        type(initializer),
        json.dumps(config, sort_keys=True, default=repr),
        shape,
        dtype,
        sharding,
    )
    # Inside a caller's trace, the state is advanced eagerly, so it is
    # never a tracer. Outside one, the draw must not be: under
    # `ensure_compile_time_eval` jax.jit evaluates the whole draw on one
    # device while tracing and embeds it as a constant (several times the
    # tensor in host memory, issue 30).
    traced = sharding is None or is_tracing()
    with (
        jax.ensure_compile_time_eval() if traced else contextlib.nullcontext()
    ):
        # On the host: uncommitted, so its placement never forces a new
        # compilation.
        start = np.asarray(state.value)
        if sharding is None:  # traced: the caller's jit sets the sharding
            # This compiled function returns the state alone: XLA drops the
            # draw, so it computes no values.
            end = _cached(key, lambda: jax.jit(lambda s: pure(s)[1]))(start)
            values = None
        else:
            replicated = (
                jax.sharding.NamedSharding(
                    sharding.mesh, jax.sharding.PartitionSpec()
                )
                if isinstance(sharding, jax.sharding.NamedSharding)
                else None
            )
            values, end = _cached(
                key, lambda: _compiled(pure, sharding, replicated)
            )(start)
        state.assign(end)
    if values is None:
        values, _ = pure(start)
    return values


# For reinitialize: a variable's sharding, and its values shard by shard.


def placement(variable):
    """The sharding of `variable`'s value when it spans several devices
    (JAX backend), else None."""
    if keras.backend.backend() not in _DISTRIBUTED_BACKENDS:
        return None
    sharding = getattr(variable.value, "sharding", None)
    if sharding is None or len(sharding.device_set) < 2:
        return None
    return sharding


def call(initializer, shape, dtype, layout):
    """`initializer(shape, dtype)` with its values placed as `layout` (a
    sharding, or None for wherever the backend puts them), computed shard
    by shard: through the `layout` protocol where `__call__` takes it,
    else compiled with `layout` as the output sharding."""
    if layout is None:
        return initializer(shape, dtype=dtype)
    if takes_layout(initializer):
        return initializer(shape, dtype=dtype, layout=layout)
    sharding = as_sharding(type(initializer).__name__, layout)
    return _compiled(lambda: initializer(shape, dtype=dtype), sharding)()


def spans_processes(variable):
    """Whether `variable`'s values are split among several processes (JAX's
    multi-process runtime, one process per host): each process then holds,
    and can read, only the shards on its own devices."""
    if keras.backend.backend() not in _DISTRIBUTED_BACKENDS:
        return False
    return not getattr(variable.value, "is_fully_addressable", True)


def device_pieces(variable):
    """`variable`'s values where they live, unflattened (flattening is a
    copy on JAX): one tensor per distinct shard of a sharded variable (a
    replicated one counts once), each on its device; else the whole
    value.

    A variable split among processes (`spans_processes`): only the shards
    this process is the first holder of, in the order of the sharding's
    devices (the same in every process), so that each value is in exactly
    one process's pieces."""
    shards = None
    if placement(variable) is not None:
        shards = variable.value.addressable_shards
    if not shards:
        yield variable.value
        return
    seen = set()  # indices given, or another process's to give
    if spans_processes(variable):
        import jax

        # An index is given by the process of its first device, in the
        # sharding's order of devices (the same in every process).
        value = variable.value
        first = {}
        indices = value.sharding.devices_indices_map(tuple(value.shape))
        for device, index in indices.items():
            first.setdefault(repr(index), device)
        here = jax.process_index()
        seen = {i for i, d in first.items() if d.process_index != here}
    for shard in shards:
        index = repr(shard.index)  # slices are unhashable before 3.12
        if index not in seen:
            seen.add(index)
            yield shard.data


@dataclasses.dataclass(frozen=True)
class _ProcessShards:
    """This process's shards of a value that spans processes, copied to the
    host: `pieces` pairs each addressable device with its shard."""

    shape: tuple[int, ...]
    sharding: Any
    pieces: list[tuple[Any, np.ndarray]]


def saved(variable):
    """A copy of `variable`'s values in the host's memory, for `restored`:
    the whole array, or where the variable spans processes (where no
    process can read it whole), this process's shards."""
    if not spans_processes(variable):
        return np.array(keras.ops.convert_to_numpy(variable))  # a copy
    value = variable.value
    return _ProcessShards(
        tuple(value.shape),
        value.sharding,
        [(s.device, np.array(s.data)) for s in value.addressable_shards],
    )


def restored(values):
    """The value `saved` copied, to assign back to its variable."""
    if not isinstance(values, _ProcessShards):
        return values
    import jax

    arrays = [jax.device_put(data, device) for device, data in values.pieces]
    return jax.make_array_from_single_device_arrays(
        values.shape, values.sharding, arrays
    )


def combined_moments(
    variable: Any, mean: float, std: float
) -> tuple[float, float]:
    """The mean and standard deviation of all `variable`'s values, from
    this process's `mean` and `std` of the pieces `device_pieces` gives it,
    when `variable` spans processes (`spans_processes`); else `(mean, std)`
    as they are.

    Every process must call it for the same variables in the same order:
    the processes exchange their counts and moments (a collective of JAX's
    runtime), and combine them as Chan, Golub and LeVeque's parallel
    variance does, in float64: the variance is the mean of the pieces'
    variances plus the variance of their means, both weighted by count.
    """
    if not spans_processes(variable):
        return mean, std
    from jax.experimental import multihost_utils

    count = sum(math.prod(piece.shape) for piece in device_pieces(variable))
    local = np.array([count, mean, std] if count else [0, 0, 0], np.float64)
    # As uint32 words: without `jax_enable_x64`, JAX would round float64
    # to float32 on the way.
    gathered = multihost_utils.process_allgather(local.view(np.uint32))
    counts, means, stds = (
        np.asarray(gathered).reshape(-1, 2 * 3).view(np.float64).T
    )
    total = counts.sum()
    if not total:
        return math.nan, math.nan
    mean = float((counts * means).sum() / total)
    variance = (counts * (stds**2 + (means - mean) ** 2)).sum() / total
    return mean, math.sqrt(float(variance))
