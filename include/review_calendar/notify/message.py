"""Building the MIME message of an outbox row.

UTF-8 subject and display names are RFC 2047-encoded by ``email.policy.SMTP``;
a name or subject is checked after decoding what is already encoded in it (a
contact name ``=?utf-8?q?x=0D=0ABcc:_evil@x?=`` would otherwise decode to a
second header): control characters become spaces, and a header whose folded
form still holds a line break that does not continue it is refused;
the body is UTF-8 base64; the Message-ID is derived from the natural key, so a
repeated send carries the same one; the Date is Beijing time
(:data:`review_calendar.domain.calendar.TZ`).
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.policy
import mimetypes
import re
import unicodedata
from dataclasses import replace
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from review_calendar.domain.calendar import TZ
from review_calendar.intake.normalize import decode_encoded_words
from review_calendar.notify.outbox import message_id
from review_calendar.notify.recipients import InvalidAddress, Mailbox, mailbox
from review_calendar.notify.render import one_line

#: ``email.policy.SMTP`` (CRLF, 78-column folding, RFC 2047) that keeps the headers
#: :func:`_header` already folded instead of parsing and folding them a second time.
POLICY = email.policy.SMTP.clone(refold_source="none", raise_on_defect=True)
#: A line break in a folded header that does not continue it (starts a new header or the body).
_BARE_BREAK = re.compile(r"\r?\n(?![ \t])|\r(?!\n)")


class MessageError(ValueError):
    """A queued message cannot be built (missing attachment, bad stored address, unknown sender)."""


class OutgoingMessage(EmailMessage):
    """An e-mail built from an outbox row, carrying the envelope it was built from.

    ``envelope_from`` and ``envelope_to`` (To and Cc, validated addresses) let a
    sender call ``smtplib.SMTP.sendmail`` without parsing the headers back
    (:func:`review_calendar.notify.smtp.smtp_sender` does);
    ``smtplib.SMTP.send_message`` works on it as on any message.
    """

    envelope_from: str = ""
    envelope_to: tuple[str, ...] = ()


#: Kinds of messages that carry the submissions mailbox as Reply-To (those a county answers with a file).
REPLY_TO_KINDS = frozenset(
    {"notice", "reminder", "rejection", "receipt", "returned", "extension", "deadline_moved", "mail_reply"}
)


def build_message(row: Any, sender: Mailbox, reply_to: str | None = None) -> OutgoingMessage:
    """The e-mail of an outbox row, ready for ``smtplib``.

    An answer to a submission e-mail (``row.thread``) carries ``In-Reply-To`` and
    ``References``, so it shows in the county's thread.

    Args:
        row: An ``outbox`` row (ORM object or Core row with the same columns).
        sender: The From mailbox.
        reply_to: The submissions mailbox, set as Reply-To of the kinds a county
            answers with a file (:data:`REPLY_TO_KINDS`); None: no Reply-To.

    Returns:
        The message.

    Raises:
        MessageError: A stored address is invalid, a header value has a line
            break, or an attachment cannot be read.
    """
    try:
        to = [Mailbox.from_json(v) for v in row.to_addrs]
        cc = [Mailbox.from_json(v) for v in row.cc_addrs or ()]
    except InvalidAddress as exc:
        raise MessageError(str(exc)) from None
    if not to:
        raise MessageError("no To recipient")
    msg = OutgoingMessage(policy=POLICY)
    msg.envelope_from = sender.addr
    msg.envelope_to = tuple(dict.fromkeys(m.addr for m in [*to, *cc]))
    msg.set_raw("From", _address_header("From", (_plain(sender),)))
    msg.set_raw("To", _address_header("To", tuple(_plain(m) for m in to)))
    if cc:
        msg.set_raw("Cc", _address_header("Cc", tuple(_plain(m) for m in cc)))
    msg.set_raw("Subject", _subject_header(plain_text(row.subject)))
    msg.set_raw("Date", format_datetime(dt.datetime.now(TZ)))
    msg.set_raw("Message-ID", message_id(row.natural_key, sender.addr.rpartition("@")[2]))
    msg.set_raw("Auto-Submitted", "auto-generated")  # RFC 3834: no auto-replies to reminders
    if reply_to and row.kind in REPLY_TO_KINDS:
        box = mailbox("", reply_to)
        if box is None:
            raise MessageError("the submissions mailbox (Reply-To) is not a plain addr-spec")
        msg.set_raw("Reply-To", _address_header("Reply-To", (box,)))
    thread = getattr(row, "thread", None) or {}
    if thread.get("in_reply_to"):
        msg.set_raw("In-Reply-To", _message_ids(thread["in_reply_to"]))
        refs = [*thread.get("references", ()), thread["in_reply_to"]]
        msg.set_raw("References", _message_ids(" ".join(dict.fromkeys(refs))))
    _set_text(msg, row.body)
    for path in row.attachments or ():
        _attach(msg, Path(path))
    return msg


def _message_ids(text: str) -> str:
    """Message-IDs (``<…>``) for In-Reply-To / References, folded; anything else in ``text`` dropped.

    Raises:
        MessageError: No Message-ID in ``text``.
    """
    ids = [i for i in re.findall(r"<[!-;=?-~]{1,250}>", text) if "\r" not in i and "\n" not in i][-20:]
    if not ids:
        raise MessageError("the thread of an answer has no Message-ID")
    return "\r\n ".join(ids)


def _attach(msg: EmailMessage, file: Path) -> None:
    """Attach a file under its own name, typed by its extension.

    Raises:
        MessageError: The file cannot be read.
    """
    try:
        data = file.read_bytes()
    except OSError:
        raise MessageError(f"附件无法读取：{file.name}") from None
    ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    maintype, _, subtype = ctype.partition("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=file.name)


def _header(name: str, value: Any) -> str:
    """A header value encoded (RFC 2047) and folded by the e-mail policy, for ``set_raw``.

    The policy's header classes do the work that ``msg[name] = value`` would do;
    the result is stored as-is, so the generator does not fold it again (the
    costliest step of building a message). CR and LF are refused first, as the
    policy itself would.

    Raises:
        MessageError: A text value contains CR or LF, or its folded form (encoded
            words decoded by the policy) has a line break that does not continue it.
    """
    if isinstance(value, str) and ("\r" in value or "\n" in value):
        raise MessageError(f"{name} must be a single line")
    try:
        header = POLICY.header_factory(name, value)
    except ValueError:  # the policy's own refusal: an address part with CR or LF
        raise MessageError(f"{name} would contain a line break") from None
    folded = header.fold(policy=POLICY)
    raw = folded[len(name) + 2 : -len(POLICY.linesep)]
    if _BARE_BREAK.search(raw) or any(ch in str(header) for ch in "\r\n\0"):
        raise MessageError(f"{name} would contain a line break")
    return raw


def plain_text(value: str) -> str:
    """A subject or display name as one safe line: encoded words decoded, control characters gone.

    What a submitter typed may already be RFC 2047-encoded; it is decoded
    first (as a mail reader would), control and format characters become
    spaces, an encoded word left over is broken up, and the e-mail policy
    encodes the result afresh.
    """
    text = decode_encoded_words(one_line(value))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)
    return " ".join(text.replace("=?", "= ?").split())


def _plain(box: Mailbox) -> Mailbox:
    """The mailbox with its display name made :func:`plain_text` (the address is validated already)."""
    name = plain_text(box.name)
    return box if name == box.name else replace(box, name=name)


@lru_cache(maxsize=4096)
def _address_header(name: str, boxes: tuple[Mailbox, ...]) -> str:
    """An address header; a batch repeats its From and its Cc (the city leaders), so each list is folded once.

    Display names with a non-ASCII character (Chinese names) are encoded by the
    standard library's :class:`email.header.Header` (RFC 2047 encoded words,
    folded at 78 columns), several times faster than the policy's
    parse-and-refold; any other name goes through the policy (quoting rules).
    """
    if any(m.name.isascii() and m.name for m in boxes):
        return _header(name, tuple(m.header() for m in boxes))
    header = Header(header_name=name, maxlinelen=_LINE)
    for i, box in enumerate(boxes):
        comma = "," if i < len(boxes) - 1 else ""
        if box.name:
            header.append(box.name, "utf-8")
        header.append(f"<{box.addr}>{comma}" if box.name else f"{box.addr}{comma}", "us-ascii")
    return _checked(name, header.encode(linesep="\r\n"))


def _subject_header(text: str) -> str:
    """The Subject: a text with a non-ASCII character by :class:`email.header.Header`; any other by the policy."""
    if text.isascii():
        return _header("Subject", text)
    return _checked(
        "Subject", Header(text, "utf-8", header_name="Subject", maxlinelen=_LINE).encode(linesep="\r\n")
    )


#: The longest header line (RFC 5322, folding whitespace included).
_LINE = 78


def _checked(name: str, raw: str) -> str:
    """``raw`` unless it holds a line break that does not continue the header (never, by construction)."""
    if _BARE_BREAK.search(raw) or "\0" in raw:
        raise MessageError(f"{name} would contain a line break")
    return raw


def _set_text(msg: EmailMessage, body: str) -> None:
    """The UTF-8 base64 plain-text body, as ``set_content`` makes it (without parsing its own headers back)."""
    data = b"\r\n".join(body.encode().splitlines()) + b"\r\n"
    msg.set_raw("Content-Type", 'text/plain; charset="utf-8"')
    msg.set_raw("Content-Transfer-Encoding", "base64")
    msg.set_payload(_base64_lines(data))
    if "MIME-Version" not in msg:
        msg.set_raw("MIME-Version", "1.0")


def _base64_lines(data: bytes) -> str:
    """``data`` in base64 lines of 76 characters (the policy's line length), as ``set_content`` cuts them."""
    step = POLICY.max_line_length // 4 * 3
    return "".join(binascii.b2a_base64(data[i : i + step]).decode() for i in range(0, len(data), step))
