"""What every keras_inits initializer shares.

Registration under the `keras_inits>` prefix, argument checks with one
wording (Keras' own first where Keras has one), the checks of every call
before anything is allocated (`check_call`: shape, dtype, memory, the
values' range), what wrappers share (nesting, errors of what they wrap), the
seeding and dtype policy of random initializers, and the fan computation of
variance-scaling ones. Each family module builds on these and on nothing
else of its own.
"""

import collections.abc
import inspect
import math
import numbers
import threading
import weakref

import keras
import numpy as np
from keras import ops

from keras_inits import limits
# TRANSITION: re-exports for modules not yet moved to `checks`.
from keras_inits.checks import *  # noqa
from keras_inits.checks import is_real_number as _is_real_number  # noqa
from keras_inits.checks import is_whole_number as _is_whole_number  # noqa
NORMAL_REACH = 8.0
# portable.py uses this module only when called, so the import cycle is safe.
from keras_inits import portable
from keras_inits import sharding

PACKAGE = "keras_inits"


def register(cls=None, *, package=PACKAGE):
    """Registers an initializer class for serialization as `package>ClassName`.

    keras_inits' own classes use `@register` (package `keras_inits`). Your
    own use `@keras_inits.register(package="my_project")` (or
    `@keras_inits.register("my_project")`): the same registration as
    `keras.saving.register_keras_serializable`, plus three checks Keras does
    not make, because each of them otherwise surfaces only when a saved
    model fails to load:

    - the class is a `keras.initializers.Initializer`;
    - the name is not already held by another class (a second registration
      would silently change what every saved model with that name loads);
    - with keras_inits' automatic `get_config`, the constructor names every
      argument (`*args` and `**kwargs` cannot be saved).

    The package `keras_inits` is reserved for keras_inits' own classes.

    Examples:

    >>> import keras_inits
    >>> @keras_inits.register(package="my_project")
    ... class Halves(keras_inits.Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return keras.ops.full(shape, 0.5, dtype=dtype)
    >>> keras.saving.get_registered_name(Halves)
    'my_project>Halves'

    >>> layer = keras.layers.Dense(3, bias_initializer="my_project>Halves")
    """
    if isinstance(cls, str):
        cls, package = None, cls
    if cls is None:
        return lambda cls: register(cls, package=package)
    if not isinstance(package, str) or not package or ">" in package:
        raise argument_error(
            "register", "package", "a non-empty string without '>'", package
        )
    if not (isinstance(cls, type)
            and issubclass(cls, keras.initializers.Initializer)):
        raise ValueError(
            "keras_inits.register takes a subclass of "
            f"keras.initializers.Initializer. Received: {cls!r}"
        )
    if package == PACKAGE and not cls.__module__.startswith(PACKAGE + "."):
        raise ValueError(
            f"The package {PACKAGE!r} is reserved for keras_inits' own "
            f"initializers: register {cls.__name__} under your project's "
            f"name. Received: package={package!r}"
        )
    name = f"{package}>{cls.__name__}"
    holder = keras.saving.get_registered_object(name)
    # Re-running a notebook cell or reloading a module defines a new class
    # of the same module and name: that replaces it, anything else clashes.
    if holder is not None and (holder.__module__, holder.__qualname__) != (
        cls.__module__, cls.__qualname__
    ):
        raise ValueError(
            f"{name!r} is already registered by "
            f"{holder.__module__}.{holder.__qualname__}; registering "
            f"{cls.__module__}.{cls.__qualname__} under it would change what "
            "saved models load. Choose another package or class name."
        )
    # A class without its own constructor (Zeros) has object's, which takes
    # *args and **kwargs but nothing to save.
    if cls.__init__ is not object.__init__ and cls.get_config in (
        Initializer.get_config, RandomInitializer.get_config
    ):
        parameters = inspect.signature(cls.__init__).parameters.values()
        unsaved = [p.name for p in parameters
                   if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD,
                                 p.POSITIONAL_ONLY) and p.name != "self"]
        if unsaved:
            raise ValueError(
                f"{cls.__name__} cannot use the automatic get_config: its "
                f"constructor takes {unsaved}, which it cannot save. Name "
                "each argument, or write get_config yourself."
            )
    return keras.saving.register_keras_serializable(package=package)(cls)


