"""The path of each variable in every table keras_inits prints: Keras'
`variable.path`, made unique.

`reinitialize`'s report, `recipes.plan` and the roles a recipe finds all
name variables with `variable_paths`, from the same ordered list, so that
a path means the same variable in each of them.
"""

from collections.abc import Iterable

import keras


def variable_paths(variables: Iterable[keras.Variable]) -> dict[int, str]:
    """`{id(variable): path}` for `variables`, each once, in order.

    A path is Keras' `variable.path`. Keras gives two variables the same
    path when same-named layers sit in separately built sub-models; the
    later ones get `#2`, `#3`, in the order of `variables` (callers pass
    `model.weights` first, so the suffixes do not depend on who asks).

    Examples:

        >>> import collections
        >>> from keras_inits._internal.paths import variable_paths
        >>> Variable = collections.namedtuple("Variable", "path")
        >>> a, b = Variable("a/kernel"), Variable("a/kernel")
        >>> list(variable_paths([a, b, a]).values())
        ['a/kernel', 'a/kernel#2']
    """
    paths = {}
    counts = {}  # Keras path -> variables so far that have it
    for variable in variables:
        if id(variable) in paths:
            continue
        count = counts[variable.path] = counts.get(variable.path, 0) + 1
        paths[id(variable)] = (
            variable.path if count == 1 else f"{variable.path}#{count}"
        )
    return paths
