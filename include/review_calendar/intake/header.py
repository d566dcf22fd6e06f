"""The header row of a sheet: found among the top rows, matched to the template's columns.

A title row, a "填报单位" line or blank rows may sit above the header
(:func:`find_header`); the header's cells are then matched to the template's
columns (:func:`map_columns`). A missing, renamed, duplicated or inserted column,
data without a header or a merged header cell is an issue that rejects the
file: the columns are the contract of the template. A column added after the
template's last column (备注) is ignored with a warning.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.grid import cell_text, column_letter
from review_calendar.intake.issues import FileProblem
from review_calendar.intake.normalize import normalize_header

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from review_calendar.intake.grid import Cell, Grid, Sheet
    from review_calendar.intake.issues import IntakeIssue, IssueFactory, Severity
    from review_calendar.intake.reader import ReadLimits

__all__ = ["find_header", "layout_match", "locate_header", "map_columns", "merged_header_issues"]

_UNIT = re.compile(r"\(.*?\)$")


def find_header(cells: Grid, wanted: Mapping[str, str], limits: ReadLimits) -> int | None:
    """0-based index of the header row: the top row with the most expected headers.

    A title row, a "填报单位" line or blank rows may sit above the header; at
    least half of the expected headers must be there, so a file of another
    template is not mistaken for this one.

    Args:
        cells: The sheet's grid.
        wanted: Normalised header → the template's header.
        limits: ``header_search_rows`` bounds the search.

    Returns:
        The row index, None when no row has enough of the headers.
    """
    best_index, best_hits = None, 0
    for index, row in enumerate(cells[: limits.header_search_rows]):
        seen = {normalize_header(v) for v in row if isinstance(v, str) and v}
        hits = len(seen & wanted.keys())
        if hits > best_hits:
            best_index, best_hits = index, hits
    needed = max(1, math.ceil(len(wanted) / 2))
    return best_index if best_hits >= needed else None


def layout_match(cells: Grid, layouts: Mapping[str, Sequence[str]], limits: ReadLimits) -> str | None:
    """Title of the other template whose header the grid has, if any."""
    for title, headers in layouts.items():
        wanted = {normalize_header(h): h for h in headers}
        if find_header(cells, wanted, limits) is not None:
            return title
    return None


def locate_header(
    data_sheet: Sheet,
    wanted: Mapping[str, str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
    where: str,
) -> int:
    """0-based header row of the sheet; an empty sheet or one without the header is a problem.

    Raises:
        FileProblem: SHEET_EMPTY, OBLIGATION_MISMATCH (the header of another
            template) or HEADER_NOT_FOUND.
    """
    cells, name = data_sheet.cells, data_sheet.name
    if not any(any(v not in (None, "") for v in row) for row in cells):
        raise FileProblem(E.SHEET_EMPTY, f"{where}是空的，请按模板填写后重新提交。", sheet=name)
    header_index = find_header(cells, wanted, limits)
    if header_index is not None:
        return header_index
    other = layout_match(cells, other_layouts, limits) if other_layouts else None
    if other:
        raise FileProblem(
            E.OBLIGATION_MISMATCH,
            f"{where}看起来是“{other}”，不是本次报送事项要求的表格，请核对报送事项，使用对应的模板重新填写。",
            sheet=name,
            value=other,
        )
    headers = "、".join(wanted.values())
    raise FileProblem(
        E.HEADER_NOT_FOUND,
        f"{where}前{limits.header_search_rows}行中找不到模板表头（应包含：{headers}），请使用下发的模板，不要删除或改写表头。",
        sheet=name,
    )


def merged_header_issues(
    data_sheet: Sheet, header_index: int, where: str, new: IssueFactory
) -> list[IntakeIssue]:
    """HEADER_MERGED for every merged range that covers the header row."""
    cells, header_number = data_sheet.cells, header_index + 1
    issues = []
    for (r1, c1), (r2, c2) in data_sheet.merges:
        if r1 <= header_index <= r2 and (r1 != r2 or c1 != c2):
            ref = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
            issues.append(
                new(
                    E.HEADER_MERGED,
                    f"{where}第{header_number}行表头有合并单元格（{ref}），请取消合并，使每一列只有一个表头单元格，并保持模板的列名。",
                    row=header_number,
                    column=cell_text(cells[r1][c1]) if r1 < len(cells) and c1 < len(cells[r1]) else None,
                    value=ref,
                )
            )
    return issues


def map_columns(
    cells: Grid, header_index: int, wanted: Mapping[str, str], where: str, new: IssueFactory
) -> tuple[dict[str, int], list[IntakeIssue]]:
    """Match the header's cells to the template's columns.

    Args:
        cells: The sheet's grid.
        header_index: 0-based header row.
        wanted: Normalised header → the template's header.
        where: How messages name the sheet (工作表“…” or 文件“…”).
        new: Issue factory of the file and sheet.

    Returns:
        ``(template header → 0-based column, issues)``; the issues name
        duplicated, renamed, missing and extra columns and data without a
        header. Any error rejects the file; a headed column after the
        template's columns (an official's 备注) is a warning and is not read.
    """
    header_number = header_index + 1
    positions, duplicates, unexpected, issues = _match_headers(
        cells[header_index], wanted, where, header_number, new
    )
    known = set(positions.values()) | duplicates | {i for i, _ in unexpected}
    issues.extend(_headerless_data(cells[header_index + 1 :], known, where, header_number, new))
    renamed, missing = _missing_or_renamed(positions, unexpected, wanted, where, header_number, new)
    issues.extend(missing)
    last = max(positions.values(), default=-1)
    for index, text in unexpected:
        if index in renamed:
            continue
        if index > last:
            # A column added after the template's own (备注): ignored, the official is told so.
            message = f"{where}{column_letter(index)}列“{text}”不是模板中的列，已忽略该列内容；今后请不要在模板中增加列。"
            severity: Severity = "warning"
        else:
            message = (
                f"{where}{column_letter(index)}列“{text}”不是模板中的列，请删除该列，不要在模板中增加列。"
            )
            severity = "error"
        issues.append(new(E.COLUMN_UNEXPECTED, message, row=header_number, value=text, severity=severity))
    return positions, issues


def _match_headers(
    header_cells: list[Cell], wanted: Mapping[str, str], where: str, header_number: int, new: IssueFactory
) -> tuple[dict[str, int], set[int], list[tuple[int, str]], list[IntakeIssue]]:
    """(positions of template columns, duplicate positions, unexpected (position, text), duplicate issues)."""
    positions: dict[str, int] = {}
    duplicates: set[int] = set()
    unexpected: list[tuple[int, str]] = []
    issues: list[IntakeIssue] = []
    for index, raw in enumerate(header_cells):
        text = cell_text(raw)
        norm = normalize_header(text)
        if not norm:
            continue
        if norm not in wanted:
            unexpected.append((index, text or ""))
            continue
        column = wanted[norm]
        if column not in positions:
            positions[column] = index
            continue
        duplicates.add(index)
        issues.append(
            new(
                E.COLUMN_DUPLICATE,
                f"{where}第{header_number}行有两列都叫“{column}”（{column_letter(positions[column])}列和{column_letter(index)}列），请删除重复的一列。",
                row=header_number,
                column=column,
                value=text,
            )
        )
    return positions, duplicates, unexpected, issues


def _headerless_data(
    data_rows: Grid, known: set[int], where: str, header_number: int, new: IssueFactory
) -> list[IntakeIssue]:
    """COLUMN_UNEXPECTED for every column that holds data below an empty header cell."""
    width = max((len(r) for r in data_rows), default=0)
    issues = []
    for index in range(width):
        if index in known:
            continue
        filled = next(
            (n for n, r in enumerate(data_rows) if index < len(r) and r[index] not in (None, "")), None
        )
        if filled is not None:
            issues.append(
                new(
                    E.COLUMN_UNEXPECTED,
                    f"{where}{column_letter(index)}列有数据但没有表头（第{header_number + 1 + filled}行），"
                    "请删除该列内容，数据只填在模板的列中。",
                    row=header_number,
                    value=column_letter(index),
                )
            )
    return issues


def _missing_or_renamed(
    positions: Mapping[str, int],
    unexpected: list[tuple[int, str]],
    wanted: Mapping[str, str],
    where: str,
    header_number: int,
    new: IssueFactory,
) -> tuple[set[int], list[IntakeIssue]]:
    """Each template column not found: COLUMN_RENAMED when an extra header looks like it, else COLUMN_MISSING.

    Returns:
        The positions taken as renamed columns, and the issues.
    """
    renamed: set[int] = set()
    issues = []
    for column in wanted.values():
        if column in positions:
            continue
        target = normalize_header(column)
        candidate = next(
            (
                (i, t)
                for i, t in unexpected
                if i not in renamed and _looks_renamed(normalize_header(t), target)
            ),
            None,
        )
        if candidate is None:
            issues.append(
                new(
                    E.COLUMN_MISSING,
                    f"{where}缺少“{column}”列，请使用下发的模板，补上该列后重新提交。",
                    row=header_number,
                    column=column,
                )
            )
            continue
        renamed.add(candidate[0])
        issues.append(
            new(
                E.COLUMN_RENAMED,
                f"{where}{column_letter(candidate[0])}列的表头“{candidate[1]}”应为模板中的“{column}”，请改回模板列名（含计量单位）。",
                row=header_number,
                column=column,
                value=candidate[1],
            )
        )
    return renamed, issues


def _looks_renamed(found: str, wanted: str) -> bool:
    """Whether a header is plausibly the template's header reworded."""
    if not found or not wanted:
        return False
    base_found, base_wanted = _UNIT.sub("", found), _UNIT.sub("", wanted)
    if base_found == base_wanted:
        return True  # same name, other unit: "计划总投资(元)" for "计划总投资(万元)"
    shorter, longer = sorted((base_found, base_wanted), key=len)
    return len(shorter) >= 2 and shorter in longer
