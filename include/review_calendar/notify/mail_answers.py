"""Answers to a submission e-mail, in its thread.

Intake queues the 回执 of each accepted file and the rejection notice of each
rejected one in the file's own transaction, as for inbox files. For a file
that came by e-mail, mail intake takes it in within
:func:`~review_calendar.notify.outbox.answering`, so those answers are queued
in the county's thread (``In-Reply-To`` / ``References`` of its message), the
sender copied when the answer goes to another contact of the region, and the
template attached again to a rejection, in that same transaction: no delivery
can send them before. :func:`thread_answers` finds them afterwards (and threads
one queued without, should there be any). What no receipt or rejection answers (an
attachment held for an operator, quarantined, already received, a message
without attachments) is told to the sender in one reply
(:func:`queue_mail_reply`), in the same thread.

An answer already sent is left as it is (a re-run after a crash changes nothing).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.notify.outbox import queue
from review_calendar.notify.recipients import mailbox
from review_calendar.store.tables.intake import Receipt
from review_calendar.store.tables.mail import OutboxMessage

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from pathlib import Path

    from sqlalchemy.orm import Session

__all__ = ["queue_mail_reply", "thread_answers"]

log = logging.getLogger(__name__)


def thread_answers(
    session: Session,
    submissions: Sequence[Any],
    *,
    received_at: dt.datetime,
    thread: dict[str, Any],
    sender: str,
    templates: dict[int, Path | None],
) -> set[int]:
    """Put the queued 回执 and rejection notices of these submissions in the e-mail's thread.

    Args:
        session: Open session.
        submissions: The submissions the e-mail's attachments became (ORM rows).
        received_at: The e-mail's arrival (the receipt of this e-mail, not an earlier one).
        thread: ``in_reply_to`` (the county's Message-ID) and ``references``.
        sender: The county's address (copied when the answer goes to another contact).
        templates: The template of each submission's instance, attached again to a rejection.

    Returns:
        The ids of the submissions that have an answer (queued or sent).
    """
    from review_calendar.store.receipts import aware

    answered = set()
    box = mailbox("", sender) if sender else None
    for sub in submissions:
        stages = [f"file_{sub.id}"] if sub.status == "rejected" else []
        for receipt in session.scalars(select(Receipt).where(Receipt.submission_id == sub.id)):
            if aware(receipt.received_at) == received_at:
                stages.append(f"receipt_{receipt.id}")
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.instance_key == _key(sub),
                OutboxMessage.region_code == sub.region_code,
                OutboxMessage.kind.in_(("receipt", "rejection")),
                OutboxMessage.stage.in_(stages),
            )
        ).all()
        for row in rows:
            answered.add(sub.id)
            if row.status != "queued" or row.thread:
                continue  # sent already, or threaded by an earlier run
            row.thread = dict(thread)
            if box is not None and box.addr not in {a.get("addr") for a in [*row.to_addrs, *row.cc_addrs]}:
                row.cc_addrs = [*row.cc_addrs, box.to_json()]
            template = templates.get(sub.id)
            if row.kind == "rejection" and template is not None and str(template) not in row.attachments:
                row.attachments = [*row.attachments, str(template)]
    return answered


def queue_mail_reply(
    session: Session,
    *,
    mail_id: int,
    programme_id: str,
    sender: str,
    subject: str,
    lines: Sequence[str],
    thread: dict[str, Any],
    created_on: dt.date,
    authority: str = "",
) -> bool:
    """Tell the sender what became of the attachments no 回执 or rejection answers, once per e-mail.

    Returns:
        True when queued; False when already queued or the sender's address cannot be used.
    """
    box = mailbox("", sender) if sender else None
    if box is None:
        log.warning("Mail %d: the sender's address cannot be answered", mail_id)
        return False
    body = "\n".join(
        [
            "您好：",
            "",
            f"您发送的邮件“{subject or '（无主题）'}”已收到，处理情况如下：",
            "",
            *(f"- {line}" for line in lines),
            "",
            "需人工核对的附件由省厅工作人员核对后另行答复，无需重复发送。",
            "报送请使用下发的模板，并直接回复催报或通知邮件，将填好的模板作为附件发送。",
            "",
            authority,
            "（本邮件由产业集群审查日历系统自动发送。）",
        ]
    ).rstrip()
    return queue(
        session, kind="mail_reply", programme_id=programme_id, instance_key=f"mail/{mail_id}",
        region_code=None, stage=f"mail_{mail_id}", to=[box], subject=f"回复：{subject or '报送邮件'}"[:200],
        body=body, created_on=created_on, thread=thread,
    )  # fmt: skip


def _key(sub: Any) -> str:
    return f"{sub.programme_id}/{sub.cycle_year}/{sub.obligation_id}/{sub.period}"
