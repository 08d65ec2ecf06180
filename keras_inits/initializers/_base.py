"""What every keras_inits initializer shares.

The base classes (`Initializer`, `RandomInitializer`: the automatic config,
the bound `max_abs` and the promise `expected_std` of each initializer, the
seeding and dtype policy of random ones), the checks of every call before
anything is allocated (`check_call`: shape, dtype, memory, the values'
range), what wrappers share (nesting, errors of what they wrap), and the fan
computation of variance-scaling initializers. Built on the argument checks
(`_internal.checks`), the device's limits (`_internal.limits`), sharded
draws (`_internal.sharding`), the seeds (`keras_inits.random`) and
registration (`_registration`).
"""

import math
import threading
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal import limits
from keras_inits._internal import sharding
from keras_inits._internal.arrays import in_dtype
from keras_inits._internal.naming import initializer_name
from keras_inits.initializers._registration import constructor_arguments
from keras_inits.initializers._registration import saves_constructor_arguments
from keras_inits.random import Seed
from keras_inits.random import check_seed
from keras_inits.random import draw_lock
from keras_inits.random import generator_for
from keras_inits.random import seed_config

# Saving, loading, calling and printing a nested initializer recurse once
# per level, through a dozen or more Python frames each (Keras'
# serialization among them), so a few hundred levels exceed Python's
# recursion limit of 1000. 32 stays far below it even when a model is
# loaded from deep inside other code, and far above any real use (one or
# two levels).
MAX_NESTING = 32
"""How deep initializers may nest inside wrappers (`DepthScaled`, `ICNR`),
counting each wrapper and the initializer at the bottom."""


def _children(node):
    """The initializers `node` holds directly: for an instance, its
    attributes that are initializers; for a serialized initializer
    (`{"class_name": ..., "config": {...}}`), the serialized initializers
    among its config's values, and the name a wrapper's `initializer` holds
    (`"ones"`); for a name, none."""
    if isinstance(node, dict):
        config = node.get("config")
        if not isinstance(config, dict):
            return []
        children = [
            v
            for v in config.values()
            if isinstance(v, dict) and isinstance(v.get("config"), dict)
        ]
        if isinstance(config.get("initializer"), str):
            children.append(config["initializer"])
        return children
    if not isinstance(node, keras.initializers.Initializer):
        return []
    try:
        values = vars(node).values()
    except TypeError:  # no __dict__
        return []
    return [v for v in values if isinstance(v, keras.initializers.Initializer)]


