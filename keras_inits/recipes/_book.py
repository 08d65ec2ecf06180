"""The published init recipes, one rule each, checked against the
reference code its docstring names. A rule maps a `keras_inits.recipes.Slot`
to an unseeded initializer (`reinitialize` seeds each variable), or to None
where the scheme leaves the variable to its layer. Stds and limits come
from the slot's fans, never from Keras' fan rules (which read a
`(d, heads, head_dim)` attention kernel as a convolution). In formulas,
L is the depth, l the 0-based block, d the width, N(0, s^2) a normal of
std s, and "cut at k sd" redraws values beyond k times s (s the
untruncated law's std, as in TensorFlow and PyTorch).
"""

import functools
import math

from keras.initializers import Initializer

from keras_inits._internal import checks
from keras_inits._internal import gaussian
from keras_inits.initializers import Constant
from keras_inits.initializers import Ones
from keras_inits.initializers import RandomNormal
from keras_inits.initializers import RandomUniform
from keras_inits.initializers import TruncatedNormal
from keras_inits.initializers import TruncatedNormalRange
from keras_inits.initializers import TruncatedNormalSigmas
from keras_inits.initializers import Zeros
from keras_inits.recipes._recipe import Recipe
from keras_inits.recipes._recipe import needed
from keras_inits.recipes._roles import Slot

_KERNELS = ("attention_qkv", "attention_output", "mlp_in", "mlp_out")
_BRANCH_OUTPUTS = ("attention_output", "mlp_out")
# The roles that GPT-style recipes draw at their base std, unscaled.
_UNSCALED = ("embedding", "attention_qkv", "mlp_in", "head", "projection")
_BIASES_AND_NORMS = {
    "bias": "0 (a recurrent layer's: its own)",
    "norm_scale": "1 (0 where the layer uses 1 + scale)",
    "norm_bias": "0",
}


def _biases_and_norms(slot: Slot) -> Initializer | None:
    """Zeros for biases, the identity for a normalization's scale (1, or
    0 where the layer uses `1 + scale`, as Gemma's RMSNorm) and zeros for
    its offset (as PyTorch's, TensorFlow's and Flax's layers start); a
    recurrent layer's bias keeps its own (LSTM's `unit_forget_bias`
    ones); else None."""
    if slot.role == "norm_scale":
        return Zeros() if slot.adds_one else Ones()
    if slot.subrole == "recurrent_bias":
        return None
    if slot.role in ("bias", "norm_bias"):
        return Zeros()
    return None


def _projection_fan_out(slot: Slot) -> int:
    """fan_out of one query, key or value projection: a fused `(d, 3d)`
    kernel holds three side by side, which the references (that keep them
    apart) draw each with its own fans."""
    if len(slot.shape) == 2 and slot.fan_out == 3 * slot.fan_in:
        return slot.fan_out // 3
    return slot.fan_out


def gpt2_rule(slot: Slot) -> Initializer | None:
    """GPT-2, as nanoGPT initializes it: embeddings, q/k/v, mlp_in and
    the head (tied to the token embedding) N(0, 0.02^2); attention_output
    and mlp_out N(0, (0.02 / sqrt(2L))^2) (2 branches a block); biases 0;
    norm scale 1, offset 0. Not cut. Needs `depth`.

    Reference: karpathy/nanoGPT (model.py: `GPT._init_weights` and the
    `c_proj.weight` loop in `GPT.__init__`).

    Examples:

        >>> from keras_inits.recipes import Slot
        >>> slot = Slot("h0/mlp_out/kernel", "mlp_out", block=0, depth=12,
        ...             width=768, shape=(3072, 768), fan_in=3072,
        ...             fan_out=768, ends_branch=True)
        >>> round(gpt2_rule(slot).stddev, 6)  # 0.02 / sqrt(24)
        0.004082
    """
    if slot.role in _UNSCALED:
        return RandomNormal(stddev=0.02)
    if slot.role in _BRANCH_OUTPUTS:
        depth = needed(slot, "depth")
        return RandomNormal(stddev=0.02 / math.sqrt(2 * depth))
    return _biases_and_norms(slot)


