"""The columns of a template: what one cell holds and how its text is parsed.

A :class:`Column` is one header of a template (its Chinese header, kind,
whether it is required, its choices and bounds). The constructors below keep
the dataset specs (:mod:`review_calendar.intake.datasets`) at one line per
ordinary column; :func:`parse_cell` is the one parser of a cell's text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from review_calendar.intake.identifiers import (
    check_choice,
    check_code,
    check_email,
    check_mobile,
    check_office_phone,
    check_region_code,
)
from review_calendar.intake.normalize import (
    check_range,
    to_date,
    to_int,
    to_number,
    to_percent,
    to_year,
)

__all__ = [
    "Column",
    "Kind",
    "Parser",
    "count",
    "growth",
    "money",
    "parse_cell",
    "parser",
    "region",
    "share",
    "text",
    "year",
    "yes_no",
]

Kind = Literal[
    "text",
    "code",
    "region_code",
    "date",
    "number",
    "percent",
    "phone",
    "mobile",
    "email",
    "choice",
    "year",
    "int",
]
Parser = Callable[[str], object]
YES_NO = ("是", "否")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a template.

    Attributes:
        key: ASCII field name used in records, the database and GX suites.
        header: The Chinese header of the template (with its unit).
        kind: How values are parsed and checked.
        required: Whether a blank cell is an error.
        choices: Allowed values of a ``choice`` column (the drop-down list).
        note: What to fill in, for the 填表说明 sheet.
        minimum: Smallest allowed value; None means the kind's default (0 for
            numbers, counts and percents). Percents are fractions (0.75).
        maximum: Largest allowed value; None means the kind's default
            (100 % for percents, unbounded otherwise).
        example: A valid example value for the 填表说明 sheet (and the
            round-trip test); empty means the kind's generic example.
        aliases: Extra spellings of choices, as (spelling, choice) pairs.
        max_length: Longest text accepted, None for Excel's own limit.
    """

    key: str
    header: str
    kind: Kind
    required: bool
    choices: tuple[str, ...] = ()
    note: str = ""
    minimum: float | None = None
    maximum: float | None = None
    example: str = ""
    aliases: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The effective (minimum, maximum), defaults applied, None for unbounded."""
        low = 0.0 if self.minimum is None else self.minimum
        high = (1.0 if self.kind == "percent" else None) if self.maximum is None else self.maximum
        return (None if low == -math.inf else low, None if high == math.inf else high)


def region(
    note: str = "6位行政区划代码（GB/T 2260），如石家庄市为130100。", *, example: str = "130100"
) -> Column:
    """The required 行政区划代码 column (key ``region_code``)."""
    return Column("region_code", "行政区划代码", "region_code", True, note=note, example=example)


def text(
    key: str,
    header: str,
    *,
    required: bool = True,
    note: str = "",
    example: str = "",
    max_length: int | None = None,
) -> Column:
    """A free-text column."""
    return Column(key, header, "text", required, note=note, example=example, max_length=max_length)


def money(key: str, header: str, *, required: bool = True, note: str = "", example: str = "") -> Column:
    """An amount (万元 unless the header says otherwise), at least 0."""
    return Column(key, header, "number", required, note=note, example=example)


def count(key: str, header: str, *, required: bool = True, note: str = "", example: str = "") -> Column:
    """A whole number of things, at least 0."""
    return Column(key, header, "int", required, note=note, example=example)


def share(key: str, header: str, *, note: str = "", example: str = "75%") -> Column:
    """A required percentage between 0 and 100 %."""
    return Column(key, header, "percent", True, note=note, example=example)


def growth(key: str, header: str, *, note: str = "", example: str = "12.5%") -> Column:
    """A required growth rate: a percentage that may be negative or above 100 %."""
    return Column(key, header, "percent", True, note=note, minimum=-1.0, maximum=math.inf, example=example)


def yes_no(key: str, header: str, *, note: str = "", example: str = "是") -> Column:
    """A required 是/否 drop-down."""
    return Column(key, header, "choice", True, choices=YES_NO, note=note, example=example)


def year(
    key: str = "year",
    header: str = "年度",
    *,
    note: str = "报送数据所属年度，4位数字。",
    example: str = "2025",
) -> Column:
    """A required 4-digit year (by default the 年度 of the reported data)."""
    return Column(key, header, "year", True, note=note, example=example)


def parser(column: Column) -> Parser:
    """The function that turns a cell's text into the column's typed value.

    Raises:
        ValueError: Unknown column kind.
    """
    low, high = column.bounds
    kind = column.kind
    if kind == "text":
        return lambda value: value
    if kind == "number":
        return lambda value: check_range(to_number(value), low, high)
    if kind == "int":
        return lambda value: int(check_range(to_int(value), low, high))
    if kind == "percent":
        return lambda value: to_percent(value, minimum=low, maximum=high)
    if kind == "year":
        return to_year
    if kind == "date":
        return to_date
    if kind == "phone":
        return check_office_phone
    if kind == "mobile":
        return check_mobile
    if kind == "email":
        return check_email
    if kind == "region_code":
        return check_region_code
    if kind == "code":
        return check_code
    if kind == "choice":
        choices, aliases = column.choices, dict(column.aliases)
        return lambda value: check_choice(value, choices, aliases)
    raise ValueError(f"unknown column kind {kind!r}")


def parse_cell(column: Column, text: str) -> object:
    """One cell's typed value, as ``rows.validate_rows`` computes it.

    Args:
        column: The column.
        text: The cell text (not blank).

    Returns:
        The typed value (str, int, float or date).

    Raises:
        ValueProblem: The value does not fit the column.
    """
    return parser(column)(text)
