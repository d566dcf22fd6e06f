"""Read one submitted spreadsheet into a :class:`RawTable`, or reject it.

A county's file arrives as .xlsx or .csv; which one is decided from its bytes,
never from its extension. The file is read from disk once: the bytes are
hashed (storage keys submissions by content hash), their container is checked
(size, zip structure, declared sizes and ratios, encryption, macros) and only
then handed to python-calamine, which does the real parsing. Two things
calamine cannot tell are taken from the worksheet XML we already have in
memory: which cells hold formulas, and how far the used range really extends
(calamine allocates the whole rectangle up front, so a two-cell workbook with
a cell in XFD1048576 would abort the process rather than raise). Merged cells
come from calamine; openpyxl is not needed on the read path.

Every problem becomes an :class:`~review_calendar.intake.issues.IntakeIssue`
inside an :class:`~review_calendar.intake.issues.IntakeRejected`; no other
exception type escapes :func:`read_table`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import logging
import math
import re
import stat
import struct
import time
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from python_calamine import CalamineWorkbook

from review_calendar.intake import issues as E
from review_calendar.intake.issues import IntakeIssue, IntakeRejected
from review_calendar.intake.normalize import is_formula, normalize_header

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "INSTRUCTION_SHEET",
    "RawTable",
    "ReadLimits",
    "check_file_name",
    "column_letter",
    "read_table",
    "safe_file_name",
]

log = logging.getLogger(__name__)

INSTRUCTION_SHEET = "填表说明"
Cell = object
Grid = list[list[Cell]]


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Bounds that keep one bad file from exhausting the worker.

    Attributes:
        max_bytes: Largest file accepted (checked before reading it).
        max_uncompressed_bytes: Largest total declared size of an xlsx's parts.
        max_compression_ratio: Largest declared size / compressed size of one
            part that is bigger than ``ratio_min_bytes`` (ordinary xlsx parts
            compress 5-30 times; zip bombs 1000 times).
        ratio_min_bytes: Parts smaller than this are not ratio-checked.
        max_zip_members: Most parts an xlsx may have.
        max_rows: Most rows of the data sheet.
        max_columns: Most columns of the data sheet.
        max_cells: Most cells of the sheet's used rectangle (what calamine allocates).
        max_cell_chars: Longest cell text (Excel's own limit).
        header_search_rows: How many top rows may hold titles before the header.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 100.0
    ratio_min_bytes: int = 1024 * 1024
    max_zip_members: int = 1000
    max_rows: int = 100_000
    max_columns: int = 256
    max_cells: int = 2_000_000
    max_cell_chars: int = 32_767
    header_search_rows: int = 30


@dataclass(frozen=True)
class RawTable:
    """The data rows of one sheet under its header, as text.

    Attributes:
        file: Safe display name of the file (see :func:`safe_file_name`).
        sheet: Sheet read, None for CSV.
        header_row: 1-based spreadsheet row of the header.
        columns: Expected headers, in the order they appear in the file.
        rows: ``(spreadsheet row number, {expected header: text or None})`` for
            every non-blank row below the header; the row numbers are the ones
            the official sees in Excel/WPS.
        issues: Cell-level problems found while reading (formulas, over-long
            cells); such cells are set to None in ``rows``. The dataset layer
            reports them together with its own, so the official gets every
            problem at once.
        format: ``"xlsx"`` or ``"csv"`` (what the bytes are).
        encoding: Text encoding of a CSV, else None.
        sha256: Hex digest of the file's bytes.
        size: File size in bytes.
    """

    file: str
    sheet: str | None
    header_row: int
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str | None]]]
    issues: tuple[IntakeIssue, ...] = ()
    format: Literal["xlsx", "csv"] = "xlsx"
    encoding: str | None = None
    sha256: str = ""
    size: int = 0


@dataclass
class _Sheet:
    """One sheet's cells (0-based, anchored at A1) plus what calamine misses."""

    name: str | None
    cells: Grid
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)


