"""Orthogonal initializers."""

import math

from keras import ops

from keras_inits._internal import checks
from keras_inits.initializers import _base
from keras_inits.initializers._registration import register
from keras_inits.random import Seed
from keras_inits.random import orthogonal_matrix


@register
class Orthogonal(_base.RandomInitializer):
    """Initializer that generates a (semi-)orthogonal matrix.

    The tensor is viewed as a matrix `(prod(shape[:-1]), shape[-1])` and
    filled with `gain * Q`, where `Q` has orthonormal columns if the matrix
    is tall and orthonormal rows if it is wide, drawn from the uniform (Haar)
    distribution: the QR decomposition of a standard normal matrix, with the
    signs of R's diagonal folded into Q. The QR runs in float32 for float16,
    bfloat16 and the float8 types, and the result is cast (Keras' fails for
    bfloat16 on some backends); a dtype that cannot hold `gain` (float16
    for `gain=1e5`) is refused. Matches
    `keras.initializers.Orthogonal`, `torch.nn.init.orthogonal_` (which
    views the tensor as `(shape[0], prod(shape[1:]))`, the layout of PyTorch
    kernels) and `jax.nn.initializers.orthogonal`.

    `column_axis` chooses the axis that holds the columns, as JAX's
    argument of that name: the tensor is viewed as a matrix whose columns
    run along `column_axis` and whose rows run over all other axes (in
    order). The default, -1, is the layout above; `column_axis=0` of a
    `(out, in)` tensor gives PyTorch's view. Configs saved before this
    argument existed load with the default, which draws the same values.

    Args:
        gain: Multiplicative factor, a positive number.
        column_axis: The axis of the columns, an integer in
            `[-rank, rank)`.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> q = keras_inits.Orthogonal(seed=1)(shape=(4, 4))
        >>> eye = keras.ops.matmul(keras.ops.transpose(q), q)
        >>> bool(keras.ops.max(keras.ops.abs(eye - keras.ops.eye(4))) < 1e-5)
        True

        >>> layer = keras.layers.LSTM(8, recurrent_initializer="keras_inits>Orthogonal")

    Reference:
        [Saxe et al., 2014](https://arxiv.org/abs/1312.6120)
    """

    draw_family = "orthogonal"

    def __init__(
        self, gain: float = 1.0, seed: Seed = None, column_axis: int = -1
    ):
        self.gain = checks.check_positive("Orthogonal", "gain", gain)
        self.column_axis = _check_axis("Orthogonal", column_axis)
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return self.gain  # entries of an orthonormal matrix are at most 1

    def expected_std(self, shape):
        if len(shape) < 2 or not -len(shape) <= self.column_axis < len(shape):
            return math.nan
        # gain * Q has min(r, c) unit rows or columns: mean square
        # gain**2 / max(r, c); the mean is O(1/(r c)) and negligible.
        columns = shape[self.column_axis]
        rows = math.prod(shape) // max(columns, 1)
        return self.gain / math.sqrt(max(rows, columns))

    def draw(self, shape, dtype):
        checks.check_rank("Orthogonal", shape, 2)
        axis = _resolve_axis("Orthogonal", self.column_axis, shape)
        # Move the column axis last, fill that layout, and move it back.
        moved = shape[:axis] + shape[axis + 1 :] + (shape[axis],)
        q = orthogonal_matrix(
            math.prod(moved[:-1]), moved[-1], dtype, self.seed_generator
        )
        q = ops.reshape(q * self.gain, moved)
        return ops.moveaxis(q, -1, axis) if axis != len(shape) - 1 else q


def _check_axis(owner, axis):
    """Returns `axis`, argument `column_axis` of `owner`, as an int; it
    must be a whole number within int32's range. No tensor has 2**31 axes:
    a larger one (10**400) is refused here rather than at the first
    call."""
    if not checks.is_whole_number(
        axis
    ) or not -checks.MAX_COUNT - 1 <= axis <= (checks.MAX_COUNT):
        raise checks.argument_error(
            owner,
            "column_axis",
            "an integer (an axis) from -2**31 to 2**31 - 1",
            axis,
        )
    return int(axis)


