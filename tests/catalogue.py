"""The table of every public initializer, driving the shared checks in
`test_catalogue.py`.

Each row names a class, builds a representative instance from a seed, and
says what its values must be: a scipy distribution (`dist`) checked by
moments and a Kolmogorov-Smirnov test, exact values (`exact`), or, for
initializers with neither (Orthogonal), a property checked in the class's
own test file (`dist` and `exact` both None). `layer` builds a small layer
that uses the initializer as its kernel initializer, for save-and-load.
"""

import dataclasses
import math
from collections.abc import Callable

import keras
import numpy as np
import pytest
from scipy import stats

import keras_inits

TWO_SIGMA = 2.0


def _truncnorm(mean, scale):
    return stats.truncnorm(-TWO_SIGMA, TWO_SIGMA, loc=mean, scale=scale)


def _dense(initializer):
    return keras.layers.Dense(4, kernel_initializer=initializer)


@dataclasses.dataclass
class Case:
    name: str
    make: Callable  # seed -> initializer
    shape: tuple = (256, 128)  # fan_in 256, fan_out 128
    random: bool = True
    dist: Callable | None = None  # shape -> frozen scipy distribution
    exact: Callable | None = None  # shape -> numpy array
    layer: Callable = _dense  # initializer -> layer, built on `inputs`
    inputs: tuple = (8,)  # the shape of one sample the layer takes

    def __repr__(self):
        return self.name


def _stft_exact(shape):
    frames, _, bins = shape
    t = np.arange(frames)[:, None]
    f = np.arange(bins)[None, :]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frames) / (frames - 1))
    kernel = np.cos(2 * np.pi * t * f / (2 * (bins - 1))) * window[:, None]
    kernel /= np.sqrt(np.sum(window**2))
    return np.broadcast_to(kernel[:, None, :], shape)


def _dirac_exact(shape):
    kernel = np.zeros(shape)
    for d in range(min(shape[-2], shape[-1])):
        kernel[1, 1, d, d] = 1.0
    return kernel


def _bilinear_exact(shape):
    # Upsampling by 2 with a 4-tap kernel: linear weights 1/4, 3/4, 3/4, 1/4.
    taps = np.array([0.25, 0.75, 0.75, 0.25])
    return np.einsum("i,j,kl->ijkl", taps, taps, np.eye(shape[-1]))


def _conv2d(initializer):
    return keras.layers.Conv2D(
        8, 3, padding="same", kernel_initializer=initializer
    )


FAN_IN, FAN_OUT = 256, 128

CASES = [
    Case(
        "Zeros", lambda seed: keras_inits.Zeros(), random=False, exact=np.zeros
    ),
    Case("Ones", lambda seed: keras_inits.Ones(), random=False, exact=np.ones),
    Case(
        "Constant",
        lambda seed: keras_inits.Constant(0.25),
        random=False,
        exact=lambda shape: np.full(shape, 0.25),
    ),
    Case(
        "Identity",
        lambda seed: keras_inits.Identity(gain=3.0),
        random=False,
        shape=(8, 4),
        exact=lambda shape: 3.0 * np.eye(*shape),
    ),
    Case(
        "STFT",
        lambda seed: keras_inits.STFT(),
        random=False,
        shape=(16, 8, 9),
        exact=_stft_exact,
        layer=lambda init: keras.layers.Conv1D(9, 16, kernel_initializer=init),
        inputs=(32, 8),
    ),
    Case(
        "RandomNormal",
        lambda seed: keras_inits.RandomNormal(0.5, 2.0, seed=seed),
        dist=lambda shape: stats.norm(0.5, 2.0),
    ),
    Case(
        "RandomUniform",
        lambda seed: keras_inits.RandomUniform(-1.0, 3.0, seed=seed),
        dist=lambda shape: stats.uniform(-1.0, 4.0),
    ),
    Case(
        "TruncatedNormal",
        lambda seed: keras_inits.TruncatedNormal(1.0, 0.5, seed=seed),
        dist=lambda shape: _truncnorm(1.0, 0.5),
    ),
    Case(
        "VarianceScaling",
        lambda seed: keras_inits.VarianceScaling(
            3.0, "fan_out", "untruncated_normal", seed=seed
        ),
        dist=lambda shape: stats.norm(0.0, math.sqrt(3.0 / FAN_OUT)),
    ),
    Case(
        "GlorotNormal",
        lambda seed: keras_inits.GlorotNormal(seed=seed),
        dist=lambda shape: _truncnorm(
            0.0, math.sqrt(2.0 / (FAN_IN + FAN_OUT)) / 0.87962566103423978
        ),
    ),
    Case(
        "GlorotUniform",
        lambda seed: keras_inits.GlorotUniform(seed=seed),
        dist=lambda shape: stats.uniform(
            -math.sqrt(6.0 / (FAN_IN + FAN_OUT)),
            2 * math.sqrt(6.0 / (FAN_IN + FAN_OUT)),
        ),
    ),
    Case(
        "HeNormal",
        lambda seed: keras_inits.HeNormal(seed=seed),
        dist=lambda shape: _truncnorm(
            0.0, math.sqrt(2.0 / FAN_IN) / 0.87962566103423978
        ),
    ),
    Case(
        "HeUniform",
        lambda seed: keras_inits.HeUniform(seed=seed),
        dist=lambda shape: stats.uniform(
            -math.sqrt(6.0 / FAN_IN), 2 * math.sqrt(6.0 / FAN_IN)
        ),
    ),
    Case(
        "LecunNormal",
        lambda seed: keras_inits.LecunNormal(seed=seed),
        dist=lambda shape: _truncnorm(
            0.0, math.sqrt(1.0 / FAN_IN) / 0.87962566103423978
        ),
    ),
    Case(
        "LecunUniform",
        lambda seed: keras_inits.LecunUniform(seed=seed),
        dist=lambda shape: stats.uniform(
            -math.sqrt(3.0 / FAN_IN), 2 * math.sqrt(3.0 / FAN_IN)
        ),
    ),
    Case("Orthogonal", lambda seed: keras_inits.Orthogonal(2.0, seed=seed)),
    Case(
        "ConstantArray",
        lambda seed: keras_inits.ConstantArray(np.arange(32.0).reshape(8, 4)),
        random=False,
        shape=(8, 4),
        exact=lambda shape: np.arange(32.0).reshape(shape),
    ),
]

