"""`recommend`: the usual initializer for an activation function, with the
reason, as code."""

import typing
from collections.abc import Callable

import keras

from keras_inits.initializers._orthogonal import Orthogonal
from keras_inits.initializers._variance_scaling import GlorotUniform
from keras_inits.initializers._variance_scaling import HeNormal
from keras_inits.initializers._variance_scaling import LecunNormal


class Recommendation(typing.NamedTuple):
    """What `recommend` returns: `initializer`, a new initializer instance,
    and `reason`, one sentence saying why."""

    initializer: keras.initializers.Initializer
    reason: str


_HE = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "celu",
    "gelu",
    "silu",
    "swish",
    "mish",
    "hard_silu",
    "hard_swish",
    "softplus",
)
_GLOROT = (
    "linear",
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "hard_tanh",
    "softsign",
    "softmax",
    "log_softmax",
)
_LECUN = ("selu",)
ACTIVATIONS = tuple(sorted(_HE + _GLOROT + _LECUN))

_REASONS = {
    "he": "{name} zeroes (or nearly zeroes) half of its inputs, halving "
    "the variance each layer passes on; He et al.'s variance "
    "2 / fan_in makes up for it (HeNormal: truncated normal, as "
    "Keras'; KaimingNormal(negative_slope=a) is the exact gain of a "
    "leaky ReLU of slope a).",
    "glorot": "{name} is linear near 0, so Glorot and Bengio's variance "
    "2 / (fan_in + fan_out) keeps the variance of both the "
    "activations and the gradients (GlorotUniform, Keras' default "
    "kernel initializer).",
    "lecun": "selu is self-normalizing only with LeCun normal weights, "
    "variance 1 / fan_in (Klambauer et al. 2017).",
    "recurrent": "A recurrent kernel is applied at every time step; an "
    "orthogonal matrix keeps all its singular values at 1, so "
    "the state neither explodes nor vanishes through time "
    "(Orthogonal, Keras' default recurrent_initializer; use "
    "BlockOrthogonal for one orthogonal block per gate).",
}


def _activation_name(activation):
    """The name `recommend` looks `activation` up by: "linear" for None, a
    string lowercased, a function by the first name of `ACTIVATIONS` Keras
    resolves to it (`swish` is `silu`); anything else as it is, for
    `recommend` to refuse."""
    if activation is None:
        return "linear"  # Keras layers treat activation=None as linear
    if isinstance(activation, str):
        return activation.lower()
    if callable(activation):
        # keras.activations.swish is silu: compare functions, not names.
        for name in ACTIVATIONS:
            if keras.activations.get(name) is activation:
                return name
    return activation


def recommend(
    activation: str | Callable | None,
    *,
    recurrent: bool = False,
) -> Recommendation:
    """Returns the recommended initializer for a kernel before `activation`.

    - `HeNormal()` (truncated, as Keras'): ReLU and its variants, `relu`,
      `relu6`, `leaky_relu`, `elu`, `celu`, `gelu`, `silu`/`swish`,
      `mish`, `hard_silu`/`hard_swish`, `softplus`;
    - `GlorotUniform()`: `linear` (and None), `tanh`, `sigmoid`,
      `hard_sigmoid`, `hard_tanh`, `softsign`, `softmax`, `log_softmax`;
    - `LecunNormal()`: `selu`;
    - `Orthogonal()`: any of them, with `recurrent=True`.

    Args:
        activation: An activation name (any case), a function of
            `keras.activations`, or None (linear).
        recurrent: True for the recurrent kernel of an RNN layer
            (`recurrent_initializer`), keyword only.

    Returns:
        A `Recommendation(initializer, reason)`: a new, unseeded
        initializer instance and one sentence saying why.

    Raises:
        ValueError: for an unknown activation, listing the valid names.

    Examples:

        >>> import keras_inits
        >>> keras_inits.recommend("relu").initializer
        HeNormal()

        >>> layer = keras.layers.Dense(
        ...     8, activation="selu",
        ...     kernel_initializer=keras_inits.recommend(keras.activations.selu).initializer)

    Reference:
        [He et al., 2015](https://arxiv.org/abs/1502.01852),
        [Glorot and Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html),
        [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515),
        [Saxe et al., 2014](https://arxiv.org/abs/1312.6120).
    """
    if not isinstance(recurrent, bool):
        raise ValueError(
            "Argument `recurrent` of recommend must be True or "
            f"False. Received: recurrent={recurrent!r}"
        )
    name = _activation_name(activation)
    # Only a name: `in` would compare an array element-wise.
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"Invalid `activation` argument: {activation!r}. recommend "
            f"expects one of {list(ACTIVATIONS)}, None or a function of "
            "keras.activations."
        )
    if recurrent:
        return Recommendation(Orthogonal(), _REASONS["recurrent"])
    if name in _HE:
        return Recommendation(HeNormal(), _REASONS["he"].format(name=name))
    if name in _LECUN:
        return Recommendation(LecunNormal(), _REASONS["lecun"])
    return Recommendation(
        GlorotUniform(), _REASONS["glorot"].format(name=name)
    )
