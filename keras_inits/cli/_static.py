"""The command line's tables, as plain data: what `list`, `recipes` and
`recommend` print, and what `compare`'s arguments are checked against
before Keras loads (which takes seconds, and may import TensorFlow).

Written out from the live registries of keras_inits and Keras 3.15:
`tests/cli/test_cli_static.py` rebuilds each table from them and fails
when one differs, printing the table to paste here. Only the built-in
names are here: an initializer or recipe registered by a user's own module
exists only in the process that imports it, which the command line is not.
Imports nothing.
"""

# Every spelling `keras_inits.get` takes for a built-in initializer (ours,
# in class, snake case and registered spellings; Keras' own and its
# aliases), and the canonical name it resolves to.

SPELLINGS = {
    "Bilinear": "keras_inits>Bilinear",
    "BlockOrthogonal": "keras_inits>BlockOrthogonal",
    "ClippedNormal": "keras_inits>ClippedNormal",
    "Constant": "keras_inits>Constant",
    "ConstantArray": "keras_inits>ConstantArray",
    "DeltaOrthogonal": "keras_inits>DeltaOrthogonal",
    "DepthScaled": "keras_inits>DepthScaled",
    "Dirac": "keras_inits>Dirac",
    "GlorotNormal": "keras_inits>GlorotNormal",
    "GlorotUniform": "keras_inits>GlorotUniform",
    "HeNormal": "keras_inits>HeNormal",
    "HeUniform": "keras_inits>HeUniform",
    "ICNR": "keras_inits>ICNR",
    "Identity": "keras_inits>Identity",
    "IdentityInitializer": "keras_inits>Identity",
    "KaimingNormal": "keras_inits>KaimingNormal",
    "KaimingUniform": "keras_inits>KaimingUniform",
    "LecunNormal": "keras_inits>LecunNormal",
    "LecunUniform": "keras_inits>LecunUniform",
    "Ones": "keras_inits>Ones",
    "Orthogonal": "keras_inits>Orthogonal",
    "OrthogonalInitializer": "keras_inits>Orthogonal",
    "RandomNormal": "keras_inits>RandomNormal",
    "RandomUniform": "keras_inits>RandomUniform",
    "STFT": "keras_inits>STFT",
    "STFTInitializer": "keras_inits>STFT",
    "Sparse": "keras_inits>Sparse",
    "TruncatedNormal": "keras_inits>TruncatedNormal",
    "TruncatedNormalRange": "keras_inits>TruncatedNormalRange",
    "TruncatedNormalSigmas": "keras_inits>TruncatedNormalSigmas",
    "VarianceScaling": "keras_inits>VarianceScaling",
    "ZerO": "keras_inits>ZerO",
    "Zeros": "keras_inits>Zeros",
    "bilinear": "keras_inits>Bilinear",
    "block_orthogonal": "keras_inits>BlockOrthogonal",
    "clipped_normal": "keras_inits>ClippedNormal",
    "constant": "keras_inits>Constant",
    "constant_array": "keras_inits>ConstantArray",
    "delta_orthogonal": "keras_inits>DeltaOrthogonal",
    "depth_scaled": "keras_inits>DepthScaled",
    "dirac": "keras_inits>Dirac",
    "glorot_normal": "keras_inits>GlorotNormal",
    "glorot_uniform": "keras_inits>GlorotUniform",
    "he_normal": "keras_inits>HeNormal",
    "he_uniform": "keras_inits>HeUniform",
    "icnr": "keras_inits>ICNR",
    "identity": "keras_inits>Identity",
    "kaiming_normal": "keras_inits>KaimingNormal",
    "kaiming_uniform": "keras_inits>KaimingUniform",
    "keras_inits>Bilinear": "keras_inits>Bilinear",
    "keras_inits>BlockOrthogonal": "keras_inits>BlockOrthogonal",
    "keras_inits>ClippedNormal": "keras_inits>ClippedNormal",
    "keras_inits>Constant": "keras_inits>Constant",
    "keras_inits>ConstantArray": "keras_inits>ConstantArray",
    "keras_inits>DeltaOrthogonal": "keras_inits>DeltaOrthogonal",
    "keras_inits>DepthScaled": "keras_inits>DepthScaled",
    "keras_inits>Dirac": "keras_inits>Dirac",
    "keras_inits>GlorotNormal": "keras_inits>GlorotNormal",
    "keras_inits>GlorotUniform": "keras_inits>GlorotUniform",
    "keras_inits>HeNormal": "keras_inits>HeNormal",
    "keras_inits>HeUniform": "keras_inits>HeUniform",
    "keras_inits>ICNR": "keras_inits>ICNR",
    "keras_inits>Identity": "keras_inits>Identity",
    "keras_inits>KaimingNormal": "keras_inits>KaimingNormal",
    "keras_inits>KaimingUniform": "keras_inits>KaimingUniform",
    "keras_inits>LecunNormal": "keras_inits>LecunNormal",
    "keras_inits>LecunUniform": "keras_inits>LecunUniform",
    "keras_inits>Ones": "keras_inits>Ones",
    "keras_inits>Orthogonal": "keras_inits>Orthogonal",
    "keras_inits>RandomNormal": "keras_inits>RandomNormal",
    "keras_inits>RandomUniform": "keras_inits>RandomUniform",
    "keras_inits>STFT": "keras_inits>STFT",
    "keras_inits>Sparse": "keras_inits>Sparse",
    "keras_inits>TruncatedNormal": "keras_inits>TruncatedNormal",
    "keras_inits>TruncatedNormalRange": "keras_inits>TruncatedNormalRange",
    "keras_inits>TruncatedNormalSigmas": "keras_inits>TruncatedNormalSigmas",
    "keras_inits>VarianceScaling": "keras_inits>VarianceScaling",
    "keras_inits>ZerO": "keras_inits>ZerO",
    "keras_inits>Zeros": "keras_inits>Zeros",
    "lecun_normal": "keras_inits>LecunNormal",
    "lecun_uniform": "keras_inits>LecunUniform",
    "normal": "keras_inits>RandomNormal",
    "one": "keras_inits>Ones",
    "ones": "keras_inits>Ones",
    "orthogonal": "keras_inits>Orthogonal",
    "random_normal": "keras_inits>RandomNormal",
    "random_uniform": "keras_inits>RandomUniform",
    "sparse": "keras_inits>Sparse",
    "stft": "keras_inits>STFT",
    "truncated_normal": "keras_inits>TruncatedNormal",
    "truncated_normal_range": "keras_inits>TruncatedNormalRange",
    "truncated_normal_sigmas": "keras_inits>TruncatedNormalSigmas",
    "uniform": "keras_inits>RandomUniform",
    "variance_scaling": "keras_inits>VarianceScaling",
    "zer_o": "keras_inits>ZerO",
    "zero": "keras_inits>Zeros",
    "zeros": "keras_inits>Zeros",
}

