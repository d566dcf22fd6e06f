"""From a sheet's grid of cells to a :class:`RawTable`: sheet, header, columns, rows.

Shared by the xlsx and CSV readers. The steps, in order: choose the data sheet
(:func:`build_table`), find the header among the top rows and match its cells
to the template's columns (:mod:`~review_calendar.intake.header`), copy a
vertically merged cell down the rows it spans (:func:`fill_merged_cells`), read
every non-blank row below the header as text (:func:`read_rows`) and report
formulas anywhere else on the sheet (:func:`reject_stray_formulas`).

Problems of the table's shape (no header, a missing or renamed column) reject
the file; problems of single cells (a formula, an over-long text) become
issues of the table, so the official gets them together with the row checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.grid import cell_text, column_letter
from review_calendar.intake.header import (
    find_header,
    layout_match,
    locate_header,
    map_columns,
    merged_header_issues,
)
from review_calendar.intake.issues import FileProblem, IntakeIssue, IntakeRejected, IssueFactory, has_errors
from review_calendar.intake.normalize import has_hidden_line_break, is_formula, normalize_header

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from review_calendar.intake.grid import Cell, FileFormat, Grid, Merge, Sheet, SheetSource
    from review_calendar.intake.reader import ReadLimits

__all__ = [
    "INSTRUCTION_SHEET",
    "RawTable",
    "build_table",
    "fill_merged_cells",
    "read_rows",
    "reject_stray_formulas",
]

INSTRUCTION_SHEET = "填表说明"
Row = tuple[int, dict[str, str | None]]

_FOOTER_PREFIXES = (
    "填表人",
    "填报人",
    "审核人",
    "单位负责人",
    "负责人:",
    "填报单位",
    "填表单位",
    "填表日期",
    "填报日期",
    "注:",
    "说明:",
    "备注:",
)


@dataclass(frozen=True)
class RawTable:
    """The data rows of one sheet under its header, as text.

    Attributes:
        file: Safe display name of the file (see ``filenames.safe_file_name``).
        sheet: Sheet read, None for CSV.
        header_row: 1-based spreadsheet row of the header.
        columns: Expected headers, in the order they appear in the file.
        rows: ``(spreadsheet row number, {expected header: text or None})`` for
            every non-blank row below the header; the row numbers are the ones
            the official sees in Excel/WPS.
        issues: Cell-level problems found while reading (formulas without a
            saved result, error values, over-long cells); such cells are set to
            None in ``rows``. Formulas whose result was saved keep that result
            and get a warning. The dataset layer reports them together with its
            own, so the official gets every problem at once.
        format: ``"xlsx"``, ``"xls"``, ``"ods"`` or ``"csv"`` (what the bytes are).
        encoding: Text encoding of a CSV, else None.
        sha256: Hex digest of the file's bytes.
        size: File size in bytes.
        date1904: The workbook counts serial dates from 1904 (``date1904``).
    """

    file: str
    sheet: str | None
    header_row: int
    columns: tuple[str, ...]
    rows: list[Row]
    issues: tuple[IntakeIssue, ...] = ()
    format: FileFormat = "xlsx"
    encoding: str | None = None
    sha256: str = ""
    size: int = 0
    date1904: bool = False


def _is_instruction_sheet(name: str) -> bool:
    norm = normalize_header(name).lower()
    return "说明" in norm or norm in ("instructions", "readme")


def build_table(
    source: SheetSource,
    sheet_names: Sequence[str],
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    """Choose the data sheet of a container and read its table.

    Args:
        source: The workbook or CSV file.
        sheet_names: The workbook's sheets in order (ignored for CSV).
        label: Safe display name of the file.
        sheet: The template's sheet name; None takes the first sheet (other
            than a 填表说明 sheet) that has the header.
        expected: The template's headers.
        limits: Reader bounds.
        other_layouts: Headers of the other templates, by title.

    Returns:
        The table.

    Raises:
        FileProblem: No usable sheet, or the sheet has no header.
        IntakeRejected: The header's columns do not match the template.
    """
    wanted = {normalize_header(h): h for h in expected}
    if source.format == "csv":
        return _build(source.load(None), label, wanted, limits, other_layouts, source)
    if sheet is not None:
        chosen = next((n for n in sheet_names if n == sheet), None) or next(
            (n for n in sheet_names if normalize_header(n) == normalize_header(sheet)), None
        )
        if chosen is None:
            pasted = _sheet_with_header(source, sheet_names, wanted, limits)
            if pasted is None:
                raise _sheet_missing(source, sheet_names, sheet, limits, other_layouts)
            return _build(pasted, label, wanted, limits, other_layouts, source)
        return _build(source.load(chosen), label, wanted, limits, other_layouts, source)
    candidates = [n for n in sheet_names if not _is_instruction_sheet(n)]
    if not candidates:
        raise FileProblem(
            E.SHEET_MISSING, "文件“{file}”中只有填表说明，没有数据工作表，请使用下发的模板填写。"
        )
    first: Sheet | None = None
    for name in candidates:
        loaded = source.load(name)
        first = first or loaded
        if find_header(loaded.cells, wanted, limits) is not None:
            return _build(loaded, label, wanted, limits, other_layouts, source)
    assert first is not None
    return _build(first, label, wanted, limits, other_layouts, source)


def _sheet_with_header(
    source: SheetSource, names: Sequence[str], wanted: Mapping[str, str], limits: ReadLimits
) -> Sheet | None:
    """The first sheet (other than 填表说明) that has the template's header, None when none has.

    The table pasted into a new workbook (its sheet called ``Sheet1``, title
    and header intact) is the template's table under another sheet name: it is
    read like the template's sheet.
    """
    for name in names:
        if _is_instruction_sheet(name):
            continue
        try:
            loaded = source.load(name)
        except FileProblem:
            continue
        if find_header(loaded.cells, wanted, limits) is not None:
            return loaded
    return None


def _sheet_missing(
    source: SheetSource,
    names: Sequence[str],
    sheet: str,
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> FileProblem:
    """The problem of a workbook without the template's sheet or any sheet with its header."""
    listed = "、".join(f"“{n}”" for n in names)
    hint = "请使用下发的模板，不要修改工作表名称。"
    for name in names:
        if _is_instruction_sheet(name):
            continue
        try:
            loaded = source.load(name)
        except FileProblem:
            continue
        other = layout_match(loaded.cells, other_layouts, limits) if other_layouts else None
        if other:
            return FileProblem(
                E.OBLIGATION_MISMATCH,
                f"文件“{{file}}”看起来是“{other}”，不是本次报送事项要求的表格（应有工作表“{sheet}”），请核对报送事项后重新提交。",
                sheet=name,
                value=other,
            )
    return FileProblem(
        E.SHEET_MISSING,
        f"文件“{{file}}”中没有名为“{sheet}”的工作表（现有工作表：{listed}），{hint}",
        value=sheet,
    )


