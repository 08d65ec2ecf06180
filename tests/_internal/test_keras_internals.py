"""Every use of Keras' private API (`keras_inits/_internal/keras_internals.py`)
against the installed Keras: when a Keras release changes what a function
there relies on, a test here fails and says what changed."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_inits._internal import keras_internals


def test_seed_generator_layout_is_the_one_deferred_generators_rely_on():
    # DeferredSeedGenerator skips SeedGenerator.__init__ and makes, on
    # first access, the attributes it would have set: a release that sets
    # another attribute, or keeps the state in another form, breaks it.
    generator = keras.random.SeedGenerator(5)
    attributes = set(vars(generator))
    declared = set(keras_internals.SEED_GENERATOR_ATTRIBUTES)
    assert attributes == declared, (
        f"Keras {keras.__version__} changed keras.random.SeedGenerator: its "
        f"constructor sets {sorted(attributes)}, where "
        "keras_inits._internal.keras_internals.SEED_GENERATOR_ATTRIBUTES "
        f"(checked against Keras 3.15.1) declares {sorted(declared)}. "
        "Update DeferredSeedGenerator for it."
    )
    states = _states(generator, 2)
    assert states == [(5, 0), (5, 1)], (
        f"Keras {keras.__version__} changed the states a SeedGenerator hands "
        f"out: {states}, where DeferredSeedGenerator counts [seed, 0], "
        "[seed, 1], ..."
    )


def test_a_deferred_generator_makes_keras_attributes_on_first_access():
    deferred = keras_internals.DeferredSeedGenerator(5)
    assert "state" not in vars(deferred)
    assert deferred.get_config()["seed"] == 5  # reads _initial_seed
    assert set(keras_internals.SEED_GENERATOR_ATTRIBUTES) <= set(
        vars(deferred)
    )
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        deferred.nothing  # noqa: B018


def _states(generator, count):
    return [
        tuple(
            int(word)
            for word in np.asarray(
                keras.ops.convert_to_numpy(generator.next())
            )
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("seed", [0, 7, 2**31 + 5])
def test_a_deferred_generator_hands_out_keras_states(seed):
    # The states of keras.random.SeedGenerator(seed), counted in Python;
    # reading `state` makes the variable at the state reached, and the
    # sequence goes on from there.
    seed = (
        seed - 2**32
        if seed >= 2**31 and (keras.backend.backend() == "torch")
        else seed
    )  # PyTorch's int32
    deferred = keras_internals.DeferredSeedGenerator(seed)
    keras_generator = keras.random.SeedGenerator(seed)
    assert _states(deferred, 3) == _states(keras_generator, 3)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(deferred.state),
        keras.ops.convert_to_numpy(keras_generator.state),
    )
    assert _states(deferred, 2) == _states(keras_generator, 2)


def test_set_random_seed_is_keras_without_importing_tensorflow():
    # In a child process, so that nothing else has imported TensorFlow:
    # the same global draws and NumPy state as keras.utils.set_random_seed,
    # and on another backend no TensorFlow import.
    code = textwrap.dedent("""
        import sys
        import keras
        import numpy as np
        from keras_inits._internal import keras_internals
        keras_internals.set_random_seed(7)
        ours = keras.ops.convert_to_numpy(keras.random.normal((3,)))
        state = np.random.rand()
        loaded = "tensorflow" in sys.modules
        keras.utils.set_random_seed(7)
        theirs = keras.ops.convert_to_numpy(keras.random.normal((3,)))
        assert np.array_equal(ours, theirs), (ours, theirs)
        assert state == np.random.rand()
        backend = keras.backend.backend()
        assert backend == "tensorflow" or not loaded, "imported tensorflow"
    """)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
