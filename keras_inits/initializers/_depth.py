"""Initializers for deep residual networks: `DepthScaled`, which scales any
initializer by a factor derived from the depth (GPT-2, Fixup), and `ZerO`,
the deterministic zeros-and-ones initialization.
"""

import math
from collections.abc import Sequence

import keras
import numpy as np

from keras_inits._internal import checks
from keras_inits._internal.arrays import Tensor
from keras_inits._internal.arrays import in_dtype
from keras_inits.initializers import _base
from keras_inits.initializers import _serialization
from keras_inits.initializers._registration import register
from keras_inits.initializers._serialization import InitializerLike

_RULES = ("gpt2", "fixup")


@register
class DepthScaled(_base.Initializer):
    """Any initializer, scaled by a factor that shrinks with the depth.

    `W = factor * initializer(shape)`, with `factor` by `rule`:

    - `"gpt2"`: `1 / sqrt(2 * depth)`, `depth` the number of transformer
      blocks. Each block adds two residual branches (attention and MLP), so
      this is GPT-2's `1 / sqrt(N)` over its `N = 2 * depth` residual layers.
      Apply it to the output projection of each branch; with
      `RandomNormal(stddev=0.02)` inside it is GPT-2's (and nanoGPT's)
      `std = 0.02 / sqrt(2 * n_layer)`.
    - `"fixup"`: `depth**(-1 / (2 * branch_layers - 2))`, `depth` the number
      of residual branches `L` and `branch_layers` the weight layers per
      branch `m >= 2` (2 for a basic ResNet block: `L**-0.5`; 3 for a
      bottleneck: `L**-0.25`). Apply it to every weight layer of a branch
      except the last, which Fixup initializes to 0 (`"zeros"`), as it does
      the classifier; wrap the initializer you would otherwise use (Fixup
      uses He et al.'s, `KaimingNormal`).

    Seeding belongs to the wrapped initializer, which is saved nested in the
    config. Keras, PyTorch and JAX have no such wrapper: models scale by
    hand (`torch.nn.init.normal_(w, std=0.02 / math.sqrt(2 * n_layer))`).

    Args:
        initializer: The initializer to scale: an instance, a name or a
            config, as `keras_inits.get` takes.
        depth: `n_layer` (`"gpt2"`) or `L` (`"fixup"`), a positive integer
            (at most `2**31 - 1`).
        rule: `"gpt2"` or `"fixup"`.
        branch_layers: Fixup's `m`, an integer >= 2; None with `"gpt2"`.

    Wrappers nest at most `MAX_NESTING` (32) initializers deep, this one
    and the one at the bottom included: `initializer`, or a config that
    nests deeper, is refused before anything is built.

    Examples:

        >>> import keras_inits
        >>> init = keras_inits.DepthScaled(keras_inits.Ones(), depth=8)
        >>> init.factor  # 1 / sqrt(16)
        0.25

        >>> out_projection = keras.layers.Dense(768, kernel_initializer=(
        ...     keras_inits.DepthScaled(keras_inits.RandomNormal(stddev=0.02), depth=12)))

    Reference:
        [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
        (GPT-2, section 2.3), [Zhang et al., 2019](https://arxiv.org/abs/1901.09321) (Fixup).
    """

    draw_family = "wrapper"

    def __init__(
        self,
        initializer: InitializerLike = "glorot_uniform",
        depth: int = 1,
        rule: str = "gpt2",
        branch_layers: int | None = None,
    ):
        self.initializer = _serialization.nested_initializer(
            "DepthScaled", initializer
        )
        self.depth = checks.check_count("DepthScaled", "depth", depth, 1)
        self.rule = checks.check_choice("DepthScaled", "rule", rule, _RULES)
        if rule == "fixup":
            self.branch_layers = checks.check_count(
                "DepthScaled", "branch_layers", branch_layers, 2
            )
        elif branch_layers is not None:
            raise ValueError(
                "Argument `branch_layers` of DepthScaled is Fixup's m and "
                "must be None with rule='gpt2'. Received: "
                f"branch_layers={branch_layers!r}"
            )
        else:
            self.branch_layers = None

    @property
    def factor(self):
        """The scale applied to the wrapped initializer's values."""
        if self.rule == "gpt2":
            return 1.0 / math.sqrt(2.0 * self.depth)
        # rule="fixup", for which __init__ requires branch_layers.
        assert self.branch_layers is not None
        return float(self.depth) ** (-1.0 / (2 * self.branch_layers - 2))

    def get_config(self):
        return {
            "initializer": keras.initializers.serialize(self.initializer),
            "depth": self.depth,
            "rule": self.rule,
            "branch_layers": self.branch_layers,
        }

    def max_abs(self, shape):
        inner = _base.wrapped_max_abs(self.initializer, shape)
        return None if inner is None else inner * self.factor

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        # For float16, bfloat16 and float8, drawn and scaled in float32,
        # then rounded once to `dtype`.
        values = _base.call_wrapped(
            "DepthScaled", self.initializer, shape, compute_dtype
        )
        return in_dtype(values * self.factor, dtype)