def gpt_neox_rule(slot: Slot) -> Initializer | None:
    """GPT-NeoX's `small_init` and `wang_init`, the pair its configs set:
    embeddings, q/k/v, mlp_in and the (untied) head N(0, 2 / (5d));
    attention_output and mlp_out N(0, (2 / (L sqrt(d)))^2), d the model's
    width for mlp_out too; biases 0; norm scale 1, offset 0. Needs
    `width` and `depth`.

    Reference: EleutherAI/gpt-neox (megatron/model/init_functions.py;
    configs/125M.yml sets `init_method: small_init` and
    `output_layer_init_method: wang_init`).
    """
    if slot.role in _UNSCALED:
        width = needed(slot, "width")
        return RandomNormal(stddev=math.sqrt(2.0 / (5.0 * width)))
    if slot.role in _BRANCH_OUTPUTS:
        width = needed(slot, "width")
        depth = needed(slot, "depth")
        return RandomNormal(stddev=2.0 / depth / math.sqrt(width))
    return _biases_and_norms(slot)


def bert_rule(slot: Slot) -> Initializer | None:
    """BERT, as its TensorFlow code initializes it: kernels, embeddings
    and the head stddev 0.02 cut at 2 sd (TF's
    `truncated_normal_initializer`; the values' std is 0.8796 * 0.02);
    biases 0; norm scale 1, offset 0.

    Reference: google-research/bert (modeling.py `create_initializer`,
    `initializer_range=0.02`; run_classifier.py `output_weights`).
    """
    if slot.role in _KERNELS + ("embedding", "head", "projection"):
        return TruncatedNormal(stddev=0.02)
    return _biases_and_norms(slot)


def olmo_mitchell_rule(slot: Slot) -> Initializer | None:
    """OLMo's "mitchell" init: embeddings, q/k/v, mlp_in and the head
    N(0, 1/d); attention_output N(0, 1 / (2d (l + 1))); mlp_out
    N(0, 1 / (2 fan_in (l + 1))), fan_in the MLP's hidden size (after
    SwiGLU's halving); all cut at 3 sd. Biases 0; norm scale 1, offset
    0. Needs `width` (not L).

    Reference: allenai/OLMo (olmo/model.py: `reset_parameters` of
    `OLMoBlock`, `OLMoSequentialBlock`, `OLMoLlamaBlock` and `OLMo`
    under `InitFnType.mitchell`; olmo/initialization.py `init_normal`).
    """
    if slot.role in _UNSCALED:
        width = needed(slot, "width")
        return TruncatedNormalSigmas(1.0 / math.sqrt(width), -3.0, 3.0)
    if slot.role == "attention_output":
        width = needed(slot, "width")
        layers = needed(slot, "block") + 1
        std = 1.0 / math.sqrt(2.0 * width * layers)
        return TruncatedNormalSigmas(std, -3.0, 3.0)
    if slot.role == "mlp_out":
        layers = needed(slot, "block") + 1
        std = 1.0 / math.sqrt(2.0 * slot.fan_in * layers)
        return TruncatedNormalSigmas(std, -3.0, 3.0)
    return _biases_and_norms(slot)


