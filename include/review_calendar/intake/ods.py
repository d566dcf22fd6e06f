"""The OpenDocument spreadsheet (.ods, LibreOffice and the 信创 desktops).

An .ods is a zip like an .xlsx: its size, parts and ratios are bounded and
content.xml is inflated once with its size capped and its CRC verified
(:func:`~review_calendar.intake.zipparts.inflate_parts`). python-calamine reads
the values; what it cannot tell is read from content.xml here and only here:
percent cells (``office:value-type="percentage"``: 150 % is stored as 1.5),
formulas (``table:formula``) and whether their result was saved (a value
type), error cells (LibreOffice's ``calcext:value-type="error"``), the 1904
date system (``table:null-date`` 1904-01-01), and how far
the used range really extends once repeated rows and columns are counted
(checked before calamine expands them).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.grid import Sheet, column_letter, mark_percent_cells
from review_calendar.intake.issues import FileProblem
from review_calendar.intake.table import build_table
from review_calendar.intake.xlsx import open_calamine
from review_calendar.intake.zipparts import check_zip, inflate_parts, zip_listing

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from python_calamine import CalamineWorkbook

    from review_calendar.intake.grid import FileFormat
    from review_calendar.intake.reader import ReadLimits
    from review_calendar.intake.table import RawTable

__all__ = ["ODS_MIMETYPE", "is_ods", "read_ods"]

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_ROW, _CELL, _COVERED, _SHEET = (
    f"{{{_TABLE}}}{t}" for t in ("table-row", "table-cell", "covered-table-cell", "table")
)
_ROWS_REPEATED, _COLUMNS_REPEATED = (
    f"{{{_TABLE}}}number-rows-repeated",
    f"{{{_TABLE}}}number-columns-repeated",
)
_FORMULA, _NAME = f"{{{_TABLE}}}formula", f"{{{_TABLE}}}name"
_NULL_DATE, _DATE_VALUE = f"{{{_TABLE}}}null-date", f"{{{_TABLE}}}date-value"
_VALUE_TYPE, _CALC_TYPE = f"{{{_OFFICE}}}value-type", f"{{{_CALCEXT}}}value-type"


def is_ods(data: bytes) -> bool:
    """Whether a zip's bytes are an OpenDocument spreadsheet (its first, stored part is ``mimetype``)."""
    return data[30:38] == b"mimetype" and ODS_MIMETYPE in data[38:120]


def _wanted(name: str) -> bool:
    return name in ("content.xml", "styles.xml", "settings.xml", "META-INF/manifest.xml")


