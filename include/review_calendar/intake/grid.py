"""A sheet as a grid of cells, whatever container it came from.

The xlsx and CSV readers both produce a :class:`Sheet`; a :class:`SheetSource`
loads one by name. Cells are what the parser gives (text, numbers, dates,
booleans); :func:`cell_text` turns each into the text the rest of intake reads.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = ["Cell", "Grid", "Merge", "Sheet", "SheetSource", "cell_text", "column_index", "column_letter"]

Cell = object
Grid = list[list[Cell]]
Merge = tuple[tuple[int, int], tuple[int, int]]


@dataclass
class Sheet:
    """One sheet's cells (0-based, anchored at A1) plus what the cell reader misses.

    Attributes:
        name: Sheet name, None for CSV.
        cells: The used rectangle, row by row.
        merges: Merged ranges as ((first row, first column), (last row, last column)), 0-based.
        formulas: 0-based (row, column) → ``"=formula"`` of every formula cell.
    """

    name: str | None
    cells: Grid
    merges: list[Merge] = field(default_factory=list)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)


class SheetSource(Protocol):
    """A container whose sheets can be loaded by name (an xlsx workbook, a CSV file)."""

    format: Literal["xlsx", "csv"]
    encoding: str | None

    def load(self, name: str | None) -> Sheet:
        """The sheet called ``name`` (None: the only sheet of a CSV)."""
        ...


def column_letter(index: int) -> str:
    """Excel column letters of a 0-based column index (0 → ``A``, 27 → ``AB``)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: bytes | str) -> int:
    """0-based index of Excel column letters (``A`` → 0, ``AB`` → 27)."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def cell_text(value: Cell) -> str | None:
    """A calamine or CSV cell as text; None when blank.

    Whole floats lose their ``.0`` (a code typed as a number), datetimes at
    midnight become ISO dates, NaN is blank.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if math.isnan(value):
            return None
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
