"""The columns of a template: what one cell holds and how its text is parsed.

A :class:`Column` is one header of a template (its Chinese header, kind,
whether it is required, its choices and bounds). The constructors below keep
the dataset specs (:mod:`review_calendar.intake.datasets`) at one line per
ordinary column; :func:`parse_cell` is the one parser of a cell's text.

Every numeric column has two pairs of bounds, declared once in its spec and
shown in the template's 填表说明: hard bounds (``minimum``/``maximum``) for
the impossible (a share over 100 %, a negative count, a county cluster's
output over 10,000 亿元, 1e30), which reject the row with a message naming the
likely unit slip; and soft bounds (``usual``) for the unusual, which keep the
row with a warning for the reviewer.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
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
    "NUMBER_CEILING",
    "YES_NO_MARKS",
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
    "show_value",
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
        usual: Soft bounds (low, high) of a numeric column, None for either
            end that is not checked: a value outside is kept with a
            NUMBER_UNUSUAL warning. Percents are fractions.
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
    usual: tuple[float | None, float | None] | None = None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The effective (minimum, maximum), defaults applied, None for unbounded."""
        low = 0.0 if self.minimum is None else self.minimum
        high = (1.0 if self.kind == "percent" else None) if self.maximum is None else self.maximum
        return (None if low == -math.inf else low, None if high == math.inf else high)

    @property
    def unit(self) -> str | None:
        """The unit in the header's brackets (``集群产值(亿元)`` → 亿元), None without one or for %."""
        match = _HEADER_UNIT.search(unicodedata.normalize("NFKC", self.header))
        return match.group(1) if match and match.group(1) != "%" else None


def show_value(column: Column, value: float) -> str:
    """A value as the template asks for it: ``150%`` for a percent, ``1,874亿元`` for an amount."""
    if column.kind == "percent":
        return f"{round(value * 100, 6):g}%"
    return f"{value:,.{0 if float(value).is_integer() else 2}f}{column.unit or ''}"


_HEADER_UNIT = re.compile(r"\(([^()]+)\)$")
#: Hard upper bound of every numeric kind whose spec names none: no cell of
#: any template holds a figure this large, and sums of such figures stay finite.
NUMBER_CEILING = 1e12


def region(
    note: str = "6位行政区划代码（GB/T 2260），如石家庄市为130100。", *, example: str = "130100"
) -> Column:
    """The required 行政区划代码 column (key ``region_code``)."""
    return Column("region_code", "行政区划代码", "region_code", True, note=note, example=example)


def cluster() -> Column:
    """The required 产业集群名称 column (key ``cluster_name``), as in the recognition or pilot document."""
    return text(
        "cluster_name",
        "产业集群名称",
        note="集群全称，与认定或试点文件一致。",
        example="安平丝网产业集群",
        max_length=100,
    )


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


def _bounded(
    kind: str,
    key: str,
    header: str,
    maximum: float,
    usual: float | None,
    required: bool,
    note: str,
    example: str,
) -> Column:
    """A non-negative number column with its hard ``maximum`` and the ``usual`` ceiling that only warns."""
    soft = None if usual is None else (None, usual)
    return Column(key, header, kind, required, note=note, example=example, maximum=maximum, usual=soft)


def money(
    key: str,
    header: str,
    *,
    maximum: float,
    usual: float | None = None,
    required: bool = True,
    note: str = "",
    example: str = "",
) -> Column:
    """An amount in the header's unit (万元 or 亿元), at least 0, at most ``maximum``; above ``usual`` warns."""
    return _bounded("number", key, header, maximum, usual, required, note, example)


def count(
    key: str,
    header: str,
    *,
    maximum: float,
    usual: float | None = None,
    required: bool = True,
    note: str = "",
    example: str = "",
) -> Column:
    """A whole number of things, at least 0, at most ``maximum``; above ``usual`` warns."""
    return _bounded("int", key, header, maximum, usual, required, note, example)


def share(key: str, header: str, *, note: str = "", example: str = "75%") -> Column:
    """A required percentage between 0 and 100 %."""
    return Column(key, header, "percent", True, note=note, example=example)


def growth(
    key: str, header: str, *, note: str = "", example: str = "12.5%", usual: tuple[float, float] = (-0.5, 2.0)
) -> Column:
    """A required growth rate: from -100 % up to 10,000 %; outside ``usual`` (−50 %…200 %) warns.

    A growth above 100 % is legitimate (150 % growth is stored as 1.5).
    """
    return Column(
        key,
        header,
        "percent",
        True,
        note=note,
        minimum=-1.0,
        maximum=100.0,
        example=example,
        usual=usual,
    )


#: Ticks and crosses officials type for 是/否.
YES_NO_MARKS = (("√", "是"), ("✓", "是"), ("✔", "是"), ("×", "否"), ("✗", "否"), ("✘", "否"))


def yes_no(key: str, header: str, *, note: str = "", example: str = "是") -> Column:
    """A required 是/否 drop-down (√ and × are read as 是 and 否)."""
    return Column(
        key, header, "choice", True, choices=YES_NO, note=note, example=example, aliases=YES_NO_MARKS
    )


def year(
    key: str = "year",
    header: str = "年度",
    *,
    note: str = "报送数据所属年度，4位数字。",
    example: str = "2025",
) -> Column:
    """A required 4-digit year (by default the 年度 of the reported data)."""
    return Column(key, header, "year", True, note=note, example=example)


@functools.lru_cache(maxsize=1024)
def parser(column: Column, *, date1904: bool = False) -> Parser:
    """The function that turns a cell's text into the column's typed value.

    Made once per column (and date system) and kept: every file of a batch is
    read with the same columns.

    Args:
        column: The column.
        date1904: The workbook uses the 1904 date system (serial dates).

    Raises:
        ValueError: Unknown column kind.
    """
    low, high = column.bounds
    kind = column.kind
    unit = column.unit
    if kind in ("number", "int") and high is None:
        high = NUMBER_CEILING
    if kind == "text":
        return lambda value: value
    if kind == "number":
        return lambda value: check_range(to_number(value, unit=unit), low, high, unit=unit)
    if kind == "int":
        return lambda value: int(check_range(to_int(value, unit=unit), low, high, unit=unit))
    if kind == "percent":
        return lambda value: to_percent(value, minimum=low, maximum=high)
    if kind == "year":
        return to_year
    if kind == "date":
        return (lambda value: to_date(value, date1904=True)) if date1904 else to_date
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
