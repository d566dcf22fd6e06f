"""The submissions mailbox over IMAP: new messages by UID, their arrival times, and the processed folder.

``imap-tools`` keeps the connection (TLS or plain, login, folders, ``MOVE``
with a copy-and-delete fallback of the message itself on servers without
it); UIDs, ``UIDVALIDITY`` and ``INTERNALDATE``, which exactly-once and
receipt times need, are read with the client's own ``UID FETCH``.

A message is never deleted by us: once taken in it is moved to the processed
folder (``ImapSettings.processed``), so the folder read holds only what waits.
The receipt time of a message is the server's ``INTERNALDATE`` (when it
arrived), never the sender's ``Date`` header.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review_calendar.domain.calendar import TZ

if TYPE_CHECKING:
    from review_calendar.settings import ImapSettings

__all__ = ["MAX_MESSAGE_BYTES", "Fetched", "MailboxError", "SubmissionsMailbox"]

#: Largest message downloaded whole; a bigger one is quarantined from its headers.
MAX_MESSAGE_BYTES = 60 * 1024 * 1024
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxError(RuntimeError):
    """The mailbox cannot be reached or refuses a command (the message names the step, never the password)."""


@dataclass(frozen=True)
class Fetched:
    """One message as the server holds it.

    Attributes:
        uidvalidity: The folder's UIDVALIDITY (with ``uid`` the message's identity on the server).
        uid: Its UID.
        received_at: The server's INTERNALDATE, Asia/Shanghai, to the second.
        size: Its size (RFC822.SIZE).
        raw: Its bytes; only the headers when it is over :data:`MAX_MESSAGE_BYTES`.
        whole: Whether ``raw`` is the whole message.
    """

    uidvalidity: int
    uid: int
    received_at: dt.datetime
    size: int
    raw: bytes
    whole: bool = True


class SubmissionsMailbox:
    """A logged-in connection to the submissions mailbox, its folder selected (a context manager)."""

    def __init__(self, imap: ImapSettings, *, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        if not imap.host:
            raise MailboxError(
                "no IMAP server configured (REVIEW_CALENDAR_IMAP_HOST or the Airflow connection)"
            )
        self.settings = imap
        self.max_message_bytes = max_message_bytes
        self.box = None
        self.uidvalidity = 0

    @property
    def name(self) -> str:
        """The mailbox's identity in the ledger: ``user@host:port/folder``."""
        s = self.settings
        return f"{s.user}@{s.host}:{s.port}/{s.folder}"[:200]

    def __enter__(self) -> SubmissionsMailbox:
        from imap_tools import MailBox, MailBoxUnencrypted
        from imap_tools.errors import ImapToolsError

        s = self.settings
        try:
            box = (
                MailBox(s.host, s.port, timeout=s.timeout)
                if s.ssl
                else MailBoxUnencrypted(s.host, s.port, timeout=s.timeout)
            )
            box.login(s.user, s.password, initial_folder=None)
        except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
            raise MailboxError(f"IMAP 服务器无法连接或登录失败：{type(exc).__name__}") from exc
        self.box = box
        try:
            if not box.folder.exists(s.processed):
                box.folder.create(s.processed)
            box.folder.set(s.folder)
            self.uidvalidity = int(box.folder.status(s.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        except Exception as exc:
            self.__exit__(None, None, None)
            raise MailboxError(f"IMAP 文件夹“{s.folder}”无法打开：{type(exc).__name__}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        if self.box is not None:
            try:
                self.box.logout()
            except Exception:  # the connection may be gone already; nothing to keep
                pass
            self.box = None

    def uids(self) -> list[int]:
        """UIDs of the messages waiting in the folder, oldest first."""
        return sorted(int(u) for u in self._box.uids("ALL"))

    def fetch(self, uid: int) -> Fetched | None:
        """The message with this UID (None when it is gone: moved meanwhile by another run)."""
        head = self._fetch(uid, "(UID INTERNALDATE RFC822.SIZE)")
        if head is None:
            return None
        meta, _ = head
        size = int(m.group(1)) if (m := _SIZE.search(meta)) else 0
        found = _INTERNALDATE.search(meta)
        if not found:
            raise MailboxError(f"IMAP 服务器未给出邮件 {uid} 的到达时间（INTERNALDATE）")
        received = _internaldate(found.group(1))
        whole = size <= self.max_message_bytes
        body = self._fetch(uid, "(UID BODY.PEEK[])" if whole else "(UID BODY.PEEK[HEADER])")
        if body is None:
            return None
        return Fetched(self.uidvalidity, uid, received, size, body[1], whole)

    def move_to_processed(self, uid: int) -> None:
        """Move the message to the processed folder (never deleted)."""
        self._box.move(str(uid), self.settings.processed)

    def append(self, raw: bytes, when: dt.datetime | None = None, folder: str | None = None) -> None:
        """Put a message in a folder with this arrival time (the demo and the tests' senders)."""
        self._box.append(raw, folder or self.settings.folder, dt=when, flag_set=())

    @property
    def _box(self) -> Any:
        if self.box is None:
            raise MailboxError("the mailbox is not open")
        return self.box

    def _fetch(self, uid: int, parts: str) -> tuple[bytes, bytes] | None:
        status, data = self._box.client.uid("FETCH", str(uid), parts)
        if status != "OK":
            raise MailboxError(f"IMAP FETCH of message {uid} failed")
        for item in data or ():
            if isinstance(item, tuple):
                return item[0], item[1]
            if isinstance(item, bytes) and b"INTERNALDATE" in item:
                return item, b""
        return None


def _internaldate(text: bytes) -> dt.datetime:
    """``"17-Jul-1996 02:44:25 -0700"`` as an aware moment in Asia/Shanghai."""
    moment = dt.datetime.strptime(text.decode("ascii"), "%d-%b-%Y %H:%M:%S %z")
    return moment.astimezone(TZ)
