"""Documents sent beside a summary sheet: the development plan itself and its approval.

Counties upload the plan's full text and the county government's approval
(冀工信产业〔2016〕93号 二: the plan is approved by the county government) as PDF,
Word (.doc, .docx) or OFD files into the same inbox folder as the summary
sheet. Such a file is never opened, rendered or executed: its type is told by
its first bytes (and, for the zip-based formats, by the names in the zip's
directory), its size is bounded, and its SHA-256 is kept.

Pairing: a document belongs to the summary sheet taken in from the same
folder in the same sweep (the region's upload folder, inside the obligation
instance's folder). A document that arrives alone in a region's folder joins
that region's accepted file of the instance; with neither, it waits in the
inbox.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from review_calendar.intake.magic import content_kind

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = [
    "ATTACHMENT_SUFFIXES",
    "MAX_ATTACHMENT_BYTES",
    "CheckedAttachment",
    "Pairing",
    "attachment_kind",
    "check_attachment",
    "is_attachment",
    "pair_attachments",
]

#: The accepted document types by file suffix.
ATTACHMENT_SUFFIXES: dict[str, str] = {".pdf": "pdf", ".doc": "doc", ".docx": "docx", ".ofd": "ofd"}
#: Largest document kept (a scanned approval of a few pages is well below it).
MAX_ATTACHMENT_BYTES = 30 * 1024 * 1024
#: Largest sum of the uncompressed sizes a zip-based document (.docx, .ofd) may declare.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: Words in a file name that mark the approval document (批复文件).
APPROVAL_WORDS = ("批复", "批准", "批文")


def is_attachment(path: Path) -> bool:
    """Whether a file in the inbox is a document (by its suffix) rather than a summary sheet."""
    return path.suffix.lower() in ATTACHMENT_SUFFIXES


def attachment_kind(name: str) -> str:
    """``approval`` when the name says it is the approval (批复、批准、批文), else ``plan``."""
    return "approval" if any(word in name for word in APPROVAL_WORDS) else "plan"


@dataclass(frozen=True, slots=True)
class CheckedAttachment:
    """A document checked without opening it.

    Attributes:
        path: Where it is.
        name: Its file name.
        kind: ``approval`` or ``plan``.
        media_type: What its bytes are: ``pdf``, ``doc``, ``docx``, ``ofd`` or "".
        sha256: Hex digest of its bytes.
        size: Size in bytes.
        problem: Why it is not kept (Chinese), "" when it is.
    """

    path: Path
    name: str
    kind: str
    media_type: str
    sha256: str
    size: int
    problem: str = ""

    @property
    def kept(self) -> bool:
        """Whether the document passes the checks."""
        return not self.problem


def _digest(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _zip_type(path: Path) -> str:
    """``docx`` (a ``word/`` part), ``ofd`` (an ``OFD.xml`` root) or "" from the zip's directory only."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return ""
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        return "zip_bomb"
    names = [i.filename for i in infos]
    if any(n.startswith("word/") for n in names) and "[Content_Types].xml" in names:
        return "docx"
    if "OFD.xml" in names:
        return "ofd"
    return ""


def sniff(path: Path) -> str:
    """What a document's bytes are (``pdf``, ``doc``, ``docx``, ``ofd``), "" when none of them."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    kind = content_kind(head)
    if kind == "pdf":
        return "pdf"
    if kind == "ole2":
        return "doc"
    if kind == "zip":
        return _zip_type(path)
    return ""


def check_attachment(path: Path, *, max_bytes: int = MAX_ATTACHMENT_BYTES) -> CheckedAttachment:
    """Check a document by its size and first bytes, never by opening it.

    Args:
        path: The file.
        max_bytes: Largest size kept.

    Returns:
        The document with its hash, type and, if it is not kept, the reason.

    Raises:
        OSError: The file is gone or unreadable.
    """
    sha, size = _digest(path)
    expected = ATTACHMENT_SUFFIXES.get(path.suffix.lower(), "")
    kind = attachment_kind(path.name)

    def checked(media_type: str, problem: str = "") -> CheckedAttachment:
        return CheckedAttachment(path, path.name, kind, media_type, sha, size, problem)

    if not expected:
        return checked("", "只接收PDF、Word（.doc、.docx）或OFD格式的附件。")
    if size == 0:
        return checked("", "附件是空文件。")
    if size > max_bytes:
        return checked("", f"附件超过{max_bytes // (1024 * 1024)}MB，请压缩后重新上传。")
    actual = sniff(path)
    if actual == "zip_bomb":
        return checked("", "附件解压后体积异常，未予保存。")
    if actual != expected:
        shown = {"pdf": "PDF", "doc": "Word 97-2003", "docx": "Word", "ofd": "OFD"}.get(
            actual, "无法识别的格式"
        )
        return checked(
            actual, f"文件扩展名为{path.suffix}，但内容是{shown}，请上传真实的{expected.upper()}文件。"
        )
    return checked(actual)


@dataclass
class Pairing:
    """The documents of one sweep matched with the sheets.

    Attributes:
        sheets: The summary sheets, in the order given.
        by_sheet: Documents for each sheet (by the sheet's path).
        alone: Documents without a sheet in the sweep, by the region folder they are in
            (``None``: the instance's own folder, where only a sheet can claim them).
    """

    sheets: list[Path] = field(default_factory=list)
    by_sheet: dict[Path, list[Path]] = field(default_factory=lambda: defaultdict(list))
    alone: dict[str | None, list[Path]] = field(default_factory=lambda: defaultdict(list))


def pair_attachments(files: Sequence[Path], region_of: Iterable[str | None] | None = None) -> Pairing:
    """Split a sweep into summary sheets and documents, each document with the sheet of its folder.

    A folder's documents go with the last sheet of that folder (a correction sent
    twice in one sweep: the later file is the one that counts). The instance's own
    folder holds files of several regions, so its documents go to a sheet only
    when exactly one sheet is there.

    Args:
        files: The sweep's files (sheets and documents).
        region_of: The region folder of each file (None outside one); default: none.

    Returns:
        The pairing.
    """
    regions = list(region_of) if region_of is not None else [None] * len(files)
    out = Pairing()
    sheets_in: dict[Path, list[Path]] = defaultdict(list)
    docs_in: dict[Path, list[Path]] = defaultdict(list)
    folder_region: dict[Path, str | None] = {}
    for path, region in zip(files, regions, strict=True):
        folder_region[path.parent] = region
        if is_attachment(path):
            docs_in[path.parent].append(path)
        else:
            out.sheets.append(path)
            sheets_in[path.parent].append(path)
    for folder, docs in docs_in.items():
        sheets = sheets_in.get(folder, [])
        region = folder_region[folder]
        if sheets and (region is not None or len(sheets) == 1):
            out.by_sheet[sheets[-1]].extend(docs)
        else:
            out.alone[region].extend(docs)
    return out
