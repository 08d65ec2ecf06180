"""Tests of the shared machinery: argument checks, seeds, shapes, fans,
and draws from several threads."""

import copy
import functools
import pickle
import sys
import threading
import time

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal import sharding
from keras_inits.initializers import _base as base
from keras_inits.initializers import _serialization as serialization
from keras_inits.random import _generator
from keras_inits.random import _quantiles
from keras_inits.random import _samplers as samplers
from keras_inits.random import _seeds as seeds
from tests.catalogue import RANDOM_CASES


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7", True, [1]])
def test_bad_seed_is_refused(seed):
    with pytest.raises(
        ValueError,
        match=r"Argument `seed` of RandomNormal "
        r"must be None, an integer in \[0, 2\*\*32\), a "
        r"keras.random.SeedGenerator or a "
        r"keras_inits.PortableSeed. Received: seed=",
    ):
        keras_inits.RandomNormal(seed=seed)


def test_numpy_integer_seed_is_accepted_and_stored_as_int():
    init = keras_inits.RandomNormal(seed=np.int64(4))
    assert init.get_config()["seed"] == 4
    assert type(init.get_config()["seed"]) is int


@pytest.mark.parametrize("shape", [(2, -1), (None, 3), (2.0, 3), "ab", 5])
def test_bad_shape_is_refused(shape):
    with pytest.raises(ValueError, match="HeNormal needs a shape"):
        keras_inits.HeNormal()(shape)


def test_negative_dimension_message_names_the_shape():
    with pytest.raises(
        ValueError,
        match=r"Zeros needs a shape without "
        r"negative dimensions. Received: shape=\(2, -1\)",
    ):
        keras_inits.Zeros()((2, -1))


def test_zero_sized_shapes_work():
    for init in [
        keras_inits.HeNormal(),
        keras_inits.Orthogonal(),
        keras_inits.Zeros(),
        keras_inits.TruncatedNormal(),
    ]:
        assert tuple(init((0, 4)).shape) == (0, 4)


def test_error_wording_matches_the_house_style():
    error = checks.argument_error(
        "TruncatedNormal", "stddev", "a positive number", -1.0
    )
    assert str(error) == (
        "Argument `stddev` of TruncatedNormal must be a "
        "positive number. Received: stddev=-1.0"
    )
    error = checks.choice_error(
        "VarianceScaling",
        "mode",
        "fan_sideways",
        ["fan_in", "fan_out", "fan_avg"],
    )
    assert str(error) == (
        "Invalid `mode` argument: 'fan_sideways'. "
        "VarianceScaling expects one of ['fan_avg', "
        "'fan_in', 'fan_out']."
    )


def test_nested_initializer_resolves_or_names_its_owner():
    assert type(serialization.nested_initializer("Wrapper", "he_normal")) is (
        keras_inits.HeNormal
    )
    for value in ["no_such_init", None]:
        with pytest.raises(ValueError) as caught:
            serialization.nested_initializer("Wrapper", value)
        assert str(caught.value) == (
            "Argument `initializer` of Wrapper must be an initializer, its "
            f"name or its config. Received: initializer={value!r}"
        )


@pytest.mark.parametrize(
    "shape, fans",
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((5, 3), (5, 3)),
        ((3, 3, 16, 32), (144, 288)),
        ((2, 3, 4, 5, 6), (120, 144)),
    ],
)
def test_compute_fans_follows_keras(shape, fans):
    assert base.compute_fans(shape) == fans
    from keras.src.initializers.random_initializers import compute_fans

    assert compute_fans(shape) == fans


def test_compute_fans_with_axes():
    assert base.compute_fans((4, 5, 6), [0], [1, 2]) == (4, 30)
    # Each axis list replaces only its own fan.
    assert base.compute_fans((3, 3, 8, 2), [0, 1], None) == (9, 18)


