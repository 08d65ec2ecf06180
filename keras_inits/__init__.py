"""keras_inits: registered, serializable weight initializers for Keras 3.

Every initializer here runs on any Keras backend and is usable by name in a
layer argument, as `"keras_inits>HeNormal"`.

The package's public faces, one folder each (`__all__` lists each one's
names): `keras_inits.initializers` (every initializer, the base classes,
`get`/`serialize`/`deserialize`), `keras_inits.random` (seeds, portable
seeds, samplers), `keras_inits.recipes` (init recipes by role),
`keras_inits.model` (`reinitialize`, `lsuv`), `keras_inits.diagnostics`
(`describe`, histograms, `WeightStats`, signal propagation). The names
below are the ones most code needs, from those faces.
"""

# First, before the imports below load Keras: in the command line's process
# (`python -m keras_inits`, `keras-inits`), and only there, `_startup`
# answers --help without Keras and sets Keras' backend from --backend.
from keras_inits import _startup  # noqa: F401  (isort: skip)
from keras_inits import _moved
from keras_inits import recipes
from keras_inits.diagnostics import ModelDescription
from keras_inits.diagnostics import SignalCurve
from keras_inits.diagnostics import SignalReport
from keras_inits.diagnostics import VariableStats
from keras_inits.diagnostics import WeightStats
from keras_inits.diagnostics import describe
from keras_inits.diagnostics import plot_signal_propagation
from keras_inits.diagnostics import plot_weight_histograms
from keras_inits.diagnostics import signal_propagation
from keras_inits.initializers import ICNR
from keras_inits.initializers import STFT
from keras_inits.initializers import Bilinear
from keras_inits.initializers import BlockOrthogonal
from keras_inits.initializers import ClippedNormal
from keras_inits.initializers import Constant
from keras_inits.initializers import ConstantArray
from keras_inits.initializers import DeltaOrthogonal
from keras_inits.initializers import DepthScaled
from keras_inits.initializers import Dirac
from keras_inits.initializers import GlorotNormal
from keras_inits.initializers import GlorotUniform
from keras_inits.initializers import HeNormal
from keras_inits.initializers import HeUniform
from keras_inits.initializers import Identity
from keras_inits.initializers import Initializer
from keras_inits.initializers import KaimingNormal
from keras_inits.initializers import KaimingUniform
from keras_inits.initializers import LecunNormal
from keras_inits.initializers import LecunUniform
from keras_inits.initializers import Ones
from keras_inits.initializers import Orthogonal
from keras_inits.initializers import RandomInitializer
from keras_inits.initializers import RandomNormal
from keras_inits.initializers import RandomUniform
from keras_inits.initializers import Recommendation
from keras_inits.initializers import Sparse
from keras_inits.initializers import TruncatedNormal
from keras_inits.initializers import TruncatedNormalRange
from keras_inits.initializers import TruncatedNormalSigmas
from keras_inits.initializers import VarianceScaling
from keras_inits.initializers import ZerO
from keras_inits.initializers import Zeros
from keras_inits.initializers import calculate_gain
from keras_inits.initializers import compute_fans
from keras_inits.initializers import deserialize
from keras_inits.initializers import get
from keras_inits.initializers import recommend
from keras_inits.initializers import register
from keras_inits.initializers import serialize
from keras_inits.model import LayerReport
from keras_inits.model import LSUVReport
from keras_inits.model import ReinitializedVariable
from keras_inits.model import ReinitializeError
from keras_inits.model import ReinitializeReport
from keras_inits.model import lsuv
from keras_inits.model import reinitialize
from keras_inits.random import PortableSeed
from keras_inits.random import is_portable
from keras_inits.random import set_portable

__version__ = "0.1.0"

__all__ = [
    "ICNR",
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

# The flat layout's module paths (`keras_inits.samplers`, ...), deprecated.
_moved.install()


def __getattr__(name):
    # `keras_inits.samplers` without an import of it: the old path, which
    # warns.
    return _moved.moved_module(name)
