"""What a file's first bytes say it is: intake's one content-sniffing rule.

A submitted file is never trusted by its name. The sheet reader
(:mod:`.reader`), the documents beside a sheet (:mod:`.attachments`) and the
e-mailed attachments (:mod:`.mail_parts`) all ask :func:`content_kind` what the
bytes are and decide by that what to do with them (read, keep, quarantine,
reject); none of them compares magic bytes itself.
"""

from __future__ import annotations

__all__ = ["EXECUTABLES", "ZIP_KINDS", "content_kind"]

#: Leading bytes and what they are, first match wins.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),  # a zip's first local header: xlsx, ods, docx, ofd, zip
    (b"PK\x05\x06", "zip_empty"),  # a zip that starts with its end record: an empty archive
    (bytes.fromhex("d0cf11e0a1b11ae1"), "ole2"),  # Compound File Binary: xls, doc, encrypted OOXML
    (b"%PDF-", "pdf"),
    (b"%PDF", "pdf_damaged"),  # a PDF whose header lost its version
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"{\\rtf", "rtf"),
    (b"MZ", "exe"),  # Windows (PE)
    (b"\x7fELF", "elf"),
    (b"#!", "script"),
    (b"\xca\xfe\xba\xbe", "mach_o"),  # also a Java class file: an executable either way
    (b"\xcf\xfa\xed\xfe", "mach_o"),
)

#: The kinds that are programs.
EXECUTABLES = frozenset({"exe", "elf", "script", "mach_o"})
#: The kinds that are zip archives.
ZIP_KINDS = frozenset({"zip", "zip_empty"})


def content_kind(head: bytes) -> str:
    """What bytes starting with ``head`` are (a kind of :data:`_SIGNATURES`), "" when none of them.

    Args:
        head: The file's first bytes (8 are enough).
    """
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    return ""
