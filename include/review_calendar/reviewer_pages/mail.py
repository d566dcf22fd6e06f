"""What waits for an operator in the submissions mailbox, for the reviewers' pages.

Attachments held for an operator (no obligation or region found, or a sender
without standing for the regions in it), quarantined attachments, and messages
given up after three failed attempts, each with the mail server's arrival
time, the sender masked by :mod:`review_calendar.domain.privacy`'s one rule,
the subject, the attachment's name, the reason in Chinese and what an
operator does next (the ``review-calendar mail`` command as it is typed).
No stored path and no full address reach the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.domain.calendar import TZ
from review_calendar.domain.labels import MAIL_WAITING_ACTIONS, MAIL_WAITING_STATES
from review_calendar.domain.privacy import mask_email, mask_text
from review_calendar.store.mail_failures import failed_messages
from review_calendar.store.tables.mail import MailItem, MailMessage

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["WaitingMail", "waiting_count", "waiting_mail"]


@dataclass(frozen=True, slots=True)
class WaitingMail:
    """One attachment (or a whole message that failed) waiting for an operator.

    Attributes:
        number: The attachment's number in ``mail held`` (a failed message's failure number).
        status: ``held``, ``quarantined`` or ``failed``.
        status_label: The status in Chinese.
        received: The mail server's arrival time (北京时间).
        sender: The sender's address, masked.
        subject: The message's subject.
        name: The attachment's name ("" for a failed message).
        reason: Why it waits (Chinese).
        action: What an operator does next (Chinese).
        command: The command that does it ("" when there is none).
    """

    number: int
    status: str
    status_label: str
    received: str
    sender: str
    subject: str
    name: str
    reason: str
    action: str
    command: str


def waiting_mail(session: Session) -> list[WaitingMail]:
    """Held and quarantined attachments and given-up messages, oldest arrival first."""
    rows = session.execute(
        select(MailItem, MailMessage)
        .join(MailMessage, MailMessage.id == MailItem.mail_id)
        .where(MailItem.status.in_(("held", "quarantined")))
        .order_by(MailMessage.received_at, MailItem.mail_id, MailItem.position)
    )
    out = [
        (mail.received_at, _entry(item.id, item.status, mail.received_at, mail.sender, mail.subject, item.name,
                                  item.reason, _release(item) if item.status == "held" else ""))
        for item, mail in rows
    ]  # fmt: skip
    for f in failed_messages(session):
        reason = f"连续 {f.attempts} 次处理失败（{mask_text(f.error.partition(':')[0])}），已停止重试"
        command = f"review-calendar mail retry {f.id}"
        out.append(
            (f.received_at, _entry(f.id, "failed", f.received_at, f.sender, f.subject, "", reason, command))
        )
    out.sort(key=lambda e: _utc(e[0]))
    return [e for _, e in out]


def waiting_count(session: Session) -> int:
    """How many entries :func:`waiting_mail` lists (the landing page's count)."""
    return len(waiting_mail(session))


def _entry(number: int, status: str, received_at: dt.datetime, sender: str, subject: str, name: str, reason: str,
           command: str) -> WaitingMail:  # fmt: skip
    return WaitingMail(
        number=number, status=status, status_label=MAIL_WAITING_STATES[status], received=_arrival(received_at),
        sender=mask_email(sender) if sender else "（无法识别）", subject=subject or "（无主题）", name=name,
        reason=reason, action=MAIL_WAITING_ACTIONS[status], command=command,
    )  # fmt: skip


def _utc(at: dt.datetime) -> dt.datetime:
    """A stored time, aware (a naive time, as SQLite returns it, is UTC)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _arrival(at: dt.datetime) -> str:
    """The arrival to the second, 北京时间 (the receipt time intake records)."""
    return _utc(at).astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"


def _release(item: MailItem) -> str:
    """``review-calendar mail release`` for a held attachment, with what the ledger already knows filled in."""
    programme, year, obligation, period = "<项目>", "<年度>", "<报送事项>", ""
    parts = (item.instance_key or "").split("/")
    if len(parts) == 4:
        programme, year, obligation = parts[0], parts[1], parts[2]
        period = f" --period {parts[3]}" if parts[3] != "Y" else ""
    region = item.region_code or "<地区代码>"
    return (f"review-calendar mail release {item.id} --programme {programme} --year {year} "
            f"--obligation {obligation}{period} --region {region}")  # fmt: skip