# Convolution kernels and orthogonal variants: each row names the kernel
# shape and the layer it is made for, since a Dense kernel would not
# exercise them.
CASES += [
    Case(
        "Dirac",
        lambda seed: keras_inits.Dirac(),
        random=False,
        shape=(3, 3, 8, 8),
        exact=_dirac_exact,
        layer=_conv2d,
        inputs=(6, 6, 8),
    ),
    Case(
        "DeltaOrthogonal",
        lambda seed: keras_inits.DeltaOrthogonal(seed=seed),
        shape=(3, 3, 16, 32),
        layer=_conv2d,
        inputs=(6, 6, 8),
    ),
    # Random, but seeded through the initializer it wraps: the seeding
    # checks would look for a seed in ICNR's own config.
    Case(
        "ICNR",
        lambda seed: keras_inits.ICNR(
            keras_inits.GlorotUniform(seed=seed), scale=2
        ),
        random=False,
        shape=(3, 3, 8, 16),
        layer=lambda init: keras.layers.Conv2D(
            16, 3, padding="same", kernel_initializer=init
        ),
        inputs=(6, 6, 8),
    ),
    Case(
        "Bilinear",
        lambda seed: keras_inits.Bilinear(),
        random=False,
        shape=(4, 4, 8, 8),
        exact=_bilinear_exact,
        layer=lambda init: keras.layers.Conv2DTranspose(
            8, 4, strides=2, padding="same", kernel_initializer=init
        ),
        inputs=(4, 4, 8),
    ),
    Case(
        "BlockOrthogonal",
        lambda seed: keras_inits.BlockOrthogonal(gain=2.0, seed=seed),
        shape=(32, 128),
        layer=lambda init: keras.layers.Dense(32, kernel_initializer=init),
    ),
]

# Gains, bounded normals, sparse and depth-aware: the default Dense
# kernel fits them all.
CASES += [
    Case(
        "KaimingNormal",
        lambda seed: keras_inits.KaimingNormal(negative_slope=0.2, seed=seed),
        dist=lambda shape: stats.norm(
            0.0, math.sqrt(2.0 / (1.0 + 0.2**2) / FAN_IN)
        ),
    ),
    Case(
        "KaimingUniform",
        lambda seed: keras_inits.KaimingUniform(
            mode="fan_out", nonlinearity="tanh", seed=seed
        ),
        dist=lambda shape: stats.uniform(
            -5.0 / 3.0 * math.sqrt(3.0 / FAN_OUT),
            10.0 / 3.0 * math.sqrt(3.0 / FAN_OUT),
        ),
    ),
    Case(
        "TruncatedNormalRange",
        lambda seed: keras_inits.TruncatedNormalRange(
            1.0, 0.5, 1.25, math.inf, seed=seed
        ),
        dist=lambda shape: stats.truncnorm(0.5, math.inf, 1.0, 0.5),
    ),
    Case(
        "TruncatedNormalSigmas",
        lambda seed: keras_inits.TruncatedNormalSigmas(
            0.5, lower=-1.0, upper=3.0, seed=seed
        ),
        dist=lambda shape: stats.truncnorm(-1.0, 3.0, 0.0, 0.5),
    ),
    # Point masses at the bounds (and at 0 for Sparse): no scipy law to
    # Kolmogorov-Smirnov against; their own tests check the masses.
    Case(
        "ClippedNormal",
        lambda seed: keras_inits.ClippedNormal(0.0, 0.5, 2.0, seed=seed),
    ),
    Case("Sparse", lambda seed: keras_inits.Sparse(0.5, 0.1, seed=seed)),
    # Seeded through the initializer it wraps, as ICNR.
    Case(
        "DepthScaled",
        lambda seed: keras_inits.DepthScaled(
            keras_inits.RandomNormal(stddev=0.02, seed=seed), depth=12
        ),
        random=False,
    ),
    Case(
        "ZerO",
        lambda seed: keras_inits.ZerO(),
        random=False,
        exact=lambda shape: np.eye(*shape),
    ),
]

RANDOM_CASES = [case for case in CASES if case.random]


def skip_unless_storable(dtype):
    """Skips a test of `dtype` where the backend cannot store it."""
    try:
        keras.ops.cast(keras.ops.zeros((1,)), dtype)
    except Exception:  # each backend raises its own error type
        pytest.skip(f"the {keras.backend.backend()} backend has no {dtype}")


def small_mlp(kernel="glorot_uniform", name="net"):
    """The two-Dense model the diagnostics and WeightStats tests look at:
    a `hidden` kernel from `kernel`, an `out` bias of 0.5."""
    return keras.Sequential(
        [
            keras.Input((256,)),
            keras.layers.Dense(128, kernel_initializer=kernel, name="hidden"),
            keras.layers.Dense(
                10, bias_initializer=keras_inits.Constant(0.5), name="out"
            ),
        ],
        name=name,
    )