def check_seed(owner, seed):
    seed = portable.as_seed(owner, seed)
    if seed is None or isinstance(
        seed, (keras.random.SeedGenerator, portable.PortableSeed)
    ):
        return seed
    if _is_whole_number(seed):
        # Seed generators hold their state as 32-bit integers.
        if 0 <= seed < 2**32:
            return int(seed)
    raise keras_wording(
        "`seed` argument should be an instance of "
        "`keras.random.SeedGenerator()` or an integer.",
        argument_error(
            owner,
            "seed",
            "None, an integer in [0, 2**32), a keras.random.SeedGenerator or "
            "a keras_inits.PortableSeed",
            seed,
        ),
    )


# How deep initializers may nest inside wrappers (DepthScaled, ICNR),
# counting each wrapper and the initializer at the bottom. Saving, loading,
# calling and printing a nested initializer recurse once per level, through
# a dozen or more Python frames each (Keras' serialization among them), so
# a few hundred levels exceed Python's recursion limit of 1000. 32 stays
# far below it even when a model is loaded from deep inside other code,
# and far above any real use (one or two levels).
MAX_NESTING = 32


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
        children = [v for v in config.values() if isinstance(v, dict)
                    and isinstance(v.get("config"), dict)]
        if isinstance(config.get("initializer"), str):
            children.append(config["initializer"])
        return children
    if not isinstance(node, keras.initializers.Initializer):
        return []
    try:
        values = vars(node).values()
    except TypeError:  # no __dict__
        return []
    return [v for v in values
            if isinstance(v, keras.initializers.Initializer)]


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


def call_wrapped(owner, initializer, shape, dtype):
    """`initializer(shape, dtype=dtype)` for the wrapper named `owner`, with
    a ValueError it raises (a `ConstantArray` of another shape, a value
    `dtype` cannot hold) naming the wrapper first: the caller called the
    wrapper, and may not know what it wraps."""
    try:
        return initializer(shape, dtype=dtype)
    except ValueError as error:
        raise ValueError(
            f"The `initializer` of {owner} cannot fill shape={shape}: "
            f"{error}"
        ) from error


def nested_initializer(owner, value):
    """Returns the initializer `value` names (an instance, a name or a
    config), for initializers that wrap another (DepthScaled, ICNR); None
    or anything `get` refuses raises an argument error naming `owner`, and
    so does a `value` nested `MAX_NESTING` or more deep, before it is
    resolved, since the wrapper would nest deeper than `MAX_NESTING`."""
    # serialization imports this module, so `get` is imported when called.
    from keras_inits.serialization import get

    depth = nesting(value, MAX_NESTING - 1)
    if depth >= MAX_NESTING:
        kind = "config" if isinstance(value, dict) else type(value).__name__
        raise ValueError(
            f"Argument `initializer` of {owner} must be nested at most "
            f"{MAX_NESTING - 1} initializers deep, so that {owner} nests at "
            f"most {MAX_NESTING} (deeper nesting exceeds Python's recursion "
            "limit when it is saved, loaded or called). Received: "
            f"initializer=<{kind} nested more than {MAX_NESTING - 1} deep>"
        )
    requirement = "an initializer, its name or its config"
    try:
        resolved = get(value)
    except ValueError as error:
        raise argument_error(owner, "initializer", requirement,
                             value) from error
    if resolved is None:
        raise argument_error(owner, "initializer", requirement, value)
    return resolved