def _build(
    data_sheet: Sheet,
    label: str,
    wanted: Mapping[str, str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
    source: SheetSource,
) -> RawTable:
    """The table of the chosen sheet: header, columns, merged cells, rows, stray formulas."""
    where = f"工作表“{data_sheet.name}”" if data_sheet.name else "文件“{file}”"
    header_index = locate_header(data_sheet, wanted, limits, other_layouts, where)
    new = IssueFactory(label, data_sheet.name)
    where = where.replace("{file}", label)
    issues = merged_header_issues(data_sheet, header_index, where, new)
    positions, column_issues = map_columns(data_sheet.cells, header_index, wanted, where, new)
    issues.extend(column_issues)
    if has_errors(issues):
        raise IntakeRejected(issues)
    cells = fill_merged_cells(data_sheet.cells, data_sheet.merges, header_index)
    ordered = sorted(positions.items(), key=lambda kv: kv[1])
    rows, cell_issues, reported = read_rows(
        cells, header_index, ordered, data_sheet.formulas, new, limits, data_sheet
    )
    cell_issues[:0] = issues  # warnings of the header (an ignored 备注 column) come first
    cell_issues.extend(reject_stray_formulas(data_sheet.formulas, reported, new))
    if not rows:
        header_number = header_index + 1
        no_rows = new(
            E.NO_DATA_ROWS,
            f"{where}只有表头，没有填写数据，请从第{header_number + 1}行开始逐行填写后重新提交。",
            row=header_number,
        )
        raise IntakeRejected([*cell_issues, no_rows])
    return RawTable(
        file=label,
        sheet=data_sheet.name,
        header_row=header_index + 1,
        columns=tuple(column for column, _ in ordered),
        rows=rows,
        issues=tuple(cell_issues),
        format=source.format,
        encoding=source.encoding,
        date1904=data_sheet.date1904,
    )


def fill_merged_cells(cells: Grid, merges: Sequence[Merge], header_index: int) -> Grid:
    """The grid with each vertically merged cell below the header copied down the rows it spans.

    A vertically merged cell means the same value on every row it spans:
    officials merge 地区名称 over the two roles of one region.

    Args:
        cells: The sheet's grid (not modified).
        merges: The sheet's merged ranges.
        header_index: 0-based header row; merges at or above it are left alone.

    Returns:
        ``cells`` itself when nothing is merged down, else a filled copy.
    """
    fill_down = [
        ((r1, c1), r2) for (r1, c1), (r2, c2) in merges if c1 == c2 and r2 > r1 and r1 > header_index
    ]
    if not fill_down:
        return cells
    cells = [list(r) for r in cells]
    for (r1, c), r2 in fill_down:
        top = cells[r1][c] if r1 < len(cells) and c < len(cells[r1]) else None
        for r in range(r1 + 1, min(r2, len(cells) - 1) + 1):
            row = cells[r]
            if c < len(row):
                row[c] = top
            else:
                row.extend([None] * (c - len(row)) + [top])
    return cells


def read_rows(
    cells: Grid,
    header_index: int,
    ordered: Sequence[tuple[str, int]],
    formulas: Mapping[tuple[int, int], str],
    new: IssueFactory,
    limits: ReadLimits,
    sheet: Sheet | None = None,
) -> tuple[list[Row], list[IntakeIssue], set[tuple[int, int]]]:
    """Every non-blank row below the header, as text under the template's headers.

    Formula cells and over-long texts become issues and None values; the
    "填表人：… 联系电话：…" lines under a table belong to the form and are skipped.

    Args:
        cells: The sheet's grid (merged cells filled).
        header_index: 0-based header row.
        ordered: (template header, 0-based column) in file order.
        formulas: The sheet's formula cells.
        new: Issue factory of the file and sheet.
        limits: ``max_cell_chars`` bounds a cell's text.
        sheet: The sheet, for its error cells and saved formula results.

    Returns:
        ``(rows, cell issues, formula cells reported)``.
    """
    rows: list[Row] = []
    issues: list[IntakeIssue] = []
    reported: set[tuple[int, int]] = set()
    first_number = header_index + 2
    for offset, raw_row in enumerate(cells[header_index + 1 :]):
        number = first_number + offset
        record: dict[str, str | None] = {}
        blank = True
        for column, index in ordered:
            formula = formulas.get((number - 1, index)) if formulas else None
            if formula is not None:
                reported.add((number - 1, index))
            value, filled, problem = _read_cell(raw_row, index, number, column, formula, new, limits)
            if sheet is not None and formula is None and (sheet.errors or sheet.saved_formulas):
                value, filled, problem = _cell_facts(
                    sheet, (number - 1, index), (value, filled, problem), column, new
                )
            blank = blank and not filled
            if problem is not None:
                issues.append(problem)
            record[column] = value
        if blank or _is_footer(record):
            continue
        rows.append((number, record))
    return rows, issues, reported


def _read_cell(
    raw_row: list[Cell],
    index: int,
    number: int,
    column: str,
    formula: str | None,
    new: IssueFactory,
    limits: ReadLimits,
) -> tuple[str | None, bool, IntakeIssue | None]:
    """(text or None, whether the cell was filled, its issue if any) of one cell."""
    if formula is not None:
        return None, True, _formula_issue(new, number, column, formula)
    value = cell_text(raw_row[index]) if index < len(raw_row) else None
    if value is None:
        return None, False, None
    if not value[:1].isalnum() and is_formula(value):  # a formula may hide behind invisible characters
        return None, True, _formula_issue(new, number, column, value)
    if "=?" in value and has_hidden_line_break(value):
        problem = new(
            E.VALUE_CONTROL_CHARS,
            f"第{number}行“{column}”列的内容含有编码后的换行或控制字符，请删除“=?…?=”一类的编码文字，直接填写。",
            row=number,
            column=column,
            value=_short(value),
        )
        return None, True, problem
    if len(value) > limits.max_cell_chars:
        problem = new(
            E.VALUE_TOO_LONG,
            f"第{number}行“{column}”列的内容有{len(value)}个字符，超过{limits.max_cell_chars}字的上限，请精简。",
            row=number,
            column=column,
            value=value[:50] + "…",
        )
        return None, True, problem
    return value, True, None


def _cell_facts(
    sheet: Sheet,
    where: tuple[int, int],
    read: tuple[str | None, bool, IntakeIssue | None],
    column: str,
    new: IssueFactory,
) -> tuple[str | None, bool, IntakeIssue | None]:
    """A cell read again in the light of its error value or saved formula result."""
    number = where[0] + 1
    error = sheet.errors.get(where)
    if error is not None:
        problem = new(
            E.CELL_ERROR,
            f"第{number}行“{column}”列是Excel错误值“{error}”（公式计算出错），请改为具体数值或文字。",
            row=number,
            column=column,
            value=error,
        )
        return None, True, problem
    formula = sheet.saved_formulas.get(where)
    value, filled, problem = read
    if formula is None or problem is not None:
        return read
    warning = new(
        E.FORMULA_SAVED_VALUE,
        f"第{number}行“{column}”列是公式“{_short(formula)}”，已按文件中保存的计算结果“{_short(value or '')}”读取，"
        "请核对；今后请直接填写数值。",
        row=number,
        column=column,
        value=formula,
        severity="warning",
    )
    return value, filled, warning


def _is_footer(record: Mapping[str, str | None]) -> bool:
    """Whether a row is a "填表人：…" line under the table (part of the form, not data)."""
    first = next((v for v in record.values() if v), "")
    return bool(first) and first.replace(" ", "").replace("：", ":").startswith(_FOOTER_PREFIXES)


def reject_stray_formulas(
    formulas: Mapping[tuple[int, int], str], reported: set[tuple[int, int]], new: IssueFactory
) -> list[IntakeIssue]:
    """FORMULA_NOT_ALLOWED for formulas outside the cells read (title row, stray columns).

    Nothing executable is accepted anywhere on the sheet.

    Args:
        formulas: The sheet's formula cells.
        reported: Formula cells already reported by :func:`read_rows`.
        new: Issue factory of the file and sheet.

    Returns:
        One issue per formula not yet reported, in sheet order.
    """
    return [
        new(
            E.FORMULA_NOT_ALLOWED,
            f"第{r + 1}行{column_letter(c)}列是公式“{_short(formula)}”，请删除公式，只填写数值或文字。",
            row=r + 1,
            value=formula,
        )
        for (r, c), formula in sorted(formulas.items())
        if (r, c) not in reported
    ]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _formula_issue(new: IssueFactory, row: int, column: str, formula: str) -> IntakeIssue:
    return new(
        E.FORMULA_NOT_ALLOWED,
        f"第{row}行“{column}”列是公式“{_short(formula)}”，请删除公式，直接填写数值或文字（以“=”“+”“-”“@”开头的内容会被当作公式）。",
        row=row,
        column=column,
        value=formula,
    )
