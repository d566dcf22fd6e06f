"""Read one submitted file into a :class:`~review_calendar.intake.table.RawTable`, or reject it.

A county's file arrives as .xlsx, .xls, .ods or .csv; which one is decided
from its bytes, never from its extension. The file is read from disk once (:func:`read_file`):
the bytes are hashed (storage keys submissions by content hash) and every
dataset of a template is then read from the same bytes. Their container is
checked (size, zip structure, declared sizes and ratios, encryption, macros:
:mod:`~review_calendar.intake.xlsx`, :mod:`~review_calendar.intake.ods`,
:mod:`~review_calendar.intake.xls`) before python-calamine does the real
parsing; text files go to :mod:`~review_calendar.intake.delimited`.

Every problem becomes an :class:`~review_calendar.intake.issues.IntakeIssue`
inside an :class:`~review_calendar.intake.issues.IntakeRejected`; no other
exception type escapes :func:`read_table`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
import zipfile
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.delimited import read_csv
from review_calendar.intake.filenames import name_issue, safe_file_name
from review_calendar.intake.issues import FileProblem, IntakeRejected
from review_calendar.intake.magic import ZIP_KINDS, content_kind
from review_calendar.intake.ods import is_ods, read_ods
from review_calendar.intake.xls import read_xls
from review_calendar.intake.xlsx import read_xlsx
from review_calendar.intake.zipparts import inflate_part, zip_listing, zip_part

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from review_calendar.intake.table import RawTable

__all__ = [
    "FileContent",
    "NotARegularFile",
    "ReadLimits",
    "file_digest",
    "read_file",
    "read_table",
]

log = logging.getLogger(__name__)


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
        max_total_ratio: Largest total declared size / file size of an xlsx
            whose parts declare more than ``ratio_min_bytes`` in all (a bomb of
            many small parts, each under ``ratio_min_bytes``).
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
    max_total_ratio: float = 100.0
    ratio_min_bytes: int = 1024 * 1024
    max_zip_members: int = 1000
    max_rows: int = 100_000
    max_columns: int = 256
    max_cells: int = 2_000_000
    max_cell_chars: int = 32_767
    header_search_rows: int = 30


@dataclass(frozen=True, slots=True)
class FileContent:
    """The bytes of one submitted file, read from disk once.

    Attributes:
        data: The bytes; None when the file is over ``ReadLimits.max_bytes``
            (it is then never read into memory).
        sha256: Hex digest of ``data``, None when they were not read.
        size: File size in bytes.
    """

    data: bytes | None
    sha256: str | None
    size: int


class NotARegularFile(OSError):
    """The path names a directory, a device or a pipe, not a file."""


def read_file(path: Path, limits: ReadLimits = ReadLimits()) -> FileContent:
    """Read and hash one file, unless it is over the size limit.

    Args:
        path: The file on disk.
        limits: ``max_bytes`` bounds what is read into memory.

    Returns:
        The content; ``data`` and ``sha256`` are None for a file over the limit.

    Raises:
        FileNotFoundError: The file is gone (another intake run took it in).
        NotARegularFile: The path is not a regular file (a link, a folder, a device).
        OSError: The file cannot be read.
    """
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        # A link is never followed (it may point out of the inbox, e.g. to /etc/passwd).
        raise NotARegularFile(f"not a regular file: {path.name}")
    if info.st_size > limits.max_bytes:
        return FileContent(None, None, info.st_size)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since lstat()
            raise NotARegularFile(f"not a regular file: {path.name}")
        # At most one byte past the limit: the file may grow after stat().
        data = fh.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        return FileContent(None, None, len(data))
    return FileContent(data, hashlib.sha256(data).hexdigest(), len(data))


def file_digest(path: Path) -> tuple[str, int]:
    """Hex SHA-256 and size of a file, read in chunks (for files too large to read whole).

    Raises:
        OSError: The file cannot be read (FileNotFoundError when it is gone).
    """
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_table(
    path: Path,
    *,
    sheet: str | None,
    expected_columns: Sequence[str],
    limits: ReadLimits = ReadLimits(),
    name: str | None = None,
    other_layouts: Mapping[str, Sequence[str]] | None = None,
    content: FileContent | None = None,
) -> RawTable:
    """Read the table under the expected header from one submitted file.

    Args:
        path: The file on disk (.xlsx, .xls, .ods or .csv, whatever its extension says).
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
        content: The file's bytes when the caller has read them already
            (:func:`read_file`); ``path`` is then not read again.

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
    unsafe = name_issue(given)
    if unsafe is not None:
        raise IntakeRejected([unsafe])
    if content is None:
        content = _read_or_reject(path, label, limits)
    table = _parse_or_reject(content, label, sheet, expected_columns, limits, other_layouts)
    log.debug(
        "intake: read %s (%s, %d rows, %d cell issues) in %.1f ms",
        label,
        table.format,
        len(table.rows),
        len(table.issues),
        (time.perf_counter() - started) * 1000,
    )
    return table


