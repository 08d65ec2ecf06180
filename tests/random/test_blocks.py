"""Large PyTorch and NumPy draws, filled by blocks on every core
(`keras_inits/random/_blocks.py`): the values depend on the seed and the
shape only, a draw of one block keeps the generator's own values, and each
block has a stream of its own."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_inits
from keras_inits._internal import keras_internals
from keras_inits._internal import threads
from keras_inits.random import _blocks

BACKEND = keras.backend.backend()

pytestmark = pytest.mark.skipif(
    BACKEND not in ("torch", "numpy"),
    reason="PyTorch's and NumPy's generators fill by blocks",
)

# Every sampler that fills by blocks: the uniform and normal families and
# the truncated normals' table lookups.
INITIALIZERS = {
    "RandomUniform": lambda seed: keras_inits.RandomUniform(seed=seed),
    "RandomNormal": lambda seed: keras_inits.RandomNormal(seed=seed),
    "TruncatedNormal": lambda seed: keras_inits.TruncatedNormal(seed=seed),
    "TruncatedNormalRange": lambda seed: keras_inits.TruncatedNormalRange(
        0.0, 0.02, -0.04, 0.1, seed=seed
    ),
}
# Three whole blocks and part of a fourth.
SHAPE = (3 * _blocks.BLOCK + 12345,)


def draw(make, seed=5):
    return np.asarray(keras.ops.convert_to_numpy(make(seed)(SHAPE)))


@pytest.mark.parametrize("make", INITIALIZERS.values(), ids=INITIALIZERS)
def test_values_do_not_depend_on_the_cores(make, monkeypatch):
    many = draw(make)
    monkeypatch.setattr(threads, "cores", lambda: 1)
    np.testing.assert_array_equal(draw(make), many)


@pytest.mark.parametrize("make", INITIALIZERS.values(), ids=INITIALIZERS)
def test_blocks_are_independent_streams(make):
    values = draw(make)
    blocks = values[: 3 * _blocks.BLOCK].reshape(3, _blocks.BLOCK)
    # No block repeats another, even shifted by one value (a generator
    # seeded from a neighbouring seed would).
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.mean(blocks[a] == blocks[b]) < 1e-3
            assert np.mean(blocks[a][1:] == blocks[b][:-1]) < 1e-3
    correlation = np.corrcoef(blocks)
    assert np.abs(correlation[np.triu_indices(3, 1)]).max() < 0.01


def test_block_zero_is_the_generators_own_draw():
    # A draw of one block or fewer is the generator Keras seeds, alone: its
    # values are those every earlier version drew.
    seed = keras.random.SeedGenerator(9)
    values = keras_inits.RandomNormal(seed=seed)(SHAPE)
    again = keras.random.SeedGenerator(9)
    if BACKEND == "torch":
        import torch

        generator = keras_internals.torch_generator(again)
        expected = torch.empty(_blocks.BLOCK).normal_(
            0.0, 0.05, generator=generator
        )
    else:
        generator = keras_internals.numpy_generator(again)
        expected = generator.standard_normal(_blocks.BLOCK, dtype="float32")
        expected *= np.float32(0.05)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(values)[: _blocks.BLOCK],
        keras.ops.convert_to_numpy(expected),
    )


def test_a_block_that_fails_raises_its_error(monkeypatch):
    def fill(block, generator):
        if block.shape[0] < _blocks.BLOCK:
            raise RuntimeError("the last block failed")

    values = np.empty(SHAPE, "float32")
    generator = np.random.default_rng(1)
    with pytest.raises(RuntimeError, match="the last block failed"):
        _blocks.fill_numpy(values, generator, fill)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_with_threads_of_its_own():
    # The child of a fork has none of its parent's threads: a pool it
    # inherited would wait forever for them.
    keras_inits.RandomNormal(seed=1)(SHAPE)  # starts the parent's pool
    code = textwrap.dedent(
        """
        import os, signal, sys
        import keras_inits
        keras_inits.RandomNormal(seed=1)(SHAPE)
        pid = os.fork()
        if pid == 0:
            signal.alarm(60)  # a hang ends the child, with SIGALRM
            keras_inits.RandomNormal(seed=2)(SHAPE)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    ).replace("SHAPE", repr(SHAPE))
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "KERAS_BACKEND": BACKEND},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
