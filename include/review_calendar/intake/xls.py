"""The legacy .xls workbook (Excel 97-2003, the default of many WPS installs).

python-calamine reads the values, as for .xlsx. What it cannot tell comes
from xlrd, here and only here: each cell's number format (a percent-formatted
1.5 is 150 %), error cells (``#DIV/0!``) and the workbook's date system
(``datemode`` 1 = 1904). An .xls always stores a formula's last result, so a
formula's value is that result (xlrd does not expose the formula itself).
Workbooks with macros or an open password are refused as for .xlsx.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.grid import Sheet, column_letter, mark_percent_cells
from review_calendar.intake.issues import FileProblem
from review_calendar.intake.table import build_table
from review_calendar.intake.xlsx import is_percent_format, open_calamine

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import xlrd
    from python_calamine import CalamineWorkbook

    from review_calendar.intake.grid import FileFormat
    from review_calendar.intake.reader import ReadLimits
    from review_calendar.intake.table import RawTable

__all__ = ["read_xls"]

log = logging.getLogger(__name__)

_VBA_STREAM = "_VBA_PROJECT_CUR".encode("utf-16-le")


class _QuietLog:
    """xlrd writes warnings to a log file; intake keeps them out of task logs (they may quote cells)."""

    def write(self, text: str) -> int:
        return len(text)


def read_xls(
    data: bytes,
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    """The table of an .xls workbook's data sheet.

    Args:
        data: The file's bytes (an OLE2 container that is not an encrypted .xlsx).
        label: Safe display name of the file.
        sheet: The template's sheet name; None takes the first sheet with the header.
        expected: The template's headers.
        limits: Sheet and cell bounds.
        other_layouts: Headers of the other templates, by title.

    Returns:
        The table (cell issues inside).

    Raises:
        FileProblem: The workbook has macros, a password, or cannot be read.
        IntakeRejected: The header's columns do not match the template.
    """
    import xlrd  # only an .xls file needs it (a county's .xlsx is answered without it)

    if _VBA_STREAM in data:
        raise FileProblem(
            E.FILE_HAS_MACROS,
            "文件“{file}”包含宏（VBA代码），出于安全考虑不予接收，请“另存为”不含宏的.xlsx格式后重新提交。",
        )
    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, ragged_rows=True, logfile=_QuietLog()
        )
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise FileProblem(
                E.FILE_ENCRYPTED,
                "文件“{file}”设置了打开密码，无法读取，请在Excel或WPS中取消密码后重新提交。",
            ) from None
        raise _corrupt() from None
    except Exception:  # struct.error, IndexError, AssertionError... on damaged streams
        raise _corrupt() from None
    with book:
        calamine = open_calamine(data)
        with calamine:
            source = _XlsWorkbook(book, calamine, limits)
            return build_table(source, book.sheet_names(), label, sheet, expected, limits, other_layouts)


def _corrupt() -> FileProblem:
    return FileProblem(
        E.FILE_CORRUPT,
        "文件“{file}”无法按.xls读取（文件已损坏，或是WPS的.et等其他格式），"
        "请用Excel或WPS打开检查后另存为.xlsx重新提交。",
    )


class _XlsWorkbook:
    """The workbook's sheets, loaded on demand: values from calamine, formats and errors from xlrd."""

    def __init__(self, book: xlrd.book.Book, calamine: CalamineWorkbook, limits: ReadLimits) -> None:
        self.book = book
        self.calamine = calamine
        self.limits = limits
        self.format: FileFormat = "xls"
        self.encoding: str | None = None
        self.percent_xfs = _percent_xfs(book)

    def load(self, name: str | None) -> Sheet:
        """The sheet ``name`` with its error and percent cells, once its extent is checked.

        Raises:
            FileProblem: A sheet too large or one the readers cannot read.
        """
        assert name is not None
        try:
            facts = self.book.sheet_by_name(name)
        except Exception:
            raise FileProblem(
                E.FILE_CORRUPT, f"工作表“{name}”已损坏，无法读取，请重新保存后提交。", sheet=name
            ) from None
        rows, width = facts.nrows, max((facts.row_len(r) for r in range(facts.nrows)), default=0)
        limits = self.limits
        if rows > limits.max_rows or width > limits.max_columns or rows * width > limits.max_cells:
            raise FileProblem(
                E.SHEET_TOO_LARGE,
                f"工作表“{name}”的数据区域过大（{rows}行×{width}列，可能有远处的单元格被误填），"
                f"请删除多余的行列，只保留模板中的表格（上限{limits.max_rows}行、{limits.max_columns}列）。",
                sheet=name,
                value=f"{column_letter(max(width - 1, 0))}{rows}",
            )
        errors, percent = self._facts(facts)
        try:
            calamine_sheet = self.calamine.get_sheet_by_name(name)
            cells = calamine_sheet.to_python(skip_empty_area=False)
            merges = calamine_sheet.merged_cell_ranges or []
        except Exception:
            raise FileProblem(
                E.FILE_CORRUPT, f"工作表“{name}”已损坏，无法读取，请重新保存后提交。", sheet=name
            ) from None
        for r, c in errors:
            if r < len(cells) and c < len(cells[r]):
                cells[r][c] = None
        mark_percent_cells(cells, percent)
        return Sheet(
            name=name,
            cells=cells,
            merges=list(merges),
            errors=errors,
            date1904=self.book.datemode == 1,
        )

    def _facts(self, facts: xlrd.sheet.Sheet) -> tuple[dict[tuple[int, int], str], set[tuple[int, int]]]:
        """(error cells with their error text, percent-formatted number cells) of one sheet."""
        import xlrd

        errors: dict[tuple[int, int], str] = {}
        percent: set[tuple[int, int]] = set()
        for r in range(facts.nrows):
            types = facts.row_types(r)
            for c, kind in enumerate(types):
                if kind == xlrd.XL_CELL_ERROR:
                    code = facts.cell_value(r, c)
                    errors[(r, c)] = xlrd.error_text_from_code.get(code, "#VALUE!")
                elif (
                    kind == xlrd.XL_CELL_NUMBER
                    and self.percent_xfs
                    and facts.cell_xf_index(r, c) in self.percent_xfs
                ):
                    percent.add((r, c))
        return errors, percent


def _percent_xfs(book: xlrd.book.Book) -> frozenset[int]:
    """Indexes of the workbook's cell formats (XF records) that show a percentage."""
    found = set()
    for index, xf in enumerate(book.xf_list):
        fmt = book.format_map.get(xf.format_key)
        if fmt is not None and is_percent_format(fmt.format_str or ""):
            found.add(index)
    return frozenset(found)
