"""Delimited text (.csv, Excel's "Unicode text"): decoded from its bytes, then split into a grid.

The encoding is detected from the bytes (BOM, strict UTF-8, GBK, GB18030),
the delimiter from the first lines; the grid then goes through the same
header and row steps as a workbook's sheet (:mod:`review_calendar.intake.table`).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.grid import Grid, Sheet
from review_calendar.intake.issues import FileProblem
from review_calendar.intake.table import build_table

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from review_calendar.intake.grid import FileFormat
    from review_calendar.intake.reader import ReadLimits
    from review_calendar.intake.table import RawTable

__all__ = ["read_csv"]


def _decode_candidates(data: bytes) -> list[tuple[str, str]]:
    """(encoding, text) pairs worth trying, most likely first.

    The BOM decides when there is one; otherwise strict UTF-8 (what Excel's
    "CSV UTF-8" and WPS write), then GB18030 (a superset of GBK and GB2312:
    what Excel's plain "CSV" writes on Chinese Windows).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return [("utf-8-sig", data[3:].decode("utf-8"))]
        except UnicodeDecodeError:
            return []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
        try:
            return [("utf-16", data.decode("utf-16"))]
        except UnicodeDecodeError:
            return []
    if b"\x00" in data:
        return []
    out: list[tuple[str, str]] = []
    # GBK before GB18030 only to name the encoding precisely: GB18030 is its
    # superset and is needed for rare characters in names (e.g. 䶮).
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            out.append((encoding, data.decode(encoding)))
        except UnicodeDecodeError:
            continue
    return out


def _delimiter(text: str) -> str:
    """The most frequent of comma, tab and semicolon in the first 8 KiB (comma when none)."""
    sample = text[:8192]
    counts = {d: sample.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _CsvFile:
    """A decoded CSV file: one sheet without a name."""

    def __init__(self, cells: Grid, encoding: str) -> None:
        self.cells = cells
        self.format: FileFormat = "csv"
        self.encoding: str | None = encoding

    def load(self, name: str | None) -> Sheet:
        """The file's only sheet (``name`` is ignored)."""
        return Sheet(name=None, cells=self.cells)


def read_csv(
    data: bytes,
    label: str,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    """The table of a delimited text file, under the first decoding that shows its header.

    Args:
        data: The file's bytes.
        label: Safe display name of the file.
        expected: The template's headers.
        limits: Row and column bounds.
        other_layouts: Headers of the other templates, by title.

    Returns:
        The table (cell issues inside), with the encoding it was read in.

    Raises:
        FileProblem: Binary content, an unknown encoding, no content, too many
            rows or columns, broken quoting, no header.
        IntakeRejected: The header's columns do not match the template.
    """
    candidates = _decode_candidates(data)
    if not candidates:
        if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise FileProblem(
                E.FILE_NOT_SPREADSHEET,
                "文件“{file}”不是电子表格（内容为二进制数据），请提交按模板填写的.xlsx文件。",
            )
        raise FileProblem(
            E.ENCODING_UNDETECTED,
            "无法识别文件“{file}”的文字编码（不是UTF-8或GBK），"
            "请在Excel或WPS中“另存为”.xlsx或“CSV UTF-8”格式后重新提交。",
        )
    first_rejection: FileProblem | None = None
    for encoding, text in candidates:
        if not text.strip(" \t\r\n,;\ufeff"):
            raise FileProblem(E.FILE_EMPTY, "文件“{file}”没有任何内容，请填好模板后重新提交。")
        try:
            cells = _parse_csv(text, limits)
            return build_table(_CsvFile(cells, encoding), [], label, None, expected, limits, other_layouts)
        except FileProblem as rej:
            # A GBK file can also decode as (garbled) UTF-8 only in theory; a
            # header that is not found under one decoding may be under the next.
            if rej.code not in (E.HEADER_NOT_FOUND, E.SHEET_EMPTY):
                raise
            first_rejection = first_rejection or rej
    assert first_rejection is not None
    raise first_rejection


def _parse_csv(text: str, limits: ReadLimits) -> Grid:
    """The rows of a decoded text, within the row and column bounds."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: Grid = []
    try:
        for record in reader:
            if len(rows) >= limits.max_rows:
                raise FileProblem(
                    E.SHEET_TOO_LARGE,
                    f"文件“{{file}}”超过{limits.max_rows}行，请只保留模板中的表格后重新提交。",
                )
            if len(record) > limits.max_columns:
                # Trailing empty fields (",,,,") are common and harmless.
                while record and not record[-1]:
                    record.pop()
                if len(record) > limits.max_columns:
                    raise FileProblem(
                        E.SHEET_TOO_LARGE,
                        f"文件“{{file}}”第{len(rows) + 1}行超过{limits.max_columns}列，"
                        "请只保留模板中的表格后重新提交。",
                        row=len(rows) + 1,
                    )
            rows.append(record)  # type: ignore[arg-type]
    except csv.Error:
        raise FileProblem(
            E.FILE_NOT_SPREADSHEET,
            f"文件“{{file}}”第{len(rows) + 1}行无法按CSV格式读取（引号不配对或含有非法字符），"
            "请在Excel或WPS中另存为.xlsx后重新提交。",
            row=len(rows) + 1,
        ) from None
    return rows
