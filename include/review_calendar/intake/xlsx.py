"""The .xlsx container: checked part by part before python-calamine parses it.

A workbook is a zip of XML parts. Before calamine sees it, the zip's declared
sizes and compression ratios are bounded (zip bombs), its package is checked
to be a spreadsheet without macros or encryption, and every XML part calamine
parses is inflated once with its size capped and its CRC verified. What
calamine cannot tell is taken from the XML already in memory, here and only
here: which cells hold formulas and whether their result was saved, which
hold error values (``t="e"``), which are percent-formatted (``s=`` → cellXfs →
numFmts of xl/styles.xml), whether the workbook uses the 1904 date system
(``workbookPr date1904``), the workbook's custom document properties
(docProps/custom.xml: what our templates say they are for,
:func:`custom_properties`), and how far the used range really extends
(calamine allocates the whole rectangle up front, so a two-cell workbook with
a cell in XFD1048576 would abort the process rather than raise). Merged cells
come from calamine; openpyxl is not needed on the read path.
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import TYPE_CHECKING

from python_calamine import CalamineWorkbook

from review_calendar.intake import issues as E
from review_calendar.intake.grid import Sheet, column_index, column_letter, mark_percent_cells
from review_calendar.intake.issues import FileProblem
from review_calendar.intake.table import build_table
from review_calendar.intake.zipparts import check_zip, inflate_part, inflate_parts, zip_listing, zip_part

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from review_calendar.intake.grid import FileFormat
    from review_calendar.intake.reader import ReadLimits
    from review_calendar.intake.table import RawTable

__all__ = [
    "CUSTOM_PROPERTIES_PART",
    "custom_properties",
    "is_percent_format",
    "open_calamine",
    "read_xlsx",
]

_CELL_REF = re.compile(rb"""\sr=["']([A-Z]{1,3})([0-9]{1,7})["']""")
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c[\s>/]")
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ERROR_CELL = re.compile(rb"""\st=["']e["']""")


def _local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def read_xlsx(
    data: bytes,
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    """The table of an .xlsx workbook's data sheet.

    Args:
        data: The file's bytes (a zip).
        label: Safe display name of the file.
        sheet: The template's sheet name; None takes the first sheet with the header.
        expected: The template's headers.
        limits: Zip, sheet and cell bounds.
        other_layouts: Headers of the other templates, by title.

    Returns:
        The table (cell issues inside).

    Raises:
        FileProblem: The container, the workbook or the sheet is unusable.
        IntakeRejected: The header's columns do not match the template.
    """
    try:
        infos = list(zip_listing(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        # The local header is there but not the central directory at the end:
        # an interrupted upload or copy.
        raise FileProblem(
            E.FILE_TRUNCATED,
            "文件“{file}”不完整（可能上传或复制时中断），无法打开，请重新保存后再提交。",
        ) from None
    check_zip(infos, limits)
    _check_package({i.filename for i in infos}, infos)
    parts = inflate_parts(data, infos, _calamine_parses)
    sheets = _workbook_sheets(parts)
    if not sheets:
        raise FileProblem(E.SHEET_MISSING, "文件“{file}”中没有工作表，请使用下发的模板填写。")
    workbook = open_calamine(data)
    with workbook:
        source = _Workbook(parts, workbook, dict(sheets), limits)
        names = [n for n, _ in sheets]
        return build_table(source, names, label, sheet, expected, limits, other_layouts)


def open_calamine(data: bytes) -> CalamineWorkbook:
    """The workbook as calamine opens it; its failures become problems of the file."""
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # CalamineError, PasswordError, XmlError, ZipError, ValueError...
        if type(exc).__name__ == "PasswordError":
            raise FileProblem(E.FILE_ENCRYPTED, "文件“{file}”设置了密码，请取消密码后重新提交。") from None
        raise FileProblem(
            E.FILE_CORRUPT, "文件“{file}”已损坏，无法读取，请用Excel或WPS打开检查后另存为.xlsx重新提交。"
        ) from None


def _check_package(names: set[str], infos: list[zipfile.ZipInfo]) -> None:
    """The zip is a spreadsheet (not Word, ODS, xlsb...), not encrypted, without macros."""
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            what, code = "Word文档", E.FILE_NOT_SPREADSHEET
        elif "ppt/presentation.xml" in names:
            what, code = "PowerPoint文档", E.FILE_NOT_SPREADSHEET
        elif "content.xml" in names and "mimetype" in names:
            what, code = "OpenDocument文档（不是.ods电子表格，或已损坏）", E.FILE_FORMAT_UNSUPPORTED
        elif "xl/workbook.bin" in names:
            what, code = "Excel二进制工作簿（.xlsb）", E.FILE_FORMAT_UNSUPPORTED
        else:
            what, code = "普通压缩包", E.FILE_NOT_SPREADSHEET
        raise FileProblem(
            code, f"文件“{{file}}”是{what}，不是.xlsx电子表格，请按下发的模板填写并保存为.xlsx后提交。"
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise FileProblem(E.FILE_ENCRYPTED, "文件“{file}”内部经过加密，无法读取，请取消密码后重新提交。")
    if any(n.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for n in names):
        raise FileProblem(
            E.FILE_HAS_MACROS,
            "文件“{file}”包含宏（VBA代码），出于安全考虑不予接收，请“另存为”不含宏的.xlsx格式后重新提交。",
        )


def _calamine_parses(name: str) -> bool:
    """Whether calamine parses this part of an .xlsx: the xl/ XML parts (not the theme, not media)."""
    return name.startswith("xl/") and name.endswith((".xml", ".rels")) and not name.startswith("xl/theme/")


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\s([^>]*)>")
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*)>")
_ATTR = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attributes(text: bytes) -> dict[str, str]:
    """The attributes of one XML start tag, entities resolved."""
    out: dict[str, str] = {}
    for key, double, single in _ATTR.findall(text):
        value = (double or single).decode("utf-8", "replace")
        out[key.decode("ascii", "replace")] = html.unescape(value) if "&" in value else value
    return out


def _workbook_sheets(parts: Mapping[str, bytes]) -> list[tuple[str, str | None]]:
    """(sheet name, worksheet part path) in workbook order."""
    workbook = parts.get("xl/workbook.xml")
    if workbook is None:
        raise FileProblem(
            E.FILE_CORRUPT, "文件“{file}”的工作簿结构已损坏，请用Excel或WPS重新保存为.xlsx后提交。"
        )
    targets: dict[str, str] = {}
    for match in _REL_TAG.finditer(parts.get("xl/_rels/workbook.xml.rels", b"")):
        attrs = _attributes(match.group(1))
        rid, target = attrs.get("Id"), attrs.get("Target")
        if rid and target:
            targets[rid] = _part_path(target)
    out: list[tuple[str, str | None]] = []
    for match in _SHEET_TAG.finditer(workbook):
        attrs = _attributes(match.group(1))
        sheet_name = attrs.get("name")
        rid = next((v for k, v in attrs.items() if k.endswith(":id") or k == "id"), None)
        if sheet_name is not None:
            target = targets.get(rid or "")
            out.append((sheet_name, target if target in parts else None))
    return out


def _part_path(target: str) -> str:
    """A relationship target of xl/workbook.xml as a path inside the zip."""
    path = target[1:] if target.startswith("/") else "xl/" + target
    pieces: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if pieces:
                pieces.pop()
        elif piece and piece != ".":
            pieces.append(piece)
    return "/".join(pieces)


class _Workbook:
    """The workbook's sheets, loaded on demand; the data sheet is usually the only one loaded."""

    def __init__(
        self,
        parts: Mapping[str, bytes],
        workbook: CalamineWorkbook,
        sheet_parts: dict[str, str | None],
        limits: ReadLimits,
    ) -> None:
        self.parts = parts
        self.workbook = workbook
        self.sheet_parts = sheet_parts
        self.limits = limits
        self.format: FileFormat = "xlsx"
        self.encoding: str | None = None
        self.percent_styles = _percent_styles(parts.get("xl/styles.xml"))
        # A cell that uses one of those formats: only then is the sheet scanned for them.
        self.percent_used = (
            re.compile(rb"""\ss=["'](?:%s)["']""" % b"|".join(b"%d" % i for i in sorted(self.percent_styles)))
            if self.percent_styles
            else None
        )
        self.date1904 = bool(_DATE1904.search(parts.get("xl/workbook.xml", b"")))

    def load(self, name: str | None) -> Sheet:
        """The sheet ``name`` with its formula cells, once its extent is checked.

        Raises:
            FileProblem: A chart sheet, an unmapped part, a sheet too large
                or one calamine cannot read.
        """
        assert name is not None
        part = self.sheet_parts.get(name)
        facts = _CellFacts()
        if part is not None:
            xml = self.parts[part]
            _check_extent(xml, name, self.limits)
            percent = self.percent_used is not None and self.percent_used.search(xml) is not None
            if percent or _HAS_FORMULA.search(xml) or _ERROR_CELL.search(xml):
                facts = _scan_cells(xml, self.percent_styles if percent else frozenset())
        else:
            # A chart sheet or a part we could not map: calamine decides, the
            # extent check cannot run, so only read sheets we could check.
            raise FileProblem(
                E.SHEET_MISSING, f"工作表“{name}”不是普通数据表，请使用下发的模板填写。", sheet=name
            )
        try:
            calamine_sheet = self.workbook.get_sheet_by_name(name)
            cells = calamine_sheet.to_python(skip_empty_area=False)
            merges = calamine_sheet.merged_cell_ranges or []
        except Exception:  # calamine's XmlError, ZipError, CalamineError...
            raise FileProblem(
                E.FILE_CORRUPT,
                f"工作表“{name}”已损坏，无法读取，请用Excel或WPS重新保存为.xlsx后提交。",
                sheet=name,
            ) from None
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


def _check_extent(xml: bytes, sheet: str, limits: ReadLimits) -> None:
    """Reject sheets whose used rectangle calamine could not allocate."""
    refs = _CELL_REF.findall(xml)
    max_row = max((int(r) for _, r in refs), default=0)
    max_col = max((column_index(c) + 1 for c in {c for c, _ in refs}), default=0)
    cells_without_ref = len(_CELL_OPEN.findall(xml)) - len(refs)
    if cells_without_ref > 0:
        # Positions are implicit (allowed by OOXML, written by a few tools):
        # count rows and the widest row instead.
        rows, width = _implicit_extent(xml)
        max_row, max_col = max(max_row, rows), max(max_col, width)
    if max_row > limits.max_rows or max_col > limits.max_columns or max_row * max_col > limits.max_cells:
        raise FileProblem(
            E.SHEET_TOO_LARGE,
            f"工作表“{sheet}”的数据区域过大（{max_row}行×{max_col}列，可能有远处的单元格被误填），"
            f"请删除多余的行列，只保留模板中的表格（上限{limits.max_rows}行、{limits.max_columns}列）。",
            sheet=sheet,
            value=f"{column_letter(max(max_col - 1, 0))}{max_row}",
        )


def _implicit_extent(xml: bytes) -> tuple[int, int]:
    """(rows, widest row) of a sheet whose cells do not all state their position."""
    rows = width = row_number = 0
    try:
        for event, element in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
            tag = _local(element.tag)
            if event == "start" and tag == "row":
                ref = element.get("r")
                row_number = int(ref) if ref and ref.isdecimal() else row_number + 1
                rows = max(rows, row_number)
            elif event == "end" and tag == "row":
                width = max(width, len([c for c in element if _local(c.tag) == "c"]))
                element.clear()
    except ET.ParseError:
        raise FileProblem(
            E.FILE_CORRUPT, "文件“{file}”的工作表数据已损坏，请重新保存为.xlsx后提交。"
        ) from None
    return rows, width


_PERCENT_BUILTIN = frozenset({9, 10})
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_NUM_FMT = re.compile(rb"<(?:\w+:)?numFmt\s([^>]*)>")
_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs[\s>].*?</(?:\w+:)?cellXfs>", re.DOTALL)
_XF = re.compile(rb"<(?:\w+:)?xf[\s>/]([^>]*)>")
_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\s[^>]*date1904\s*=\s*[\"'](1|true)[\"']")


def is_percent_format(code: str) -> bool:
    """Whether a number format code shows a percentage (a ``%`` outside quotes, escapes and [..])."""
    return "%" in _QUOTED.sub("", code)


def _percent_styles(styles: bytes | None) -> frozenset[int]:
    """Indexes of the cell formats (``s=`` of a cell) whose number format is a percentage."""
    if not styles:
        return frozenset()
    custom: dict[int, str] = {}
    for match in _NUM_FMT.finditer(styles):
        attrs = _attributes(match.group(1))
        if attrs.get("numFmtId", "").isdecimal():
            custom[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
    block = _CELL_XFS.search(styles)
    if block is None:
        return frozenset()
    found = set()
    for index, match in enumerate(_XF.finditer(block.group(0))):
        fmt = _attributes(match.group(1)).get("numFmtId", "0")
        fmt_id = int(fmt) if fmt.isdecimal() else 0
        if fmt_id in _PERCENT_BUILTIN or is_percent_format(custom.get(fmt_id, "")):
            found.add(index)
    return frozenset(found)


class _CellFacts:
    """What calamine does not give about a sheet's cells, read from its XML."""

    def __init__(self) -> None:
        self.formulas: dict[tuple[int, int], str] = {}
        self.saved: dict[tuple[int, int], str] = {}
        self.errors: dict[tuple[int, int], str] = {}
        self.percent: set[tuple[int, int]] = set()


def _scan_cells(xml: bytes, percent_styles: frozenset[int]) -> _CellFacts:
    """Formulas (with or without a saved result), error cells and percent-formatted cells of a sheet."""
    facts = _CellFacts()
    row_number = 0
    column = -1
    try:
        for event, element in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
            tag = _local(element.tag)
            if event == "start":
                if tag == "row":
                    ref = element.get("r")
                    row_number = int(ref) if ref and ref.isdecimal() else row_number + 1
                    column = -1
                elif tag == "c":
                    ref = element.get("r")
                    match = re.fullmatch(r"([A-Z]{1,3})(\d+)", ref or "")
                    if match:
                        column = column_index(match.group(1))
                        row_number = int(match.group(2))
                    else:
                        column += 1
                continue
            if tag == "c":
                _cell_facts(element, (row_number - 1, column), percent_styles, facts)
                element.clear()
            elif tag == "row":
                element.clear()
    except ET.ParseError:
        raise FileProblem(
            E.FILE_CORRUPT, "文件“{file}”的工作表数据已损坏，请重新保存为.xlsx后提交。"
        ) from None
    return facts


def _cell_facts(
    element: ET.Element, where: tuple[int, int], percent_styles: frozenset[int], facts: _CellFacts
) -> None:
    """Record one ``<c>`` element's formula, error value and percent format."""
    formula = saved = None
    for child in element:
        tag = _local(child.tag)
        if tag == "f":
            # Shared formulas repeat in dependent cells with no text.
            formula = "=" + child.text if child.text else "=（共享公式）"
        elif tag == "v":
            saved = child.text
        elif tag == "is":
            saved = "".join(child.itertext())
    kind = element.get("t")
    if kind == "e":
        facts.errors[where] = saved or "#VALUE!"
    if formula is not None:
        if kind == "e":
            pass
        elif saved is None or (saved == "" and kind not in ("str", "inlineStr", "s")):
            facts.formulas[where] = formula
        else:
            facts.saved[where] = formula
    style = element.get("s")
    if (
        percent_styles
        and style
        and style.isdecimal()
        and int(style) in percent_styles
        and kind in (None, "n")
    ):
        facts.percent.add(where)


CUSTOM_PROPERTIES_PART = "docProps/custom.xml"
#: Largest docProps/custom.xml read (a template's is under 1 KB).
_MAX_PROPERTIES_BYTES = 64 * 1024


def custom_properties(data: bytes) -> dict[str, str]:
    """The custom document properties of an .xlsx (name → value as text); empty when it has none.

    Read from ``docProps/custom.xml``, the part Excel, WPS and LibreOffice
    keep when they save a workbook (文件→属性→自定义). A part that is missing,
    too large or damaged gives no properties: they only ever add what a file
    says about itself, never reject it.

    Args:
        data: The file's bytes (a zip).
    """
    try:
        info = zip_part(data, CUSTOM_PROPERTIES_PART)
        if info is None or info.file_size > _MAX_PROPERTIES_BYTES:
            return {}
        root = ET.fromstring(inflate_part(data, info))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        ET.ParseError,
        NotImplementedError,
        FileProblem,
    ):
        return {}
    found: dict[str, str] = {}
    for prop in root:
        name = prop.get("name")
        if _local(prop.tag) == "property" and name:
            found[name] = "".join(prop.itertext()).strip()
    return found
