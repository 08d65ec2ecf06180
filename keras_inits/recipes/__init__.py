"""Init recipes: the published initialization of a whole model, by role.

A recipe gives each variable of a model an initializer from its role
(`ROLES`: `embedding`, `attention_qkv`, ...), its block and the model's
depth and width, as GPT-2, BERT or Llama are initialized.
`keras_inits.reinitialize(model, recipe="gpt2", seed=0)` applies one;
`plan(model, "gpt2")` shows what it would do, changing nothing. The
recipes that come with the package (`names()`) are each checked against
their reference code; `register` adds your own, a rule from each
variable's `Slot` to an initializer.

Examples:

    >>> from keras_inits import recipes
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(2, name="out")], name="mlp")
    >>> recipes.plan(model, "gpt2")["mlp/out/kernel"].role
    'head'
"""

import warnings

from keras_inits._internal.naming import initializer_name
from keras_inits.recipes._book import mup_recipe
from keras_inits.recipes._recipe import Recipe
from keras_inits.recipes._recipe import Rule
from keras_inits.recipes._registry import PlannedVariable
from keras_inits.recipes._registry import RecipePlan
from keras_inits.recipes._registry import get
from keras_inits.recipes._registry import names
from keras_inits.recipes._registry import plan
from keras_inits.recipes._registry import register
from keras_inits.recipes._roles import ROLES
from keras_inits.recipes._roles import SUBROLES
from keras_inits.recipes._roles import Slot

__all__ = [
    "ROLES",
    "SUBROLES",
    "PlannedVariable",
    "Recipe",
    "RecipePlan",
    "Rule",
    "Slot",
    "get",
    "mup_recipe",
    "names",
    "plan",
    "register",
]


def describe(initializer):
    """Deprecated, and removed in 0.2.0: an initializer's name, as
    plans show it. `repr(initializer)` gives it for keras_inits'
    initializers; `keras_inits.describe` describes a model."""
    warnings.warn(
        "keras_inits.recipes.describe is deprecated and will be removed in "
        "0.2.0: it collided with keras_inits.describe (a model's weights). "
        "repr(initializer) gives the same name.",
        DeprecationWarning,
        stacklevel=2,
    )
    return initializer_name(initializer)
