"""Initializers for convolution kernels: identities, delta-orthogonal,
sub-pixel (ICNR) and bilinear upsampling.

All work in Keras' kernel layout `(*spatial, in, out)`. The "centre" of a
spatial axis of size `k` is `(k - 1) // 2`: the tap that `padding="same"`
aligns with the output position (Keras pads `(k - 1) // 2` before and
`k // 2` after), so a kernel that is non-zero only there passes each
position through, for odd and even kernel sizes alike.
"""

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_inits._internal import checks
from keras_inits._internal.arrays import Tensor
from keras_inits._internal.arrays import in_dtype
from keras_inits.initializers import _base
from keras_inits.initializers import _serialization
from keras_inits.initializers._registration import register
from keras_inits.initializers._serialization import InitializerLike
from keras_inits.random import Seed
from keras_inits.random import orthogonal_matrix


def _centre(spatial):
    """The centre tap `(k - 1) // 2` of each spatial size `k` of
    `spatial`: the one `padding="same"` aligns with the output."""
    return tuple((k - 1) // 2 for k in spatial)


@register
class Dirac(_base.Initializer):
    """Convolution kernel that passes its input through (the Dirac delta).

    For a kernel `(*spatial, in, out)` with `g = groups`, `o = out // g`
    output channels per group and `c` the spatial centre,
    `W[c, d, j * o + d] = 1` for every group `j` and `d < min(o, in)`, and 0
    elsewhere. A Conv1D, Conv2D or Conv3D with `padding="same"`,
    `strides=1`, `groups=g` and this kernel returns its input when
    `out == in * g` (`in` is the per-group input count, as in the kernel
    shape). Otherwise the identity is partial: with more outputs than
    inputs per group, the extra output channels of each group are 0; with
    fewer, each group's output channel `d` copies its input channel `d` and
    the remaining inputs are dropped.

    Matches `torch.nn.init.dirac_(tensor, groups)` up to layout (PyTorch
    kernels are `(out, in, *spatial)`), except the centre of an even kernel
    size: PyTorch puts the 1 at `k // 2`, which its own `padding="same"`
    shifts by one; here it is at `(k - 1) // 2`, where Keras' `"same"`
    padding makes it an exact identity.

    Args:
        groups: The number of groups of the convolution, a positive integer
            dividing `out`.

    Examples:

        >>> import keras_inits
        >>> kernel = keras_inits.Dirac()(shape=(3, 2, 2))
        >>> keras.ops.convert_to_numpy(kernel)[:, 0, 0].tolist()
        [0.0, 1.0, 0.0]

        >>> layer = keras.layers.Conv2D(
        ...     16, 3, padding="same", kernel_initializer="keras_inits>Dirac")

    Reference:
        [PyTorch `dirac_`](https://pytorch.org/docs/stable/nn.init.html)
    """

    draw_family = "host"

    def __init__(self, groups: int = 1):
        self.groups = checks.check_count(
            "Dirac", "groups", groups, requirement="a positive integer"
        )

    def max_abs(self, shape):
        return 1.0

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        checks.check_rank("Dirac", shape, 3, 5)
        *spatial, inputs, outputs = shape
        if outputs % self.groups:
            raise ValueError(
                f"Dirac needs an output dimension divisible by groups="
                f"{self.groups}. Received: shape={shape}"
            )
        per_group = outputs // self.groups
        kernel = np.zeros(shape, dtype=_base.host_precision(compute_dtype))
        # Every group's ones at once: a loop over groups would take as many
        # Python steps as there are groups.
        d = np.arange(min(per_group, inputs))
        columns = np.arange(self.groups)[:, None] * per_group + d
        kernel[
            _centre(spatial) + (np.broadcast_to(d, columns.shape), columns)
        ] = 1.0
        return _base.from_host(kernel, dtype, compute_dtype)


@register
class DeltaOrthogonal(_base.RandomInitializer):
    """Convolution kernel that is orthogonal at its centre and 0 elsewhere.

    For a kernel `(*spatial, in, out)` with `in <= out`, `W[c] = gain * Q`
    at the spatial centre `c` and 0 elsewhere, where `Q` is a Haar-random
    `(in, out)` matrix with orthonormal rows (as `Orthogonal` draws it). A
    convolution with `padding="same"` then maps each position's channels
    through `Q`, which preserves their norm: the dynamical isometry that
    lets Xiao et al. train 10,000-layer plain CNNs.

    Matches `jax.nn.initializers.delta_orthogonal` (rank 3 to 5, centre
    `(k - 1) // 2`, also for even sizes; `in > out` refused, since `Q`
    would then project instead of preserving norms), with `gain` for JAX's
    `scale`. PyTorch has no counterpart.

    Args:
        gain: Multiplicative factor, a positive number.
        seed: None for fresh values at every call, an int to make the
            sequence of draws reproducible, a `keras.random.SeedGenerator`,
            or a `keras_inits.PortableSeed` for the same values on every
            backend.

    Examples:

        >>> import keras_inits
        >>> kernel = keras_inits.DeltaOrthogonal(seed=1)(shape=(3, 3, 4, 4))
        >>> centre = keras.ops.convert_to_numpy(kernel)[1, 1]
        >>> bool(abs(centre @ centre.T - keras.ops.convert_to_numpy(
        ...     keras.ops.eye(4))).max() < 1e-5)
        True

        >>> layer = keras.layers.Conv2D(
        ...     16, 3, padding="same",
        ...     kernel_initializer="keras_inits>DeltaOrthogonal")

    Reference:
        [Xiao et al., 2018](https://arxiv.org/abs/1806.05393)
    """

    draw_family = "orthogonal"

    def __init__(self, gain: float = 1.0, seed: Seed = None):
        self.gain = checks.check_positive("DeltaOrthogonal", "gain", gain)
        super().__init__(seed=seed)

    def max_abs(self, shape):
        return self.gain  # entries of an orthonormal matrix are at most 1

    def draw(self, shape, dtype):
        checks.check_rank("DeltaOrthogonal", shape, 3, 5)
        *spatial, inputs, outputs = shape
        if inputs > outputs:
            raise ValueError(
                "DeltaOrthogonal needs at most as many input channels as "
                f"output channels (shape[-2] <= shape[-1]). Received: "
                f"shape={shape}"
            )
        q = orthogonal_matrix(inputs, outputs, dtype, self.seed_generator)
        q = ops.reshape(q * self.gain, (1,) * len(spatial) + (inputs, outputs))
        centre = _centre(spatial)
        widths = [(c, k - 1 - c) for c, k in zip(centre, spatial)]
        return ops.pad(q, widths + [(0, 0), (0, 0)])


_DATA_FORMATS = ("channels_last", "channels_first")


@register
class ICNR(_base.Initializer):
    """Sub-pixel convolution kernel without checkerboard artefacts (ICNR).

    For a kernel `(kh, kw, in, out * r**2)` followed by
    `keras.ops.depth_to_space(x, r)`, draws a `(kh, kw, in, out)` kernel
    `W0` with `initializer` and copies it to each of the `r**2` kernels
    that feed one upsampled output channel. The upsampled output then
    starts as a nearest-neighbour upsampling of a convolution with `W0`,
    so every `r x r` block is constant and there is no checkerboard. With
    `data_format="channels_last"` (`depth_to_space` channels-last, as
    `tf.nn.depth_to_space`), kernel channel `(i * r + j) * out + c` feeds
    output channel `c` at block offset `(i, j)`, so `W0` is tiled:
    `W[..., k] = W0[..., k % out]`. With `"channels_first"` (as
    `torch.nn.PixelShuffle`) it is `c * r**2 + i * r + j`, so each channel
    is repeated: `W[..., k] = W0[..., k // r**2]`. Caution: in Keras 3.15,
    `keras.ops.depth_to_space(..., data_format="channels_first")` has the
    PixelShuffle order on JAX, PyTorch and NumPy but the channels-last
    order on TensorFlow (it transposes around `tf.nn.depth_to_space`);
    there, use `data_format="channels_last"` here.

    Matches fastai's `icnr_init` (channels-first) and the paper's
    construction. Seeding belongs to the wrapped initializer. Wrappers nest
    at most `MAX_NESTING` (32) initializers deep, as in `DepthScaled`.

    Args:
        initializer: The initializer of `W0`: an instance, a name or a
            config, as `keras_inits.get` takes. Saved nested in the config.
        scale: The upsampling factor `r` (`block_size` of
            `depth_to_space`), a positive integer.
        data_format: `"channels_last"` or `"channels_first"`, that of the
            `depth_to_space` which follows.

    Examples:

        >>> import keras_inits
        >>> kernel = keras_inits.ICNR(scale=2)(shape=(3, 3, 8, 4 * 4))
        >>> k = keras.ops.convert_to_numpy(kernel)
        >>> bool((k[..., 0:4] == k[..., 12:16]).all())
        True

        >>> layer = keras.layers.Conv2D(
        ...     3 * 4, 3, padding="same",
        ...     kernel_initializer=keras_inits.ICNR("he_normal", scale=2))

    Reference:
        [Aitken et al., 2017](https://arxiv.org/abs/1707.02937)
    """

    draw_family = "wrapper"

    def __init__(
        self,
        initializer: InitializerLike = "glorot_uniform",
        scale: int = 2,
        data_format: str = "channels_last",
    ):
        self.initializer = _serialization.nested_initializer(
            "ICNR", initializer
        )
        self.scale = checks.check_count(
            "ICNR", "scale", scale, requirement="a positive integer"
        )
        self.data_format = checks.check_choice(
            "ICNR", "data_format", data_format, _DATA_FORMATS
        )

    def get_config(self):
        return {
            "initializer": keras.initializers.serialize(self.initializer),
            "scale": self.scale,
            "data_format": self.data_format,
        }

    def _sub_shape(self, shape):
        """The shape of `W0` for a kernel of `shape`, or raises."""
        checks.check_rank("ICNR", shape, 4, 4)
        copies = self.scale**2
        if shape[-1] % copies:
            raise ValueError(
                f"ICNR needs an output dimension divisible by scale**2 = "
                f"{copies}. Received: shape={shape}"
            )
        return shape[:-1] + (shape[-1] // copies,)

    def max_abs(self, shape):
        # W copies W0's values: the wrapped initializer's bound for W0.
        try:
            sub_shape = self._sub_shape(checks.check_shape("ICNR", shape))
        except ValueError:
            return None  # __call__ raises for this shape
        return _base.wrapped_max_abs(self.initializer, sub_shape)

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape = checks.check_shape("ICNR", shape)
        sub_shape = self._sub_shape(shape)
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        sub = _base.call_wrapped(
            "ICNR", self.initializer, sub_shape, compute_dtype
        )
        copies = self.scale**2
        if self.data_format == "channels_last":
            kernel = ops.tile(sub, (1, 1, 1, copies))
        else:
            kernel = ops.repeat(sub, copies, axis=-1)
        return in_dtype(kernel, dtype)


def bilinear_weights(size):
    """The 1-D linear-interpolation filter of a transposed convolution with
    kernel `size`: `1 - |t - centre| / f` with `f = ceil(size / 2)` the
    upsampling factor it serves (`size = 2f - f % 2`)."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    return 1.0 - np.abs(np.arange(size) - centre) / factor


@register
class Bilinear(_base.Initializer):
    """Conv2DTranspose kernel that upsamples by bilinear interpolation.

    For a kernel `(kh, kw, c, c)`, `W[y, x, i, j] = w(kh)[y] * w(kw)[x]` if
    `i == j` and 0 otherwise, with the 1-D filter
    `w(k)[t] = 1 - |t - m| / f`, `f = ceil(k / 2)` and centre
    `m = f - 1` for odd `k`, `f - 1/2` for even `k`. A
    `Conv2DTranspose(c, 2 * f - f % 2, strides=f, padding="same")` with it
    upsamples each channel by `f` with bilinear interpolation (pixel
    centres aligned, as `keras.ops.image.resize(..., "bilinear")` without
    antialiasing), exactly away from the borders, where the implicit zero
    padding darkens the edge. Every channel is upsampled separately.

    This is the FCN kernel (Long et al.), also written by hand in PyTorch
    and Caffe (`"bilinear"` filler); neither Keras, PyTorch nor JAX ships
    it as an initializer.

    Examples:

        >>> import keras_inits
        >>> kernel = keras_inits.Bilinear()(shape=(4, 4, 1, 1))
        >>> keras.ops.convert_to_numpy(kernel)[:, 0, 0, 0].tolist()
        [0.0625, 0.1875, 0.1875, 0.0625]

        >>> layer = keras.layers.Conv2DTranspose(
        ...     3, 4, strides=2, padding="same",
        ...     kernel_initializer="keras_inits>Bilinear")

    Reference:
        [Long et al., 2015](https://arxiv.org/abs/1411.4038)
    """

    draw_family = "host"

    def max_abs(self, shape):
        return 1.0  # the product of two filters of at most 1

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        checks.check_rank("Bilinear", shape, 4, 4)
        kh, kw, inputs, outputs = shape
        if inputs != outputs:
            raise ValueError(
                "Bilinear needs as many input as output channels (it "
                f"upsamples each channel). Received: shape={shape}"
            )
        precision = _base.host_precision(compute_dtype)
        window = np.outer(bilinear_weights(kh), bilinear_weights(kw))
        kernel = window.astype(precision)[:, :, None, None] * np.eye(
            inputs, dtype=precision
        )
        return _base.from_host(kernel, dtype, compute_dtype)