def compute_fans(shape, input_axes=None, output_axes=None):
    """Returns `(fan_in, fan_out)` of a weight of the given shape.

    Without axes this is Keras' rule: a vector counts its length both ways; a
    matrix is `(inputs, outputs)`; a convolution kernel
    `(*spatial, inputs, outputs)` multiplies both by the receptive field
    size. `input_axes` (or `output_axes`) replaces that rule for fan-in (or
    fan-out) by the product of the dimensions at those axes, as for the
    kernels of EinsumDense and MultiHeadAttention.
    """
    shape = check_shape("compute_fans", shape)
    input_axes = check_axes("compute_fans", "input_axes", input_axes)
    output_axes = check_axes("compute_fans", "output_axes", output_axes)
    check_axes_in("compute_fans", "input_axes", input_axes, shape)
    check_axes_in("compute_fans", "output_axes", output_axes, shape)
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
    tensor cannot fit in the device's memory (see limits.py), or when the
    initializer's values, up to `initializer.max_abs(shape)`, overflow the
    dtype (as `stddev=1e4` does float16).
    """
    owner = type(initializer).__name__
    shape = check_shape(owner, shape)
    dtype = check_dtype(owner, dtype)
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
        per_device = shape
        if layout is not None:
            per_device = sharding.as_sharding(owner, layout).shard_shape(shape)
        limits.check_size(owner, per_device, dtype, compute_dtype)
    largest = initializer.max_abs(shape)
    if largest is not None and keras.backend.is_float_dtype(dtype):
        stored = limits.stored_dtype(dtype)
        limit = limits.float_max(stored)
        if largest > limit:
            stored_as = (f" (this backend stores {dtype} as {stored})"
                         if stored != dtype else "")
            raise ValueError(
                f"{initializer!r} makes values up to {largest:.4g} for "
                f"shape={shape}, beyond {dtype}'s largest finite value "
                f"{limit:g}{stored_as}: they would be infinite or NaN. Use "
                f"a wider dtype or smaller arguments. Received: "
                f"dtype={dtype!r}"
            )
    return shape, dtype, compute_dtype


def _constructor_arguments(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [
        p.name
        for p in parameters
        if p.name != "self"
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


class Initializer(keras.initializers.Initializer):
    """Base class of keras_inits initializers.

    A subclass keeps each constructor argument in an attribute of the same
    name. `get_config()` returns exactly those arguments, so
    `from_config(get_config())` rebuilds an equal initializer and the class
    needs no serialization code of its own.

    A subclass's `__call__(shape, dtype=None)` also takes `layout=None`,
    added here: with a layout (JAX backend), its values are computed under
    `jax.jit` with that output sharding, so each device computes its shard.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Every subclass takes Keras' `layout` argument (sharded variables):
        # a `__call__(shape, dtype)` of its own gets it here.
        call = cls.__dict__.get("__call__")
        if call is not None and not sharding.takes_layout(call):
            cls.__call__ = sharding.accept_layout(call)

    def get_config(self):
        config = {}
        for name in _constructor_arguments(type(self)):
            if not hasattr(self, name):
                raise AttributeError(
                    f"{type(self).__name__} has no attribute `{name}`: the "
                    "automatic get_config saves each constructor argument "
                    "from the attribute of the same name, so set "
                    f"`self.{name}` in __init__."
                )
            config[name] = getattr(self, name)
        return config

    def max_abs(self, shape):
        """An upper bound of the magnitude of the values for `shape`, or
        None if unknown. A call whose dtype cannot hold it is refused (see
        `check_call`): a subclass that can bound its values says so here."""
        return None

    def __repr__(self):
        arguments = ", ".join(
            f"{name}={value!r}" for name, value in self.get_config().items()
        )
        return f"{type(self).__name__}({arguments})"