def read_ods(
    data: bytes,
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    """The table of an .ods workbook's data sheet.

    Args:
        data: The file's bytes (a zip whose mimetype is an ODF spreadsheet).
        label: Safe display name of the file.
        sheet: The template's sheet name; None takes the first sheet with the header.
        expected: The template's headers.
        limits: Zip, sheet and cell bounds.
        other_layouts: Headers of the other templates, by title.

    Returns:
        The table (cell issues inside).

    Raises:
        FileProblem: The container or a sheet is unusable, encrypted or has macros.
        IntakeRejected: The header's columns do not match the template.
    """
    try:
        infos = list(zip_listing(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise FileProblem(
            E.FILE_TRUNCATED, "文件“{file}”不完整（可能上传或复制时中断），无法打开，请重新保存后再提交。"
        ) from None
    check_zip(infos, limits)
    names = {i.filename for i in infos}
    if any(n.startswith(("Basic/", "Scripts/")) for n in names):
        raise FileProblem(
            E.FILE_HAS_MACROS,
            "文件“{file}”包含宏，出于安全考虑不予接收，请删除宏后重新保存再提交。",
        )
    parts = inflate_parts(data, infos, _wanted)
    if b"encryption-data" in parts.get("META-INF/manifest.xml", b""):
        raise FileProblem(E.FILE_ENCRYPTED, "文件“{file}”设置了密码，无法读取，请取消密码后重新提交。")
    content = parts.get("content.xml")
    if content is None:
        raise FileProblem(E.FILE_CORRUPT, "文件“{file}”的工作簿结构已损坏，请重新保存后提交。")
    sheets, date1904 = _scan(content, limits)
    if not sheets:
        raise FileProblem(E.SHEET_MISSING, "文件“{file}”中没有工作表，请使用下发的模板填写。")
    workbook = open_calamine(data)
    with workbook:
        source = _OdsWorkbook(workbook, sheets, date1904)
        return build_table(source, list(sheets), label, sheet, expected, limits, other_layouts)


class _SheetFacts:
    """What content.xml says about one sheet's cells beyond their values."""

    def __init__(self) -> None:
        self.formulas: dict[tuple[int, int], str] = {}
        self.saved: dict[tuple[int, int], str] = {}
        self.errors: dict[tuple[int, int], str] = {}
        self.percent: set[tuple[int, int]] = set()


class _OdsWorkbook:
    """The workbook's sheets, loaded on demand, with the facts of content.xml."""

    def __init__(self, workbook: CalamineWorkbook, sheets: dict[str, _SheetFacts], date1904: bool) -> None:
        self.workbook = workbook
        self.sheets = sheets
        self.date1904 = date1904
        self.format: FileFormat = "ods"
        self.encoding: str | None = None

    def load(self, name: str | None) -> Sheet:
        """The sheet ``name`` (its extent was checked while scanning content.xml).

        Raises:
            FileProblem: A sheet calamine cannot read.
        """
        assert name is not None
        facts = self.sheets.get(name, _SheetFacts())
        try:
            calamine_sheet = self.workbook.get_sheet_by_name(name)
            cells = calamine_sheet.to_python(skip_empty_area=False)
            merges = calamine_sheet.merged_cell_ranges or []
        except Exception:
            raise FileProblem(
                E.FILE_CORRUPT, f"工作表“{name}”已损坏，无法读取，请重新保存后提交。", sheet=name
            ) from None
        for r, c in facts.errors:
            if r < len(cells) and c < len(cells[r]):
                cells[r][c] = None
        mark_percent_cells(cells, facts.percent)
        return Sheet(
            name=name,
            cells=cells,
            merges=list(merges),
            formulas=facts.formulas,
            saved_formulas=facts.saved,
            errors=facts.errors,
            date1904=self.date1904,
        )


def _scan(content: bytes, limits: ReadLimits) -> tuple[dict[str, _SheetFacts], bool]:
    """Every sheet's facts, by name, in workbook order, and whether serial dates count from 1904.

    A sheet too large is rejected.
    """
    sheets: dict[str, _SheetFacts] = {}
    date1904 = False
    facts = _SheetFacts()
    name = ""
    row = column = 0
    extent = (0, 0)
    row_repeat = 1
    try:
        for event, element in ET.iterparse(io.BytesIO(content), events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == _SHEET:
                    name = element.get(_NAME, f"Sheet{len(sheets) + 1}")
                    facts, row, extent = _SheetFacts(), 0, (0, 0)
                    sheets[name] = facts
                elif tag == _ROW:
                    column = 0
                    row_repeat = _repeat(element.get(_ROWS_REPEATED))
                elif tag == _NULL_DATE:
                    # The workbook's day 0 (table:null-date); 1904-01-01 is Excel's 1904 date system.
                    date1904 = element.get(_DATE_VALUE, "").startswith("1904-01-01")
                continue
            if tag in (_CELL, _COVERED):
                repeat = _repeat(element.get(_COLUMNS_REPEATED))
                if _has_content(element):
                    last = (row + row_repeat, column + repeat)
                    extent = (max(extent[0], last[0]), max(extent[1], last[1]))
                    _check_extent(name, extent, limits)
                    if tag == _CELL:
                        _cell_facts(element, row, column, repeat, row_repeat, facts)
                column += repeat
                element.clear()
            elif tag == _ROW:
                row += row_repeat
                element.clear()
    except ET.ParseError:
        raise FileProblem(E.FILE_CORRUPT, "文件“{file}”的工作表数据已损坏，请重新保存后提交。") from None
    return sheets, date1904


def _repeat(value: str | None) -> int:
    return int(value) if value and value.isdecimal() else 1


def _has_content(element: ET.Element) -> bool:
    return element.get(_VALUE_TYPE) is not None or element.get(_FORMULA) is not None or len(element) > 0


def _check_extent(name: str, extent: tuple[int, int], limits: ReadLimits) -> None:
    rows, width = extent
    if rows > limits.max_rows or width > limits.max_columns or rows * width > limits.max_cells:
        raise FileProblem(
            E.SHEET_TOO_LARGE,
            f"工作表“{name}”的数据区域过大（{rows}行×{width}列，可能有远处的单元格被误填），"
            f"请删除多余的行列，只保留模板中的表格（上限{limits.max_rows}行、{limits.max_columns}列）。",
            sheet=name,
            value=f"{column_letter(max(width - 1, 0))}{rows}",
        )


def _cell_facts(
    element: ET.Element, row: int, column: int, repeat: int, row_repeat: int, facts: _SheetFacts
) -> None:
    """Record one cell's (and its repeats') formula, error value and percent type."""
    value_type = element.get(_VALUE_TYPE)
    formula = element.get(_FORMULA)
    error = None
    if element.get(_CALC_TYPE) == "error":
        error = "".join(element.itertext()).strip() or "#VALUE!"
    for r in range(row, row + row_repeat):
        for c in range(column, column + repeat):
            where = (r, c)
            if error is not None:
                facts.errors[where] = error
            elif formula is not None:
                shown = "=" + formula.split(":", 1)[-1].lstrip("=") if formula else "=（公式）"
                (facts.saved if value_type is not None else facts.formulas)[where] = shown
            if value_type == "percentage" and error is None:
                facts.percent.add(where)