# The keyword arguments of each canonical name's constructor; None where it
# takes any (`**kwargs`).
PARAMETERS = {
    "keras_inits>Bilinear": None,
    "keras_inits>BlockOrthogonal": ("blocks", "gain", "seed"),
    "keras_inits>ClippedNormal": ("mean", "stddev", "sigmas", "seed"),
    "keras_inits>Constant": ("value",),
    "keras_inits>ConstantArray": ("value",),
    "keras_inits>DeltaOrthogonal": ("gain", "seed"),
    "keras_inits>DepthScaled": (
        "initializer",
        "depth",
        "rule",
        "branch_layers",
    ),
    "keras_inits>Dirac": ("groups",),
    "keras_inits>GlorotNormal": ("seed", "input_axes", "output_axes"),
    "keras_inits>GlorotUniform": ("seed", "input_axes", "output_axes"),
    "keras_inits>HeNormal": ("seed", "input_axes", "output_axes"),
    "keras_inits>HeUniform": ("seed", "input_axes", "output_axes"),
    "keras_inits>ICNR": ("initializer", "scale", "data_format"),
    "keras_inits>Identity": ("gain",),
    "keras_inits>KaimingNormal": (
        "negative_slope",
        "mode",
        "nonlinearity",
        "seed",
        "input_axes",
        "output_axes",
    ),
    "keras_inits>KaimingUniform": (
        "negative_slope",
        "mode",
        "nonlinearity",
        "seed",
        "input_axes",
        "output_axes",
    ),
    "keras_inits>LecunNormal": ("seed", "input_axes", "output_axes"),
    "keras_inits>LecunUniform": ("seed", "input_axes", "output_axes"),
    "keras_inits>Ones": None,
    "keras_inits>Orthogonal": ("gain", "seed", "column_axis"),
    "keras_inits>RandomNormal": ("mean", "stddev", "seed"),
    "keras_inits>RandomUniform": ("minval", "maxval", "seed"),
    "keras_inits>STFT": ("side", "window", "scaling", "periodic"),
    "keras_inits>Sparse": ("sparsity", "stddev", "seed"),
    "keras_inits>TruncatedNormal": ("mean", "stddev", "seed"),
    "keras_inits>TruncatedNormalRange": (
        "mean",
        "stddev",
        "minval",
        "maxval",
        "seed",
    ),
    "keras_inits>TruncatedNormalSigmas": (
        "stddev",
        "lower",
        "upper",
        "mean",
        "seed",
    ),
    "keras_inits>VarianceScaling": (
        "scale",
        "mode",
        "distribution",
        "seed",
        "input_axes",
        "output_axes",
    ),
    "keras_inits>ZerO": None,
    "keras_inits>Zeros": None,
}

