"""The ledger of the submissions mailbox: each message taken in once, each attachment accounted for.

A message is known by its mailbox, UIDVALIDITY and UID (its identity on the
server) and by its Message-ID (the same message delivered twice, or seen again
after the server renumbered the folder). :func:`claim_message` decides what a
run does with a message it finds; :func:`finish_message` records its
attachments (:class:`~review_calendar.store.models.MailItem`) and marks it
``done`` in one transaction. What an attachment became in intake is recorded
by intake's own transactions (submissions, receipts, the outbox), so a crash
between the two is repaired by taking the message again: what was stored is
found again by its content, nothing is stored or answered twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from review_calendar.store.tables.mail import MailItem, MailMessage, OutboxMessage

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlalchemy.orm import Session

__all__ = [
    "MessageIdentity",
    "claim_message",
    "finish_message",
    "held_items",
    "outbox_rows_by_digest",
    "release_item",
]


@dataclass(frozen=True)
class MessageIdentity:
    """A mailed message as the ledger and the failure records know it.

    Attributes:
        mailbox: The folder it was found in.
        uidvalidity: The folder's UIDVALIDITY when it was found.
        uid: Its UID in that folder.
        message_id: Its Message-ID ("" when it has none or its headers cannot be read).
        sender: Its From address ("" when unknown).
        subject: Its subject ("" when unknown).
        received_at: The server's receipt time (INTERNALDATE), aware.
    """

    mailbox: str
    uidvalidity: int
    uid: int
    message_id: str
    sender: str
    subject: str
    received_at: dt.datetime

    def columns(self) -> dict[str, Any]:
        """The column values of a row that records it (cut to the columns' lengths; UTC)."""
        return {
            "mailbox": self.mailbox, "uidvalidity": self.uidvalidity, "uid": self.uid,
            "message_id": self.message_id[:500], "sender": self.sender[:320], "subject": self.subject,
            "received_at": self.received_at.astimezone(dt.UTC),
        }  # fmt: skip


def claim_message(session: Session, message: MessageIdentity) -> tuple[MailMessage, str]:
    """The ledger row of a message and what to do with it.

    Returns:
        The row and ``take`` (new, or a crashed run's: take it in), ``move`` (done
        already: only move it to the processed folder) or ``repeat`` (another
        message with the same Message-ID was taken in: recorded as done, not
        taken again).
    """
    row = session.scalar(
        select(MailMessage).where(
            MailMessage.mailbox == message.mailbox,
            MailMessage.uidvalidity == message.uidvalidity,
            MailMessage.uid == message.uid,
        )
    )
    if row is not None:
        return row, "move" if row.status == "done" else "take"
    earlier = None
    if message.message_id:
        earlier = session.scalar(
            select(MailMessage)
            .where(MailMessage.message_id == message.message_id, MailMessage.status == "done")
            .order_by(MailMessage.id)
            .limit(1)
        )
    row = MailMessage(
        **message.columns(),
        status="done" if earlier is not None else "taking",
        summary={"repeat_of": earlier.id} if earlier is not None else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row, "repeat" if earlier is not None else "take"


def finish_message(
    session: Session, mail_id: int, items: Sequence[dict[str, Any]], summary: dict[str, Any]
) -> None:
    """Record a message's attachments (replacing a crashed run's) and mark it done."""
    session.execute(delete(MailItem).where(MailItem.mail_id == mail_id))
    for item in items:
        session.add(MailItem(mail_id=mail_id, **item))
    row = session.get(MailMessage, mail_id)
    assert row is not None
    row.status = "done"
    row.summary = summary


def held_items(session: Session, *, status: Iterable[str] = ("held", "quarantined")) -> list[dict[str, Any]]:
    """Attachments waiting for an operator (held) or kept aside (quarantined), with their message's metadata."""
    rows = session.execute(
        select(MailItem, MailMessage)
        .join(MailMessage, MailMessage.id == MailItem.mail_id)
        .where(MailItem.status.in_(list(status)))
        .order_by(MailMessage.received_at, MailItem.position)
    )
    return [
        {
            "item_id": item.id,
            "status": item.status,
            "name": item.name,
            "reason": item.reason,
            "stored_path": item.stored_path,
            "sha256": item.sha256,
            "size": item.size_bytes,
            "instance_key": item.instance_key,
            "region_code": item.region_code,
            "mail_id": mail.id,
            "message_id": mail.message_id,
            "sender": mail.sender,
            "subject": mail.subject,
            "received_at": mail.received_at,
        }
        for item, mail in rows
    ]


def release_item(session: Session, item_id: int, outcome: dict[str, Any]) -> None:
    """Mark a held attachment as dealt with by an operator (it stays in the ledger)."""
    item = session.get(MailItem, item_id)
    if item is not None:
        item.status = "released"
        item.outcome = outcome


def outbox_rows_by_digest(session: Session, digests: Iterable[str]) -> list[OutboxMessage]:
    """Our sent messages whose Message-ID carries one of these natural-key digests (newest first).

    A Message-ID of ours is ``<rc.<first 40 hex of SHA-256(natural key)>@domain>``.
    """
    wanted = {d.lower() for d in digests}
    if not wanted:
        return []
    found = []
    for row in session.scalars(
        select(OutboxMessage).where(OutboxMessage.region_code.is_not(None)).order_by(OutboxMessage.id.desc())
    ):
        if hashlib.sha256(row.natural_key.encode()).hexdigest()[:40] in wanted:
            found.append(row)
    return found
