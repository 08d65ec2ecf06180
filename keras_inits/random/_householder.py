"""Haar-distributed orthonormal columns without a QR decomposition:
`reflections` takes a Gaussian matrix's Householder reflections as they
are (Stewart's method) and `product` multiplies them out, as LAPACK's
`orgqr` does, on JAX, PyTorch and NumPy. samplers.orthogonal_matrix uses
them for ordinary seeds; TensorFlow has no `orgqr` and decomposes.
"""

import functools

import keras
import numpy as np
from keras import ops

from keras_inits._internal.arrays import Tensor

# `_numpy_product` applies BLOCK reflections at once to PANEL columns at a
# time: matrix products large enough to run at full speed, temporaries
# (the block's copy, PANEL columns) small beside the output.
BLOCK = 256
PANEL = 512


def reflections(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The Householder reflections whose product, with its columns' signs
    flipped by `signs`, is a Haar-distributed matrix of orthonormal
    columns: `(reflectors, taus, signs)` from `z`, a tall Gaussian matrix
    (a fresh draw, which on NumPy is overwritten), by Stewart's method
    (G. W. Stewart, "The efficient generation of random orthogonal
    matrices with an application to condition estimators", SIAM J.
    Numer. Anal. 17(3), 1980).

    Householder QR of a Gaussian matrix takes its k-th reflection from the
    k-th column as the reflections before it left it; by the rotational
    invariance of Gaussian vectors that column's part from row k is again
    standard Gaussian, independent of those reflections. So the part of
    column k from the diagonal down, `x = z[k:, k]`, can serve as it is.
    As LAPACK's `larfg` does: `alpha = x[0]`,
    `beta = -sign(alpha) * ||x||`, `tau = (beta - alpha) / beta` and
    `v = x / (alpha - beta)` with `v[0] = 1` (a vector with nothing below
    its first entry reflects nothing: `tau = 0`, `beta = alpha`). The
    product of the reflections is LAPACK's `orgqr` (`product`), and `beta`
    is R's diagonal, whose signs are folded in as after QR.
    """
    # A copy, not a view, which would keep `z`.
    alpha: Tensor = ops.copy(ops.diagonal(z))
    below = _below_diagonal(z)
    del z  # let go: at most two matrices at once
    # Not ops.norm or ops.square: on NumPy they make two temporaries the
    # size of `below`, the product one.
    tail: Tensor = ops.sqrt(ops.sum(below * below, axis=0))
    flat = tail == 0
    norm: Tensor = ops.sqrt(alpha * alpha + tail * tail)
    beta: Tensor = ops.where(flat, alpha, ops.where(alpha < 0, norm, -norm))
    taus = ops.where(flat, 0.0, (beta - alpha) / beta)
    reflectors = below / ops.where(flat, 1.0, alpha - beta)
    signs = ops.cast(ops.where(beta < 0, -1.0, 1.0), reflectors.dtype)
    return reflectors, taus, signs


def _below_diagonal(z: Tensor) -> Tensor:
    """`z` with zeros on and above its diagonal. NumPy's `tril` holds a
    mask and a copy beside `z`; there the draw, which nothing else holds,
    is zeroed in place."""
    if isinstance(z, np.ndarray):
        for row in range(min(z.shape)):
            z[row, row:] = 0.0
        return z
    return ops.tril(z, -1)


@functools.cache
def compiled_reflections(backend):
    """`reflections`; on JAX compiled, with the draw donated: one
    compilation per shape, where its operations one by one would each
    compile."""
    if backend == "jax":
        import jax

        return jax.jit(reflections, donate_argnums=0)
    return reflections


def product(reflectors, taus):
    """LAPACK's `orgqr`, which keras.ops lacks: the first columns of the
    product of the reflections `I - taus[k] * v_k v_k^T`, `v_k` column k of
    `reflectors` below the diagonal with a 1 on it. On JAX and NumPy the
    product is computed in `reflectors`' buffer (donated on JAX)."""
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_product()(reflectors, taus)
    if backend == "numpy":
        return _numpy_product(reflectors, taus)
    import torch

    return torch.linalg.householder_product(reflectors, taus)


@functools.cache
def _jax_product():
    """`jax.lax.linalg.householder_product` under `jax.jit`, made once,
    with the reflectors' buffer donated: the product is computed in it."""
    import jax

    return jax.jit(jax.lax.linalg.householder_product, donate_argnums=0)


def _numpy_product(reflectors, taus):
    """`product` in NumPy's matrix products, computed in `reflectors` as
    LAPACK's blocked `orgqr` does. Blocks of `BLOCK` reflections, the last
    block first, each applied at once as `I - V T V^T` (the compact WY form,
    R. Schreiber and C. Van Loan, SIAM J. Sci. Stat. Comput. 10(1), 1989).
    Reflections from row `start` on change only rows from `start` on, so
    when a block's turn comes the columns right of it hold the product of
    the later blocks (zero above row `start`), and its own columns, whose
    reflectors it has copied, are free to take its part of the identity.
    The columns right of it are updated `PANEL` at a time, so that no
    temporary is larger than `PANEL` columns."""
    q = reflectors
    rows, cols = q.shape
    for start in reversed(range(0, cols, BLOCK)):
        stop = min(start + BLOCK, cols)
        v = np.tril(q[start:, start:stop], -1)  # a copy
        np.fill_diagonal(v, 1.0)
        t = _triangular_factor(v, taus[start:stop])
        for left in range(stop, cols, PANEL):
            part = q[start:, left : left + PANEL]  # a view: updated in place
            part -= v @ (t @ (v.T @ part))
        # (I - V T V^T) applied to the identity's columns start:stop.
        block = -(v @ (t @ v[: stop - start].T))
        block[np.diag_indices(stop - start)] += 1.0
        q[start:, start:stop] = block
        q[:start, start:stop] = 0.0
    return q


def _triangular_factor(v, taus):
    """The upper triangular T with `H_1 ... H_k = I - V T V^T` for the
    reflections `H_i = I - taus[i] v_i v_i^T` (LAPACK's `larft`): column i
    of T is `-taus[i] * T[:i, :i] @ V[:, :i]^T v_i` above its diagonal
    `taus[i]`."""
    k = v.shape[1]
    t = np.zeros((k, k), dtype=v.dtype)
    overlaps = v.T @ v
    for i in range(k):
        t[:i, i] = -taus[i] * (t[:i, :i] @ overlaps[:i, i])
        t[i, i] = taus[i]
    return t
