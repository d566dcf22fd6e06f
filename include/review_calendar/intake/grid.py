"""A sheet as a grid of cells, whatever container it came from.

The xlsx, xls, ods and CSV readers all produce a :class:`Sheet`; a
:class:`SheetSource` loads one by name. Cells are what the parser gives (text,
numbers, dates, booleans); :func:`cell_text` turns each into the text the rest
of intake reads. What the cell parser (python-calamine) cannot tell is read
from the file by each format's reader and recorded here, once per format: a
percent-formatted number becomes its percent text (:func:`percent_text`, so
Excel's 1.5 under ``0.00%`` is read as "150%", never as 1.5 %), error cells
and formulas are kept apart, and the workbook's date system travels with the
sheet.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "EXCEL_ERRORS",
    "Cell",
    "FileFormat",
    "Grid",
    "Merge",
    "Sheet",
    "SheetSource",
    "cell_text",
    "column_index",
    "column_letter",
    "mark_percent_cells",
    "percent_text",
]

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
        formulas: 0-based (row, column) → ``"=formula"`` of every formula cell
            without a saved result (its value is unknown: never evaluated).
        saved_formulas: 0-based (row, column) → ``"=formula"`` of formula cells
            whose result the spreadsheet saved; the cell holds that result.
        errors: 0-based (row, column) → the error value of a cell
            (``#DIV/0!``, ``#REF!``...); the cell itself is blank.
        date1904: Whether the workbook counts serial dates from 1904-01-01
            (Excel for Mac's old date system) instead of 1899-12-30.
    """

    name: str | None
    cells: Grid
    merges: list[Merge] = field(default_factory=list)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    saved_formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    date1904: bool = False


FileFormat = Literal["xlsx", "xls", "ods", "csv"]
#: The error values a spreadsheet shows in a cell whose formula failed.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)


class SheetSource(Protocol):
    """A container whose sheets can be loaded by name (a workbook, a CSV file)."""

    format: FileFormat
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


def percent_text(value: float) -> str:
    """The percent text of a percent-formatted number: 1.5 → ``"150%"``, 0.755 → ``"75.5%"``.

    Spreadsheets store a cell shown as 150 % as the number 1.5; its text
    carries the ``%`` so that the percent parser reads it as percent points.
    """
    return f"{round(value * 100, 10):.15g}%"


def mark_percent_cells(cells: Grid, percent: set[tuple[int, int]]) -> None:
    """Replace each number of a percent-formatted cell by its percent text, in place.

    Args:
        cells: The sheet's grid.
        percent: 0-based (row, column) of the cells whose number format is a percentage.
    """
    for r, c in percent:
        if r < len(cells) and c < len(cells[r]):
            value = cells[r][c]
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                cells[r][c] = percent_text(float(value))