# `list`: keras_inits' initializers as (name, family, summary), the family
# being the private module's name; then the other names `compare` and
# `keras_inits.get` take, as (name, what it is).
INITIALIZERS = (
    (
        "Bilinear",
        "convolution",
        "Conv2DTranspose kernel that upsamples by bilinear interpolation.",
    ),
    (
        "BlockOrthogonal",
        "orthogonal",
        "Initializer that makes each block of columns orthogonal on its own.",
    ),
    (
        "ClippedNormal",
        "bounded_normal",
        "Normal values clipped (not redrawn) at `sigmas` standard deviations.",
    ),
    (
        "Constant",
        "constant",
        "Initializer that fills a tensor with `value`, a number or an array.",
    ),
    (
        "ConstantArray",
        "constant",
        "Initializer that returns a fixed array, for its own shape only.",
    ),
    (
        "DeltaOrthogonal",
        "convolution",
        "Convolution kernel that is orthogonal at its centre and 0 elsewhere.",
    ),
    (
        "DepthScaled",
        "depth",
        "Any initializer, scaled by a factor that shrinks with the depth.",
    ),
    (
        "Dirac",
        "convolution",
        "Convolution kernel that passes its input through (the Dirac delta).",
    ),
    (
        "GlorotNormal",
        "variance_scaling",
        "Glorot (Xavier) normal initializer.",
    ),
    (
        "GlorotUniform",
        "variance_scaling",
        "Glorot (Xavier) uniform initializer, Keras' default for kernels.",
    ),
    (
        "HeNormal",
        "variance_scaling",
        "He (Kaiming) normal initializer, for ReLU networks.",
    ),
    (
        "HeUniform",
        "variance_scaling",
        "He (Kaiming) uniform initializer, for ReLU networks.",
    ),
    (
        "ICNR",
        "convolution",
        "Sub-pixel convolution kernel without checkerboard artefacts (ICNR).",
    ),
    (
        "Identity",
        "constant",
        "Initializer that generates `gain` times the identity matrix.",
    ),
    (
        "KaimingNormal",
        "gain",
        "Kaiming normal initializer with PyTorch's arguments, untruncated.",
    ),
    (
        "KaimingUniform",
        "gain",
        "Kaiming uniform initializer with PyTorch's arguments.",
    ),
    (
        "LecunNormal",
        "variance_scaling",
        "LeCun normal initializer, for SELU networks.",
    ),
    ("LecunUniform", "variance_scaling", "LeCun uniform initializer."),
    ("Ones", "constant", "Initializer that fills a tensor with 1."),
    (
        "Orthogonal",
        "orthogonal",
        "Initializer that generates a (semi-)orthogonal matrix.",
    ),
    (
        "RandomNormal",
        "random",
        "Initializer that draws from a normal distribution.",
    ),
    (
        "RandomUniform",
        "random",
        "Initializer that draws from a uniform distribution.",
    ),
    (
        "STFT",
        "spectral",
        "Convolution kernel that computes a short-time Fourier transform.",
    ),
    (
        "Sparse",
        "sparse",
        "Kernel in which every output unit has the same number of zero weights.",
    ),
    (
        "TruncatedNormal",
        "random",
        "Initializer that draws from a normal distribution truncated at 2 sigma.",
    ),
    (
        "TruncatedNormalRange",
        "bounded_normal",
        "Normal distribution truncated to absolute bounds `[minval, maxval]`.",
    ),
    (
        "TruncatedNormalSigmas",
        "bounded_normal",
        "Normal distribution truncated at bounds in standard deviations.",
    ),
    (
        "VarianceScaling",
        "variance_scaling",
        "Initializer whose variance adapts to the fans of the weight.",
    ),
    (
        "ZerO",
        "depth",
        "ZerO: deterministic kernel of zeros, ones and a scaled Hadamard matrix.",
    ),
    ("Zeros", "constant", "Initializer that fills a tensor with 0."),
)

