"""Mail intake's messages that keep failing: counted, given up after three attempts, retried on request.

:func:`review_calendar.tasks.mail.fetch_mail` asks :func:`parked` before
taking a message (a given-up message is left in the folder, untouched),
:func:`failed` when taking it raised (the attempt is counted; at the third the
operators get one e-mail naming the message and the command that tries it
again), and :func:`succeeded` after it was taken in. The counts are kept in
:mod:`review_calendar.store.mail_failures`.
"""

from __future__ import annotations

import email
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from review_calendar.intake.mailbox import Fetched
    from review_calendar.settings import Settings
    from review_calendar.store.mail import MessageIdentity

__all__ = ["failed", "failed_list", "parked", "retry_message", "succeeded"]

log = logging.getLogger(__name__)


def parked(settings: Settings, mailbox: str, fetched: Fetched) -> dict[str, Any] | None:
    """The run's summary of a message given up before (left in the folder), or None to take it."""
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail_failures import failure_of

    with session_scope(settings.db_url) as session:
        row = failure_of(session, mailbox, fetched.uidvalidity, fetched.uid)
        if row is None or row.status != "failed":
            return None
        failure_id = row.id
    return {"uid": fetched.uid, "action": "parked", "failure_id": failure_id, "items": [],
            "received_at": fetched.received_at.isoformat(), "counts": {"parked": 1}}  # fmt: skip


def failed(settings: Settings, mailbox: str, fetched: Fetched, exc: BaseException) -> dict[str, Any]:
    """Count a failed attempt at a message; at the last one alert the operators once. The run's summary."""
    from review_calendar.domain.privacy import mask_text
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail_failures import MAX_ATTEMPTS, record_failure

    error = f"{type(exc).__name__}: {mask_text(str(exc))[:300]}"
    with session_scope(settings.db_url) as session:
        row, given_up = record_failure(session, _identity(mailbox, fetched), error)
        if given_up and settings.operators:
            _alert(session, settings, row)
        failure_id, attempts = row.id, row.attempts
    if given_up:
        log.error("Mail intake: message UID %s failed %d times; no longer tried (failure %d)",
                  fetched.uid, attempts, failure_id)  # fmt: skip
    return {"uid": fetched.uid, "action": "failed", "error": type(exc).__name__, "items": [],
            "attempts": attempts, "given_up": attempts >= MAX_ATTEMPTS, "failure_id": failure_id,
            "received_at": fetched.received_at.isoformat(), "counts": {"failed": 1}}  # fmt: skip


def succeeded(settings: Settings, mailbox: str, fetched: Fetched) -> None:
    """A message taken in: if it had failed before, its record says it was taken in at last."""
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail_failures import clear_failure

    with session_scope(settings.db_url) as session:
        clear_failure(session, mailbox, fetched.uidvalidity, fetched.uid)


def retry_message(failure_id: int, settings: Settings | None = None) -> dict[str, Any]:
    """An operator asks for a given-up message to be tried again by the next run (a new round of attempts).

    Raises:
        LookupError: No given-up message with this number.
    """
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail_failures import retry_failure

    settings = settings or get_settings()
    with session_scope(settings.db_url) as session:
        row = retry_failure(session, failure_id)
        return {"failure_id": row.id, "uid": row.uid, "subject": row.subject, "rounds": row.rounds}


def failed_list(settings: Settings | None = None) -> list[dict[str, Any]]:
    """The messages given up, with what is known of them (sender unmasked: the caller masks it)."""
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail_failures import failed_messages
    from review_calendar.store.receipts import aware

    settings = settings or get_settings()
    with session_scope(settings.db_url) as session:
        return [
            {"failure_id": f.id, "status": "failed", "uid": f.uid, "message_id": f.message_id, "sender": f.sender,
             "subject": f.subject, "received_at": aware(f.received_at).isoformat(), "attempts": f.attempts,
             "error": f.error}
            for f in failed_messages(session)
        ]  # fmt: skip


def _alert(session: Any, settings: Settings, row: Any) -> None:
    """One e-mail to the operators about a message given up (once per round of attempts)."""
    from review_calendar.domain.calendar import TZ
    from review_calendar.domain.privacy import mask_email
    from review_calendar.notify.outbox import queue
    from review_calendar.store.receipts import aware
    from review_calendar.tasks.mail import ALERT_KIND

    arrived = aware(row.received_at).astimezone(TZ)
    body = "\n".join([
        f"提交邮箱 {arrived:%Y-%m-%d %H:%M:%S}（北京时间）收到的一封邮件连续 {row.attempts} 次处理失败，已停止重试：",
        "",
        f"- 发件人：{mask_email(row.sender) if row.sender else '（无法识别）'}",
        f"- 主题：{row.subject or '（无主题）'}",
        f"- 邮件在邮箱中的编号（UID）：{row.uid}，失败编号：{row.id}",
        f"- 错误：{row.error}",
        "",
        "邮件仍在提交邮箱中，未删除。排除原因后运行：",
        f"  review-calendar mail retry {row.id}",
        "下次接收（工作日每 10 分钟）时重新处理。审查日历首页的“提交邮箱待处理”也列出此邮件。",
    ])  # fmt: skip
    queue(
        session, kind=ALERT_KIND, programme_id="mail", instance_key=f"mail/failed/{row.id}", region_code=None,
        stage=f"mail_failed_{row.id}_{row.rounds}", to=list(settings.operators),
        subject="[审查日历] 提交邮箱有一封邮件连续处理失败，需人工处理", body=body, created_on=arrived.date(),
    )  # fmt: skip


def _identity(mailbox: str, fetched: Fetched) -> MessageIdentity:
    """The message's identity, with its Message-ID, sender and subject as far as its headers can be read."""
    from review_calendar.intake.mail_parts import parse_envelope
    from review_calendar.store.mail import MessageIdentity

    try:
        envelope = parse_envelope(email.message_from_bytes(fetched.raw))
        said = envelope.message_id, envelope.sender, envelope.subject
    except Exception:  # the headers themselves are what fails: the record keeps the server's identity
        said = "", "", ""
    return MessageIdentity(mailbox, fetched.uidvalidity, fetched.uid, *said, fetched.received_at)
