"""Sparse initialization (Martens 2010): a fixed number of zero incoming
weights per unit, the others normal."""

import math
from typing import Any

from keras import ops

from keras_inits._internal import checks
from keras_inits.initializers import _base
from keras_inits.initializers._registration import register
from keras_inits.random import NORMAL_REACH
from keras_inits.random import Seed
from keras_inits.random import normal
from keras_inits.random import uniform


@register
class Sparse(_base.RandomInitializer):
    """Kernel in which every output unit has the same number of zero weights.

    For a kernel `(*spatial, in, out)` seen as a `(rows, cols)` matrix with
    `rows = prod(spatial) * in` (the fan-in) and `cols = out`, exactly
    `ceil(sparsity * rows)` entries of each column, chosen at random, are
    0, and the others are drawn from `N(0, stddev**2)`. So each output unit
    starts with `ceil(sparsity * fan_in)` zero incoming weights and the
    rest non-zero, Martens' sparse initialization (he keeps 15 non-zero
    incoming weights per unit, `sparsity = 1 - 15 / fan_in`).

    Matches `torch.nn.init.sparse_(tensor, sparsity, std)`'s rule, "in each
    column of a `(rows, cols)` matrix, `ceil(sparsity * rows)` zeros", read
    in Keras' layout. Mind the orientation when porting: a PyTorch `Linear`
    weight is `(out, in)`, so PyTorch's columns are *input* units, and
    `sparse_` there gives each input `ceil(sparsity * out)` zero *outgoing*
    weights, while here each output gets `ceil(sparsity * in)` zero
    *incoming* weights, as in Martens' paper (and MLX's `sparse`). PyTorch
    accepts only 2-D tensors; here a convolution kernel counts its
    receptive field into the rows. The count is rounded so that
    `0.3 * 10` gives 3 zeros (PyTorch's float product gives 4).

    Args:
        sparsity: The fraction of each output unit's incoming weights set to
            0, a number in [0, 1].
        stddev: Standard deviation of the non-zero weights, a positive
            number (PyTorch's `std`, same default).
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> kernel = keras_inits.Sparse(sparsity=0.75, seed=1)(shape=(8, 3))
        >>> keras.ops.convert_to_numpy(keras.ops.sum(kernel == 0, axis=0)).tolist()
        [6, 6, 6]

        >>> layer = keras.layers.Dense(
        ...     64, kernel_initializer=keras_inits.Sparse(sparsity=0.9, stddev=0.1))

    Reference:
        [Martens, 2010](https://www.cs.toronto.edu/~jmartens/docs/Deep_HessianFree.pdf),
        section 5; [PyTorch `sparse_`](https://pytorch.org/docs/stable/nn.init.html).
    """

    draw_family = "sparse"

    def __init__(
        self, sparsity: float = 0.9, stddev: float = 0.01, seed: Seed = None
    ):
        number = checks.as_float(sparsity)  # None for 10**400 too
        if number is None or not 0.0 <= number <= 1.0:
            raise checks.argument_error(
                "Sparse", "sparsity", "a number in [0, 1]", sparsity
            )
        self.sparsity = number
        self.stddev = checks.check_positive("Sparse", "stddev", stddev)
        checks.check_reach(
            "Sparse", "stddev", stddev, self.max_abs(()), "8 stddev"
        )
        super().__init__(seed=seed)

    def max_abs(self, shape):
        # Zeros, and normal draws reaching NORMAL_REACH standard deviations.
        return NORMAL_REACH * self.stddev

    def zeros_per_column(self, rows):
        """`ceil(sparsity * rows)`, the number of zeros in each column."""
        # Round the product first so that representation error (0.3 * 10 =
        # 3.0000000000000004) cannot add a zero.
        return min(rows, math.ceil(round(self.sparsity * rows, 9)))

    def draw(self, shape, dtype):
        checks.check_rank("Sparse", shape, 2)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        values = normal(
            (rows, cols), 0.0, self.stddev, dtype, self.seed_generator
        )
        zeros = self.zeros_per_column(rows)
        if zeros:
            # Ranking uniform keys down each column gives a random
            # permutation per column (as PyTorch's randperm); the first
            # `zeros` ranks are zeroed, so the count is exact even if keys tie.
            keys = uniform(
                (rows, cols), 0.0, 1.0, "float32", self.seed_generator
            )
            ranks: Any = ops.argsort(ops.argsort(keys, axis=0), axis=0)
            values = ops.where(ranks < zeros, ops.zeros_like(values), values)
        return ops.reshape(values, shape)