def torchtitan_llama_rule(slot: Slot) -> Initializer | None:
    """torchtitan's Llama 3 init (its default `depth_init=True`): q/k/v
    and mlp_in N(0, 0.02^2) cut at +-2 absolute (torch's `trunc_normal_`
    defaults: 100 sd, in effect no cut); attention_output and mlp_out the
    same with std 0.02 / sqrt(2(l+1)), and so do SwiGLU's up projection
    (w3, `mlp_up`) and a mixture of experts' router, its experts' up and
    output projections (w1, the gate, keeps 0.02); token embedding
    N(0, 1); head N(0, 1/d) cut at 3 sd; biases 0; norm scale 1 (offset 0,
    which RMSNorm lacks). Needs `width`. Where the gate and up
    projections are one fused kernel, it gets the gate's 0.02.

    Reference: pytorch/torchtitan (torchtitan/models/llama3/__init__.py,
    torchtitan/models/common/param_init.py; until 2026
    torchtitan/models/llama3/model/model.py `init_weights`).
    """
    if slot.role in _BRANCH_OUTPUTS or slot.subrole in _TITAN_SCALED:
        layers = needed(slot, "block") + 1
        return TruncatedNormalRange(
            stddev=0.02 / math.sqrt(2.0 * layers), minval=-2.0, maxval=2.0
        )
    if slot.role in ("attention_qkv", "mlp_in", "projection"):
        return TruncatedNormalRange(stddev=0.02, minval=-2.0, maxval=2.0)
    if slot.role == "embedding":
        return RandomNormal(stddev=1.0)
    if slot.role == "head":
        width = needed(slot, "width")
        return TruncatedNormalSigmas(width**-0.5, -3.0, 3.0)
    return _biases_and_norms(slot)


def deepnet_rule(slot: Slot) -> Initializer | None:
    """DeepNet's init for an encoder-only or decoder-only model: Xavier
    normal, N(0, g^2 * 2 / (fan_in + fan_out)), gain g = (8L)^(-1/4) for
    the value, attention_output, mlp_in and mlp_out kernels, g = 1 for
    query and key. Nothing else. Needs `depth`. The value kernel is the
    one the data flow shows multiplying the attention weights (finer role
    `value`); a fused qkv kernel gets the fans of one projection and
    gain 1. DeepNorm's
    residual scale alpha = (2L)^(1/4) is architecture; encoder-decoder
    models (two depths) are not covered.

    Reference: microsoft/torchscale (torchscale/architecture/encoder.py,
    decoder.py: `deepnorm`) and the paper's pseudocode (arXiv:2203.00555,
    Fig. 2), which this follows: torchscale instead divides its modules'
    own init, biases included, by (8L)^(1/4).
    """
    if slot.role not in _KERNELS:
        return None
    gain = (8.0 * needed(slot, "depth")) ** -0.25
    fan_out = slot.fan_out
    if slot.role == "attention_qkv":
        fan_out = _projection_fan_out(slot)
        if slot.subrole != "value":
            gain = 1.0
    return RandomNormal(stddev=gain * math.sqrt(2.0 / (slot.fan_in + fan_out)))


def vit_jax_rule(slot: Slot) -> Initializer | None:
    """The Vision Transformer's JAX init: kernels Xavier uniform,
    U(-a, a), a = sqrt(6 / (fan_in + fan_out)), per q/k/v projection (a
    fused qkv kernel gets the fans of one); the patch embedding and other
    projections (`pre_logits`) LeCun normal, Flax's default: values of
    std sqrt(1/fan_in), cut at 2 sd; the class token 0; other embedding
    tables (the position embedding) N(0, 0.02^2); head 0; MLP biases
    N(0, 1e-6^2), other biases 0; norm scale 1, offset 0.

    Reference: google-research/vision_transformer (vit_jax/models_vit.py);
    google/flax (flax/linen/attention.py `MultiHeadDotProductAttention`).
    """
    if slot.role in _KERNELS:
        fan_out = slot.fan_out
        if slot.role == "attention_qkv":
            fan_out = _projection_fan_out(slot)
        limit = math.sqrt(6.0 / (slot.fan_in + fan_out))
        return RandomUniform(minval=-limit, maxval=limit)
    if (
        slot.subrole == "patch"
        or slot.role == "projection"
        or (
            slot.role == "embedding"
            and slot.subrole is None
            and len(slot.shape) > 2
        )
    ):
        # JAX's truncated variance scaling divides by the std of a normal
        # cut at 2 sd, so that the values' std is sqrt(1/fan_in).
        std = math.sqrt(1.0 / slot.fan_in) / gaussian.TRUNCATED_STDDEV
        return TruncatedNormal(stddev=std)
    if slot.subrole == "class_token" or slot.role == "head":
        return Zeros()
    if slot.role == "embedding":
        return RandomNormal(stddev=0.02)
    if slot.subrole == "mlp_bias":
        return RandomNormal(stddev=1e-6)
    return _biases_and_norms(slot)