class _Rejection(Exception):
    """Internal: one file-level problem, turned into an issue by read_table."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.sheet = sheet
        self.row = row
        self.column = column
        self.value = value


# ---------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
_NAME_FORBIDDEN = re.compile(r'[<>:"|?*\\/]')
_MAX_NAME_BYTES = 255


def _invisible(ch: str) -> bool:
    # Cc: control characters; Cf: format characters such as U+202E (right-to-
    # left override), used to disguise "exe.xlsx" as "xslx.exe".
    return unicodedata.category(ch) in ("Cc", "Cf")


def check_file_name(name: str) -> list[str]:
    """Why a submitted file name is unsafe to store or show, if it is.

    Args:
        name: The name the submitter gave the file (upload or e-mail
            attachment name, or the name in the inbox folder).

    Returns:
        Chinese reasons, empty when the name is safe: path separators or
        ``..`` (path traversal), absolute or drive paths, control or invisible
        characters, reserved device names, over 255 bytes, or no name at all.
    """
    reasons: list[str] = []
    if not name or not name.strip():
        return ["文件名为空"]
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        reasons.append("文件名是绝对路径")
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        reasons.append("文件名包含上级目录“..”")
    elif len(parts) > 1:
        reasons.append("文件名包含目录分隔符")
    if any(_invisible(ch) for ch in name):
        reasons.append("文件名包含控制字符或不可见字符")
    stem = parts[-1].split(".")[0].strip().upper()
    if stem in _WINDOWS_RESERVED:
        reasons.append("文件名是系统保留名称")
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        reasons.append("文件名过长")
    return reasons


def safe_file_name(name: str) -> str:
    """A name that is safe to store in a quarantine folder and to show in reports.

    Keeps only the last path component, removes control/invisible characters,
    replaces characters Windows forbids with ``_``, drops leading dots and
    trailing dots/spaces, defuses reserved device names and shortens to 255
    bytes keeping the extension. Chinese characters are kept.

    Args:
        name: Any submitted name, e.g. ``"../../etc/passwd.xlsx"``.

    Returns:
        A non-empty single-component name, e.g. ``"passwd.xlsx"``.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if not _invisible(ch))
    base = _NAME_FORBIDDEN.sub("_", base).strip()
    base = base.lstrip(".").rstrip(". ")
    if not base:
        return "unnamed"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if stem.strip().upper() in _WINDOWS_RESERVED:
        base = "_" + base
    if len(base.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        suffix = ("." + ext) if dot and len(ext) <= 10 else ""
        budget = _MAX_NAME_BYTES - len(suffix.encode("utf-8"))
        head = base[: len(base) - len(suffix)] if suffix else base
        while len(head.encode("utf-8", "surrogatepass")) > budget:
            head = head[:-1]
        base = head + suffix
    return base.encode("utf-8", "replace").decode("utf-8")


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """Excel column letters of a 0-based column index (0 → ``A``, 27 → ``AB``)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_index(letters: bytes | str) -> int:
    """0-based index of Excel column letters."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def read_table(
    path: Path,
    *,
    sheet: str | None,
    expected_columns: Sequence[str],
    limits: ReadLimits = ReadLimits(),  # noqa: B008 - frozen, immutable default
    name: str | None = None,
    other_layouts: Mapping[str, Sequence[str]] | None = None,
) -> RawTable:
    """Read the table under the expected header from one submitted file.

    Args:
        path: The file on disk (.xlsx or .csv, whatever its extension says).
        sheet: Sheet to read; None takes the first sheet (other than a
            填表说明 sheet) that has the header. Ignored for CSV.
        expected_columns: The template's Chinese headers.
        limits: Size and shape bounds.
        name: The name the submitter gave the file, when it differs from
            ``path.name`` (an upload); it is checked for path traversal and
            control characters and shown (made safe) in every issue.
        other_layouts: Headers of the other templates, by title; a file that
            matches one of them instead is reported as OBLIGATION_MISMATCH
            ("this is the 进展情况 table") rather than as a bad header.

    Returns:
        The table. Cell-level problems (formulas, over-long cells) are in
        ``RawTable.issues``; the caller must treat error issues there as a
        rejection (``validate_rows`` passes them on).

    Raises:
        IntakeRejected: The file, its sheet, header or columns are unusable;
            the issues say why and where.
    """
    started = time.perf_counter()
    given = name if name is not None else path.name
    label = safe_file_name(given)
    reasons = check_file_name(given)
    if reasons:
        raise IntakeRejected(
            [
                IntakeIssue(
                    file=label,
                    sheet=None,
                    row=None,
                    column=None,
                    value=label,
                    code=E.FILE_NAME_UNSAFE,
                    message=f"文件名不安全（{'；'.join(reasons)}），请将文件重命名为只含文字、数字的普通名称（如“石家庄市联系人名单.xlsx”）后重新提交。",
                )
            ]
        )
    sha: str | None = None
    try:
        data = _read_bytes(path, limits)
        sha = hashlib.sha256(data).hexdigest()
        table = _read(data, label, sheet, expected_columns, limits, other_layouts)
    except _Rejection as rej:
        raise IntakeRejected(
            [
                IntakeIssue(
                    file=label,
                    sheet=rej.sheet,
                    row=rej.row,
                    column=rej.column,
                    value=rej.value,
                    code=rej.code,
                    message=rej.message.replace("{file}", label),
                )
            ],
            sha256=sha,
        ) from None
    except IntakeRejected as rejected:
        rejected.sha256 = sha
        raise
    except Exception as exc:  # last line of defence: a library failed in a way we did not foresee
        # Type only: library messages can quote cell contents (contact data).
        log.warning("intake: unexpected %s while reading %s", type(exc).__name__, label)
        raise IntakeRejected(
            [
                IntakeIssue(
                    file=label,
                    sheet=sheet,
                    row=None,
                    column=None,
                    value=None,
                    code=E.FILE_CORRUPT,
                    message=f"文件“{label}”已损坏，无法读取，请用Excel或WPS打开检查后另存为.xlsx重新提交。",
                )
            ],
            sha256=sha,
        ) from exc
    table = replace(table, sha256=sha or "", size=len(data))
    log.debug(
        "intake: read %s (%s, %d rows, %d cell issues) in %.1f ms",
        label,
        table.format,
        len(table.rows),
        len(table.issues),
        (time.perf_counter() - started) * 1000,
    )
    return table


