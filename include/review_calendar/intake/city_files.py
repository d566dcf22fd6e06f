"""A city's combined table for its counties: one submission per county, each judged on its own.

Where counties report through their city (county → city → province), a city
may send one file whose rows are several of its counties. Such a file from a
city's upload folder, for an obligation its counties owe, is split
(:func:`split_city_file`): each county's rows become a submission of that
county, read and row-checked as if the county had sent them alone, so a bad
row rejects only its county's part. Each part is keyed by the file's hash and
the county (:func:`part_hash`): the same city file twice is a duplicate per
county, and a county's latest receipt counts whether it came from the county
or its city, the other kept in the history.

A row of a county outside the city (or of no county) is an error naming the
row, in a part attributed to the city; 合计 rows are left out (each county's
part is checked without them). Only single-sheet templates are split.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.identifiers import check_region_code
from review_calendar.intake.issues import IntakeRejected
from review_calendar.intake.normalize import ValueProblem
from review_calendar.intake.reader import read_table
from review_calendar.intake.rows import is_total_row, validate_rows

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from review_calendar.domain.regions import Region
    from review_calendar.intake.ingest import ParsedFile
    from review_calendar.intake.issues import IntakeIssue
    from review_calendar.intake.reader import FileContent
    from review_calendar.intake.row_rules import RowContext
    from review_calendar.intake.spec import Dataset
    from review_calendar.intake.table import RawTable

__all__ = ["is_city_folder", "part_hash", "split_city_file"]


def is_city_folder(hint: str | None, regions: Mapping[str, Region]) -> bool:
    """Whether an upload folder is a city's (its code a city of the province's regions)."""
    return hint is not None and hint in regions and regions[hint].level == "city"


def part_hash(sha256: str, region_code: str) -> str:
    """The key of one county's part of a city file: the file's hash bound to the county."""
    return hashlib.sha256(f"{sha256}:{region_code}".encode()).hexdigest()


def split_city_file(
    parsed: ParsedFile,
    content: FileContent,
    spec: Dataset,
    context: RowContext,
    city: str,
    regions: Mapping[str, Region],
    make: Callable[..., ParsedFile],
) -> list[ParsedFile] | None:
    """The parts of a city's file that lists its counties; None when it is not such a file.

    Args:
        parsed: The file as a whole (name, hash, size, receipt).
        content: Its bytes.
        spec: The obligation's dataset (a single-sheet template).
        context: What the rows are checked against.
        city: The city's code (its upload folder).
        regions: The province's regions by code.
        make: Builds a part (``ParsedFile`` with the whole file's fields replaced).

    Returns:
        One part per county of the city in the file (rows, issues, records of
        that county alone), plus one part of the city for rows of no county of
        it; None when the file is rejected whole (unreadable, its name, its
        properties) or lists no county of the city (it is then judged whole).
    """
    if any(i.severity == "error" and i.row is None for i in parsed.issues):
        return None
    try:
        table = read_table(
            parsed.path, sheet=spec.sheet, expected_columns=spec.headers, name=parsed.name, content=content
        )
    except IntakeRejected:
        return None
    header = next((c.header for c in spec.columns if c.key == "region_code"), None)
    if header is None or header not in table.columns:
        return None
    groups: dict[str, list[tuple[int, dict[str, str | None]]]] = {}
    outside: list[IntakeIssue] = []
    labels = set(spec.total_row_labels)
    for number, raw in table.rows:
        if is_total_row(raw, labels):
            continue
        code = _code(raw.get(header))
        county = regions.get(code or "")
        if county is None or county.level != "county" or county.parent_code != city:
            outside.append(_outside(table, number, header, code, city, regions))
            groups.setdefault(city, []).append((number, raw))
            continue
        groups.setdefault(code, []).append((number, raw))
    if not any(code != city for code in groups):
        return None
    parts = []
    for code, rows in groups.items():
        part_table = replace(table, rows=rows, issues=_issues_of(table, {n for n, _ in rows}))
        records, issues = validate_rows(part_table, spec, context)
        if code == city:
            issues = [*outside, *issues]
        parts.append(
            make(
                sha256=part_hash(parsed.sha256, code),
                records={spec.id: records},
                sheets={spec.id: table.sheet or ""},
                issues=issues,
                region_code=code,
            )
        )
    return parts


def _issues_of(table: RawTable, numbers: set[int]) -> tuple[IntakeIssue, ...]:
    """The table's cell issues of the rows ``numbers`` and of no row (the header's)."""
    return tuple(i for i in table.issues if i.row is None or i.row in numbers or i.row <= table.header_row)


def _code(text: str | None) -> str | None:
    try:
        return check_region_code(text) if text else None
    except ValueProblem:
        return None


def _outside(
    table: RawTable, number: int, header: str, code: str | None, city: str, regions: Mapping[str, Region]
) -> IntakeIssue:
    city_name = regions[city].name
    if code is not None and code in regions:
        what = f"{regions[code].name}（{code}）不是{city_name}所辖的县（市、区）"
    else:
        what = f"“{code or '未填写'}”不是{city_name}所辖县（市、区）的行政区划代码"
    message = f"第{number}行：{what}，{city_name}的汇总表只能填写本市所辖县（市、区），请核对后重新报送。"
    return E.issue(
        table.file, E.REGION_OUTSIDE_CITY, message, sheet=table.sheet, row=number, column=header, value=code
    )
