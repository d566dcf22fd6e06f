"""A submission e-mail taken apart: who sent it, what it answers, and its attachments, checked.

Pure intake: the message's bytes in, an :class:`Envelope` and :class:`MailPart`
records out, no database and no network. Each attachment is classified before
anything reads it as a sheet:

- ``sheet`` (.xlsx, .xls, .ods, .csv) and ``document`` (.pdf, .docx, .doc,
  .ofd: the plan's text and its approval) are taken in through the same
  intake code as inbox files;
- a .zip is unpacked here with the limits a sheet's own zip container has
  (:class:`~review_calendar.intake.reader.ReadLimits`: members, declared sizes,
  compression ratios); a zip inside a zip is not unpacked;
- ``quarantine``: too big, of a type we never take (an executable, a macro
  workbook, an unknown suffix), content that contradicts its suffix (an
  executable named ``.xlsx``), an encrypted or bomb-shaped zip; the reason is
  kept with the message's metadata;
- ``skipped``: inline images and other parts of the body (signatures, logos).

Names come as Chinese mail clients write them: RFC 2231 (``filename*=``),
RFC 2047 encoded words (``=?GBK?B?…?=``), even quoted or not, or raw GBK/UTF-8
bytes in the header; zip members named in GBK without the UTF-8 flag. An
attachment inside a forwarded message (``message/rfc822``) is an attachment
of the message.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from review_calendar.intake.attachments import MAX_ATTACHMENT_BYTES
from review_calendar.intake.filenames import safe_file_name
from review_calendar.intake.magic import EXECUTABLES, ZIP_KINDS, content_kind
from review_calendar.intake.normalize import decode_encoded_words
from review_calendar.intake.reader import ReadLimits

if TYPE_CHECKING:
    from email.message import Message

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MAX_PARTS",
    "SHEET_SUFFIXES",
    "Envelope",
    "MailPart",
    "decode_name",
    "message_ids",
    "parse_envelope",
    "split_message",
]

SHEET_SUFFIXES = (".xlsx", ".xls", ".ods", ".csv")
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".doc", ".ofd")
#: Most attachments taken from one message (the rest are quarantined).
MAX_PARTS = 50
#: What the content of a file of each suffix must be (:func:`~.magic.content_kind`).
_KINDS: dict[str, frozenset[str]] = {
    ".xlsx": frozenset({"zip"}),
    ".ods": frozenset({"zip"}),
    ".docx": frozenset({"zip"}),
    ".ofd": frozenset({"zip"}),
    ".zip": ZIP_KINDS,
    ".xls": frozenset({"ole2"}),
    ".doc": frozenset({"ole2"}),
    ".pdf": frozenset({"pdf"}),
}
_MSGID = re.compile(r"<[^<>\s]{1,500}>")


@dataclass(frozen=True)
class Envelope:
    """What the headers of a message say (the receipt time is the server's, never its Date).

    Attributes:
        message_id: Its Message-ID (``<…>``; "" when it has none).
        sender: The From address, lower-cased ("" when there is none or it is not one address).
        subject: Its subject, decoded, one line.
        in_reply_to: The Message-IDs it answers (In-Reply-To, then References, newest first).
        date_header: The sender's Date header as given (shown, never used as the receipt time).
    """

    message_id: str
    sender: str
    subject: str
    in_reply_to: tuple[str, ...] = ()
    date_header: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the ledger, the quarantine's metadata)."""
        return {
            "message_id": self.message_id,
            "sender": self.sender,
            "subject": self.subject,
            "in_reply_to": list(self.in_reply_to),
            "date_header": self.date_header,
        }


@dataclass
class MailPart:
    """One attachment of a message (or a member of an attached zip).

    Attributes:
        position: Its order in the message (1-based; a zip's members follow the zip).
        name: The name the sender gave it (decoded; for a zip member ``archive.zip/member``).
        kind: ``sheet``, ``document``, ``quarantine`` or ``skipped``.
        data: Its bytes (None when not kept: too big, skipped).
        size: Its size in bytes (as sent, or as declared in the zip).
        sha256: Hash of its bytes ("" when not kept).
        reason: Why it is quarantined or skipped (Chinese).
    """

    position: int
    name: str
    kind: str
    data: bytes | None = field(default=None, repr=False)
    size: int = 0
    sha256: str = ""
    reason: str = ""

    @property
    def file_name(self) -> str:
        """The name to store it under and show (safe: one path component, no control characters)."""
        return safe_file_name(self.name.rsplit("/", 1)[-1] or "附件")


def parse_envelope(msg: Message) -> Envelope:
    """The Message-ID, sender, subject and the Message-IDs a message answers."""
    senders = [a for _, a in getaddresses([_header_text(msg, "From")]) if a]
    sender = senders[0].strip().lower() if len(senders) == 1 else ""
    ids = message_ids(_header_text(msg, "In-Reply-To"))
    ids += [i for i in reversed(message_ids(_header_text(msg, "References"))) if i not in ids]
    own = message_ids(_header_text(msg, "Message-ID"))
    subject = " ".join(decode_encoded_words(_header_text(msg, "Subject")).split())
    return Envelope(
        message_id=own[0] if own else "",
        sender=sender if "@" in sender and not any(c in sender for c in "\r\n<>") else "",
        subject=subject[:500],
        in_reply_to=tuple(ids[:50]),
        date_header=_date_text(_header_text(msg, "Date")),
    )


def message_ids(text: str) -> list[str]:
    """The ``<…>`` Message-IDs in a header value, in order."""
    return _MSGID.findall(text or "")


def split_message(raw: bytes, limits: ReadLimits | None = None) -> tuple[Envelope, list[MailPart]]:
    """A message's envelope and every attachment, classified (see the module docstring).

    Args:
        raw: The message as the server holds it (RFC 5322 bytes).
        limits: Size and zip limits (default: those of intake).

    Returns:
        The envelope and the parts in message order (zip members after their zip).
    """
    limits = limits or ReadLimits()
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    envelope = parse_envelope(msg)
    parts: list[MailPart] = []
    for part in msg.walk():
        if part.is_multipart():
            continue  # a container (multipart/*, an attached message): its parts follow
        name = decode_name(part)
        disposition = _raw(part, "Content-Disposition").split(";")[0].strip().lower()
        if not name and disposition != "attachment":
            continue  # the body text
        data = part.get_payload(decode=True) or b""
        position = len(parts) + 1
        if not name:
            name = f"附件{position}"
        if disposition == "inline" and part.get_content_maintype() == "image":
            parts.append(MailPart(position, name, "skipped", size=len(data), reason="正文中的图片"))
            continue
        if len([p for p in parts if p.kind != "skipped"]) >= MAX_PARTS:
            parts.append(_quarantine(position, name, data, f"一封邮件最多接收 {MAX_PARTS} 个附件"))
            continue
        parts.extend(_classify(position, name, data, limits))
    for index, p in enumerate(parts, start=1):
        p.position = index
    return envelope, parts


def decode_name(part: Message) -> str:
    """An attachment's name: RFC 2231, RFC 2047 (quoted or not) or raw GBK/UTF-8 bytes, decoded.

    Returns:
        The name ("" when the part has none), one line.
    """
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        value = _raw(part, header)
        if _has_raw_bytes(value):  # raw 8-bit bytes in the header: the parameter read by hand
            found = re.search(rf'(?:^|;)\s*{param}\s*=\s*("([^"]*)"|[^;\s]+)', value, re.I)
            if found:
                text = found.group(2) if found.group(2) is not None else found.group(1)
                text = _bytes_text(text.encode("ascii", "surrogateescape"), "")
                return " ".join(decode_encoded_words(text).replace("\x00", "").split())
    raw = (
        part.get_param("filename", None, "content-disposition")
        if not _has_raw_bytes(_raw(part, "Content-Disposition"))
        else None
    )
    if raw is None and not _has_raw_bytes(_raw(part, "Content-Type")):
        raw = part.get_param("name", None, "content-type")
    if raw is None:
        return ""
    if isinstance(raw, tuple):  # RFC 2231: (charset, language, value)
        charset, _, value = raw
        data = value.encode("latin-1", "surrogateescape") if isinstance(value, str) else value
        text = _bytes_text(data, charset or "")
    else:
        text = decode_encoded_words(email.utils.collapse_rfc2231_value(raw))
    return " ".join(text.replace("\x00", "").split())


def _bytes_text(data: bytes, charset: str) -> str:
    """Bytes of a name in their declared charset, else UTF-8, else GB18030 (a superset of GBK)."""
    for encoding in (charset, "utf-8", "gb18030"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def _classify(position: int, name: str, data: bytes, limits: ReadLimits) -> list[MailPart]:
    """One attachment as a part (a zip as itself and its members)."""
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in SHEET_SUFFIXES:
        kind, limit = "sheet", limits.max_bytes
    elif suffix in DOCUMENT_SUFFIXES:
        kind, limit = "document", MAX_ATTACHMENT_BYTES
    elif suffix == ".zip":
        kind, limit = "zip", limits.max_bytes
    else:
        return [_quarantine(position, name, data, f"不接收的附件类型“{suffix or '无扩展名'}”")]
    if len(data) > limit:
        reason = f"附件 {len(data) / 1048576:.1f} MB，超过 {limit // 1048576} MB 的上限"
        return [MailPart(position, name, "quarantine", None, len(data), _sha(data), reason)]
    problem = _content_problem(suffix, data)
    if problem:
        return [_quarantine(position, name, data, problem)]
    if kind == "zip":
        return _unzip(position, name, data, limits)
    return [MailPart(position, name, kind, data, len(data), _sha(data))]


def _content_problem(suffix: str, data: bytes) -> str:
    """Why the bytes cannot be what the name says ("" when they can)."""
    kind = content_kind(data)
    if kind in EXECUTABLES:
        return "附件是可执行程序，不予接收"
    wanted = _KINDS.get(suffix)
    if wanted and kind not in wanted:
        return f"附件内容与扩展名“{suffix}”不符"
    if suffix == ".csv" and b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "附件内容与扩展名“.csv”不符（含二进制内容）"
    return ""


def _unzip(position: int, name: str, data: bytes, limits: ReadLimits) -> list[MailPart]:
    """A zip's members as parts, within the limits of a sheet's own zip container."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return [_quarantine(position, name, data, "压缩包已损坏，无法解开")]
    declared = sum(i.file_size for i in infos)
    if len(infos) > limits.max_zip_members:
        return [_quarantine(position, name, data, f"压缩包内文件超过 {limits.max_zip_members} 个")]
    if declared > limits.max_uncompressed_bytes or (
        declared > limits.ratio_min_bytes and declared / max(len(data), 1) > limits.max_total_ratio
    ):
        return [_quarantine(position, name, data, "压缩包解压后过大（疑似压缩炸弹）")]
    if any(i.flag_bits & 0x1 for i in infos):
        return [_quarantine(position, name, data, "压缩包已加密，无法解开")]
    out = [MailPart(position, name, "skipped", None, len(data), _sha(data), "压缩包（内容逐个接收）")]
    for info in infos:
        member = f"{name}/{_member_name(info)}"
        suffix = PurePosixPath(member.lower()).suffix
        if suffix == ".zip":
            out.append(_quarantine(position, member, None, "压缩包中的压缩包不予解开", info.file_size))
            continue
        if info.file_size > (MAX_ATTACHMENT_BYTES if suffix in DOCUMENT_SUFFIXES else limits.max_bytes):
            out.append(_quarantine(position, member, None, "压缩包内文件超过大小上限", info.file_size))
            continue
        try:
            with archive.open(info) as f:
                body = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            out.append(_quarantine(position, member, None, "压缩包内文件无法解开", info.file_size))
            continue
        if len(body) > info.file_size:
            out.append(_quarantine(position, member, None, "压缩包内文件大小与声明不符", info.file_size))
            continue
        out.extend(_classify(position, member, body, limits))
    return out


def _member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's file name: UTF-8 when flagged, else the GBK bytes Windows' zip tools write."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    leaf = PureWindowsPath(name).name  # "..\\x.xlsx" and "dir/x.xlsx" alike: the last component
    return leaf or "附件"


def _quarantine(
    position: int, name: str, data: bytes | None, reason: str, size: int | None = None
) -> MailPart:
    """A part kept aside (its bytes when small enough to keep as evidence)."""
    keep = data if data is not None and len(data) <= ReadLimits().max_bytes else None
    return MailPart(
        position, name, "quarantine", keep, size if size is not None else len(data or b""),
        _sha(data) if data is not None else "", reason,
    )  # fmt: skip


def _sha(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest() if data is not None else ""


def _raw(msg: Message, name: str) -> str:
    """A header's first value as stored (raw 8-bit bytes as surrogates), "" when absent."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return value if isinstance(value, str) else str(value)
    return ""


def _has_raw_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _header_text(msg: Message, name: str) -> str:
    """A header as text (raw 8-bit bytes decoded as UTF-8, else GB18030), "" when absent."""
    text = _raw(msg, name)
    if _has_raw_bytes(text):
        text = _bytes_text(text.encode("ascii", "surrogateescape"), "")
    return " ".join(text.split())


def _date_text(value: str) -> str:
    try:
        return parsedate_to_datetime(value).isoformat() if value else ""
    except (TypeError, ValueError, IndexError):
        return value[:100]
