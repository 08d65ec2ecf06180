"""What `reinitialize` last drew each variable from, when a recipe gave it
its initializer: `record` writes it as each draw is assigned, `drawn_from`
reads it (`describe` shows it in place of the layer's configuration).

Keras variables define `__eq__` and are not hashable, so the record is a
dict keyed by `id(variable)` that holds a weak reference to the variable:
the entry goes when the variable is collected, and a new variable that
reuses the id is not mistaken for the old one. Only this process's draws
are recorded: a model saved and loaded again has none.
"""

import dataclasses
import threading
import weakref

import keras

from keras_inits._internal.naming import initializer_name


@dataclasses.dataclass(frozen=True)
class DrawnFrom:
    """The initializer `reinitialize` last drew a variable from, when a
    recipe gave it.

    Attributes:
        initializer: the recipe's initializer, as `recipes.plan` shows it
            (without the seed `reinitialize` derived for the variable).
        recipe: the recipe's name.
        role: the variable's role under the recipe.
        fan_in: the variable's fan-in as the recipe counts it
            (`recipes.Slot`: a `(d, heads, head_dim)` query kernel has
            fan_in d and fan_out heads * head_dim), from which, with
            `fan_out`, its rule computes the initializer's std.
        fan_out: the variable's fan-out as the recipe counts it.
    """

    initializer: keras.initializers.Initializer
    recipe: str
    role: str | None
    fan_in: int
    fan_out: int

    def __repr__(self):
        # The initializer as plans name it: its own repr may print every
        # value of an array it holds.
        return (
            f"DrawnFrom(initializer={initializer_name(self.initializer)}, "
            f"recipe={self.recipe!r}, role={self.role!r}, "
            f"fan_in={self.fan_in}, fan_out={self.fan_out})"
        )


# id(variable) -> (a weak reference to it, what it was drawn from).
_drawn: dict[int, tuple[weakref.ref, DrawnFrom]] = {}
# (id, reference) of collected variables, whose entries go at the next
# call: a weak reference's callback can run inside a call (the garbage
# collector runs where memory is allocated), so it only appends here.
_collected: list[tuple[int, weakref.ref]] = []
_lock = threading.Lock()


def drawn_from(variable: keras.Variable) -> DrawnFrom | None:
    """What `reinitialize` last drew `variable` from, when a recipe gave it
    its initializer; None when reinitialize has not re-drawn it in this
    process, or last drew it from its layer's own initializer (without a
    recipe, or a variable the recipe leaves to its layer).

    Examples:

        >>> import keras_inits
        >>> from keras_inits.model import drawn_from
        >>> model = keras.Sequential(
        ...     [keras.Input((4,)), keras.layers.Dense(3, name="out")])
        >>> _ = keras_inits.reinitialize(model, seed=0, recipe="bert")
        >>> drawn = drawn_from(model.get_layer("out").kernel)
        >>> drawn.recipe, drawn.role, drawn.initializer
        ('bert', 'head', TruncatedNormal(stddev=0.02))
        >>> _ = keras_inits.reinitialize(model, seed=0)
        >>> drawn_from(model.get_layer("out").kernel) is None
        True
    """
    with _lock:
        _drop_collected()
        entry = _drawn.get(id(variable))
    if entry is None or entry[0]() is not variable:
        return None
    return entry[1]


def record(variable: keras.Variable, drawn: DrawnFrom | None) -> None:
    """Records that `variable` was just drawn from `drawn` (None: from its
    layer's own initializer, which forgets what was recorded)."""
    key = id(variable)
    with _lock:
        _drop_collected()
        if drawn is None:
            _drawn.pop(key, None)
            return
        reference = weakref.ref(
            variable, lambda reference: _collected.append((key, reference))
        )
        _drawn[key] = (reference, drawn)


def recorded() -> int:
    """How many variables have a record (for tests: collected variables'
    records go)."""
    with _lock:
        _drop_collected()
        return len(_drawn)


def _drop_collected():
    """Drops the entries of collected variables (under `_lock`), unless
    the id is already another variable's."""
    while _collected:
        key, reference = _collected.pop()
        entry = _drawn.get(key)
        if entry is not None and entry[0] is reference:
            del _drawn[key]
