"""What `reinitialize` reports: one row per re-drawn variable, the variables
it left alone, and the error it raises before changing anything."""

import dataclasses
import math
from collections.abc import Sequence

from keras_inits._internal import tables


class ReinitializeError(ValueError):
    """Raised before any weight changes. `problems` maps path to reason."""

    def __init__(self, message: str, problems: dict[str, str]):
        super().__init__(message)
        self.problems = dict(problems)


def cannot_redraw(
    failures: dict[str, str],
    unattributed: dict[str, str],
) -> ReinitializeError:
    """The `ReinitializeError` for the variables whose draw failed its check
    (`failures`) or whose initializer was not found (`unattributed`), both
    path -> reason."""
    problems = {**failures, **unattributed}
    advice = (
        " Pass `skip_unattributed=True` to leave variables without "
        "a known initializer as they are."
        if unattributed
        else ""
    )
    return ReinitializeError(
        "reinitialize changed no weight: it cannot re-draw "
        + "; ".join(f"{p}: {r}" for p, r in problems.items())
        + "."
        + advice,
        problems,
    )


@dataclasses.dataclass(frozen=True)
class ReinitializedVariable:
    """One re-drawn variable: where, from what, and its values' moments.

    `path` is Keras' path of the variable (`variable.path`, with `#2`, `#3`
    for later variables of the same path); `key` is its place in the model
    that its seed is derived from (see `reinitialize`); `role` is its role
    under a recipe (`keras_inits.recipes.ROLES`), None without a recipe or
    when it matched none."""

    path: str
    key: str
    initializer: str
    shape: tuple[int, ...]
    mean_before: float
    std_before: float
    mean_after: float
    std_after: float
    role: str | None = None


class ReinitializeReport(tables.RowTable[ReinitializedVariable]):
    """What `reinitialize` did. Prints as a table; indexable by path.

    Attributes:
        rows: one `ReinitializedVariable` per re-drawn variable.
        skipped: path -> reason, for variables left as they were: state
            a layer's `adapt()` computed (unless `reset_adapted=True`), and
            variables whose initializer could not be found
            (`skip_unattributed=True`).
        seed: the seed every per-variable seed was derived from; pass it
            back as `seed=` to draw the same values again.
        kept_bytes: memory held between the two passes for initializers that
            cannot be replayed (0 for Keras and keras_inits initializers).
        unmatched: with a recipe, the paths of the selected trainable
            weights of two or more dimensions that matched no role, in the
            model's order: the recipe left them to their layers' own
            initializers (`reinitialize` warned). Empty without a recipe.
            `recipes.plan(...).unmatched` lists every variable without a
            role, vectors and non-trainable ones included.
    """

    def __init__(
        self,
        rows: list[ReinitializedVariable],
        skipped: dict[str, str],
        seed: int,
        kept_bytes: int,
        *,
        unmatched: Sequence[str] = (),
    ):
        self.rows = list(rows)
        self.skipped = dict(skipped)
        self.seed = seed
        self.kept_bytes = kept_bytes
        self.unmatched = tuple(unmatched)

    def __repr__(self):
        return (
            f"<ReinitializeReport: {len(self.rows)} variables re-drawn, "
            f"{len(self.skipped)} skipped, seed={self.seed}>"
        )

    def __str__(self):
        # The role column only after a recipe, which finds the roles.
        roles = any(r.role is not None for r in self.rows)
        header = (
            "path",
            *(("role",) if roles else ()),
            "key",
            "initializer",
            "shape",
            "mean before",
            "mean after",
            "std before",
            "std after",
        )
        lines = tables.format_table(
            header,
            [
                (
                    r.path,
                    *((r.role or "-",) if roles else ()),
                    r.key,
                    r.initializer,
                    str(r.shape),
                    *(
                        f"{x:.4g}"
                        for x in (
                            r.mean_before,
                            r.mean_after,
                            r.std_before,
                            r.std_after,
                        )
                    ),
                )
                for r in self.rows
            ],
            left=5 if roles else 4,
        )
        lines.append(
            f"{len(self.rows)} variables re-drawn "
            f"({sum(math.prod(r.shape) for r in self.rows):,} values), "
            f"seed={self.seed}, {self.kept_bytes:,} bytes kept between passes."
        )
        if self.unmatched:
            lines.append(
                "matched no role (their layers' own initializers): "
                + ", ".join(self.unmatched)
            )
        for path, reason in self.skipped.items():
            lines.append(f"skipped {path}: {reason}")
        return "\n".join(lines)
