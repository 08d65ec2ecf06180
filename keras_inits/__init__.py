"""keras_inits: registered, serializable weight initializers for Keras 3.

Every initializer here runs on any Keras backend and is usable by name in a
layer argument, as `"keras_inits>HeNormal"`.
"""

# First, before the imports below load Keras: in the command line's process
# (`python -m keras_inits`, `keras-inits`), and only there, `startup`
# answers --help without Keras and sets Keras' backend from --backend.
from keras_inits import startup  # noqa: F401
from keras_inits.base import Initializer
from keras_inits.base import RandomInitializer
from keras_inits.base import compute_fans
from keras_inits.registration import register
from keras_inits.bounded_normal import ClippedNormal
from keras_inits.bounded_normal import TruncatedNormalRange
from keras_inits.bounded_normal import TruncatedNormalSigmas
from keras_inits.spectral import STFT
from keras_inits.constant_initializers import Constant
from keras_inits.constant_initializers import Identity
from keras_inits.constant_initializers import Ones
from keras_inits.constant_initializers import Zeros
from keras_inits.convolution import ICNR
from keras_inits.convolution import Bilinear
from keras_inits.convolution import DeltaOrthogonal
from keras_inits.convolution import Dirac
from keras_inits.depth import DepthScaled
from keras_inits.depth import ZerO
from keras_inits.diagnostics import ModelDescription
from keras_inits.diagnostics import VariableStats
from keras_inits.diagnostics import describe
from keras_inits.diagnostics import plot_weight_histograms
from keras_inits.gain import KaimingNormal
from keras_inits.gain import KaimingUniform
from keras_inits.gain import calculate_gain
from keras_inits.lsuv import LayerReport
from keras_inits.lsuv import LSUVReport
from keras_inits.lsuv import lsuv
from keras_inits.orthogonal import BlockOrthogonal
from keras_inits.orthogonal import Orthogonal
from keras_inits.portable import PortableSeed
from keras_inits.portable import is_portable
from keras_inits.portable import set_portable
from keras_inits.propagation import SignalCurve
from keras_inits.propagation import SignalReport
from keras_inits.propagation import plot_signal_propagation
from keras_inits.propagation import signal_propagation
from keras_inits.random_initializers import RandomNormal
from keras_inits.random_initializers import RandomUniform
from keras_inits.random_initializers import TruncatedNormal
from keras_inits.recommend import Recommendation
from keras_inits.recommend import recommend
from keras_inits import recipes
from keras_inits.reinitialize import reinitialize
from keras_inits.reinitialize_report import ReinitializedVariable
from keras_inits.reinitialize_report import ReinitializeError
from keras_inits.reinitialize_report import ReinitializeReport
from keras_inits.constant_initializers import ConstantArray
from keras_inits.serialization import deserialize
from keras_inits.serialization import get
from keras_inits.serialization import serialize
from keras_inits.sparse import Sparse
from keras_inits.variance_scaling import GlorotNormal
from keras_inits.variance_scaling import GlorotUniform
from keras_inits.variance_scaling import HeNormal
from keras_inits.variance_scaling import HeUniform
from keras_inits.variance_scaling import LecunNormal
from keras_inits.variance_scaling import LecunUniform
from keras_inits.variance_scaling import VarianceScaling
from keras_inits.weight_stats import WeightStats

__version__ = "0.1.0"

__all__ = [
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
    "ICNR",
    "Identity",
    "Initializer",
    "KaimingNormal",
    "KaimingUniform",
    "LSUVReport",
    "LayerReport",
    "LecunNormal",
    "LecunUniform",
    "ModelDescription",
    "Ones",
    "Orthogonal",
    "PortableSeed",
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "Recommendation",
    "ReinitializeError",
    "ReinitializeReport",
    "ReinitializedVariable",
    "STFT",
    "SignalCurve",
    "SignalReport",
    "Sparse",
    "TruncatedNormal",
    "TruncatedNormalRange",
    "TruncatedNormalSigmas",
    "VariableStats",
    "VarianceScaling",
    "WeightStats",
    "ZerO",
    "Zeros",
    "calculate_gain",
    "compute_fans",
    "describe",
    "deserialize",
    "get",
    "is_portable",
    "lsuv",
    "plot_signal_propagation",
    "plot_weight_histograms",
    "recipes",
    "recommend",
    "register",
    "reinitialize",
    "serialize",
    "set_portable",
    "signal_propagation",
]
