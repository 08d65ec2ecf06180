"""The initializers: every `keras_inits>Name` class, the base classes to
write your own, and the serialization layer (`get`, `serialize`,
`deserialize`).

Each initializer is a `keras.initializers.Initializer` registered as
`keras_inits>ClassName`, usable by name in a layer argument and saved with
the model. The families: constants (`Zeros`, `Ones`, `Constant`,
`ConstantArray`, `Identity`), fixed distributions (`RandomNormal`,
`RandomUniform`, `TruncatedNormal` and its bounded variants), variance
scaling (`VarianceScaling`, Glorot, He, LeCun, PyTorch's Kaiming with
`calculate_gain`), orthogonal (`Orthogonal`, `BlockOrthogonal`),
convolution kernels (`Dirac`, `DeltaOrthogonal`, `ICNR`, `Bilinear`),
depth (`DepthScaled`, `ZerO`), `Sparse` and `STFT`. `recommend` gives the
usual one for an activation.

To write your own, subclass `RandomInitializer` (draw with the samplers of
`keras_inits.random`) or `Initializer`, check arguments with
`check_number`, `check_positive`, `check_count` and `check_choice` (the
wording of keras_inits' own errors), and `register` the class under your
project's name.

Examples:

    >>> from keras_inits import initializers
    >>> layer = keras.layers.Dense(4, kernel_initializer=initializers.HeNormal())
    >>> initializers.get("he_normal")
    HeNormal()
"""

from keras_inits._internal.checks import argument_error
from keras_inits._internal.checks import check_choice
from keras_inits._internal.checks import check_count
from keras_inits._internal.checks import check_number
from keras_inits._internal.checks import check_positive
from keras_inits.initializers._base import MAX_NESTING
from keras_inits.initializers._base import Initializer
from keras_inits.initializers._base import RandomInitializer
from keras_inits.initializers._base import compute_fans
from keras_inits.initializers._bounded_normal import ClippedNormal
from keras_inits.initializers._bounded_normal import TruncatedNormalRange
from keras_inits.initializers._bounded_normal import TruncatedNormalSigmas
from keras_inits.initializers._constant import Constant
from keras_inits.initializers._constant import ConstantArray
from keras_inits.initializers._constant import Identity
from keras_inits.initializers._constant import Ones
from keras_inits.initializers._constant import Zeros
from keras_inits.initializers._convolution import ICNR
from keras_inits.initializers._convolution import Bilinear
from keras_inits.initializers._convolution import DeltaOrthogonal
from keras_inits.initializers._convolution import Dirac
from keras_inits.initializers._depth import DepthScaled
from keras_inits.initializers._depth import ZerO
from keras_inits.initializers._gain import KaimingNormal
from keras_inits.initializers._gain import KaimingUniform
from keras_inits.initializers._gain import calculate_gain
from keras_inits.initializers._names import equivalent_class
from keras_inits.initializers._names import name_table
from keras_inits.initializers._orthogonal import BlockOrthogonal
from keras_inits.initializers._orthogonal import Orthogonal
from keras_inits.initializers._random import RandomNormal
from keras_inits.initializers._random import RandomUniform
from keras_inits.initializers._random import TruncatedNormal
from keras_inits.initializers._recommend import Recommendation
from keras_inits.initializers._recommend import recommend
from keras_inits.initializers._registration import register
from keras_inits.initializers._serialization import InitializerLike
from keras_inits.initializers._serialization import deserialize
from keras_inits.initializers._serialization import get
from keras_inits.initializers._serialization import serialize
from keras_inits.initializers._sparse import Sparse
from keras_inits.initializers._spectral import STFT
from keras_inits.initializers._variance_scaling import GlorotNormal
from keras_inits.initializers._variance_scaling import GlorotUniform
from keras_inits.initializers._variance_scaling import HeNormal
from keras_inits.initializers._variance_scaling import HeUniform
from keras_inits.initializers._variance_scaling import LecunNormal
from keras_inits.initializers._variance_scaling import LecunUniform
from keras_inits.initializers._variance_scaling import VarianceScaling

__all__ = [
    "ICNR",
    "MAX_NESTING",
    "STFT",
    "Bilinear",
    "BlockOrthogonal",
    "ClippedNormal",
    "Constant",
    "ConstantArray",
    "DeltaOrthogonal",
    "DepthScaled",
    "Dirac",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "InitializerLike",
    "KaimingNormal",
    "KaimingUniform",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "Recommendation",
    "Sparse",
    "TruncatedNormal",
    "TruncatedNormalRange",
    "TruncatedNormalSigmas",
    "VarianceScaling",
    "ZerO",
    "Zeros",
    "argument_error",
    "calculate_gain",
    "check_choice",
    "check_count",
    "check_number",
    "check_positive",
    "compute_fans",
    "deserialize",
    "equivalent_class",
    "get",
    "name_table",
    "recommend",
    "register",
    "serialize",
]