def _native_seed(seed):
    """An integer seed in [0, 2**32) as Keras' SeedGenerator takes it on
    this backend: PyTorch's holds its state as int32 and refuses seeds from
    2**31 ("value cannot be converted to type int32"), so those become the
    negative int32 of the same bits there, a distinct seed for each."""
    if seed is not None and seed >= 2**31 and (
            keras.backend.backend() == "torch"):
        return seed - 2**32
    return seed


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
    float32 ones; a call is checked first (`check_call`). Subclasses
    implement `draw(shape, dtype)` with `self.seed_generator`, drawing with
    the samplers that take either kind of seed (`portable.uniform`,
    `portable.normal`, `random_initializers.truncated_normal`,
    `orthogonal.orthogonal_matrix`), never `keras.random` directly.

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

    # One re-entrant lock per keras.random.SeedGenerator, held for a whole
    # draw. Keras' `SeedGenerator.next()` reads its state, then assigns the
    # next one: two threads could read the same state and draw the same
    # values. Holding the lock for the whole draw, not each call of the
    # generator, also keeps the pieces of one draw (portable.native_draw,
    # BlockOrthogonal's blocks) contiguous, so the values do not depend on
    # how threads interleave. Keyed on the generator, not the initializer:
    # several initializers may share one. Kept in this dictionary with weak
    # keys rather than as an attribute of the generator, which is Keras'
    # object: Keras' own state stays untouched, and an entry goes with its
    # generator. A PortableSeed, our own class, holds its lock itself.
    # Re-entrant: a PortableSeed's next_key takes its lock inside the draw,
    # and a draw may call another initializer on the same generator.
    _generator_locks = weakref.WeakKeyDictionary()
    # Guards that dictionary (a lookup then insertion is not atomic) and the
    # making of each initializer's generator.
    _locks_guard = threading.Lock()

    def __init__(self, seed=None):
        self.seed = check_seed(type(self).__name__, seed)
        # Created on the first draw, not here: building an initializer (as
        # `keras.initializers.get` does for every layer argument) then costs
        # no backend variable.
        self._seed_generator = None

    @property
    def seed_generator(self):
        if self._seed_generator is None:
            # Under the guard: two threads drawing first at once would each
            # make a generator of the same seed, and draw the same values.
            # Eagerly: made inside a JAX trace, its state would be a tracer.
            with RandomInitializer._locks_guard, sharding.eagerly():
                if self._seed_generator is None:
                    generator = self.seed
                    if not isinstance(generator, (keras.random.SeedGenerator,
                                                  portable.PortableSeed)):
                        generator = keras.random.SeedGenerator(
                            _native_seed(self.seed))
                    self._seed_generator = generator
        return self._seed_generator

    @staticmethod
    def _draw_lock(generator):
        """The re-entrant lock that a draw from `generator` (a
        `keras.random.SeedGenerator` or a `PortableSeed`) holds throughout,
        so that it advances the generator atomically."""
        if isinstance(generator, portable.PortableSeed):
            return generator.lock
        with RandomInitializer._locks_guard:
            lock = RandomInitializer._generator_locks.get(generator)
            if lock is None:
                lock = threading.RLock()
                RandomInitializer._generator_locks[generator] = lock
        return lock

    def get_config(self):
        config = super().get_config()
        if isinstance(self.seed, keras.random.SeedGenerator):
            # A generator is not JSON; its initial seed replays its sequence.
            config["seed"] = self.seed.get_config()["seed"]
        elif isinstance(self.seed, portable.PortableSeed):
            config["seed"] = portable.serialize_seed(self.seed)
        return config

    def __call__(self, shape, dtype=None, layout=None):
        shape, dtype, compute_dtype = check_call(self, shape, dtype, layout,
                                                 floating=True)

        def values():
            drawn = self.draw(shape, compute_dtype)
            return drawn if compute_dtype == dtype else ops.cast(drawn, dtype)

        # A sharded variable, or a draw traced by jax.jit (as Keras does
        # for large ones): see sharding.py.
        sharded = layout is not None or sharding.is_tracing()
        with self._draw_lock(self.seed_generator):
            if sharded:
                return sharding.draw(self, values, shape, dtype, layout)
            return values()

    def draw(self, shape, dtype):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `draw(shape, dtype)`."
        )
