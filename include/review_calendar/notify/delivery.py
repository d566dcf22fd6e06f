"""Delivering the outbox: each queued message once, paced, an outage losing nothing.

:func:`deliver` sends what is queued (or failed before), oldest first, through
a ``send`` callable (one SMTP connection for the batch:
:func:`review_calendar.notify.smtp.smtp_sender`, or the Airflow provider's
``SmtpHook``).

Exactly once, and the one window left. No transaction stays open while the
SMTP server is talked to (on SQLite that would hold the database's write lock
for the length of a send, and a concurrent ingest would fail with "database is
locked"). Each message goes through three steps:

1. claim: a short transaction takes a *sending lease* on the row, a conditional
   ``UPDATE ... SET lease_owner, lease_until WHERE status IN ('queued',
   'failed', 'partial') AND (no lease OR lease expired) RETURNING ...``, and
   commits, just before the send; a concurrent delivery finds the lease and
   skips the message. Only the message about to be sent is ever leased: a
   delivery that dies holds no other message back;
2. send: the message is handed to the server, with no transaction open;
3. mark: the outcome (``sent``, or each recipient's refusal, or the error) is
   recorded and the lease released in a later short transaction, together with
   the outcomes of the messages sent after it (:mod:`.leases`): every
   :data:`~review_calendar.notify.leases.MARK_EVERY` messages, before a send
   that starts once the oldest outcome waiting is
   :data:`~review_calendar.notify.leases.MARK_SECONDS` old or that the pacing
   holds back, and whenever the batch ends, on an exception too.

If the process dies after the server accepted a message but before its mark
commits, the row keeps its pending status and its lease; once the lease has
expired (:data:`LEASE`, far longer than any send), the next run sends it again.
Dying loses the marks not yet committed, so up to ``MARK_EVERY`` messages (about
a second's worth) can be repeated that way. SMTP offers no two-phase commit, so
that window cannot be closed; the repeat carries the same ``Message-ID``
(derived from the natural key), so mail systems and clients that deduplicate
by Message-ID show it once. A re-run after a completed batch sends nothing.
By default the marks are committed without waiting for the disk flush
(``deliver(fast_commit=True)``): an application crash still loses nothing, but
a power loss or a database-server crash may forget the last marks, which then
repeat the same way, with the same Message-ID.

Refused recipients: the server's answer is recorded per recipient
(:mod:`review_calendar.notify.refusals`); a message accepted for some
recipients and refused for others is ``partial``, and the next run sends it,
with the same Message-ID, to the refused ones only, up to
:data:`~review_calendar.notify.refusals.TRIES` tries; recipients still refused
then are given up (status ``refused``) and listed in the report's
``given_up`` for the operators.

An SMTP outage loses nothing: the batch stops at the first connection error,
the message that met it records the attempt and the error, the rest stay
queued untouched, and the report says ``server_unreachable`` so the calling
task can fail visibly after the state is saved. Other errors (a missing
attachment, a message the server refuses) mark that message ``failed`` with
the reason and the batch goes on; failed messages are retried by the next delivery.

Errors are masked by :func:`review_calendar.domain.privacy.mask_text` before
they are stored, logged or reported.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.domain.privacy import mask_text
from review_calendar.notify import refusals
from review_calendar.notify.leases import Leases
from review_calendar.notify.message import MessageError, build_message
from review_calendar.notify.outbox import PENDING, pending_count
from review_calendar.notify.recipients import InvalidAddress, Mailbox, mailbox
from review_calendar.notify.render import one_line
from review_calendar.store.db import get_engine
from review_calendar.store.tables.mail import OutboxMessage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from email.message import EmailMessage

    from sqlalchemy import Connection

log = logging.getLogger(__name__)

#: How long a claimed message stays reserved for the delivery that claimed it. Far longer than
#: one send (SMTP timeouts are seconds); only a delivery that died mid-send leaves one to expire.
LEASE = dt.timedelta(minutes=15)


def lease_owner() -> str:
    """A name for this delivery batch: host, process and a random part (at most 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SmtpUnavailable(RuntimeError):
    """The SMTP server could not be reached; unsent messages stay queued for the next run."""


@dataclass
class DeliveryReport:
    """The outcome of one delivery batch (counts and masked errors only).

    Attributes:
        attempted: Messages claimed and tried.
        sent: Accepted by the server and marked sent.
        failed: Marked failed (refused, unreadable attachment...); retried next time.
        skipped: Already handled by a concurrent delivery.
        remaining: Messages still queued or failed after the batch.
        seconds: Duration of the batch.
        server_unreachable: The batch stopped because the server could not be reached.
        error: The connection error (masked) when it did.
        failures: ``{"id", "kind", "region_code", "error"}`` per failed message.
        partial: Accepted for some recipients; the refused ones are retried next time.
        given_up: Messages whose refused recipients had their last try
            (:func:`review_calendar.notify.refusals.given_up` entries, masked): for the operators.
    """

    attempted: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    remaining: int = 0
    seconds: float = 0.0
    server_unreachable: bool = False
    error: str = ""
    failures: list[dict[str, Any]] = field(default_factory=list)
    partial: int = 0
    given_up: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Messages sent per second."""
        return self.sent / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for XCom and ``--json``)."""
        return {**asdict(self), "seconds": round(self.seconds, 3)}

    def raise_for_outage(self) -> None:
        """Raise when the batch stopped on an unreachable server (after the state was saved).

        Raises:
            SmtpUnavailable: ``server_unreachable`` is set.
        """
        if self.server_unreachable:
            raise SmtpUnavailable(
                f"SMTP 服务器无法连接，{self.remaining} 封邮件仍在发件箱中等待下次发送：{self.error}"
            )


def describe_error(exc: BaseException) -> str:
    """A short, masked description of a sending error (no addresses, no phones).

    Args:
        exc: The error ``send`` raised.

    Returns:
        At most 500 characters on one line.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
        text = f"SMTPRecipientsRefused: {len(exc.recipients)} 个收件人被拒收（{'/'.join(codes)}）"
    elif isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        text = f"{type(exc).__name__}: {exc.smtp_code} {reply}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return mask_text(one_line(text))[:500]


def deliver(
    url: str,
    send: Callable[[EmailMessage], Any],
    *,
    sender: str | None = None,
    sender_name: str | None = None,
    limit: int | None = None,
    rate_per_second: float | None = None,
    programme_id: str | None = None,
    fast_commit: bool = True,
    lease: dt.timedelta = LEASE,
    reply_to: str | None = None,
) -> DeliveryReport:
    """Send every queued or failed message, oldest first, each under its own sending lease.

    Per message: claim the row (a sending lease, committed), build the message,
    hand it to the server with no transaction open, then mark it sent (or
    partial, failed, refused, with the reason); the marks of up to 100 messages
    (or a second's worth) are committed in one short transaction (module docstring).

    ``fast_commit`` lets those commits return before the database has flushed
    them to disk (SQLite ``synchronous=NORMAL`` in WAL mode for this batch's
    connection; PostgreSQL ``synchronous_commit=off`` for these transactions).
    The database stays consistent and an application crash loses nothing; only
    a power loss or a crash of the database server may forget the last "sent"
    marks, and those messages go out again with the same Message-ID. It spares
    each claim a disk flush (one per message otherwise).

    Args:
        url: Review database URL.
        send: Hands one message to the SMTP server (one connection for the batch);
            may return ``smtplib``'s dict of refused recipients.
        sender: From address for every message; None: each programme's ``office.sender``.
        sender_name: From display name; None: the programme's division.
        limit: Try at most this many messages.
        rate_per_second: At most this many messages per second (None: no limit).
        programme_id: Only this programme's messages (None: all).
        fast_commit: Do not wait for the disk flush of each "sent" mark (see above).
        lease: How long a claim reserves a message (:data:`LEASE`).
        reply_to: Reply-To of notices and reminders (default: the submissions mailbox,
            ``REVIEW_CALENDAR_SUBMISSIONS_ADDRESS``; none when it is not set).

    Returns:
        Counts; ``server_unreachable`` when the batch stopped on a connection
        error (call :meth:`DeliveryReport.raise_for_outage` to fail the task).

    Raises:
        InvalidAddress: ``sender`` is not a plain addr-spec.
    """
    from review_calendar.settings import get_settings

    batch = _Batch(send, _Senders(sender, sender_name), _Pace(rate_per_second), DeliveryReport(), lease)
    batch.reply_to = reply_to if reply_to is not None else get_settings().submissions_address
    started = time.monotonic()
    with get_engine(url).connect() as conn:
        pending = _pending_rows(conn, programme_id, limit)
        with _commit_mode(conn, fast_commit) as setup:
            batch.leases = Leases(conn, batch.owner, lease, setup)
            try:
                for row in pending:
                    if not batch.deliver_one(conn, row):
                        break
            finally:
                batch.leases.flush()  # what was sent is recorded, whatever stopped the batch
    report = batch.report
    report.remaining = pending_count(url, programme_id)
    report.seconds = time.monotonic() - started
    _log_report(report)
    return report


def _pending_rows(conn: Connection, programme_id: str | None, limit: int | None) -> list[Any]:
    """The rows waiting for delivery, oldest first (read, then the read transaction ended)."""
    table = OutboxMessage.__table__
    stmt = select(table).where(table.c.status.in_(PENDING)).order_by(table.c.created_on, table.c.id)
    if programme_id is not None:
        stmt = stmt.where(table.c.programme_id == programme_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(conn.execute(stmt))
    conn.rollback()
    return rows


def _log_report(report: DeliveryReport) -> None:
    """One summary line per batch (counts only, no addresses)."""
    log.info(
        "Outbox delivery: %d sent, %d failed, %d skipped, %d still waiting, %.1f s%s",
        report.sent,
        report.failed,
        report.skipped,
        report.remaining,
        report.seconds,
        " (stopped: SMTP server unreachable)" if report.server_unreachable else "",
    )


def _is_connection_error(exc: Exception) -> bool:
    """Whether nothing more can be sent on this connection (the batch stops) rather than this one message."""
    if isinstance(
        exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | smtplib.SMTPAuthenticationError
    ):
        return True
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return True  # e.g. STARTTLS required by the settings but not offered: nothing can be sent
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # "service not available, closing transmission channel"
    if isinstance(exc, smtplib.SMTPException):
        return False
    return isinstance(exc, OSError)  # refused, reset, timeout, unknown host


class _Senders:
    """The From mailbox of each programme (fixed, or the programme's ``office.sender``)."""

    def __init__(self, sender: str | None, sender_name: str | None) -> None:
        self.fixed: Mailbox | None = None
        if sender is not None:
            box = mailbox(sender_name or "", sender)
            if box is None:
                raise InvalidAddress("sender is not a plain addr-spec")
            self.fixed = box
        self.name = sender_name
        self.cache: dict[str, Mailbox | None] = {}

    def __call__(self, programme_id: str) -> Mailbox:
        """The From mailbox of a programme's messages.

        Raises:
            MessageError: The programme's file cannot be loaded.
        """
        if self.fixed is not None:
            return self.fixed
        if programme_id not in self.cache:
            from review_calendar.domain.programmes import ProgrammeError, load_programme

            try:
                office = load_programme(programme_id).office
                self.cache[programme_id] = mailbox(self.name or office.division, office.sender)
            except ProgrammeError:
                self.cache[programme_id] = None
        box = self.cache[programme_id]
        if box is None:
            raise MessageError(f"找不到项目 {programme_id} 的配置，无法确定发件人")
        return box


class _Pace:
    """Spaces the sends to at most ``rate`` per second."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_slot = time.monotonic()

    def would_wait(self) -> bool:
        """Whether the next send has to wait."""
        return bool(self.interval) and time.monotonic() < self.next_slot

    def wait(self) -> None:
        """Sleep until the next send is allowed."""
        if not self.interval:
            return
        now = time.monotonic()
        if now < self.next_slot:
            time.sleep(self.next_slot - now)
        self.next_slot = max(now, self.next_slot) + self.interval


@dataclass
class _Batch:
    """One delivery batch: the sender, the From mailboxes, the pacing, the lease and the running report."""

    send: Callable[[EmailMessage], Any]
    senders: _Senders
    pace: _Pace
    report: DeliveryReport
    lease: dt.timedelta = LEASE
    owner: str = field(default_factory=lease_owner)
    reply_to: str | None = None
    leases: Leases | None = None

    def _mark(self, conn: Connection, row: Any, **values: Any) -> None:
        """Queue the outcome; it is recorded, and the lease released, with the next few (:mod:`.leases`)."""
        assert self.leases is not None
        self.leases.mark(row.id, **values)

    def deliver_one(self, conn: Connection, pending: Any) -> bool:
        """Claim, send and mark one message (no transaction open while sending); False stops the batch."""
        assert self.leases is not None
        row = self.leases.claim(pending.id)
        if row is None:
            self.report.skipped += 1
            return True
        self.report.attempted += 1
        try:
            msg = build_message(row, self.senders(row.programme_id), self.reply_to)
        except MessageError as exc:
            return self._fail(conn, row, mask_text(str(exc)))
        envelope = refusals.to_try(row.recipients, msg.envelope_to)
        if not envelope:  # nobody left to try (an earlier try gave the rest up)
            self._record(conn, row, [], {})
            return True
        msg.envelope_to = tuple(envelope)
        if self.leases.due() or self.pace.would_wait():
            self.leases.flush()  # outcomes waiting for a second, or a pause to use
        self.pace.wait()
        try:
            refused = self.send(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except Exception as exc:
            error = describe_error(exc)
            if not _is_connection_error(exc):
                return self._fail(conn, row, error)
            # The row keeps its status (queued or failed) with the error; the rest stay untouched.
            self._mark(conn, row, last_error=error)
            self.report.server_unreachable, self.report.error = True, error
            log.error("SMTP server unreachable, batch stopped: %s", error)
            return False
        self._record(conn, row, envelope, refused if isinstance(refused, dict) else {})
        return True

    def _record(self, conn: Connection, row: Any, envelope: list[str], refused: dict[str, Any]) -> None:
        """Mark the message after the server answered: each recipient's outcome, then its status."""
        outcomes = refusals.record(row.recipients, envelope, refused)
        status, note = refusals.status(outcomes), refusals.note(outcomes)
        values: dict[str, Any] = {"status": status, "last_error": note, "recipients": outcomes}
        if len(refused) < len(envelope):  # someone got it now
            values["sent_at"] = dt.datetime.now(dt.UTC)  # kept when set before (:meth:`.Leases.mark`)
        self._mark(conn, row, **values)
        if status == "sent":
            self.report.sent += 1
        elif status == "partial":
            self.report.partial += 1
            log.warning("Outbox message %d (%s) partly refused: %s", row.id, row.kind, note)
        elif status == "failed":
            self._report_failure(row, note)
        else:
            self.report.given_up.append(refusals.given_up(row, outcomes))
            log.error("Outbox message %d (%s): recipients given up: %s", row.id, row.kind, note)

    def _fail(self, conn: Connection, row: Any, error: str) -> bool:
        """Mark the message failed with its (masked) reason; the batch goes on."""
        self._mark(conn, row, status="failed", last_error=error)
        self._report_failure(row, error)
        return True

    def _report_failure(self, row: Any, error: str) -> None:
        self.report.failed += 1
        self.report.failures.append(
            {"id": row.id, "kind": row.kind, "region_code": row.region_code, "error": error}
        )
        log.warning("Outbox message %d (%s) not sent: %s", row.id, row.kind, error)


@contextmanager
def _commit_mode(conn: Connection, fast: bool) -> Iterator[str]:
    """Relax the disk flush of the batch's commits (see :func:`deliver`); restore it afterwards.

    Yields:
        The statement to run at the start of each transaction ("" for none).
    """
    dialect = conn.dialect.name
    if not fast or dialect not in ("sqlite", "postgresql"):
        yield ""
        return
    if dialect == "postgresql":
        yield "SET LOCAL synchronous_commit TO OFF"  # this transaction only
        return
    # SQLite: connection-wide, so only in WAL mode (where NORMAL never corrupts) and restored after.
    journal = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower()
    previous = int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 2)
    conn.commit()
    if journal != "wal" or previous <= 1:
        yield ""
        return
    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    conn.commit()
    try:
        yield ""
    finally:
        conn.rollback()
        conn.exec_driver_sql(f"PRAGMA synchronous={previous}")
        conn.commit()
