"""Messages of the submissions mailbox that could not be taken in: attempts counted, given up after three.

A message whose taking-in raises (an attachment that makes a component fail,
a bug) stays in the mailbox's folder and is tried again by the next run. Each
failed attempt is counted here, by the message's identity on the server
(mailbox, UIDVALIDITY, UID; the ledger row of :mod:`review_calendar.store.mail`
may not exist yet when the message cannot even be taken apart). After
:data:`MAX_ATTEMPTS` the message is ``failed``: left in the folder (never
deleted), no longer tried, the operators alerted once and the message listed
on the reviewers' pages, until an operator asks for it to be tried again
(``review-calendar mail retry``), which starts a new round of attempts.
"""

from __future__ import annotations

import datetime as dt  # noqa: TC003 (SQLAlchemy reads Mapped[dt.datetime] at run time)
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from review_calendar.store.tables.base import Base, utc_now

if TYPE_CHECKING:
    from review_calendar.store.mail import MessageIdentity

__all__ = [
    "MAX_ATTEMPTS",
    "MailFailure",
    "clear_failure",
    "failed_messages",
    "failure_of",
    "record_failure",
    "retry_failure",
]

#: Failed attempts after which a message is no longer tried.
MAX_ATTEMPTS = 3


class MailFailure(Base):
    """The failed attempts at one message of the submissions mailbox.

    ``status``: ``retrying`` (tried again by the next run), ``failed`` (given up
    after :data:`MAX_ATTEMPTS`; waits for an operator) or ``taken`` (a later
    attempt succeeded). ``rounds`` counts the operator's retries (1 at first).
    """

    __tablename__ = "mail_failures"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(500), default="")
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rounds: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="retrying")  # retrying, failed, taken
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


def failure_of(session: Session, mailbox: str, uidvalidity: int, uid: int) -> MailFailure | None:
    """The failure record of a message, if it ever failed."""
    return session.scalar(
        select(MailFailure).where(
            MailFailure.mailbox == mailbox, MailFailure.uidvalidity == uidvalidity, MailFailure.uid == uid
        )
    )


def record_failure(session: Session, message: MessageIdentity, error: str) -> tuple[MailFailure, bool]:
    """Count one failed attempt at a message (``error``: the exception's type and masked text).

    Returns:
        The record and whether this attempt gave the message up (it became ``failed`` now).
    """
    row = failure_of(session, message.mailbox, message.uidvalidity, message.uid)
    if row is None:
        row = MailFailure(**message.columns(), attempts=0, rounds=1)
        session.add(row)
    row.attempts += 1
    row.error, row.updated_at = error, utc_now()
    given_up = row.attempts >= MAX_ATTEMPTS and row.status != "failed"
    row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "retrying"
    session.flush()
    return row, given_up


def clear_failure(session: Session, mailbox: str, uidvalidity: int, uid: int) -> None:
    """A message that failed before was taken in: its record says so (kept as history)."""
    row = failure_of(session, mailbox, uidvalidity, uid)
    if row is not None and row.status != "taken":
        row.status, row.updated_at = "taken", utc_now()


def failed_messages(session: Session) -> list[MailFailure]:
    """The messages given up, waiting for an operator (oldest arrival first)."""
    return list(
        session.scalars(
            select(MailFailure).where(MailFailure.status == "failed").order_by(MailFailure.received_at)
        )
    )


def retry_failure(session: Session, failure_id: int) -> MailFailure:
    """An operator asks for a given-up message to be tried again: a new round of attempts.

    Raises:
        LookupError: No given-up message with this number.
    """
    row = session.get(MailFailure, failure_id)
    if row is None or row.status != "failed":
        raise LookupError(f"没有编号为 {failure_id} 的处理失败邮件")
    row.status, row.attempts, row.rounds, row.updated_at = "retrying", 0, row.rounds + 1, utc_now()
    return row
