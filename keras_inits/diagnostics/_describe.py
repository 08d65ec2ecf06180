"""`describe`: each variable of a model, its initializer and its values;
and `expected_std`, the standard deviation an initializer promises.

Each variable's initializer is found as `reinitialize` finds it (a twin of
its layer rebuilt inside a `StatelessScope`), or is the recipe's that
`reinitialize` last drew it from (`keras_inits.model.drawn_from`), so the
table can set the values a model holds beside the standard deviation its
initializer promises for that shape. pandas is imported only by
`to_dataframe`.
"""

import dataclasses
import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import SupportsFloat

import keras
import numpy as np

from keras_inits._internal import checks
from keras_inits._internal import keras_internals
from keras_inits._internal import tables
from keras_inits._internal import variable_initializers
from keras_inits._internal.naming import initializer_name
from keras_inits._internal.paths import variable_paths
from keras_inits._internal.tables import number_cell
from keras_inits._internal.variable_initializers import Found
from keras_inits.initializers import Initializer
from keras_inits.initializers import compute_fans
from keras_inits.initializers import equivalent_class
from keras_inits.model import drawn_from


@dataclasses.dataclass(frozen=True)
class VariableStats:
    """One row of `describe`: a variable, its initializer and its values."""

    path: str
    shape: tuple
    initializer: str
    fan_in: int
    fan_out: int
    mean: float
    std: float
    min: float
    max: float
    expected_std: float  # NaN when the initializer promises no std
    # Where `initializer` comes from: "layer config", or "recipe NAME"
    # when `reinitialize` last drew the variable from that recipe's.
    source: str = "layer config"