def zero_init_residual_rule(slot: Slot) -> Initializer | None:
    """Zeros for the variable that ends each residual branch, so that each
    block starts as the identity: the scale of the branch's last
    normalization (ResNet's last BatchNorm), else its output projection.
    Nothing else. (SkipInit and ReZero scale each branch by a learned
    scalar starting at 0, which Keras' layers lack: same function at
    init.)

    Reference: pytorch/vision (torchvision/models/resnet.py,
    `zero_init_residual`).
    """
    if not slot.ends_branch:
        return None
    # A scale used as 1 + scale silences the branch at -1.
    return Constant(-1.0) if slot.adds_one else Zeros()


def mup_rule(
    slot: Slot,
    base_width: int = 256,
    base_std: float = 0.02,
) -> Initializer | None:
    """muP's width-relative init: hidden kernels (q/k/v,
    attention_output, mlp_in, mlp_out) N(0, base_std^2 * base_width / d),
    a base model's variance scaled as 1/fan_in; embeddings
    N(0, base_std^2) at every width; readout (head) 0; biases 0. Needs
    `width`.

    Out of scope: muP's learning rates (MuAdam, MuSGD), the readout's
    1/width multiplier and 1/d attention. muP's README also suggests zero
    query kernels: not done here, queries get the hidden formula.

    Reference: microsoft/mup (mup/init.py `normal_`, mup/layer.py
    `MuReadout(readout_zero_init=True)`).
    """
    if slot.role in _KERNELS + ("projection",):
        width = needed(slot, "width")
        return RandomNormal(stddev=base_std * math.sqrt(base_width / width))
    if slot.role == "embedding":
        return RandomNormal(stddev=base_std)
    if slot.role == "head" or (
        slot.role == "bias" and slot.subrole != "recurrent_bias"
    ):
        return Zeros()
    return None


def mup_recipe(base_width: int = 256, *, base_std: float = 0.02) -> Recipe:
    """The "mup" recipe (`mup_rule`) for a base model's width and std.

    Args:
        base_width: width d of the base model, a positive integer.
        base_std: std of the hidden kernels at the base width, a positive
            number.

    Examples:

        >>> from keras_inits import recipes
        >>> recipes.mup_recipe(128).formulas["mlp_in"]
        'N(0, 0.02^2 * 128/d)'
    """
    if not (checks.is_whole_number(base_width) and base_width > 0):
        raise checks.argument_error(
            "mup_recipe", "base_width", "a positive integer", base_width
        )
    base_std = checks.check_positive("mup_recipe", "base_std", base_std)
    return Recipe(
        "mup",
        functools.partial(mup_rule, base_width=base_width, base_std=base_std),
        summary=(
            f"muP: hidden kernels 1/fan_in relative to width "
            f"{base_width}, zero readout (no learning rates)"
        ),
        source="microsoft/mup (mup/init.py, mup/layer.py)",
        formulas={
            "embedding": f"N(0, {base_std:g}^2)",
            **dict.fromkeys(
                _KERNELS + ("projection",),
                f"N(0, {base_std:g}^2 * {base_width}/d)",
            ),
            "bias": "0",
            "head": "0",
        },
    )


_TITAN_OUT = "N(0, (0.02/sqrt(2(l+1)))^2) cut at +-2"
# The finer roles torchtitan draws at the depth-scaled std: w3, the router
# and the experts' w3 and w2 (torchtitan/models/moe/moe.py `init_weights`).
_TITAN_SCALED = ("mlp_up", "router", "expert_up", "expert_out")
_DEEPNET = "N(0, (8L)^(-1/2) * 2/(fan_in+fan_out))"

