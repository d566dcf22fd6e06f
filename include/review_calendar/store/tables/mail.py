"""Mail: the outbox of notices and the ledger of the submissions mailbox.

Part of :mod:`review_calendar.store.models`, which holds every table.
"""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from review_calendar.store.tables.base import Base, utc_now


class OutboxMessage(Base):
    """Every e-mail goes through this outbox, keyed by (instance, recipient, stage): sent once."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("natural_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    natural_key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(32))  # notice, reminder, rejection, decision, gap_report
    programme_id: Mapped[str] = mapped_column(String(64), index=True)
    instance_key: Mapped[str] = mapped_column(String(200), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    stage: Mapped[str] = mapped_column(String(32))
    to_addrs: Mapped[list[Any]] = mapped_column(JSON)
    cc_addrs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_on: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Each recipient's outcome, ``{addr: {"state": "accepted"|"refused", "code": int, "tries": int}}``
    # (None until the first try); refused recipients are retried alone (notify.refusals).
    recipients: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The sending lease: who claimed the message and until when (notify.delivery).
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # An answer to a submission e-mail: ``{"in_reply_to": "<…>", "references": ["<…>", …]}`` (None: none).
    thread: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class MailMessage(Base):
    """A message of the submissions mailbox, taken in once: by its UIDVALIDITY and UID, and its Message-ID.

    ``status``: ``taking`` (claimed, its attachments being taken in; a crash leaves it so and the
    next run takes it again, duplicates recognised by content) or ``done`` (answered; what is
    left is moving it to the processed folder).
    """

    __tablename__ = "mail_messages"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(500), index=True, default="")
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="taking")  # taking, done
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class MailItem(Base):
    """One attachment of a submission e-mail: taken in, held for an operator, quarantined or skipped."""

    __tablename__ = "mail_items"
    __table_args__ = (UniqueConstraint("mail_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_path: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # taken, held, quarantined, skipped, released
    reason: Mapped[str] = mapped_column(Text, default="")
    instance_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