OTHER_NAMES = (
    ("IdentityInitializer", "alias of Identity"),
    (
        "LSUV",
        "compare only: Orthogonal, then keras_inits.lsuv on training images",
    ),
    ("OrthogonalInitializer", "alias of Orthogonal"),
    ("STFTInitializer", "alias of STFT"),
)

# `recipes`: the built-in recipes as (name, summary, source), in
# `keras_inits.recipes.names()`'s order.
RECIPES = (
    (
        "gpt2",
        "GPT-2: N(0, 0.02^2), residual outputs / sqrt(2L)",
        "karpathy/nanoGPT (model.py)",
    ),
    (
        "gpt_neox",
        "GPT-NeoX: small_init, wang_init on residual outputs",
        "EleutherAI/gpt-neox (megatron/model/init_functions.py)",
    ),
    (
        "bert",
        "BERT: stddev 0.02 cut at 2 sd",
        "google-research/bert (modeling.py)",
    ),
    (
        "olmo_mitchell",
        "OLMo 'mitchell': 1/sqrt(d), outputs scaled by layer",
        "allenai/OLMo (olmo/model.py, olmo/initialization.py)",
    ),
    (
        "torchtitan_llama",
        "torchtitan Llama 3: 0.02, outputs 0.02/sqrt(2(l+1))",
        "pytorch/torchtitan (torchtitan/models/llama3/__init__.py)",
    ),
    (
        "deepnet",
        "DeepNet: Xavier normal, (8L)^(-1/4) on v, out, MLP",
        "microsoft/torchscale (torchscale/architecture/encoder.py)",
    ),
    (
        "vit_jax",
        "ViT (JAX): Xavier uniform per projection, zero head",
        "google-research/vision_transformer (vit_jax/models_vit.py)",
    ),
    (
        "zero_init_residual",
        "Zero the end (norm scale, else kernel) of each branch",
        "pytorch/vision (torchvision/models/resnet.py)",
    ),
    (
        "mup",
        "muP: hidden kernels 1/fan_in relative to width 256, zero readout (no "
        "learning rates)",
        "microsoft/mup (mup/init.py, mup/layer.py)",
    ),
)

# The activation names `keras.activations.get` takes.
ACTIVATIONS = (
    "celu",
    "elu",
    "exponential",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
)

