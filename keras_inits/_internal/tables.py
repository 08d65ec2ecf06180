"""Plain-text tables, the one format every report of the package prints in.

This module imports nothing of keras_inits.
"""

import math
from collections.abc import Iterator
from typing import Generic
from typing import Protocol
from typing import TypeVar


def format_table(header, rows, left=1):
    """The lines of a table: `header` (a tuple of strings), then `rows`
    (tuples of strings), columns two spaces apart, the first `left` columns
    left-aligned and the rest (numbers) right-aligned, without trailing
    spaces.

    Examples:

        >>> from keras_inits._internal.tables import format_table
        >>> print("\\n".join(format_table(("name", "std"), [("HeNormal", "0.05")])))
        name       std
        HeNormal  0.05
    """
    table = [tuple(header)] + [tuple(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths))
        ).rstrip()
        for line in table
    ]


class PathRow(Protocol):
    """A row of a `RowTable`: it has a variable's path."""

    @property
    def path(self) -> str: ...


RowT = TypeVar("RowT", bound=PathRow)


class RowTable(Generic[RowT]):
    """Rows that each have a `path`, kept in order: `len`, iteration and
    lookup by path (KeyError if absent). The base of the reports indexed by
    variable path (`ReinitializeReport`, `ModelDescription`); a subclass
    sets `self.rows`."""

    rows: list[RowT]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[RowT]:
        return iter(self.rows)

    def __getitem__(self, path: str) -> RowT:
        for row in self.rows:
            if row.path == path:
                return row
        raise KeyError(path)


def number_cell(x: float) -> str:
    """`x` (a float) as a table cell: 4 significant digits, `-` for NaN."""
    return "-" if math.isnan(x) else f"{x:.4g}"
