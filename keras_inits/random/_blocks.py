"""Large uniform and normal draws of PyTorch and NumPy, filled by blocks on
every core.

Both backends' generators (PyTorch's mt19937 on the CPU, NumPy's PCG64)
fill a tensor on one core, one value after another: a 191M-parameter
model's normal draws took 1.1-1.5 s of one core of two while the other
idled. A draw of more than `BLOCK` values is filled a block at a time, the
blocks shared among threads (each generator's loop releases the GIL):

- block 0 by the generator Keras seeds from the `SeedGenerator`, so a
  draw of one block or fewer has the values it always had;
- block `i` by a generator of its own: on PyTorch seeded with
  `splitmix64(seed + i * golden)`, `seed` being block 0's, so that
  neighbouring blocks' seeds share no bits; on NumPy the child `i` of block
  0's `SeedSequence` (NumPy's own way to make independent streams).

The values depend on the seed and the shape, never on the number of cores
or threads. Nothing process-wide changes: PyTorch's and NumPy's thread
settings are left as they are, and each draw's generators are its own, so
threads of a user's program may draw at the same time.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from keras_inits._internal import threads

# Values per block: 4 MiB of float32, which one core fills in 2-4 ms,
# against about 0.05 ms to hand a block to a thread.
BLOCK = 2**20

_MASK = 2**64 - 1
_GOLDEN = 0x9E3779B97F4A7C15


def fill_torch(values: Any, generator: Any, fill: Callable) -> Any:
    """`values` (a new PyTorch tensor), each block filled by
    `fill(block, block_generator)`, block 0 with `generator`."""
    import torch

    if values.device.type != "cpu":  # CUDA's generators fill in parallel
        fill(values, generator)
        return values
    seed = generator.initial_seed()

    def block_generator(index):
        if index == 0:
            return generator
        made = torch.Generator(device=values.device)
        return made.manual_seed(_splitmix64(seed + index * _GOLDEN) >> 1)

    _fill_blocks(values.view(-1), block_generator, fill)
    return values


def fill_numpy(values: np.ndarray, generator: Any, fill: Callable) -> Any:
    """`values` (a new C-contiguous NumPy array), each block filled by
    `fill(block, block_generator)`, block 0 with `generator`."""
    sequence = generator.bit_generator.seed_seq

    def block_generator(index):
        if index == 0:
            return generator
        child = np.random.SeedSequence(
            sequence.entropy, spawn_key=(*sequence.spawn_key, index)
        )
        return np.random.Generator(type(generator.bit_generator)(child))

    _fill_blocks(values.reshape(-1), block_generator, fill)
    return values


def _fill_blocks(flat, block_generator, fill):
    """Fills the blocks of the 1-D view `flat`, shared among the cores."""

    def fill_block(index):
        block = flat[index * BLOCK : (index + 1) * BLOCK]
        fill(block, block_generator(index))

    for_each_block(-(-len(flat) // BLOCK), fill_block)


def for_each_block(count: int, work: Callable[[int], None]) -> None:
    """Calls `work(i)` for each `i` in `range(count)`, shared among the
    cores (one call at a time with one core, or one block); raises the
    first error of a call, once every call has ended."""
    if count <= 1 or threads.cores() == 1:
        for index in range(count):
            work(index)
        return
    # `list` waits for every call, and raises the first call's error.
    list(_pool().map(work, range(count)))


def _splitmix64(value):
    """The splitmix64 finalizer of `value`: a 64-bit mix of every bit."""
    value &= _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _pool():
    """The threads that fill blocks, one per core."""
    return threads.pool(threads.cores(), "keras_inits.blocks")