def test_repr_shows_the_arguments():
    assert repr(keras_inits.RandomUniform(-1, 1, seed=2)) == (
        "RandomUniform(minval=-1.0, maxval=1.0, seed=2)"
    )


def test_get_config_is_exactly_the_constructor_arguments():
    assert keras_inits.VarianceScaling().get_config() == {
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
        "seed": None,
        "input_axes": None,
        "output_axes": None,
    }
    assert keras_inits.HeNormal(seed=3).get_config() == {
        "seed": 3,
        "input_axes": None,
        "output_axes": None,
    }


def test_seed_generator_is_created_lazily_once():
    init = keras_inits.RandomNormal(seed=1)
    assert init._seed_generator is None
    init((2,))
    generator = init._seed_generator
    init((2,))
    assert init._seed_generator is generator


def test_global_seed_makes_unseeded_initializers_reproducible():
    keras.utils.set_random_seed(123)
    first = keras.ops.convert_to_numpy(keras_inits.HeNormal()((4, 4)))
    keras.utils.set_random_seed(123)
    again = keras.ops.convert_to_numpy(keras_inits.HeNormal()((4, 4)))
    np.testing.assert_array_equal(first, again)


# Draws from several threads: data loaders and servers
# build models in threads, and one initializer, or one SeedGenerator, may
# serve them all. Each draw must advance the seed state atomically.

THREADS = 8
CALLS = 20  # 160 draws of one instance: where repeats were seen
# Every catalogue initializer in threads: fewer draws, so that all of them
# take a few seconds; the threads start together, so these draws overlap
# too. (Measured on the code before the fix: 60-90% of the initializers
# failed at each run; test_every_draw_holds_its_generators_lock checks all
# of them deterministically.)
SWEEP_CALLS = 2
# Small shapes keep the draws fast; DeltaOrthogonal needs rank 3 to 5 with
# inputs <= outputs, the others take any matrix.
SMALL_SHAPES = {"DeltaOrthogonal": (3, 4, 8)}


def _shape(case):
    return SMALL_SHAPES.get(case.name, (4, 8))


def _bytes(values):
    return keras.ops.convert_to_numpy(values).tobytes()