# `recommend`: (initializer, reason) for each activation it knows, and
# for a recurrent kernel.
RECOMMENDATIONS = {
    "celu": (
        "HeNormal",
        "celu zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "elu": (
        "HeNormal",
        "elu zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "gelu": (
        "HeNormal",
        "gelu zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "hard_sigmoid": (
        "GlorotUniform",
        "hard_sigmoid is linear near 0, so Glorot and Bengio's "
        "variance 2 / (fan_in + fan_out) keeps the variance of both "
        "the activations and the gradients (GlorotUniform, Keras' "
        "default kernel initializer).",
    ),
    "hard_silu": (
        "HeNormal",
        "hard_silu zeroes (or nearly zeroes) half of its inputs, "
        "halving the variance each layer passes on; He et al.'s "
        "variance 2 / fan_in makes up for it (HeNormal: truncated "
        "normal, as Keras'; KaimingNormal(negative_slope=a) is the "
        "exact gain of a leaky ReLU of slope a).",
    ),
    "hard_swish": (
        "HeNormal",
        "hard_swish zeroes (or nearly zeroes) half of its inputs, "
        "halving the variance each layer passes on; He et al.'s "
        "variance 2 / fan_in makes up for it (HeNormal: truncated "
        "normal, as Keras'; KaimingNormal(negative_slope=a) is the "
        "exact gain of a leaky ReLU of slope a).",
    ),
    "hard_tanh": (
        "GlorotUniform",
        "hard_tanh is linear near 0, so Glorot and Bengio's variance 2 "
        "/ (fan_in + fan_out) keeps the variance of both the "
        "activations and the gradients (GlorotUniform, Keras' default "
        "kernel initializer).",
    ),
    "leaky_relu": (
        "HeNormal",
        "leaky_relu zeroes (or nearly zeroes) half of its inputs, "
        "halving the variance each layer passes on; He et al.'s "
        "variance 2 / fan_in makes up for it (HeNormal: truncated "
        "normal, as Keras'; KaimingNormal(negative_slope=a) is the "
        "exact gain of a leaky ReLU of slope a).",
    ),
    "linear": (
        "GlorotUniform",
        "linear is linear near 0, so Glorot and Bengio's variance 2 / "
        "(fan_in + fan_out) keeps the variance of both the activations "
        "and the gradients (GlorotUniform, Keras' default kernel "
        "initializer).",
    ),
    "log_softmax": (
        "GlorotUniform",
        "log_softmax is linear near 0, so Glorot and Bengio's "
        "variance 2 / (fan_in + fan_out) keeps the variance of both "
        "the activations and the gradients (GlorotUniform, Keras' "
        "default kernel initializer).",
    ),
    "mish": (
        "HeNormal",
        "mish zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "relu": (
        "HeNormal",
        "relu zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "relu6": (
        "HeNormal",
        "relu6 zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "selu": (
        "LecunNormal",
        "selu is self-normalizing only with LeCun normal weights, variance "
        "1 / fan_in (Klambauer et al. 2017).",
    ),
    "sigmoid": (
        "GlorotUniform",
        "sigmoid is linear near 0, so Glorot and Bengio's variance 2 / "
        "(fan_in + fan_out) keeps the variance of both the activations "
        "and the gradients (GlorotUniform, Keras' default kernel "
        "initializer).",
    ),
    "silu": (
        "HeNormal",
        "silu zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "softmax": (
        "GlorotUniform",
        "softmax is linear near 0, so Glorot and Bengio's variance 2 / "
        "(fan_in + fan_out) keeps the variance of both the activations "
        "and the gradients (GlorotUniform, Keras' default kernel "
        "initializer).",
    ),
    "softplus": (
        "HeNormal",
        "softplus zeroes (or nearly zeroes) half of its inputs, halving "
        "the variance each layer passes on; He et al.'s variance 2 / "
        "fan_in makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky "
        "ReLU of slope a).",
    ),
    "softsign": (
        "GlorotUniform",
        "softsign is linear near 0, so Glorot and Bengio's variance 2 / "
        "(fan_in + fan_out) keeps the variance of both the activations "
        "and the gradients (GlorotUniform, Keras' default kernel "
        "initializer).",
    ),
    "swish": (
        "HeNormal",
        "swish zeroes (or nearly zeroes) half of its inputs, halving the "
        "variance each layer passes on; He et al.'s variance 2 / fan_in "
        "makes up for it (HeNormal: truncated normal, as Keras'; "
        "KaimingNormal(negative_slope=a) is the exact gain of a leaky ReLU "
        "of slope a).",
    ),
    "tanh": (
        "GlorotUniform",
        "tanh is linear near 0, so Glorot and Bengio's variance 2 / (fan_in "
        "+ fan_out) keeps the variance of both the activations and the "
        "gradients (GlorotUniform, Keras' default kernel initializer).",
    ),
}

RECURRENT = (
    "Orthogonal",
    "A recurrent kernel is applied at every time step; an orthogonal matrix "
    "keeps all its singular values at 1, so the state neither explodes nor "
    "vanishes through time (Orthogonal, Keras' default recurrent_initializer; "
    "use BlockOrthogonal for one orthogonal block per gate).",
)

# `compare`: LSUV, which it takes as an initializer name.
LSUV = "LSUV"  # compare only: Orthogonal, then keras_inits.lsuv

# The initializers of convolution kernels only: each refuses a tensor of
# rank 2, and so the Dense kernels of `compare`'s MLP.
CONVOLUTION_ONLY = (
    "keras_inits>Bilinear",
    "keras_inits>DeltaOrthogonal",
    "keras_inits>Dirac",
    "keras_inits>ICNR",
    "keras_inits>STFT",
)
