"""The outbox ledger: every e-mail is queued once under a natural key.

Planning and delivery are separate steps:

1. :mod:`.reminders` (the day's notices, reminders and gap reports) and
   :mod:`.notices` (rejections, decisions) render messages and :func:`queue`
   them in the ``outbox`` table under ``natural_key = kind|instance|region|stage|sorted
   To addresses``, with insert-or-ignore. A retry, a cleared task, a re-run or a
   back-fill of the same day queues nothing new; "today" is always the
   caller's ``as_of``.
2. :func:`review_calendar.notify.delivery.deliver` sends what is queued (or
   failed before), oldest first, exactly once per message where SMTP allows it.

No address or phone number is ever logged.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from review_calendar.domain.labels import MESSAGE_KINDS
from review_calendar.notify.recipients import InvalidAddress, Mailbox, mailbox
from review_calendar.notify.render import one_line
from review_calendar.store.db import get_engine, insert_ignore
from review_calendar.store.tables.mail import OutboxMessage

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Sequence
    from pathlib import Path

    from sqlalchemy.orm import Session

#: Kinds of outgoing messages (their labels are :data:`~review_calendar.domain.labels.MESSAGE_KINDS`).
KINDS = tuple(MESSAGE_KINDS)
#: Statuses of messages that wait for delivery (a failed message is retried; a partial one is
#: retried for its refused recipients only, see :mod:`.refusals`).
PENDING = ("queued", "failed", "partial")
NATURAL_KEY_MAX = 400  # length of outbox.natural_key


@dataclass(frozen=True)
class MailAnswer:
    """The e-mail the files being taken in came with: their 回执 and rejections answer it.

    Attributes:
        thread: ``in_reply_to`` (its Message-ID) and ``references``.
        cc: The sender, copied when the answer goes to another contact of the region.
        rejection_attachments: Attached to a rejection besides its own (the template, again).
    """

    thread: dict[str, Any]
    cc: tuple[Mailbox, ...] = ()
    rejection_attachments: tuple[str, ...] = ()


#: Set by mail intake while it takes a message's files in (:func:`answering`).
_ANSWERING: ContextVar[MailAnswer | None] = ContextVar("answering", default=None)


@contextmanager
def answering(answer: MailAnswer | None) -> Iterator[None]:
    """Within the block, a 回执 or rejection queued goes in ``answer``'s thread (in its own transaction)."""
    token = _ANSWERING.set(answer)
    try:
        yield
    finally:
        _ANSWERING.reset(token)


def natural_key(kind: str, instance_key: str, region_code: str | None, stage: str, to: Iterable[str]) -> str:
    """The outbox key ``kind|instance|region|stage|sorted To addresses``.

    Args:
        kind: ``notice``, ``reminder``, ``rejection``, ``decision`` or ``gap_report``.
        instance_key: The obligation instance (``programme/year/obligation/period``).
        region_code: The region the message is about (None for none).
        stage: The reminder stage or the notice's own stage name.
        to: The To addresses.

    Returns:
        The key; when longer than the column (many recipients) the address part
        is replaced by its SHA-256, which keeps it unique and stable.
    """
    head = f"{kind}|{instance_key}|{region_code or ''}|{stage}|"
    addresses = ",".join(sorted(a.lower() for a in to))
    key = head + addresses
    if len(key) > NATURAL_KEY_MAX:
        key = head + "sha256:" + hashlib.sha256(addresses.encode()).hexdigest()
    return key


def message_id(key: str, domain: str) -> str:
    """A Message-ID that is the same for every send of the message with this natural key.

    Args:
        key: The message's natural key.
        domain: The sender's domain (right of the ``@``).
    """
    return f"<rc.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _boxes(values: Iterable[Mailbox | str]) -> list[Mailbox]:
    """Mailboxes as given, bare addresses validated.

    Raises:
        InvalidAddress: A bare address is not a plain addr-spec.
    """
    out = []
    for v in values:
        box = v if isinstance(v, Mailbox) else mailbox("", v)
        if box is None:
            raise InvalidAddress("recipient address is not a plain addr-spec")
        out.append(box)
    return out


def queue(
    session: Session,
    *,
    kind: str,
    programme_id: str,
    instance_key: str,
    region_code: str | None,
    stage: str,
    to: Sequence[Mailbox | str],
    cc: Sequence[Mailbox | str] = (),
    subject: str,
    body: str,
    attachments: Sequence[str | Path] = (),
    created_on: dt.date,
    thread: dict[str, Any] | None = None,
) -> bool:
    """Queue one e-mail unless a message with the same natural key exists.

    Args:
        session: Open session (the caller's transaction).
        kind: One of :data:`KINDS`.
        programme_id: The programme.
        instance_key: The obligation instance key.
        region_code: The region the message is about.
        stage: Reminder stage (``before_7``, ``overdue_3``...) or the message's own stage.
        to: Recipients (:class:`Mailbox`, or bare addresses that are validated here).
        cc: Copies.
        subject: One-line subject (flattened again here).
        body: Plain-text body.
        attachments: Paths of files to attach when sending.
        created_on: The planning day (``as_of``), never the wall clock.
        thread: The e-mail it answers (``in_reply_to``, ``references``): sent in its thread.

    Returns:
        True when queued, False when the natural key was already in the outbox.

    Raises:
        InvalidAddress: A bare address is not a plain addr-spec.
        ValueError: Unknown kind, or no To recipient.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    to_boxes, cc_boxes = _boxes(to), _boxes(cc)
    if not to_boxes:
        raise ValueError("an e-mail needs at least one To recipient")
    answer = _ANSWERING.get()
    if answer is not None and thread is None and kind in ("receipt", "rejection"):
        thread = answer.thread
        known = {m.addr for m in [*to_boxes, *cc_boxes]}
        cc_boxes += [m for m in answer.cc if m.addr not in known]
        if kind == "rejection":
            attachments = [*attachments, *answer.rejection_attachments]
    row = {
        "natural_key": natural_key(kind, instance_key, region_code, stage, [m.addr for m in to_boxes]),
        "kind": kind,
        "programme_id": programme_id,
        "instance_key": instance_key,
        "region_code": region_code,
        "stage": stage,
        "to_addrs": [m.to_json() for m in to_boxes],
        "cc_addrs": [m.to_json() for m in cc_boxes],
        "subject": one_line(subject),
        "body": body,
        "attachments": [str(a) for a in attachments],
        "status": "queued",
        "attempts": 0,
        "last_error": "",
        "created_on": created_on,
        "thread": thread,
    }
    return insert_ignore(session, OutboxMessage, [row], ["natural_key"]) == 1


def pending_count(url: str, programme_id: str | None = None) -> int:
    """Messages queued or failed (waiting for delivery).

    Args:
        url: Review database URL.
        programme_id: Only this programme's messages (None: all).

    Returns:
        How many messages wait.
    """
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(PENDING))
    if programme_id is not None:
        stmt = stmt.where(OutboxMessage.programme_id == programme_id)
    with get_engine(url).connect() as conn:
        return int(conn.execute(stmt).scalar_one())
