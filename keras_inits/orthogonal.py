"""Orthogonal initializers."""

import keras
from keras import ops

from keras_inits import base


def orthogonal_matrix(rows, cols, dtype, seed):
    """A `(rows, cols)` matrix with orthonormal rows or columns, whichever
    are fewer, drawn uniformly (Haar) by the QR decomposition of a Gaussian
    matrix with the signs of R's diagonal folded into Q."""
    if rows == 0 or cols == 0:
        return ops.zeros((rows, cols), dtype=dtype)
    tall = (max(rows, cols), min(rows, cols))
    q, r = ops.qr(keras.random.normal(tall, dtype=dtype, seed=seed))
    # sign(0) is 0; a zero diagonal has probability 0 but must not zero a
    # column, so it counts as positive.
    signs = ops.where(ops.diagonal(r) < 0, -1.0, 1.0)
    q = q * ops.cast(signs, dtype)
    return ops.transpose(q) if rows < cols else q


@base.register
class Orthogonal(base.RandomInitializer):
    """Initializer that generates a (semi-)orthogonal matrix.

    The tensor is viewed as a matrix `(prod(shape[:-1]), shape[-1])` and
    filled with `gain * Q`, where `Q` has orthonormal columns if the matrix
    is tall and orthonormal rows if it is wide, drawn from the uniform (Haar)
    distribution: the QR decomposition of a standard normal matrix, with the
    signs of R's diagonal folded into Q. The QR runs in float32 for float16
    and bfloat16 (Keras' fails for bfloat16 on some backends). Matches
    `keras.initializers.Orthogonal`, `torch.nn.init.orthogonal_` (which
    views the tensor as `(shape[0], prod(shape[1:]))`, the layout of PyTorch
    kernels) and `jax.nn.initializers.orthogonal` (`column_axis=-1`).

    Args:
        gain: Multiplicative factor, a positive number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, or a `keras.random.SeedGenerator`.

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

    def __init__(self, gain=1.0, seed=None):
        self.gain = base.check_positive("Orthogonal", "gain", gain)
        super().__init__(seed=seed)

    def draw(self, shape, dtype):
        base.check_rank("Orthogonal", shape, 2)
        rows = 1
        for dim in shape[:-1]:
            rows *= dim
        q = orthogonal_matrix(rows, shape[-1], dtype, self.seed_generator)
        return ops.reshape(q * self.gain, shape)