def _parse_or_reject(
    content: FileContent,
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    """The table of the bytes with their hash and size; every failure a rejection that carries the hash."""
    try:
        table = _parse(content, label, sheet, expected, limits, other_layouts)
    except FileProblem as problem:
        raise IntakeRejected([problem.to_issue(label)], sha256=content.sha256) from None
    except IntakeRejected as rejected:
        rejected.sha256 = content.sha256
        raise
    except Exception as exc:  # last line of defence: a library failed in a way we did not foresee
        # Type only: library messages can quote cell contents (contact data).
        log.warning("intake: unexpected %s while reading %s", type(exc).__name__, label)
        corrupt = FileProblem(
            E.FILE_CORRUPT,
            "文件“{file}”已损坏，无法读取，请用Excel或WPS打开检查后另存为.xlsx重新提交。",
            sheet=sheet,
        )
        raise IntakeRejected([corrupt.to_issue(label)], sha256=content.sha256) from exc
    return replace(table, sha256=content.sha256 or "", size=content.size)


def _read_or_reject(path: Path, label: str, limits: ReadLimits) -> FileContent:
    """:func:`read_file`, its failures as rejections of the file."""
    try:
        return read_file(path, limits)
    except NotARegularFile:
        problem = FileProblem(
            E.FILE_UNREADABLE, "“{file}”不是普通文件，请提交.xlsx、.xls、.ods或.csv表格文件。"
        )
    except OSError:
        problem = FileProblem(E.FILE_UNREADABLE, "文件“{file}”无法打开，请重新提交。")
    raise IntakeRejected([problem.to_issue(label)])


#: What each kind of content that is not a spreadsheet is called (:func:`~.magic.content_kind`).
_NOT_SPREADSHEET: dict[str, str] = {
    "pdf": "PDF文档",
    "pdf_damaged": "PDF文档",
    "png": "PNG图片",
    "jpeg": "JPEG图片",
    "gif": "GIF图片",
    "bmp": "BMP图片",
    "rar": "RAR压缩包",
    "7z": "7z压缩包",
    "gzip": "gzip压缩包",
    "rtf": "RTF文档",
    "exe": "可执行程序",
    "elf": "可执行程序",
}


def _parse(
    content: FileContent,
    label: str,
    sheet: str | None,
    expected: Sequence[str],
    limits: ReadLimits,
    other_layouts: Mapping[str, Sequence[str]] | None,
) -> RawTable:
    """The table of the bytes, by what the bytes are: xlsx, ods, xls, CSV, or a rejected format."""
    data = _checked_size(content, limits)
    kind = content_kind(data)
    if kind in ZIP_KINDS:
        _check_container(data, limits)
        if is_ods(data):
            return read_ods(data, label, sheet, expected, limits, other_layouts)
        return read_xlsx(data, label, sheet, expected, limits, other_layouts)
    if kind == "ole2":
        _reject_encrypted_ooxml(data)
        return read_xls(data, label, sheet, expected, limits, other_layouts)
    if what := _NOT_SPREADSHEET.get(kind):
        raise FileProblem(
            E.FILE_NOT_SPREADSHEET,
            f"文件“{{file}}”实际是{what}，不是电子表格，请提交按模板填写的.xlsx文件（不要只改扩展名）。",
        )
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")) or b"<html" in head[:512]:
        raise FileProblem(
            E.FILE_NOT_SPREADSHEET,
            "文件“{file}”实际是网页（HTML/XML）格式，不是真正的Excel文件，请在Excel或WPS中打开后“另存为”.xlsx格式再提交。",
        )
    return read_csv(data, label, expected, limits, other_layouts)


_MACRO_PARTS = ("xl/macrosheets/", "xl/dialogsheets/", "xl/intl-macrosheets/")
_MACRO_CONTENT_TYPES = (b"macroenabled", b"macrosheet", b"vbaproject", b"ms-excel.intlmacrosheet")


def _check_container(data: bytes, limits: ReadLimits) -> None:
    """Reject an xlsx with macros of any kind, or declaring too much content for its size.

    Checked on the zip's central directory, before any part is inflated:
    Excel 4.0 macro sheets (``xl/macrosheets/``), dialog sheets, VBA projects
    (``vbaProject.bin``) and a macro-enabled package type (``.xlsm``/``.xltm``)
    are FILE_HAS_MACROS; a total declared size over ``max_total_ratio`` times
    the file size is FILE_ZIP_BOMB. A zip that cannot be listed is left to the
    xlsx reader, which rejects it as damaged.
    """
    try:
        infos = zip_listing(data)
        listed = zip_part(data, "[Content_Types].xml")
        small = listed is not None and listed.file_size <= 1 << 20
        types = inflate_part(data, listed) if small else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return
    except FileProblem:  # a damaged [Content_Types].xml: the reader decides
        return
    names = [i.filename.replace("\\", "/").lower() for i in infos]
    if any(n.startswith(_MACRO_PARTS) or n.rsplit("/", 1)[-1] == "vbaproject.bin" for n in names) or any(
        t in types.lower() for t in _MACRO_CONTENT_TYPES
    ):
        raise FileProblem(
            E.FILE_HAS_MACROS,
            "文件“{file}”包含宏（宏表或VBA代码，如.xlsm），出于安全考虑不予接收，"
            "请“另存为”不含宏的.xlsx格式（Excel工作簿）后重新提交。",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.ratio_min_bytes and total > limits.max_total_ratio * len(data):
        raise FileProblem(
            E.FILE_ZIP_BOMB,
            f"文件“{{file}}”解压后约{total / 1024 / 1024:.0f}MB，是文件大小的{total / len(data):.0f}倍，"
            f"超过{limits.max_total_ratio:.0f}倍的上限，疑似“压缩炸弹”，已拒收。请使用下发的模板重新填写。",
            value=f"{total} / {len(data)}",
        )


def _checked_size(content: FileContent, limits: ReadLimits) -> bytes:
    """The bytes of a file that is neither empty nor over the size limit."""
    if content.data is None:
        raise FileProblem(
            E.FILE_TOO_LARGE,
            f"文件“{{file}}”大小为{content.size / 1024 / 1024:.1f}MB，"
            f"超过{limits.max_bytes / 1024 / 1024:.0f}MB的上限，"
            "请删除表格中的图片和无关工作表后重新提交。",
            value=str(content.size),
        )
    if not content.data:
        raise FileProblem(
            E.FILE_EMPTY, "文件“{file}”是空文件（0字节），请在Excel或WPS中填好模板、保存后重新提交。"
        )
    return content.data


def _reject_encrypted_ooxml(data: bytes) -> None:
    """An OLE2/CFB container holding an encrypted .xlsx is rejected; anything else is read as .xls."""
    # An encrypted OOXML workbook has the streams "EncryptionInfo" +
    # "EncryptedPackage" (MS-OFFCRYPTO 2.3.4); directory entry names are UTF-16LE.
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        raise FileProblem(
            E.FILE_ENCRYPTED,
            "文件“{file}”设置了打开密码，无法读取，请在Excel或WPS中取消密码（文件→信息→保护工作簿）后重新提交。",
        )
