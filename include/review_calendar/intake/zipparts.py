"""The zip container of .xlsx and .ods files: parts counted, sizes bounded, each wanted part inflated once.

Both formats are zips written by outsiders. Before any XML parser sees a
part, :func:`check_zip` bounds the number of parts, their declared sizes and
compression ratios (zip bombs), and :func:`inflate_parts` decompresses the
parts a reader needs with their size capped and their CRC verified.

The central directory of a file's bytes is read once (:func:`zip_listing`):
the identity check (document properties), the container check (macros) and
the reader of the same file all list its parts from there.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.issues import FileProblem

if TYPE_CHECKING:
    from collections.abc import Callable

    from review_calendar.intake.reader import ReadLimits

__all__ = ["check_zip", "inflate_part", "inflate_parts", "zip_listing", "zip_part"]


@functools.lru_cache(maxsize=1)
def zip_listing(data: bytes) -> tuple[zipfile.ZipInfo, ...]:
    """The parts of a zip as its central directory lists them, read once for the same bytes.

    The bytes of one file go through several checks in turn (its document
    properties, its container, its sheets); the last listing is kept so the
    central directory is parsed once. A zip that cannot be listed raises what
    :class:`zipfile.ZipFile` raises (nothing is kept).

    Raises:
        zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
        NotImplementedError: The bytes are not a zip that can be listed.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return tuple(archive.infolist())


def zip_part(data: bytes, name: str) -> zipfile.ZipInfo | None:
    """The part ``name`` as the zip's central directory lists it (None: not there).

    A name listed twice gives its last entry, as :class:`zipfile.ZipFile` reads it.

    Raises:
        What :func:`zip_listing` raises.
    """
    return next((info for info in reversed(zip_listing(data)) if info.filename == name), None)


def check_zip(infos: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    """Bound the number of parts, their declared sizes and compression ratios (zip bombs)."""
    if len(infos) > limits.max_zip_members:
        raise FileProblem(
            E.FILE_ZIP_BOMB,
            f"文件“{{file}}”内部包含{len(infos)}个部件，结构异常，已拒收。请使用下发的模板重新填写。",
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= limits.ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise FileProblem(
                    E.FILE_ZIP_BOMB,
                    f"文件“{{file}}”解压后体积异常（压缩比约{ratio:.0f}倍），疑似“压缩炸弹”，已拒收。请使用下发的模板重新填写。",
                    value=f"{info.filename}: {info.file_size} / {info.compress_size}",
                )
    if total > limits.max_uncompressed_bytes:
        raise FileProblem(
            E.FILE_ZIP_BOMB,
            f"文件“{{file}}”解压后超过{limits.max_uncompressed_bytes // 1024 // 1024}MB，体积异常，已拒收。"
            "请删除无关内容后重新提交。",
            value=str(total),
        )


_LOCAL_HEADER = struct.Struct("<4s22xHH")


def inflate_parts(
    data: bytes, infos: list[zipfile.ZipInfo], wanted: Callable[[str], bool]
) -> dict[str, bytes]:
    """Decompress every ``wanted`` part (those calamine parses) and verify it.

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
        # Only what calamine parses. Parts nobody inflates cannot hurt.
        if wanted(info.filename):
            parts[info.filename] = _inflate(data, view, info)
    return parts


def inflate_part(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """One part of the zip, inflated with its size capped and its CRC verified (see :func:`inflate_parts`).

    Raises:
        FileProblem: The part is damaged, cut off or not what its header says.
    """
    return _inflate(data, memoryview(data), info)


def _inflate(data: bytes, view: memoryview, info: zipfile.ZipInfo) -> bytes:
    """The part ``info`` of ``data`` (``view`` is a view of it), inflated and verified."""
    name = info.filename
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
        raise FileProblem(
            E.FILE_CORRUPT, "文件“{file}”内部数据已损坏，请用Excel、WPS或LibreOffice重新保存后提交。"
        ) from None
    if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
        raise FileProblem(
            E.FILE_CORRUPT,
            "文件“{file}”内部数据校验失败（已损坏或被篡改），请用Excel、WPS或LibreOffice重新保存后提交。",
            value=name,
        )
    return content