def hadamard(size):
    """Sylvester's `(size, size)` Hadamard matrix, `size` a power of 2:
    `H[i, j] = (-1)**popcount(i & j)`."""
    return _sylvester_block(size, size)


def _sylvester_block(rows, cols):
    """`H[:rows, :cols]` of Sylvester's Hadamard matrix of any size at
    least `rows` and `cols` (its entries do not depend on the size), without
    making the whole matrix."""
    bits = np.bitwise_and(np.arange(rows)[:, None], np.arange(cols)[None, :])
    parity = np.zeros(bits.shape, dtype="uint8")
    while bits.any():
        parity ^= (bits & 1).astype("uint8")
        bits >>= 1
    return 1.0 - 2.0 * parity


@register
class ZerO(_base.Initializer):
    """ZerO: deterministic kernel of zeros, ones and a scaled Hadamard matrix.

    For a `(in, out)` kernel (`W` below is Keras' `(in, out)` matrix):

    - `out <= in`: the partial identity, `W[i, j] = 1` if `i == j`: the
      first `out` inputs pass through;
    - `out > in`: `W = H[:in, :out] / 2**(m / 2)`, with `H` Sylvester's
      Hadamard matrix of size `2**m`, `m = ceil(log2(out))`: the rows of
      an orthonormal matrix, which spread the inputs over all outputs
      without losing rank.

    A convolution kernel `(*spatial, in, out)` gets that matrix at the
    spatial centre `(k - 1) // 2` and 0 elsewhere, as `Dirac`, so with
    `padding="same"` it mixes channels only. Nothing is random: every run
    and backend gives the same kernel.

    Matches Zhao et al.'s Algorithm 1 with the normalization of the
    authors' reference code (`example_mnist.ipynb`), `2**(-m / 2)`, which
    makes `H` orthonormal; `c = 2**(-(m - 1) / 2)`, a factor sqrt(2)
    larger, is also quoted for the algorithm: multiply the `out > in`
    kernels by sqrt(2) if your reference uses it. The rest
    of ZerO is architecture, not initialization: zero the last layer of
    each residual branch (`"zeros"`) and, for channel expansion, use the
    paper's augmented skip connections. Neither Keras, PyTorch nor JAX
    ships it.

    Examples:

        >>> import keras_inits
        >>> kernel = keras_inits.ZerO()(shape=(2, 4))  # H[:2, :4] / 2
        >>> keras.ops.convert_to_numpy(kernel).tolist()
        [[0.5, 0.5, 0.5, 0.5], [0.5, -0.5, 0.5, -0.5]]

        >>> layer = keras.layers.Dense(64, kernel_initializer="keras_inits>ZerO")

    Reference:
        [Zhao et al., 2021](https://arxiv.org/abs/2110.12661)
    """

    draw_family = "host"

    def max_abs(self, shape):
        return 1.0  # the ones of the identity; the Hadamard part is smaller

    def __call__(
        self, shape: Sequence[int], dtype: str | None = None
    ) -> Tensor:
        shape, dtype, compute_dtype = _base.check_call(self, shape, dtype)
        checks.check_rank("ZerO", shape, 2)
        *spatial, inputs, outputs = shape
        precision = _base.host_precision(compute_dtype)
        if outputs <= inputs:
            matrix = np.eye(inputs, outputs, dtype=precision)
        else:
            # Only the (inputs, outputs) corner of H: the whole 2**m square
            # would hold up to 4 * outputs**2 entries.
            m = math.ceil(math.log2(outputs))
            matrix = _sylvester_block(inputs, outputs) / 2.0 ** (m / 2.0)
        kernel = np.zeros(shape, dtype=precision)
        kernel[tuple((k - 1) // 2 for k in spatial)] = matrix
        return _base.from_host(kernel, dtype, compute_dtype)