@pytest.fixture
def frequent_switches():
    """Python hands the GIL to another thread every 10 us instead of 5 ms,
    so the threads' draws interleave finely, as on a busy server."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


def _in_threads(initializers, shape, calls):
    """The values (as bytes) of `calls` draws of `shape` in each of THREADS
    threads, thread `i` calling `initializers[i % len(initializers)]`. The
    threads start together, so their draws overlap."""
    barrier = threading.Barrier(THREADS)
    drawn = [[] for _ in range(THREADS)]
    errors = []

    def work(i):
        init = initializers[i % len(initializers)]
        try:
            barrier.wait()
            for _ in range(calls):
                drawn[i].append(_bytes(init(shape)))
        except Exception as error:  # re-raised below, not lost in a thread
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(i,)) for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [values for values_of_one in drawn for values in values_of_one]


def _in_sequence(init, shape, calls):
    return [_bytes(init(shape)) for _ in range(THREADS * calls)]


def _assert_the_same_draws(drawn, expected):
    """`drawn` holds each of the distinct tensors of `expected` once.

    Equal sets prove every draw atomic: two draws that read the same state
    would repeat a tensor and skip another, and a draw of several pieces
    (a truncated normal's, BlockOrthogonal, Sparse) interleaved with
    another would give tensors that no sequential draw gives. Counts, not
    tensors, make the failure message."""
    assert len(set(expected)) == len(expected)
    repeated = len(drawn) - len(set(drawn))
    unexpected = len(set(drawn) - set(expected))
    assert (len(drawn), repeated, unexpected) == (len(expected), 0, 0)


def _shared_generator(make):
    # Two initializers, half the threads each, on one generator: a lock of
    # each initializer would not serialize them; the generator's does. An
    # int seed replays the generator's sequence.
    generator = keras.random.SeedGenerator(3)
    return [make(generator), make(generator)], make(3)


# Each kind of seed, as `(initializers, reference)`: the initializers the
# threads share, and a fresh initializer that replays their sequence (None
# for unseeded ones, whose draws need only be distinct). `make` builds an
# initializer from a seed.
SEED_KINDS = {
    "int": lambda make: ([make(3)], make(3)),
    "None": lambda make: ([make(None)], None),
    "shared SeedGenerator": _shared_generator,
    "PortableSeed(1)": lambda make: (
        [make(keras_inits.PortableSeed(1))],
        make(keras_inits.PortableSeed(1)),
    ),
    "PortableSeed(None)": lambda make: (
        [make(keras_inits.PortableSeed(None))],
        None,
    ),
}


def _check_draws_in_threads(make, shape, kind, calls):
    initializers, reference = SEED_KINDS[kind](make)
    drawn = _in_threads(initializers, shape, calls)
    if reference is None:
        distinct = len(set(drawn))
        assert distinct == THREADS * calls
    else:
        _assert_the_same_draws(drawn, _in_sequence(reference, shape, calls))


@pytest.mark.parametrize("kind", list(SEED_KINDS))
def test_one_initializer_in_eight_threads(kind, frequent_switches):
    # 8 threads x 20 calls once gave only 72-96 distinct tensors.
    _check_draws_in_threads(
        lambda seed: keras_inits.HeNormal(seed=seed), (8, 8), kind, CALLS
    )


# Keras' seed generators. A PortableSeed draw takes ~25 ms on TensorFlow,
# too long to repeat for each initializer here: its threaded draws are
# checked in test_one_initializer_in_eight_threads and
# test_the_keys_of_a_draw_are_contiguous.
@pytest.mark.parametrize("kind", ["int", "None", "shared SeedGenerator"])
@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_every_random_initializer_in_threads(case, kind, frequent_switches):
    _check_draws_in_threads(case.make, _shape(case), kind, SWEEP_CALLS)


def _is_held(lock):
    """Whether some thread holds `lock`: another thread cannot take it."""
    taken = []

    def probe():
        if lock.acquire(blocking=False):
            lock.release()
            taken.append(True)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return not taken


def _locks_held(monkeypatch, initializers, shape):
    """For each step of a generator while `initializers` draw `shape` in
    this thread, whether the draw's lock of that generator is held. A step
    is a call of `next` or `next_key`, or a sharded draw (sharding.draw,
    which advances the state itself, outside its compiled draw)."""
    held = []

    def watch(advance, generator_of=lambda generator: generator):
        def watched(owner, *args, **kwargs):
            held.append(_is_held(seeds.draw_lock(generator_of(owner))))
            return advance(owner, *args, **kwargs)

        return watched

    for cls, name in [
        (keras.random.SeedGenerator, "next"),
        (keras_internals.DeferredSeedGenerator, "next"),
        (keras_inits.PortableSeed, "next_key"),
    ]:
        monkeypatch.setattr(cls, name, watch(getattr(cls, name)))
    monkeypatch.setattr(
        sharding,
        "draw",
        watch(sharding.draw, lambda initializer: initializer.seed_generator),
    )
    for init in initializers:
        init(shape)
    return held


@pytest.mark.parametrize("kind", list(SEED_KINDS))
@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_every_draw_holds_its_generators_lock(case, kind, monkeypatch):
    # No initializer draws around the lock, whatever its seed.
    initializers, _ = SEED_KINDS[kind](case.make)
    held = _locks_held(monkeypatch, initializers, _shape(case))
    assert held and all(held)


def test_the_pieces_of_a_draw_are_contiguous(monkeypatch, frequent_switches):
    # Pieces of 8 values: each (4, 8) draw of a truncated normal calls the
    # generator 4 times on NumPy (once elsewhere: PyTorch draws in one
    # piece, JAX and TensorFlow, above NATIVE_PIECE values, from
    # keras_inits' generator).
    monkeypatch.setattr(samplers, "NATIVE_PIECE", 8)
    _check_draws_in_threads(
        lambda seed: keras_inits.TruncatedNormal(seed=seed),
        (4, 8),
        "int",
        CALLS,
    )


def test_the_keys_of_a_draw_are_contiguous(frequent_switches):
    # Four blocks: each draw takes four keys of its PortableSeed.
    _check_draws_in_threads(
        lambda seed: keras_inits.BlockOrthogonal(blocks=4, seed=seed),
        (4, 16),
        "PortableSeed(1)",
        SWEEP_CALLS,
    )


def _sharded(make, seed):
    """`make(seed)` called with a layout whose columns span every device
    there is (JAX backend)."""
    import jax
    from jax.sharding import Mesh
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec

    layout = NamedSharding(
        Mesh(np.array(jax.devices()), ("model",)), PartitionSpec(None, "model")
    )
    return functools.partial(make(seed), layout=layout)


def _he_normal(seed):
    return keras_inits.HeNormal(seed=seed)


# With a layout, sharding.draw advances the state outside the compiled draw,
# under the same lock. (A sharded PortableSeed draw compiles at each call,
# ~0.2 s: too slow for 160 of them; its lock is checked once.)


@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="Keras distributes variables only on JAX",
)
@pytest.mark.parametrize("kind", ["int", "shared SeedGenerator"])
def test_sharded_draws_in_threads(kind, frequent_switches):
    _check_draws_in_threads(
        functools.partial(_sharded, _he_normal), (8, 8), kind, CALLS
    )


@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="Keras distributes variables only on JAX",
)
@pytest.mark.parametrize("kind", list(SEED_KINDS))
def test_every_sharded_draw_holds_its_generators_lock(kind, monkeypatch):
    initializers, _ = SEED_KINDS[kind](functools.partial(_sharded, _he_normal))
    held = _locks_held(monkeypatch, initializers, (8, 8))
    assert held and all(held)


def _next_normal(shape, mean, stddev, generator):
    """One normal draw from `generator` as the samplers make it: with
    keras.random, except on NumPy, in float32 from the generator Keras
    seeds, and on JAX, where the generator's next state keys keras_inits'
    generator."""
    if keras.backend.backend() == "numpy":
        draw = keras_internals.numpy_generator(generator).standard_normal(
            shape, dtype="float32"
        )
        return draw * stddev + mean
    if keras.backend.backend() != "jax":
        return keras.random.normal(shape, mean, stddev, seed=generator)
    key = tuple(int(word) for word in np.asarray(generator.next()))
    return _generator.draw(
        _quantiles.standard_normal, shape, key, stddev, mean
    )


def test_a_draw_takes_the_next_values_of_its_generator():
    # The single-threaded sequence is the generator's own: the k-th draw of
    # an initializer is the k-th draw from a fresh generator of the same
    # seed, so locking the draw skipped or added no step.
    init = keras_inits.RandomNormal(0.5, 2.0, seed=1)
    generator = keras.random.SeedGenerator(1)
    for _ in range(3):
        expected = _next_normal((3, 4), 0.5, 2.0, generator)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(init((3, 4))),
            keras.ops.convert_to_numpy(expected),
        )


def test_fresh_seeded_initializers_replay_the_same_sequence():
    first, second = keras_inits.HeNormal(seed=1), keras_inits.HeNormal(seed=1)
    first_values = [_bytes(first((4, 4))) for _ in range(3)]
    assert [_bytes(second((4, 4))) for _ in range(3)] == first_values
    assert len(set(first_values)) == 3


class _SlowCount(int):
    """A draw count whose increment lets other threads run, as a thread
    switch at the worst moment would: between reading the count and
    storing the next one."""

    def __add__(self, other):
        time.sleep(0)  # releases the GIL
        return _SlowCount(int(self) + other)


def test_portable_seed_next_key_is_atomic():
    # Deterministic: each increment hands the GIL over (without the lock,
    # 9 duplicate keys in 1 run of 3 of 40,000 plain calls).
    seed = keras_inits.PortableSeed(1)
    seed.draws = _SlowCount(0)
    barrier = threading.Barrier(THREADS)
    keys = []

    def work():
        barrier.wait()
        for _ in range(50):
            keys.append(seed.next_key())

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(keys) == [(1, n) for n in range(THREADS * 50)]
    assert seed.draws == THREADS * 50


def test_a_copied_portable_seed_continues_its_sequence():
    # A lock cannot be copied or pickled: a copy gets a lock of its own,
    # and continues the sequence from the same count.
    seed = keras_inits.PortableSeed(4)
    seed.next_key()
    for duplicate in [copy.deepcopy(seed), pickle.loads(pickle.dumps(seed))]:
        assert duplicate.next_key() == (4, 1)
    assert seed.next_key() == (4, 1)


@pytest.mark.parametrize(
    "axes, message",
    [
        (
            [5],
            r"Argument `input_axes` of compute_fans has an axis outside a "
            r"tensor of rank 2. Received: input_axes=\[5\], shape=\(3, 4\)",
        ),
        (
            [0, -2],
            r"Argument `input_axes` of compute_fans names an axis of the "
            r"tensor twice. Received: input_axes=\[0, -2\]",
        ),
        (
            b"x",
            r"Argument `input_axes` of compute_fans must be None or a list of "
            r"integers. Received: input_axes=b'x'",
        ),
        ("01", r"Received: input_axes='01'"),
    ],
)
def test_compute_fans_checks_its_axes(axes, message):
    with pytest.raises(ValueError, match=message):
        keras_inits.compute_fans((3, 4), input_axes=axes)


def test_compute_fans_checks_its_shape():
    with pytest.raises(
        ValueError, match="compute_fans needs a shape of whole numbers"
    ):
        keras_inits.compute_fans("ab")
    assert keras_inits.compute_fans((3, 4), input_axes=[-2]) == (3, 4)


@pytest.mark.parametrize(
    "dtype, message",
    [
        (
            "foo",
            r"^Invalid dtype: foo HeNormal needs a dtype Keras knows. "
            r"Received: dtype='foo'",
        ),
        (
            np.ones(2),
            r"^HeNormal needs a dtype Keras knows. Received: "
            r"dtype=array",
        ),
    ],
)
def test_an_unknown_dtype_names_the_initializer(dtype, message):
    with pytest.raises(ValueError, match=message):
        keras_inits.HeNormal()((3, 4), dtype=dtype)


@pytest.mark.parametrize("shape", [(3, 10**400), (2**63,)])
def test_a_dimension_beyond_int64_is_refused(shape):
    with pytest.raises(
        ValueError,
        match="HeNormal needs a shape whose dimensions are below 2\\*\\*63",
    ):
        keras_inits.HeNormal()(shape)


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**1100])
def test_integers_too_large_for_a_float_are_refused_not_overflowed(value):
    with pytest.raises(
        ValueError,
        match="Argument `stddev` of RandomNormal "
        "must be a finite number|Argument `stddev` of "
        "RandomNormal must be a positive number",
    ):
        keras_inits.RandomNormal(stddev=value)
    with pytest.raises(
        ValueError,
        match="Argument `mean` of RandomNormal must be a finite number",
    ):
        keras_inits.RandomNormal(mean=value)


@pytest.mark.parametrize("mode", [np.array(["fan_in"]), ["fan_in"], {}])
def test_an_unhashable_choice_is_an_invalid_choice(mode):
    with pytest.raises(ValueError, match="Invalid `mode` argument: "):
        keras_inits.VarianceScaling(mode=mode)


def test_a_value_too_large_to_print_is_still_named():
    # repr of an int of 5000 digits raises ValueError in Python 3.11+.
    with pytest.raises(
        ValueError,
        match=r"Argument `gain` of Orthogonal must "
        r"be a positive number. Received: gain=<an integer of "
        r"16610 bits>",
    ):
        keras_inits.Orthogonal(gain=10**5000)
    with pytest.raises(
        ValueError,
        match=r"Received: stddev=1000000000.*\.\.\. "
        r"\(401 characters\)$",
    ):
        keras_inits.RandomNormal(stddev=10**400)


def test_every_seed_it_accepts_draws_on_every_backend():
    # PyTorch's SeedGenerator refuses seeds from 2**31 (int32 state).
    draws = [
        keras.ops.convert_to_numpy(keras_inits.RandomNormal(seed=seed)((8,)))
        for seed in (0, 2**31 - 1, 2**31, 2**32 - 1)
    ]
    assert len({d.tobytes() for d in draws}) == 4
    np.testing.assert_array_equal(
        draws[2],
        keras.ops.convert_to_numpy(keras_inits.RandomNormal(seed=2**31)((8,))),
    )


@pytest.mark.parametrize("case", RANDOM_CASES, ids=lambda case: case.name)
def test_a_shape_trace_draws_nothing_and_keeps_the_state(case, monkeypatch):
    # reinitialize checks every draw's shape and dtype by tracing it for
    # shapes only; on JAX that trace must not compile the draw (a
    # compilation and its memory per new shape), and on every backend it
    # must leave the generator where it was.
    generator = keras.random.SeedGenerator(5)
    initializer = case.make(generator)
    state = keras.ops.convert_to_numpy(generator.state).copy()

    def compiled(*args):
        raise AssertionError("a shape trace compiled the draw")

    monkeypatch.setattr(sharding, "draw", compiled)
    spec = keras_internals.trace_output_spec(
        lambda: initializer(case.shape, dtype="float32")
    )
    assert tuple(spec.shape) == tuple(case.shape)
    assert keras.backend.standardize_dtype(spec.dtype) == "float32"
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(generator.state), state
    )


def test_eager_draws_of_an_int_seed_make_no_variable(monkeypatch):
    # A SeedGenerator's variable costs more than a small draw; an
    # initializer of an int or None seed draws eagerly without one.
    made = []
    monkeypatch.setattr(
        keras.random.SeedGenerator,
        "__init__",
        lambda self, *args, **kwargs: made.append(self),
    )
    for seed in (3, None):
        initializer = keras_inits.HeNormal(seed=seed)
        for _ in range(3):
            initializer((16, 8))
    assert made == []


def test_a_deferred_generator_keeps_no_state_change_of_a_stateless_scope():
    initializer = keras_inits.RandomNormal(seed=4)
    expected = keras.ops.convert_to_numpy(
        keras_inits.RandomNormal(seed=4)((5,))
    )
    with keras.StatelessScope():
        initializer((5,))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(initializer((5,))), expected
    )


def test_a_tf_function_draws_anew_at_every_call():
    # Counted in Python while tf.function traces, the state would be a
    # constant of the graph: every call would repeat the same values.
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.function is TensorFlow's")
    import tensorflow as tf

    initializer = keras_inits.RandomNormal(seed=4)
    draw = tf.function(lambda: initializer((5,)))
    first, second = draw().numpy(), draw().numpy()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(
        first,
        keras.ops.convert_to_numpy(keras_inits.RandomNormal(seed=4)((5,))),
    )


def test_a_shape_trace_of_an_int_seed_makes_no_variable(monkeypatch):
    initializer = keras_inits.HeNormal(seed=6)
    made = []
    monkeypatch.setattr(
        keras.random.SeedGenerator,
        "__init__",
        lambda self, *args, **kwargs: made.append(self),
    )
    spec = keras_internals.trace_output_spec(lambda: initializer((4, 3)))
    assert tuple(spec.shape) == (4, 3) and made == []
    monkeypatch.undo()
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(initializer((4, 3))),
        keras.ops.convert_to_numpy(keras_inits.HeNormal(seed=6)((4, 3))),
    )