def nesting(initializer, limit=MAX_NESTING):
    """How many initializers deep `initializer` (an instance, a serialized
    config or a name) nests: 1 for one that holds no other (and for a
    name), 2 for a wrapper of such, and so on; None counts 0. Counts
    without recursion, and stops once past `limit` (returning `limit + 1`),
    so a hostile config nested ten thousand deep costs `limit` steps."""
    if initializer is None:
        return 0
    deepest = 0
    stack = [(initializer, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return limit + 1
        stack.extend((child, level + 1) for child in _children(node))
    return deepest


def wrapped_max_abs(initializer, shape):
    """The bound `initializer.max_abs(shape)` of a keras_inits initializer
    a wrapper holds, or None: unknown for others, and for a shape it
    refuses (its call then raises, through `call_wrapped`)."""
    if not isinstance(initializer, Initializer):
        return None
    try:
        return initializer.max_abs(shape)
    except ValueError:
        return None


def call_wrapped(owner, initializer, shape, dtype) -> Any:
    """`initializer(shape, dtype=dtype)` for the wrapper named `owner`, with
    a ValueError it raises (a `ConstantArray` of another shape, a value
    `dtype` cannot hold) naming the wrapper first: the caller called the
    wrapper, and may not know what it wraps."""
    try:
        return initializer(shape, dtype=dtype)
    except ValueError as error:
        raise ValueError(
            f"The `initializer` of {owner} cannot fill shape={shape}: {error}"
        ) from error


def from_host(array, dtype, compute_dtype):
    """A NumPy array as a tensor of `dtype`, rounded to `compute_dtype`
    first (float32 for float16, bfloat16 and float8, so those get the
    float32 values cast; NumPy's `astype` also materializes a broadcast
    view, and truncates toward zero for an integer dtype)."""
    return in_dtype(
        ops.convert_to_tensor(array.astype(compute_dtype), compute_dtype),
        dtype,
    )


def host_precision(compute_dtype):
    """The NumPy dtype to build a kernel on the host in: float64 for
    float64 weights, float32 for the others."""
    return "float64" if compute_dtype == "float64" else "float32"


def compute_fans(
    shape: Sequence[int],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Returns `(fan_in, fan_out)` of a weight of the given shape.

    Without axes this is Keras' rule: a vector counts its length both ways; a
    matrix is `(inputs, outputs)`; a convolution kernel
    `(*spatial, inputs, outputs)` multiplies both by the receptive field
    size. `input_axes` (or `output_axes`) replaces that rule for fan-in (or
    fan-out) by the product of the dimensions at those axes, as for the
    kernels of EinsumDense and MultiHeadAttention.
    """
    shape = checks.check_shape("compute_fans", shape)
    input_axes = checks.check_axes("compute_fans", "input_axes", input_axes)
    output_axes = checks.check_axes("compute_fans", "output_axes", output_axes)
    checks.check_axes_in("compute_fans", "input_axes", input_axes, shape)
    checks.check_axes_in("compute_fans", "output_axes", output_axes, shape)
    rank = len(shape)
    if rank == 0:
        fan_in = fan_out = 1
    elif rank == 1:
        fan_in = fan_out = shape[0]
    else:
        receptive_field = math.prod(shape[:-2])
        fan_in = shape[-2] * receptive_field
        fan_out = shape[-1] * receptive_field
    if input_axes is not None:
        fan_in = math.prod(shape[axis] for axis in input_axes)
    if output_axes is not None:
        fan_out = math.prod(shape[axis] for axis in output_axes)
    return int(fan_in), int(fan_out)


def check_call(initializer, shape, dtype, layout=None, floating=False):
    """Checks a call `initializer(shape, dtype, layout)` before anything is
    allocated, and returns `(shape, dtype, compute_dtype)`: the shape as a
    tuple of ints, the standardized dtype, and the dtype to compute in
    (float32 for the float16, bfloat16 and float8 types, whose own
    precision loses most values; the result is cast).

    Raises a ValueError naming the initializer when the dtype is not a
    floating-point one (with `floating`) or cannot be stored, when the
    tensor cannot be made in the memory it may take (the device's, the
    container's limit, the address-space limit: see limits.py;
    `initializer.draw_family` says how many tensors of its size making it
    holds), or when the initializer's values, up to
    `initializer.max_abs(shape)`, overflow the dtype (as `stddev=1e4` does
    float16).
    """
    owner = type(initializer).__name__
    shape = checks.check_shape(owner, shape)
    dtype = checks.check_dtype(owner, dtype)
    if floating and not keras.backend.is_float_dtype(dtype):
        raise ValueError(
            f"{owner} draws random values and needs a floating-point "
            f"dtype. Received: dtype={dtype!r}"
        )
    compute_dtype = "float32" if dtype in limits.LOW_PRECISION else dtype
    limits.check_storable(owner, dtype)
    # Traced by jax.jit (a large or sharded variable), the values are
    # computed shard by shard: the sharded path checks its shard's size.
    if not sharding.is_tracing():
        checked, named = shape, owner
        if layout is not None:
            target = sharding.as_sharding(owner, layout)
            checked = target.shard_shape(shape)
            # CPU devices (XLA's simulated ones among them) share this
            # host's memory: together they hold every shard they are given.
            on_host = sum(
                device.platform == "cpu"
                for device in target.addressable_devices
            )
            if on_host > 1:
                named = (
                    f"{owner} (its {on_host} shards of shape {checked} on "
                    "this host's CPU devices)"
                )
                checked = (on_host, *checked)
        limits.check_size(
            named, checked, dtype, compute_dtype, initializer.draw_family
        )
    largest = initializer.max_abs(shape)
    if largest is not None and keras.backend.is_float_dtype(dtype):
        stored = limits.stored_dtype(dtype)
        limit = limits.float_max(stored)
        if largest > limit:
            stored_as = (
                f" (this backend stores {dtype} as {stored})"
                if stored != dtype
                else ""
            )
            raise ValueError(
                f"{initializer!r} makes values up to {largest:.4g} for "
                f"shape={shape}, beyond {dtype}'s largest finite value "
                f"{limit:g}{stored_as}: they would be infinite or NaN. Use "
                f"a wider dtype or smaller arguments. Received: "
                f"dtype={dtype!r}"
            )
    return shape, dtype, compute_dtype


class Initializer(keras.initializers.Initializer):
    """Base class of keras_inits initializers.

    A subclass keeps each constructor argument in an attribute of the same
    name. `get_config()` returns exactly those arguments, so
    `from_config(get_config())` rebuilds an equal initializer and the class
    needs no serialization code of its own.

    A subclass's `__call__(shape, dtype=None)` also takes `layout=None`,
    added here: with a layout (JAX backend), its values are computed under
    `jax.jit` with that output sharding, so each device computes its shard.

    `draw_family` names how its values are made, a key of
    `limits.PEAK_COPIES` (`"uniform"`, `"host"`, ...): a call is refused
    when the tensors of the result's size that this holds at its peak
    cannot fit in memory. A subclass that does not say holds the most of
    any (`limits.UNKNOWN`).

    `fails_only_in_check_call` is True for a class whose calls can fail
    only in `check_call`, and then always return the shape and dtype
    asked for. `reinitialize` checks each planned draw before it assigns
    anything: such a draw by `check_call` alone; any other by tracing it
    for shapes (0.03-0.1 s a draw on TensorFlow, for dozens of distinct
    draws in a large model). tests/initializers/test_catalogue.py holds
    every class that says so to it.
    """

    draw_family: str = limits.UNKNOWN
    fails_only_in_check_call: bool = False
    # Whether a call needs a floating-point dtype (`check_call`).
    _floating = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Every subclass takes Keras' `layout` argument (sharded variables):
        # a `__call__(shape, dtype)` of its own gets it here.
        call = cls.__dict__.get("__call__")
        if call is not None and not sharding.takes_layout(call):
            cls.__call__ = sharding.accept_layout(call)

    @saves_constructor_arguments
    def get_config(self):
        config = {}
        for name in constructor_arguments(type(self)):
            if not hasattr(self, name):
                raise AttributeError(
                    f"{type(self).__name__} has no attribute `{name}`: the "
                    "automatic get_config saves each constructor argument "
                    "from the attribute of the same name, so set "
                    f"`self.{name}` in __init__."
                )
            config[name] = getattr(self, name)
        return config

    def check(
        self,
        shape: Sequence[int],
        dtype: str | None = None,
        layout: object = None,
    ) -> None:
        """Raises the ValueError the call `self(shape, dtype, layout)`
        would raise in `check_call`, drawing nothing: for a class with
        `fails_only_in_check_call`, a call this accepts succeeds.

        Examples:

            >>> from keras_inits import initializers
            >>> initializers.HeNormal().check((3, 4), "float32")
            >>> initializers.Zeros().check((3, -4))
            Traceback (most recent call last):
            ...
            ValueError: Zeros needs a shape without negative dimensions. Received: shape=(3, -4)
        """
        check_call(self, shape, dtype, layout, floating=self._floating)

    def max_abs(self, shape: tuple[int, ...]) -> float | None:
        """An upper bound of the magnitude of the values for `shape`, or
        None if unknown. A call whose dtype cannot hold it is refused (see
        `check_call`): a subclass that can bound its values says so here."""
        return None

    def expected_std(self, shape: tuple[int, ...]) -> float:
        """The standard deviation (population std, about the mean) of the
        values for `shape` that this initializer promises, or NaN if it
        promises none. Diagnostics compare the drawn weights with it."""
        return math.nan

    def __repr__(self):
        # The class and the arguments that differ from its defaults: the
        # one name plans, reports, `describe` and errors use.
        return initializer_name(self)


class RandomInitializer(Initializer):
    """Base class of initializers that draw random values.

    Every call draws fresh values from a `keras.random.SeedGenerator`, so two
    calls, or two layers sharing one instance, never get the same tensor. An
    integer `seed` fixes the whole sequence of draws: a new instance with the
    same seed, or `from_config` of this one, replays it from the start. A
    `SeedGenerator` passed as `seed` is used as it is. A
    `keras_inits.PortableSeed` (or an int while `set_portable(True)` is on)
    draws the same values on every backend.

    Values are drawn in float32 for float16, bfloat16 and the float8 types
    and then cast, so low-precision weights have the statistics of the
    float32 ones; a call is checked first (`check_call`), and the values are
    cast once, at the end. Subclasses implement `draw(shape, dtype)` with
    `self.seed_generator`, drawing only through samplers.py (which takes
    either kind of seed), never `keras.random` directly.

    `__call__(shape, dtype=None, layout=None)` follows Keras' layout
    protocol: on the JAX backend, with a `keras.distribution.TensorLayout`
    or a `jax.sharding.Sharding`, the values are computed shard by shard on
    the devices of `layout`, and are those of an unsharded draw, whatever
    the mesh. The seed state is advanced outside any trace, so it never
    holds a JAX tracer. On other backends a `layout` raises a ValueError
    (Keras distributes variables only on JAX). See sharding.py.

    Draws are thread-safe: each holds a lock of its seed generator from
    start to end, so threads sharing an initializer, or initializers
    sharing a generator, get distinct values, those of the same calls made
    one after another.
    """

    # Guards the making of each initializer's generator: two threads
    # drawing first at once would each make one of the same seed, and draw
    # the same values.
    _making_guard = threading.Lock()
    _floating = True

    def __init__(self, seed: Seed = None):
        self.seed = check_seed(type(self).__name__, seed)
        # Created on the first draw, not here: building an initializer (as
        # `keras.initializers.get` does for every layer argument) then costs
        # no backend variable.
        self._seed_generator = None

    @property
    def seed_generator(self):
        if self._seed_generator is None:
            # Eagerly: made inside a JAX trace, its state would be a tracer.
            with RandomInitializer._making_guard, sharding.eagerly():
                if self._seed_generator is None:
                    self._seed_generator = generator_for(self.seed)
        return self._seed_generator

    @saves_constructor_arguments
    def get_config(self):
        config = super().get_config()
        config["seed"] = seed_config(self.seed)
        return config

    def __call__(
        self,
        shape: Sequence[int],
        dtype: str | None = None,
        layout: object = None,
    ) -> Any:
        shape, dtype, compute_dtype = check_call(
            self, shape, dtype, layout, floating=self._floating
        )

        def values():
            # The one cast of a draw, from the compute dtype.
            return in_dtype(self.draw(shape, compute_dtype), dtype)

        # A sharded variable, or a draw traced by jax.jit (as Keras does
        # for large ones): see sharding.py. A trace for shapes only keeps
        # no state, so it needs none of that (which would compile the draw).
        sharded = layout is not None or (
            sharding.is_tracing() and not keras_internals.in_shape_trace()
        )
        with draw_lock(self.seed_generator):
            if sharded:
                return sharding.draw(self, values, shape, dtype, layout)
            return values()

    def draw(self, shape: tuple[int, ...], dtype: str) -> Any:
        """The values of one call, of `shape` and `dtype` (a floating-point
        dtype, float32 for the low-precision ones), drawn through the
        samplers of `keras_inits.random` with `self.seed_generator`."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `draw(shape, dtype)`."
        )