def _resolve_axis(owner, axis, shape):
    """`axis` as an index in `[0, rank)` of `shape`; a ValueError naming
    `owner` when it is outside `[-rank, rank)`."""
    if not -len(shape) <= axis < len(shape):
        raise ValueError(
            f"{owner} needs column_axis in [-rank, rank). Received: "
            f"column_axis={axis} for shape={shape}"
        )
    return axis % len(shape)


@register
class BlockOrthogonal(_base.RandomInitializer):
    """Initializer that makes each block of columns orthogonal on its own.

    The tensor is viewed as a matrix `(prod(shape[:-1]), shape[-1])`, its
    columns split into `blocks` equal blocks, and each block is filled with
    its own `gain * Q` as `Orthogonal` draws it. For a recurrent kernel
    `(units, 4 * units)` of an LSTM (gates i, f, c, o) each gate's
    `(units, units)` block is then orthogonal, which a single orthogonal
    `(units, 4 * units)` matrix (Keras' default recurrent initializer) is
    not: its rows are orthonormal across the gates, and each block only
    approximately so. GRU kernels hold 3 blocks (z, r, h), SimpleRNN 1.

    `blocks=None` infers the count from the shape, `shape[-1] // rows`,
    which is the number of gates of any Keras recurrent kernel: 4 for
    LSTM, 3 for GRU. PyTorch users do this by hand with `orthogonal_` on
    each chunk of `weight_hh`; JAX has no counterpart.

    For the identity recurrent initialization of IRNN (Le et al., 2015),
    use `Identity(gain)` as the `recurrent_initializer` of a SimpleRNN with
    ReLU activation and zero biases (`gain=1` in the paper's IRNN, smaller
    for its long-range tasks); keras_inits has no separate class for it.

    Args:
        blocks: The number of column blocks, a positive integer dividing
            `shape[-1]`, or None to infer it as `shape[-1] // rows`.
        gain: Multiplicative factor, a positive number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> w = keras.ops.convert_to_numpy(keras_inits.BlockOrthogonal(seed=1)((4, 16)))
        >>> gate = w[:, 8:12]
        >>> bool(abs(gate.T @ gate - keras.ops.convert_to_numpy(
        ...     keras.ops.eye(4))).max() < 1e-5)
        True

        >>> layer = keras.layers.LSTM(
        ...     8, recurrent_initializer="keras_inits>BlockOrthogonal")

    Reference:
        [Saxe et al., 2014](https://arxiv.org/abs/1312.6120)
    """

    draw_family = "orthogonal"

    def __init__(
        self, blocks: int | None = None, gain: float = 1.0, seed: Seed = None
    ):
        self.blocks = (
            None
            if blocks is None
            else checks.check_count(
                "BlockOrthogonal",
                "blocks",
                blocks,
                requirement="None or a positive integer",
            )
        )
        self.gain = checks.check_positive("BlockOrthogonal", "gain", gain)
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return self.gain  # entries of an orthonormal matrix are at most 1

    def draw(self, shape, dtype):
        checks.check_rank("BlockOrthogonal", shape, 2)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        blocks = self.blocks
        if blocks is None:
            if rows == 0 or cols % rows:
                raise ValueError(
                    "BlockOrthogonal with blocks=None needs shape[-1] to be "
                    "a multiple of the other dimensions' product; pass "
                    f"`blocks`. Received: shape={shape}"
                )
            blocks = max(cols // rows, 1)  # (n, 0) has one empty block
        if cols % blocks:
            raise ValueError(
                f"BlockOrthogonal needs shape[-1] divisible by blocks="
                f"{blocks}. Received: shape={shape}"
            )
        q = ops.concatenate(
            [
                orthogonal_matrix(
                    rows, cols // blocks, dtype, self.seed_generator
                )
                for _ in range(blocks)
            ],
            axis=1,
        )
        return ops.reshape(q * self.gain, shape)
