"""Model-wide initialization: `reinitialize` re-draws every weight of a
built model from its own initializers (or from a recipe), all or nothing,
and reports what it did (`drawn_from` recalls, per variable, the
recipe's initializer it last drew); `lsuv` rescales a model's kernels to unit
variance on a batch of data.

Examples:

    >>> import keras_inits
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(3, name="out")], name="mlp")
    >>> report = keras_inits.model.reinitialize(model, seed=0)
    >>> [row.path for row in report]
    ['mlp/out/kernel', 'mlp/out/bias']
"""

from keras_inits.model._drawn import DrawnFrom
from keras_inits.model._drawn import drawn_from
from keras_inits.model._lsuv import LayerReport
from keras_inits.model._lsuv import LSUVReport
from keras_inits.model._lsuv import lsuv
from keras_inits.model._reinitialize import reinitialize
from keras_inits.model._report import ReinitializedVariable
from keras_inits.model._report import ReinitializeError
from keras_inits.model._report import ReinitializeReport
from keras_inits.model._selection import LayerSelection

__all__ = [
    "DrawnFrom",
    "LSUVReport",
    "LayerReport",
    "LayerSelection",
    "ReinitializeError",
    "ReinitializeReport",
    "ReinitializedVariable",
    "drawn_from",
    "lsuv",
    "reinitialize",
]