class ModelDescription(tables.RowTable[VariableStats]):
    """What `describe` returns: prints as a table, indexable by path.

    Attributes:
        rows: one `VariableStats` per variable, in the model's order.
    """

    def __init__(self, name: str, rows: list[VariableStats]):
        self.name = name
        self.rows = list(rows)

    def __repr__(self):
        return f"<ModelDescription of {self.name}: {len(self.rows)} variables>"

    def __str__(self):
        # The source column only once a recipe set a variable: until
        # then every row describes its layer's configuration.
        sources = any(r.source != _LAYER_CONFIG for r in self.rows)
        header = (
            "path",
            "shape",
            "initializer",
            *(("from",) if sources else ()),
            "fan_in",
            "fan_out",
            "mean",
            "std",
            "min",
            "max",
            "expected std",
        )
        rows = [
            (
                r.path,
                str(r.shape),
                r.initializer,
                *((r.source,) if sources else ()),
                str(r.fan_in),
                str(r.fan_out),
                *(
                    number_cell(x)
                    for x in (r.mean, r.std, r.min, r.max, r.expected_std)
                ),
            )
            for r in self.rows
        ]
        return "\n".join(
            tables.format_table(header, rows, left=4 if sources else 3)
        )

    def to_dataframe(self):
        """The rows as a `pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(r) for r in self.rows])


def describe(model: keras.layers.Layer) -> ModelDescription:
    """One row per variable of a built model or layer: what it holds and why.

    Each row gives the variable's path and shape, its initializer (with its
    arguments), the fans its std is computed from, the mean, standard
    deviation, minimum and maximum of its current values, and the standard
    deviation the initializer promises for that shape (NaN where it
    promises none, e.g. a custom initializer). A std far from the promised
    one means the weights were changed since they were drawn, or the
    initializer is not what you thought. A variable whose initializer
    cannot be found (a layer without a usable `get_config`) shows `?`.

    The initializer is the one its layer is configured with ("layer
    config"), unless `reinitialize` last drew the variable from a
    recipe's (`keras_inits.model.drawn_from`): then the row shows that
    one, and the table gains a column `from` ("recipe gpt2" or "layer
    config"). The fans are those of the initializer's own rule where it
    has one (variance scaling: Keras' rule, or its `input_axes` and
    `output_axes`); else, for a recipe's initializer, the fans the recipe
    counts (`recipes.Slot`: a `(d, heads, head_dim)` query kernel has
    fan_in d, fan_out heads * head_dim), from which its rule computed the
    std; else Keras' rule.

    Args:
        model: a built `keras.Model` or `keras.layers.Layer`.

    Returns:
        A `ModelDescription`: `print` it for a table, `to_dataframe()` for
        pandas.

    Examples:

        >>> import keras_inits
        >>> model = keras.Sequential([keras.Input((256,)), keras.layers.Dense(
        ...     128, kernel_initializer=keras_inits.HeNormal(seed=0), name="d")],
        ...     name="net")
        >>> row = keras_inits.describe(model)["net/d/kernel"]
        >>> row.initializer, row.fan_in, round(row.expected_std, 4)
        ('HeNormal(seed=0)', 256, 0.0884)
        >>> abs(row.std - row.expected_std) < 0.005
        True
    """
    if not isinstance(model, keras.layers.Layer):
        raise ValueError(
            "describe needs a keras.Model or keras.layers.Layer. "
            f"Received: {type(model).__name__}"
        )
    if not model.weights:
        raise ValueError(
            f"{model.name} has no weights to describe: build it first (call "
            "it on data, or `build(input_shape)`)."
        )
    paths = variable_paths(model.weights)
    rows = []
    seen = set()  # ids of the variables with a row
    for layer in keras_internals.all_layers(model):
        own = [
            v
            for v in keras_internals.own_variables(layer)
            if id(v) not in seen
        ]
        if not own:
            continue
        seen.update(id(v) for v in own)
        try:
            found = variable_initializers.layer_initializers(layer)
        except variable_initializers.NotRebuilt:
            found = {}
        for variable in own:
            initializer = found.get(id(variable))
            rows.append(
                _row(
                    paths[id(variable)],
                    variable,
                    initializer.initializer
                    if isinstance(initializer, Found)
                    else None,
                    drawn_from(variable),
                )
            )
    return ModelDescription(model.name, rows)


_LAYER_CONFIG = "layer config"


def _row(path, variable, initializer, drawn):
    """The `VariableStats` of `variable` at `path`: the moments of its
    current values (NaN when it is empty), its initializer (`drawn`'s, a
    `DrawnFrom`, when a recipe's was last drawn; else `initializer`, its
    layer's, None when not found), that initializer's fans (see
    `describe`) and the std it promises."""
    shape = tuple(variable.shape)
    values = np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")
    source = _LAYER_CONFIG
    fan_in, fan_out = compute_fans(shape)
    if drawn is not None:
        initializer = drawn.initializer
        source = f"recipe {drawn.recipe}"
        fan_in, fan_out = drawn.fan_in, drawn.fan_out
    # A Keras initializer's fans are those of keras_inits' class of its
    # name, built from its config (its axes included), as its std is.
    fans: Callable[[tuple[int, ...]], tuple[int, int]] | None = getattr(
        _as_ours(initializer), "fans", None
    )
    if callable(fans):
        fan_in, fan_out = fans(shape)
    if values.size:
        with np.errstate(all="ignore"):  # inf - inf: a NaN std, silently
            moments = (values.mean(), values.std(), values.min(), values.max())
    else:
        moments = (math.nan,) * 4
    mean, std, low, high = (float(m) for m in moments)
    return VariableStats(
        path,
        shape,
        initializer_name(initializer),
        fan_in,
        fan_out,
        mean,
        std,
        low,
        high,
        expected_std(initializer, shape),
        source,
    )


def expected_std(initializer: object, shape: Sequence[int]) -> float:
    """The standard deviation `initializer` promises for a tensor of `shape`
    (population std, about its mean), or NaN if it promises none.

    A keras_inits initializer says it itself (its `expected_std(shape)`);
    a Keras initializer is read as keras_inits' class of the same name,
    built from its config, which draws the same distribution; any other
    object with an `expected_std(shape)` method reports that.

    Examples:

        >>> from keras_inits.diagnostics import expected_std
        >>> round(expected_std(keras.initializers.HeNormal(), (200, 10)), 4)
        0.1
    """
    shape = checks.check_shape("expected_std", shape)
    if math.prod(shape) >= 2**63:  # no tensor holds more; floats overflow
        raise checks.argument_error(
            "expected_std",
            "shape",
            "a shape of fewer than 2**63 values",
            shape,
        )
    initializer = _as_ours(initializer)
    if initializer is None:
        return math.nan
    method: Callable[[tuple[int, ...]], SupportsFloat] | None = getattr(
        initializer, "expected_std", None
    )
    if not callable(method):
        return math.nan
    return float(method(shape))


def _as_ours(initializer):
    """A Keras initializer as keras_inits' class of its name, built from
    its config (which draws the same distribution); None when that class
    refuses the config; anything else as it is."""
    if isinstance(
        initializer, keras.initializers.Initializer
    ) and not isinstance(initializer, Initializer):
        ours = equivalent_class(type(initializer))
        if ours is not type(initializer):
            try:
                return ours.from_config(initializer.get_config())
            except Exception:  # a config keras_inits' class refuses
                return None
    return initializer