BUILT_IN = (
    Recipe(
        "gpt2",
        gpt2_rule,
        summary="GPT-2: N(0, 0.02^2), residual outputs / sqrt(2L)",
        source="karpathy/nanoGPT (model.py)",
        formulas={
            **dict.fromkeys(_UNSCALED, "N(0, 0.02^2)"),
            **dict.fromkeys(_BRANCH_OUTPUTS, "N(0, (0.02/sqrt(2L))^2)"),
            **_BIASES_AND_NORMS,
        },
    ),
    Recipe(
        "gpt_neox",
        gpt_neox_rule,
        summary="GPT-NeoX: small_init, wang_init on residual outputs",
        source="EleutherAI/gpt-neox (megatron/model/init_functions.py)",
        formulas={
            **dict.fromkeys(_UNSCALED, "N(0, 2/(5d))"),
            **dict.fromkeys(_BRANCH_OUTPUTS, "N(0, (2/(L*sqrt(d)))^2)"),
            **_BIASES_AND_NORMS,
        },
    ),
    Recipe(
        "bert",
        bert_rule,
        summary="BERT: stddev 0.02 cut at 2 sd",
        source="google-research/bert (modeling.py)",
        formulas={
            **dict.fromkeys(
                _UNSCALED + _BRANCH_OUTPUTS, "N(0, 0.02^2) cut at 2 sd"
            ),
            **_BIASES_AND_NORMS,
        },
    ),
    Recipe(
        "olmo_mitchell",
        olmo_mitchell_rule,
        summary="OLMo 'mitchell': 1/sqrt(d), outputs scaled by layer",
        source="allenai/OLMo (olmo/model.py, olmo/initialization.py)",
        formulas={
            **dict.fromkeys(_UNSCALED, "N(0, 1/d) cut at 3 sd"),
            "attention_output": "N(0, 1/(2d(l+1))) cut at 3 sd",
            "mlp_out": "N(0, 1/(2 fan_in (l+1))) cut at 3 sd",
            **_BIASES_AND_NORMS,
        },
    ),
    Recipe(
        "torchtitan_llama",
        torchtitan_llama_rule,
        summary="torchtitan Llama 3: 0.02, outputs 0.02/sqrt(2(l+1))",
        source="pytorch/torchtitan (torchtitan/models/llama3/__init__.py)",
        formulas={
            "embedding": "N(0, 1)",
            "attention_qkv": "N(0, 0.02^2) cut at +-2",
            "mlp_in": "N(0, 0.02^2) cut at +-2",
            "projection": "N(0, 0.02^2) cut at +-2",
            **dict.fromkeys(_BRANCH_OUTPUTS + _TITAN_SCALED, _TITAN_OUT),
            "head": "N(0, 1/d) cut at 3 sd",
            **_BIASES_AND_NORMS,
        },
    ),
    Recipe(
        "deepnet",
        deepnet_rule,
        summary="DeepNet: Xavier normal, (8L)^(-1/4) on v, out, MLP",
        source="microsoft/torchscale (torchscale/architecture/encoder.py)",
        formulas={
            "attention_qkv": "q, k: N(0, 2/(fan_in+fan_out)); v: " + _DEEPNET,
            **dict.fromkeys(_BRANCH_OUTPUTS + ("mlp_in",), _DEEPNET),
        },
    ),
    Recipe(
        "vit_jax",
        vit_jax_rule,
        summary="ViT (JAX): Xavier uniform per projection, zero head",
        source="google-research/vision_transformer (vit_jax/models_vit.py)",
        formulas={
            "embedding": "table: N(0, 0.02^2)",
            "patch": "LeCun normal",
            "class_token": "0",
            **dict.fromkeys(
                _KERNELS, "U(-a, a), a = sqrt(6/(fan_in+fan_out))"
            ),
            "projection": "LeCun normal",
            "head": "0",
            **_BIASES_AND_NORMS,
            "mlp_bias": "N(0, 1e-6^2)",
        },
    ),
    Recipe(
        "zero_init_residual",
        zero_init_residual_rule,
        summary="Zero the end (norm scale, else kernel) of each branch",
        source="pytorch/vision (torchvision/models/resnet.py)",
        formulas=dict.fromkeys(
            ("norm_scale",) + _BRANCH_OUTPUTS, "0 where it ends a branch"
        ),
    ),
    mup_recipe(),
)