def _read_bytes(path: Path, limits: ReadLimits) -> bytes:
    try:
        info = path.stat()
    except OSError:
        raise _Rejection(E.FILE_UNREADABLE, "文件“{file}”无法打开，请重新提交。") from None
    if not stat.S_ISREG(info.st_mode):
        raise _Rejection(E.FILE_UNREADABLE, "“{file}”不是普通文件，请提交.xlsx或.csv表格文件。")
    if info.st_size == 0:
        raise _Rejection(
            E.FILE_EMPTY, "文件“{file}”是空文件（0字节），请在Excel或WPS中填好模板、保存后重新提交。"
        )
    if info.st_size > limits.max_bytes:
        raise _Rejection(
            E.FILE_TOO_LARGE,
            f"文件“{{file}}”大小为{info.st_size / 1024 / 1024:.1f}MB，"
            f"超过{limits.max_bytes / 1024 / 1024:.0f}MB的上限，"
            "请删除表格中的图片和无关工作表后重新提交。",
            value=str(info.st_size),
        )
    try:
        # Read at most one byte past the limit: the file may grow after stat().
        with path.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError:
        raise _Rejection(E.FILE_UNREADABLE, "文件“{file}”无法读取，请重新提交。") from None
    if len(data) > limits.max_bytes:
        raise _Rejection(E.FILE_TOO_LARGE, "文件“{file}”超过大小上限，请删除图片和无关工作表后重新提交。")
    if not data:
        raise _Rejection(E.FILE_EMPTY, "文件“{file}”是空文件（0字节），请填好模板后重新提交。")
    return data


_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NOT_SPREADSHEET_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF文档"),
    (b"\x89PNG", "PNG图片"),
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"GIF8", "GIF图片"),
    (b"BM", "BMP图片"),
    (b"Rar!", "RAR压缩包"),
    (b"7z\xbc\xaf", "7z压缩包"),
    (b"\x1f\x8b", "gzip压缩包"),
    (b"{\\rtf", "RTF文档"),
    (b"MZ", "可执行程序"),
    (b"\x7fELF", "可执行程序"),
)


def _read(
    data: bytes,
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _read_xlsx(data, label, sheet, expected, limits, other_layouts)
    if data.startswith(_CFB_MAGIC):
        _reject_cfb(data)
    for magic, what in _NOT_SPREADSHEET_MAGIC:
        if data.startswith(magic):
            raise _Rejection(
                E.FILE_NOT_SPREADSHEET,
                f"文件“{{file}}”实际是{what}，不是电子表格，请提交按模板填写的.xlsx文件（不要只改扩展名）。",
            )
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")) or b"<html" in head[:512]:
        raise _Rejection(
            E.FILE_NOT_SPREADSHEET,
            "文件“{file}”实际是网页（HTML/XML）格式，不是真正的Excel文件，请在Excel或WPS中打开后“另存为”.xlsx格式再提交。",
        )
    return _read_csv(data, label, expected, limits, other_layouts)


def _reject_cfb(data: bytes) -> None:
    # An OLE2/CFB container is either an encrypted OOXML workbook (streams
    # "EncryptionInfo" + "EncryptedPackage", MS-OFFCRYPTO 2.3.4) or a legacy
    # binary .xls/.et. Directory entry names are UTF-16LE.
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        raise _Rejection(
            E.FILE_ENCRYPTED,
            "文件“{file}”设置了打开密码，无法读取，请在Excel或WPS中取消密码（文件→信息→保护工作簿）后重新提交。",
        )
    raise _Rejection(
        E.FILE_FORMAT_UNSUPPORTED,
        "文件“{file}”是旧版Excel（.xls）或WPS（.et）格式，请在Excel或WPS中“另存为”.xlsx格式后重新提交。",
    )


# ---------------------------------------------------------------------------
# xlsx
# ---------------------------------------------------------------------------

_NS_MAIN = (
    "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}",
    "{http://purl.oclc.org/ooxml/spreadsheetml/main}",
)
_NS_REL = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)
_CELL_REF = re.compile(rb"""\sr=["']([A-Z]{1,3})([0-9]{1,7})["']""")
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c[\s>/]")
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_xlsx(
    data: bytes,
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        # The local header is there but not the central directory at the end:
        # an interrupted upload or copy.
        raise _Rejection(
            E.FILE_TRUNCATED,
            "文件“{file}”不完整（可能上传或复制时中断），无法打开，请重新保存后再提交。",
        ) from None
    _check_zip(infos, limits)
    names = {i.filename for i in infos}
    _check_package(names, infos)
    parts = _inflate_parts(data, infos)
    sheets = _workbook_sheets(parts)
    if not sheets:
        raise _Rejection(E.SHEET_MISSING, "文件“{file}”中没有工作表，请使用下发的模板填写。")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # CalamineError, PasswordError, XmlError, ZipError, ValueError...
        if type(exc).__name__ == "PasswordError":
            raise _Rejection(E.FILE_ENCRYPTED, "文件“{file}”设置了密码，请取消密码后重新提交。") from None
        raise _Rejection(
            E.FILE_CORRUPT, "文件“{file}”已损坏，无法读取，请用Excel或WPS打开检查后另存为.xlsx重新提交。"
        ) from None
    with workbook:
        loader = _XlsxLoader(parts, workbook, dict(sheets), limits)
        names = [n for n, _ in sheets]
        return _pick_sheet_and_build(loader, names, label, sheet, expected, limits, other_layouts)


def _check_zip(infos: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    if len(infos) > limits.max_zip_members:
        raise _Rejection(
            E.FILE_ZIP_BOMB,
            f"文件“{{file}}”内部包含{len(infos)}个部件，结构异常，已拒收。请使用下发的模板重新填写。",
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= limits.ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise _Rejection(
                    E.FILE_ZIP_BOMB,
                    f"文件“{{file}}”解压后体积异常（压缩比约{ratio:.0f}倍），疑似“压缩炸弹”，已拒收。请使用下发的模板重新填写。",
                    value=f"{info.filename}: {info.file_size} / {info.compress_size}",
                )
    if total > limits.max_uncompressed_bytes:
        raise _Rejection(
            E.FILE_ZIP_BOMB,
            f"文件“{{file}}”解压后超过{limits.max_uncompressed_bytes // 1024 // 1024}MB，体积异常，已拒收。"
            "请删除无关内容后重新提交。",
            value=str(total),
        )


def _check_package(names: set[str], infos: list[zipfile.ZipInfo]) -> None:
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            what, code = "Word文档", E.FILE_NOT_SPREADSHEET
        elif "ppt/presentation.xml" in names:
            what, code = "PowerPoint文档", E.FILE_NOT_SPREADSHEET
        elif "content.xml" in names and "mimetype" in names:
            what, code = "OpenDocument（.ods等）文件", E.FILE_FORMAT_UNSUPPORTED
        elif "xl/workbook.bin" in names:
            what, code = "Excel二进制工作簿（.xlsb）", E.FILE_FORMAT_UNSUPPORTED
        else:
            what, code = "普通压缩包", E.FILE_NOT_SPREADSHEET
        raise _Rejection(
            code, f"文件“{{file}}”是{what}，不是.xlsx电子表格，请按下发的模板填写并保存为.xlsx后提交。"
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise _Rejection(E.FILE_ENCRYPTED, "文件“{file}”内部经过加密，无法读取，请取消密码后重新提交。")
    if any(n.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for n in names):
        raise _Rejection(
            E.FILE_HAS_MACROS,
            "文件“{file}”包含宏（VBA代码），出于安全考虑不予接收，请“另存为”不含宏的.xlsx格式后重新提交。",
        )


_LOCAL_HEADER = struct.Struct("<4s22xHH")


def _inflate_parts(data: bytes, infos: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    """Decompress every XML part that calamine parses and verify it.

    Inflation is capped at the declared size plus one byte and the CRC is
    checked, so a part whose header understates its size (a zip bomb that
    passes the declared-size check) or a damaged part is rejected here,
    before calamine decompresses anything.
    The inflated parts are kept: the workbook index and the data sheet are
    parsed from them without a second decompression.
    """
    parts: dict[str, bytes] = {}
    view = memoryview(data)
    for info in infos:
        name = info.filename
        # Only what calamine parses: the xl/ XML parts (not the theme, not
        # media, not docProps). Parts nobody inflates cannot hurt.
        if not name.startswith("xl/") or not name.endswith((".xml", ".rels")) or name.startswith("xl/theme/"):
            continue
        try:
            magic, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, info.header_offset)
            if magic != b"PK\x03\x04":
                raise ValueError("no local header")
            begin = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
            raw = view[begin : begin + info.compress_size]
            if len(raw) != info.compress_size:
                raise ValueError("part cut off")
            if info.compress_type == zipfile.ZIP_STORED:
                content = bytes(raw)
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                content = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, info.file_size + 1)
            else:
                raise ValueError("compression method")
        except (struct.error, zlib.error, ValueError):
            raise _Rejection(
                E.FILE_CORRUPT, "文件“{file}”内部数据已损坏，请用Excel或WPS重新保存为.xlsx后提交。"
            ) from None
        if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
            raise _Rejection(
                E.FILE_CORRUPT,
                "文件“{file}”内部数据校验失败（已损坏或被篡改），请用Excel或WPS重新保存为.xlsx后提交。",
                value=name,
            )
        parts[name] = content
    return parts


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\s([^>]*)>")
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*)>")
_ATTR = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attributes(text: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, double, single in _ATTR.findall(text):
        value = (double or single).decode("utf-8", "replace")
        out[key.decode("ascii", "replace")] = html.unescape(value) if "&" in value else value
    return out


def _workbook_sheets(parts: Mapping[str, bytes]) -> list[tuple[str, str | None]]:
    """(sheet name, worksheet part path) in workbook order."""
    workbook = parts.get("xl/workbook.xml")
    if workbook is None:
        raise _Rejection(
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


class _XlsxLoader:
    """Loads sheets on demand; the data sheet is usually the only one loaded."""

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
        self.format: Literal["xlsx", "csv"] = "xlsx"
        self.encoding: str | None = None

    def load(self, name: str) -> _Sheet:
        part = self.sheet_parts.get(name)
        formulas: dict[tuple[int, int], str] = {}
        if part is not None:
            xml = self.parts[part]
            _check_extent(xml, name, self.limits)
            if _HAS_FORMULA.search(xml):
                formulas = _scan_formulas(xml)
        else:
            # A chart sheet or a part we could not map: calamine decides, the
            # extent check cannot run, so only read sheets we could check.
            raise _Rejection(
                E.SHEET_MISSING, f"工作表“{name}”不是普通数据表，请使用下发的模板填写。", sheet=name
            )
        try:
            calamine_sheet = self.workbook.get_sheet_by_name(name)
            cells = calamine_sheet.to_python(skip_empty_area=False)
            merges = calamine_sheet.merged_cell_ranges or []
        except Exception:  # calamine's XmlError, ZipError, CalamineError...
            raise _Rejection(
                E.FILE_CORRUPT,
                f"工作表“{name}”已损坏，无法读取，请用Excel或WPS重新保存为.xlsx后提交。",
                sheet=name,
            ) from None
        return _Sheet(name=name, cells=cells, merges=list(merges), formulas=formulas)


def _check_extent(xml: bytes, sheet: str, limits: ReadLimits) -> None:
    """Reject sheets whose used rectangle calamine could not allocate."""
    refs = _CELL_REF.findall(xml)
    max_row = max((int(r) for _, r in refs), default=0)
    max_col = max((_column_index(c) + 1 for c in {c for c, _ in refs}), default=0)
    cells_without_ref = len(_CELL_OPEN.findall(xml)) - len(refs)
    if cells_without_ref > 0:
        # Positions are implicit (allowed by OOXML, written by a few tools):
        # count rows and the widest row instead.
        rows, width = _implicit_extent(xml)
        max_row, max_col = max(max_row, rows), max(max_col, width)
    if max_row > limits.max_rows or max_col > limits.max_columns or max_row * max_col > limits.max_cells:
        raise _Rejection(
            E.SHEET_TOO_LARGE,
            f"工作表“{sheet}”的数据区域过大（{max_row}行×{max_col}列，可能有远处的单元格被误填），"
            f"请删除多余的行列，只保留模板中的表格（上限{limits.max_rows}行、{limits.max_columns}列）。",
            sheet=sheet,
            value=f"{column_letter(max(max_col - 1, 0))}{max_row}",
        )


def _implicit_extent(xml: bytes) -> tuple[int, int]:
    rows = width = row_number = 0
    try:
        for event, element in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
            tag = _local(element.tag)
            if event == "start" and tag == "row":
                ref = element.get("r")
                row_number = int(ref) if ref and ref.isdigit() else row_number + 1
                rows = max(rows, row_number)
            elif event == "end" and tag == "row":
                width = max(width, len([c for c in element if _local(c.tag) == "c"]))
                element.clear()
    except ET.ParseError:
        raise _Rejection(
            E.FILE_CORRUPT, "文件“{file}”的工作表数据已损坏，请重新保存为.xlsx后提交。"
        ) from None
    return rows, width


def _scan_formulas(xml: bytes) -> dict[tuple[int, int], str]:
    """0-based (row, column) → ``"=formula"`` for every formula cell of a sheet."""
    found: dict[tuple[int, int], str] = {}
    row_number = 0
    column = -1
    try:
        for event, element in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
            tag = _local(element.tag)
            if event == "start":
                if tag == "row":
                    ref = element.get("r")
                    row_number = int(ref) if ref and ref.isdigit() else row_number + 1
                    column = -1
                elif tag == "c":
                    ref = element.get("r")
                    match = re.fullmatch(r"([A-Z]{1,3})(\d+)", ref or "")
                    if match:
                        column = _column_index(match.group(1))
                        row_number = int(match.group(2))
                    else:
                        column += 1
                continue
            if tag == "c":
                formula = next((child for child in element if _local(child.tag) == "f"), None)
                if formula is not None:
                    text = formula.text or ""
                    # Shared formulas repeat in dependent cells with no text.
                    found[(row_number - 1, column)] = "=" + text if text else "=（共享公式）"
                element.clear()
            elif tag == "row":
                element.clear()
    except ET.ParseError:
        raise _Rejection(
            E.FILE_CORRUPT, "文件“{file}”的工作表数据已损坏，请重新保存为.xlsx后提交。"
        ) from None
    return found


# ---------------------------------------------------------------------------
# csv
# ---------------------------------------------------------------------------


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
    sample = text[:8192]
    counts = {d: sample.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _CsvLoader:
    def __init__(self, cells: Grid, encoding: str) -> None:
        self.cells = cells
        self.format: Literal["xlsx", "csv"] = "csv"
        self.encoding: str | None = encoding

    def load(self, name: str | None) -> _Sheet:
        return _Sheet(name=None, cells=self.cells)


def _read_csv(
    data: bytes,
    label: str,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    candidates = _decode_candidates(data)
    if not candidates:
        if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _Rejection(
                E.FILE_NOT_SPREADSHEET,
                "文件“{file}”不是电子表格（内容为二进制数据），请提交按模板填写的.xlsx文件。",
            )
        raise _Rejection(
            E.ENCODING_UNDETECTED,
            "无法识别文件“{file}”的文字编码（不是UTF-8或GBK），"
            "请在Excel或WPS中“另存为”.xlsx或“CSV UTF-8”格式后重新提交。",
        )
    first_rejection: _Rejection | None = None
    for encoding, text in candidates:
        if not text.strip(" \t\r\n,;\ufeff"):
            raise _Rejection(E.FILE_EMPTY, "文件“{file}”没有任何内容，请填好模板后重新提交。")
        try:
            cells = _parse_csv(text, limits)
            return _pick_sheet_and_build(
                _CsvLoader(cells, encoding), [None], label, None, expected, limits, other_layouts
            )
        except _Rejection as rej:
            # A GBK file can also decode as (garbled) UTF-8 only in theory; a
            # header that is not found under one decoding may be under the next.
            if rej.code not in (E.HEADER_NOT_FOUND, E.SHEET_EMPTY):
                raise
            first_rejection = first_rejection or rej
    assert first_rejection is not None
    raise first_rejection


def _parse_csv(text: str, limits: ReadLimits) -> Grid:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: Grid = []
    try:
        for record in reader:
            if len(rows) >= limits.max_rows:
                raise _Rejection(
                    E.SHEET_TOO_LARGE,
                    f"文件“{{file}}”超过{limits.max_rows}行，请只保留模板中的表格后重新提交。",
                )
            if len(record) > limits.max_columns:
                # Trailing empty fields (",,,,") are common and harmless.
                while record and not record[-1]:
                    record.pop()
                if len(record) > limits.max_columns:
                    raise _Rejection(
                        E.SHEET_TOO_LARGE,
                        f"文件“{{file}}”第{len(rows) + 1}行超过{limits.max_columns}列，"
                        "请只保留模板中的表格后重新提交。",
                        row=len(rows) + 1,
                    )
            rows.append(record)  # type: ignore[arg-type]
    except csv.Error:
        raise _Rejection(
            E.FILE_NOT_SPREADSHEET,
            f"文件“{{file}}”第{len(rows) + 1}行无法按CSV格式读取（引号不配对或含有非法字符），"
            "请在Excel或WPS中另存为.xlsx后重新提交。",
            row=len(rows) + 1,
        ) from None
    return rows


# ---------------------------------------------------------------------------
# Sheet choice, header and rows (shared by xlsx and csv)
# ---------------------------------------------------------------------------


def _is_instruction_sheet(name: str) -> bool:
    norm = normalize_header(name).lower()
    return "说明" in norm or norm in ("instructions", "readme")


def _cell_text(value: Cell) -> str | None:
    """A calamine or csv cell as text; None when blank."""
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


def _header_hits(row: list[Cell], wanted: Mapping[str, str]) -> int:
    seen = {normalize_header(v) for v in row if isinstance(v, str) and v}
    return len(seen & wanted.keys())


def _find_header(cells: Grid, wanted: Mapping[str, str], limits: ReadLimits) -> int | None:
    """0-based index of the header row: the top row with the most expected headers.

    A title row, a "填报单位" line or blank rows may sit above the header; at
    least half of the expected headers must be there, so a file of another
    template is not mistaken for this one.
    """
    best_index, best_hits = None, 0
    for index, row in enumerate(cells[: limits.header_search_rows]):
        hits = _header_hits(row, wanted)
        if hits > best_hits:
            best_index, best_hits = index, hits
    needed = max(1, math.ceil(len(wanted) / 2))
    return best_index if best_hits >= needed else None


def _layout_match(cells: Grid, layouts: Mapping[str, Sequence[str]], limits: ReadLimits) -> str | None:
    for title, headers in layouts.items():
        wanted = {normalize_header(h): h for h in headers}
        if _find_header(cells, wanted, limits) is not None:
            return title
    return None


def _pick_sheet_and_build(
    loader: _XlsxLoader | _CsvLoader,
    sheet_names: list[str | None],
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    wanted = {normalize_header(h): h for h in expected}
    if loader.format == "csv":
        data_sheet = loader.load(None)
        return _build(data_sheet, label, wanted, limits, other_layouts, loader)
    names = [n for n in sheet_names if n is not None]
    if sheet is not None:
        chosen = next((n for n in names if n == sheet), None) or next(
            (n for n in names if normalize_header(n) == normalize_header(sheet)), None
        )
        if chosen is None:
            raise _sheet_missing(loader, names, sheet, wanted, limits, other_layouts)
        return _build(loader.load(chosen), label, wanted, limits, other_layouts, loader)
    candidates = [n for n in names if not _is_instruction_sheet(n)]
    if not candidates:
        raise _Rejection(
            E.SHEET_MISSING, "文件“{file}”中只有填表说明，没有数据工作表，请使用下发的模板填写。"
        )
    first: _Sheet | None = None
    for name in candidates:
        loaded = loader.load(name)
        first = first or loaded
        if _find_header(loaded.cells, wanted, limits) is not None:
            return _build(loaded, label, wanted, limits, other_layouts, loader)
    assert first is not None
    return _build(first, label, wanted, limits, other_layouts, loader)


def _sheet_missing(
    loader: _XlsxLoader | _CsvLoader,
    names: list[str],
    sheet: str,
    wanted: Mapping[str, str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> _Rejection:
    listed = "、".join(f"“{n}”" for n in names)
    hint = "请使用下发的模板，不要修改工作表名称。"
    for name in names:
        if _is_instruction_sheet(name):
            continue
        try:
            loaded = loader.load(name)
        except _Rejection:
            continue
        if _find_header(loaded.cells, wanted, limits) is not None:
            hint = f"工作表“{name}”的表头与本表一致，请将其名称改为“{sheet}”。"
            break
        if other_layouts:
            other = _layout_match(loaded.cells, other_layouts, limits)
            if other:
                return _Rejection(
                    E.OBLIGATION_MISMATCH,
                    f"文件“{{file}}”看起来是“{other}”，不是本次报送事项要求的表格（应有工作表“{sheet}”），请核对报送事项后重新提交。",
                    sheet=name,
                    value=other,
                )
    return _Rejection(
        E.SHEET_MISSING,
        f"文件“{{file}}”中没有名为“{sheet}”的工作表（现有工作表：{listed}），{hint}",
        value=sheet,
    )


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


def _build(
    data_sheet: _Sheet,
    label: str,
    wanted: Mapping[str, str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
    loader: _XlsxLoader | _CsvLoader,
) -> RawTable:
    cells = data_sheet.cells
    sheet_name = data_sheet.name
    where = f"工作表“{sheet_name}”" if sheet_name else "文件“{file}”"
    if not any(any(v not in (None, "") for v in row) for row in cells):
        raise _Rejection(E.SHEET_EMPTY, f"{where}是空的，请按模板填写后重新提交。", sheet=sheet_name)
    header_index = _find_header(cells, wanted, limits)
    if header_index is None:
        if other_layouts:
            other = _layout_match(cells, other_layouts, limits)
            if other:
                raise _Rejection(
                    E.OBLIGATION_MISMATCH,
                    f"{where}看起来是“{other}”，不是本次报送事项要求的表格，请核对报送事项，使用对应的模板重新填写。",
                    sheet=sheet_name,
                    value=other,
                )
        headers = "、".join(wanted.values())
        raise _Rejection(
            E.HEADER_NOT_FOUND,
            f"{where}前{limits.header_search_rows}行中找不到模板表头（应包含：{headers}），请使用下发的模板，不要删除或改写表头。",
            sheet=sheet_name,
        )
    header_number = header_index + 1
    issues: list[IntakeIssue] = []

    def issue(code: str, message: str, *, row: int | None, column: str | None, value: str | None) -> None:
        issues.append(
            IntakeIssue(label, sheet_name, row, column, value, code, message.replace("{file}", label))
        )

    for (r1, c1), (r2, c2) in data_sheet.merges:
        if r1 <= header_index <= r2 and (r1 != r2 or c1 != c2):
            ref = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
            issue(
                E.HEADER_MERGED,
                f"{where}第{header_number}行表头有合并单元格（{ref}），请取消合并，使每一列只有一个表头单元格，并保持模板的列名。",
                row=header_number,
                column=_cell_text(cells[r1][c1]) if r1 < len(cells) and c1 < len(cells[r1]) else None,
                value=ref,
            )

    header_cells = cells[header_index]
    positions: dict[str, int] = {}
    duplicates: set[int] = set()
    unexpected: list[tuple[int, str]] = []
    for index, raw in enumerate(header_cells):
        text = _cell_text(raw)
        norm = normalize_header(text)
        if not norm:
            continue
        if norm in wanted:
            column = wanted[norm]
            if column in positions:
                duplicates.add(index)
                issue(
                    E.COLUMN_DUPLICATE,
                    f"{where}第{header_number}行有两列都叫“{column}”（{column_letter(positions[column])}列和{column_letter(index)}列），请删除重复的一列。",
                    row=header_number,
                    column=column,
                    value=text,
                )
            else:
                positions[column] = index
        else:
            unexpected.append((index, text or ""))
    data_rows = cells[header_index + 1 :]
    width = max((len(r) for r in data_rows), default=0)
    known = set(positions.values()) | duplicates | {i for i, _ in unexpected}
    for index in range(width):
        if index in known:
            continue
        filled = next(
            (n for n, r in enumerate(data_rows) if index < len(r) and r[index] not in (None, "")), None
        )
        if filled is not None:
            issue(
                E.COLUMN_UNEXPECTED,
                f"{where}{column_letter(index)}列有数据但没有表头（第{header_number + 1 + filled}行），"
                "请删除该列内容，数据只填在模板的列中。",
                row=header_number,
                column=None,
                value=column_letter(index),
            )
    renamed: set[int] = set()
    for column in wanted.values():
        if column in positions:
            continue
        candidate = next(
            (
                (i, t)
                for i, t in unexpected
                if i not in renamed and _looks_renamed(normalize_header(t), normalize_header(column))
            ),
            None,
        )
        if candidate is not None:
            renamed.add(candidate[0])
            issue(
                E.COLUMN_RENAMED,
                f"{where}{column_letter(candidate[0])}列的表头“{candidate[1]}”应为模板中的“{column}”，请改回模板列名（含计量单位）。",
                row=header_number,
                column=column,
                value=candidate[1],
            )
        else:
            issue(
                E.COLUMN_MISSING,
                f"{where}缺少“{column}”列，请使用下发的模板，补上该列后重新提交。",
                row=header_number,
                column=column,
                value=None,
            )
    for index, text in unexpected:
        if index in renamed:
            continue
        issue(
            E.COLUMN_UNEXPECTED,
            f"{where}{column_letter(index)}列“{text}”不是模板中的列，请删除该列，不要在模板中增加列。",
            row=header_number,
            column=None,
            value=text,
        )
    if issues:
        raise IntakeRejected(issues)

    fill_down = [
        ((r1, c1), r2)
        for (r1, c1), (r2, c2) in data_sheet.merges
        if c1 == c2 and r2 > r1 and r1 > header_index
    ]
    if fill_down:
        # A vertically merged cell means the same value on every row it spans:
        # officials merge 地区名称 over the two roles of one region.
        cells = [list(r) for r in cells]
        for (r1, c), r2 in fill_down:
            top = cells[r1][c] if r1 < len(cells) and c < len(cells[r1]) else None
            for r in range(r1 + 1, min(r2, len(cells) - 1) + 1):
                row = cells[r]
                if c < len(row):
                    row[c] = top
                else:
                    row.extend([None] * (c - len(row)) + [top])

    ordered = sorted(positions.items(), key=lambda kv: kv[1])
    cell_issues: list[IntakeIssue] = []
    rows: list[tuple[int, dict[str, str | None]]] = []
    formulas = data_sheet.formulas
    reported: set[tuple[int, int]] = set()
    max_chars = limits.max_cell_chars
    for offset, raw_row in enumerate(cells[header_index + 1 :]):
        number = header_number + 1 + offset
        length = len(raw_row)
        record: dict[str, str | None] = {}
        blank = True
        for column, index in ordered:
            value = _cell_text(raw_row[index]) if index < length else None
            if formulas and (number - 1, index) in formulas:
                formula = formulas[(number - 1, index)]
                reported.add((number - 1, index))
                cell_issues.append(_formula_issue(label, sheet_name, number, column, formula))
                value = None
                blank = False
            elif value is not None:
                blank = False
                if value[:1] in "=+-@＝＋－＠\t\r" and is_formula(value):
                    cell_issues.append(_formula_issue(label, sheet_name, number, column, value))
                    value = None
                elif len(value) > max_chars:
                    cell_issues.append(
                        IntakeIssue(
                            label,
                            sheet_name,
                            number,
                            column,
                            value[:50] + "…",
                            E.VALUE_TOO_LONG,
                            f"第{number}行“{column}”列的内容有{len(value)}个字符，超过{max_chars}字的上限，请精简。",
                        )
                    )
                    value = None
            record[column] = value
        if blank:
            continue
        first = next((v for v in record.values() if v), "")
        if first and first.replace(" ", "").replace("：", ":").startswith(_FOOTER_PREFIXES):
            # "填表人：… 联系电话：…" lines under the table belong to the form, not the data.
            continue
        rows.append((number, record))
    if formulas:
        # Formulas outside the cells read above (title row, stray columns) are
        # reported too: nothing executable is accepted anywhere on the sheet.
        for (r, c), formula in sorted(formulas.items()):
            if (r, c) in reported:
                continue
            cell_issues.append(
                IntakeIssue(
                    label,
                    sheet_name,
                    r + 1,
                    None,
                    formula,
                    E.FORMULA_NOT_ALLOWED,
                    f"第{r + 1}行{column_letter(c)}列是公式“{_short(formula)}”，"
                    "请删除公式，只填写数值或文字。",
                )
            )
    if not rows:
        raise IntakeRejected(
            [
                *cell_issues,
                IntakeIssue(
                    label,
                    sheet_name,
                    header_number,
                    None,
                    None,
                    E.NO_DATA_ROWS,
                    f"{where.replace('{file}', label)}只有表头，没有填写数据，"
                    f"请从第{header_number + 1}行开始逐行填写后重新提交。",
                ),
            ]
        )
    return RawTable(
        file=label,
        sheet=sheet_name,
        header_row=header_number,
        columns=tuple(column for column, _ in ordered),
        rows=rows,
        issues=tuple(cell_issues),
        format=loader.format,
        encoding=loader.encoding,
    )


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _formula_issue(file: str, sheet: str | None, row: int, column: str, formula: str) -> IntakeIssue:
    return IntakeIssue(
        file,
        sheet,
        row,
        column,
        formula,
        E.FORMULA_NOT_ALLOWED,
        f"第{row}行“{column}”列是公式“{_short(formula)}”，请删除公式，直接填写数值或文字（以“=”“+”“-”“@”开头的内容会被当作公式）。",
    )


_UNIT = re.compile(r"\(.*?\)$")


def _looks_renamed(found: str, wanted: str) -> bool:
    """Whether a header is plausibly the template's header reworded."""
    if not found or not wanted:
        return False
    base_found, base_wanted = _UNIT.sub("", found), _UNIT.sub("", wanted)
    if base_found == base_wanted:
        return True  # same name, other unit: "计划总投资(元)" for "计划总投资(万元)"
    shorter, longer = sorted((base_found, base_wanted), key=len)
    return len(shorter) >= 2 and shorter in longer
