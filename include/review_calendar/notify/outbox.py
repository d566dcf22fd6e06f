"""The outbox: every e-mail is queued once under a natural key, then delivered once.

Planning and delivery are separate steps (STYLE.md points 11, 12):

1. :func:`plan_reminders` (and :func:`queue_rejection`, :func:`queue_decision`)
   render messages and :func:`queue` them in the ``outbox`` table under
   ``natural_key = kind|instance|region|stage|sorted To addresses``, with
   insert-or-ignore. A retry, a cleared task, a re-run or a back-fill of the
   same day queues nothing new; "today" is always the caller's ``as_of``.
2. :func:`deliver` sends what is queued (or failed before), oldest first, through
   a ``send`` callable (one SMTP connection for the batch: :mod:`.smtp`, or the
   Airflow provider's ``SmtpHook``).

Exactly once, and the one window left. Each message is delivered in its own
database transaction: a conditional ``UPDATE ... WHERE status IN ('queued',
'failed')`` claims the row (it holds the row lock on PostgreSQL and the write
lock on SQLite, so a concurrent delivery waits, then finds the row sent and
skips it), the message is handed to the server, the row is marked ``sent`` and
the transaction commits at once. If the process dies after the server accepted
the message but before the commit, the row is still queued and the next run
sends it again. SMTP offers no two-phase commit, so that window cannot be
closed; the repeat carries the same ``Message-ID`` (derived from the natural
key), so mail systems and clients that deduplicate by Message-ID show it once.
By default the "sent" marks are committed without waiting for the disk flush
(``deliver(fast_commit=True)``): an application crash still loses nothing, but
a power loss or a database-server crash may forget the last marks, which then
repeat the same way, with the same Message-ID.

An SMTP outage loses nothing: the batch stops at the first connection error,
the message that met it records the attempt and the error, the rest stay
queued untouched, and the report says ``server_unreachable`` so the calling
task can fail visibly after the state is saved. Other errors (a refused
recipient, a missing attachment) mark that message ``failed`` with the reason
and the batch goes on; failed messages are retried by the next delivery.

No address or phone number is ever logged; dry-run lines mask addresses.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import logging
import mimetypes
import smtplib
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from review_calendar.domain.programmes import instances_for_year
from review_calendar.notify.recipients import (
    ContactBook,
    ContactGap,
    InvalidAddress,
    Mailbox,
    Recipients,
    mailbox,
    mask_contacts,
    office_mailbox,
)
from review_calendar.notify.render import (
    MAX_LISTED_ERRORS,
    DecisionNotice,
    Problem,
    Rejection,
    Rendered,
    one_line,
    render_decision,
    render_gap_report,
    render_notice,
    render_rejection,
    render_reminder,
)
from review_calendar.notify.stages import Stage, reminder_stage
from review_calendar.store.db import get_engine, session_scope
from review_calendar.store.models import OutboxMessage, Submission, SubmissionError
from review_calendar.store.queries import accepted_regions, expected_submitters

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.queries import Submitter

log = logging.getLogger(__name__)

KINDS = ("notice", "reminder", "rejection", "decision", "gap_report")
KIND_LABELS = {
    "notice": "报送通知",
    "reminder": "催报提醒",
    "rejection": "退回通知",
    "decision": "结果通知",
    "gap_report": "联系人缺失报告",
}
PENDING = ("queued", "failed")
#: Submitters the contact list covers: cities and pilot counties (冀工信产业〔2016〕93号 七).
#: Evaluators and the province itself are not reminded by e-mail.
REMINDED_LEVELS = ("county", "city")
NATURAL_KEY_MAX = 400  # length of outbox.natural_key
TIMEZONE = ZoneInfo("Asia/Shanghai")


class MessageError(ValueError):
    """A queued message cannot be built (missing attachment, bad stored address, unknown sender)."""


class SmtpUnavailable(RuntimeError):
    """The SMTP server could not be reached; unsent messages stay queued for the next run."""


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
    """A Message-ID that is the same for every send of the message with this natural key."""
    return f"<rc.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _boxes(values: Iterable[Mailbox | str]) -> list[Mailbox]:
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
    }
    # INSERT ... ON CONFLICT DO NOTHING RETURNING id: a row back means it was new.
    # (rowcount is not reliable here: psycopg reports -1 for this statement.)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (
        insert(OutboxMessage.__table__)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["natural_key"])
        .returning(OutboxMessage.__table__.c.id)
    )
    return session.execute(stmt).first() is not None


@dataclass
class ReminderPlan:
    """What one planning run queued (or, in a dry run, would queue).

    Attributes:
        programme_id: The programme.
        cycle_year: The cycle.
        as_of: The planning day.
        dry_run: Nothing was written.
        instances: Open instances with something to say that day.
        queued: New messages.
        by_kind: New messages per kind.
        existing: Messages already in the outbox (a re-run).
        without_recipient: Regions that could not be reached at all.
        gaps: Contact gaps reported to the province.
        lines: One line per message: who (role, masked address), stage, subject.
    """

    programme_id: str
    cycle_year: int
    as_of: dt.date
    dry_run: bool = False
    instances: int = 0
    queued: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    existing: int = 0
    without_recipient: int = 0
    gaps: int = 0
    lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (masked lines, no addresses)."""
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data


def latest_rejections(session: Session, instance: ObligationInstance) -> dict[str, Rejection]:
    """The latest file of each region for ``instance``, where that file was rejected.

    Args:
        session: Open session.
        instance: The obligation instance.

    Returns:
        Rejections by region code, with their problems (errors before warnings).
    """
    rows = session.execute(
        select(
            Submission.id,
            Submission.region_code,
            Submission.status,
            Submission.file_name,
            Submission.received_on,
        )
        .where(
            Submission.programme_id == instance.programme_id,
            Submission.cycle_year == instance.cycle_year,
            Submission.obligation_id == instance.obligation_id,
            Submission.period == instance.period,
        )
        .order_by(Submission.received_on, Submission.id)
    )
    latest = {r.region_code: r for r in rows if r.region_code}
    rejected = {code: r for code, r in latest.items() if r.status == "rejected"}
    return {code: _rejection(session, r.id, r.file_name, r.received_on) for code, r in rejected.items()}


def _rejection(session: Session, submission_id: int, file_name: str, received_on: dt.date) -> Rejection:
    rows = list(
        session.scalars(
            select(SubmissionError)
            .where(SubmissionError.submission_id == submission_id)
            .order_by(SubmissionError.id)
        )
    )
    errors = [e for e in rows if e.severity == "error"] or rows
    problems = tuple(Problem(e.sheet, e.row, e.column, e.message) for e in errors[:MAX_LISTED_ERRORS])
    return Rejection(file_name, received_on, problems, len(errors))


def _lagging(
    session: Session, programme: Programme, instance: ObligationInstance
) -> dict[str, tuple[Submitter, list[str]]]:
    accepted = accepted_regions(session, instance)
    out: dict[str, tuple[Submitter, list[str]]] = {}
    for s in expected_submitters(session, programme, instance):
        if s.region_code in accepted:
            continue
        _, clusters = out.setdefault(s.region_code, (s, []))
        if s.cluster_name:
            clusters.append(s.cluster_name)
    return out


def _line(kind: str, stage: str, who: str, recipients: Recipients, subject: str, new: bool) -> str:
    to = "、".join(m.masked() for m in recipients.to)
    cc = f"；抄送 {'、'.join(m.masked() for m in recipients.cc)}" if recipients.cc else ""
    state = "新" if new else "已在发件箱"
    return f"[{state}] {KIND_LABELS[kind]} {stage} {who} → {to}{cc}：{subject}"


@dataclass
class _InstancePlanner:
    """Plans the messages of one open instance on one day (state shared by its regions)."""

    session: Session
    plan: ReminderPlan
    book: ContactBook
    programme: Programme
    instance: ObligationInstance
    as_of: dt.date
    attachments: list[str]
    opening_day: bool = False
    existing: set[str] = field(default_factory=set)

    def put(
        self, kind: str, stage: str, region_code: str | None, who: str, rec: Recipients, text: Rendered
    ) -> bool:
        key = natural_key(kind, self.instance.key, region_code, stage, [m.addr for m in rec.to])
        new = key not in self.existing
        if new and not self.plan.dry_run:
            new = queue(
                self.session,
                kind=kind,
                programme_id=self.programme.id,
                instance_key=self.instance.key,
                region_code=region_code,
                stage=stage,
                to=rec.to,
                cc=rec.cc,
                subject=text.subject,
                body=text.body,
                attachments=self.attachments if kind in ("notice", "reminder") else (),
                created_on=self.as_of,
            )
        if new:
            self.existing.add(key)
            self.plan.queued += 1
            self.plan.by_kind[kind] = self.plan.by_kind.get(kind, 0) + 1
        else:
            self.plan.existing += 1
        self.plan.lines.append(_line(kind, stage, who, rec, text.subject, new))
        return new

    def run(self, stage: Stage | None) -> None:
        lagging = _lagging(self.session, self.programme, self.instance)
        if not lagging:
            return
        outbox = OutboxMessage
        same = outbox.instance_key == self.instance.key
        self.existing = set(self.session.scalars(select(outbox.natural_key).where(same)))
        noticed_today = set(
            self.session.scalars(
                select(outbox.region_code).where(
                    same, outbox.kind == "notice", outbox.created_on == self.as_of
                )
            )
        )
        rejections = latest_rejections(self.session, self.instance)
        notice_open = self.as_of <= self.instance.effective_due
        escalation = stage.escalation if stage else "none"
        # Besides reminder days, only the window's first working day and days with
        # new notices count: otherwise every day of the window would repeat the gap report.
        active = stage is not None or self.opening_day
        gaps: dict[tuple[str, str], ContactGap] = {}
        unreachable: list[str] = []
        for code, (submitter, clusters) in sorted(lagging.items()):
            rec = self.book.resolve(submitter, escalation)
            for gap in rec.gaps:
                gaps.setdefault((gap.region_code, gap.action), gap)
            who = f"{submitter.region_name}（{code}）"
            if not rec.to:
                unreachable.append(f"[未发送] {who}：{self.book.gap_reason(code)}")
                continue
            region = {
                "region_name": submitter.region_name,
                "as_of": self.as_of,
                "clusters": clusters,
                "attachment_name": Path(self.attachments[0]).name if self.attachments else None,
                "via_city": self.book.region_name(submitter.city_code) if rec.via_city else None,
            }
            remind = stage is not None
            if notice_open:
                notice = render_notice(self.programme, self.instance, **region)
                noticed = self.put("notice", "open", code, who, Recipients(rec.to, (), rec.via_city), notice)
                active = active or noticed
                # The notice of the day already says how many days are left.
                if stage is not None and not stage.overdue and (noticed or code in noticed_today):
                    remind = False
            if remind and stage is not None:
                reminder = render_reminder(
                    self.programme,
                    self.instance,
                    stage,
                    city_name=self.book.region_name(submitter.city_code),
                    rejection=rejections.get(code),
                    **region,
                )
                self.put("reminder", stage.name, code, who, rec, reminder)
        if not active:
            return
        self.plan.without_recipient += len(unreachable)
        self.plan.lines.extend(unreachable)
        if gaps:
            self.plan.gaps += len(gaps)
            report = render_gap_report(self.programme, self.instance, list(gaps.values()), as_of=self.as_of)
            office = Recipients((office_mailbox(self.programme),))
            division = self.programme.office.division
            self.put(
                "gap_report",
                f"gap_{self.as_of.isoformat()}",
                self.programme.region_code,
                division,
                office,
                report,
            )


def plan_reminders(
    url: str,
    programme: Programme,
    cycle_year: int,
    as_of: dt.date,
    *,
    calendar: WorkingCalendar | None = None,
    dry_run: bool = False,
    template_for: Callable[[ObligationInstance], str | Path | None] | None = None,
) -> ReminderPlan:
    """Queue the day's window-opening notices, reminders and gap reports of one cycle.

    For every instance of the cycle whose window is open on ``as_of``
    (``opens_on <= as_of``) and whose submitters are cities or counties, and for
    every expected submitter without an accepted submission: a window-opening
    notice once while the window is open, a reminder when the schedule has a
    stage that day (:func:`~review_calendar.notify.stages.reminder_stage`),
    and one gap report per instance and day to the programme's division listing
    regions without a valid contact. A reminder that would go out the same day
    as a region's first notice is left out (the notice says the same). Nothing
    is planned on a non-working day.

    Args:
        url: Review database URL (migrated).
        programme: The programme.
        cycle_year: The cycle (the Jan 15 report of 2024 belongs to 2024).
        as_of: The planning day (from the run's data interval or ``as_of`` param).
        calendar: Working calendar; the default one when omitted.
        dry_run: Compute and describe everything, write nothing.
        template_for: Returns the template file to attach for an instance (None: none).

    Returns:
        Counts and one masked line per message.
    """
    from review_calendar.domain.calendar import default_calendar

    calendar = calendar or default_calendar()
    plan = ReminderPlan(programme.id, cycle_year, as_of, dry_run)
    if not calendar.is_working_day(as_of):
        # Officials read their mail at work: nothing is planned on weekends and holidays.
        log.info(
            "Reminders of %s %s: %s is not a working day, nothing planned", programme.id, cycle_year, as_of
        )
        return plan
    with session_scope(url) as session:
        book = ContactBook.load(session, programme, cycle_year)
        for instance in instances_for_year(programme, cycle_year, calendar):
            obligation = programme.obligation(instance.obligation_id)
            if obligation.submitter not in REMINDED_LEVELS or obligation.kind == "meeting":
                continue
            if instance.opens_on > as_of:
                continue
            stage = reminder_stage(
                programme.reminders_for(obligation), instance.effective_due, as_of, calendar
            )
            if stage is None and as_of > instance.effective_due:
                continue
            attachment = template_for(instance) if template_for else None
            plan.instances += 1
            _InstancePlanner(
                session,
                plan,
                book,
                programme,
                instance,
                as_of,
                [str(attachment)] if attachment else [],
                opening_day=as_of == calendar.next_working_day(instance.opens_on),
            ).run(stage)
        if dry_run:
            session.rollback()
    log.info(
        "Reminders of %s %s as of %s%s: %d new (%s), %d already queued, %d unreachable, %d contact gaps",
        programme.id,
        cycle_year,
        as_of,
        " (dry run)" if dry_run else "",
        plan.queued,
        ", ".join(f"{k} {v}" for k, v in sorted(plan.by_kind.items())) or "none",
        plan.existing,
        plan.without_recipient,
        plan.gaps,
    )
    return plan


def queue_rejection(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission_id: int,
    *,
    created_on: dt.date,
    book: ContactBook | None = None,
) -> bool:
    """Queue the notice that a submitted file was rejected, with its problems.

    Args:
        session: Open session.
        programme: The programme.
        instance: The instance the file was submitted for.
        submission_id: The rejected submission.
        created_on: The day of the notice.
        book: Contacts already loaded (planning many notices); loaded when omitted.

    Returns:
        True when queued; False when already queued, not a rejected file of a
        region, or the region cannot be reached (logged).
    """
    sub = session.get(Submission, submission_id)
    if sub is None or sub.status != "rejected" or not sub.region_code:
        return False
    book = book or ContactBook.load(session, programme, instance.cycle_year)
    submitter = book.submitter(sub.region_code)
    rec = book.resolve(submitter)
    if not rec.to:
        log.warning(
            "Rejection of submission %d not sent: region %s has no valid contact", sub.id, sub.region_code
        )
        return False
    rendered = render_rejection(
        programme,
        instance,
        _rejection(session, sub.id, sub.file_name, sub.received_on),
        region_name=submitter.region_name,
        as_of=created_on,
        via_city=book.region_name(submitter.city_code) if rec.via_city else None,
    )
    return queue(
        session,
        kind="rejection",
        programme_id=programme.id,
        instance_key=instance.key,
        region_code=sub.region_code,
        stage=f"file_{sub.id}",
        to=rec.to,
        cc=rec.cc,
        subject=rendered.subject,
        body=rendered.body,
        created_on=created_on,
    )


def queue_decision(
    session: Session,
    programme: Programme,
    decision: DecisionNotice,
    *,
    instance_key: str,
    region_code: str,
    created_on: dt.date,
    book: ContactBook | None = None,
) -> bool:
    """Queue the notice of an evaluation or re-review outcome to the cluster's region.

    The city bureau's leader in charge is copied: the city bureaus supervise the
    pilots (冀工信产业〔2016〕93号 一). A changed outcome is a new message.

    Args:
        session: Open session.
        programme: The programme.
        decision: The outcome, reason and clause.
        instance_key: The instance that decided (e.g. the evaluation's).
        region_code: The cluster's region.
        created_on: The day of the notice.
        book: Contacts already loaded; loaded when omitted.

    Returns:
        True when queued; False when already queued or the region cannot be reached (logged).
    """
    book = book or ContactBook.load(session, programme, decision.cycle_year)
    submitter = book.submitter(region_code)
    rec = book.resolve(submitter, "city")
    if not rec.to:
        log.warning("Decision on %s not sent: region %s has no valid contact", decision.subject, region_code)
        return False
    rendered = render_decision(
        programme,
        decision,
        region_name=submitter.region_name,
        via_city=book.region_name(submitter.city_code) if rec.via_city else None,
    )
    digest = hashlib.sha256(decision.subject.encode()).hexdigest()[:8]
    stage = f"{decision.kind}_{decision.outcome}"[:23] + f"_{digest}"
    return queue(
        session,
        kind="decision",
        programme_id=programme.id,
        instance_key=instance_key,
        region_code=region_code,
        stage=stage,
        to=rec.to,
        cc=rec.cc,
        subject=rendered.subject,
        body=rendered.body,
        created_on=created_on,
    )


#: ``email.policy.SMTP`` (CRLF, 78-column folding, RFC 2047) that keeps the headers
#: :func:`_header` already folded instead of parsing and folding them a second time.
POLICY = email.policy.SMTP.clone(refold_source="none")


def _header(name: str, value: Any) -> str:
    """A header value encoded (RFC 2047) and folded by the e-mail policy, for ``set_raw``.

    The policy's header classes do the work that ``msg[name] = value`` would do;
    the result is stored as-is, so the generator does not fold it again (the
    costliest step of building a message). CR and LF are refused first, as the
    policy itself would.

    Raises:
        MessageError: A text value contains CR or LF.
    """
    if isinstance(value, str) and ("\r" in value or "\n" in value):
        raise MessageError(f"{name} must be a single line")
    folded = POLICY.header_factory(name, value).fold(policy=POLICY)
    return folded[len(name) + 2 : -len(POLICY.linesep)]


class OutgoingMessage(EmailMessage):
    """An e-mail built from an outbox row, carrying the envelope it was built from.

    ``envelope_from`` and ``envelope_to`` (To and Cc, validated addresses) let a
    sender call ``smtplib.SMTP.sendmail`` without parsing the headers back
    (:func:`review_calendar.notify.smtp.smtp_sender` does);
    ``smtplib.SMTP.send_message`` works on it as on any message.
    """

    envelope_from: str = ""
    envelope_to: tuple[str, ...] = ()


@lru_cache(maxsize=4096)
def _address_header(name: str, boxes: tuple[Mailbox, ...]) -> str:
    # A batch repeats its From and its Cc (the city leaders): fold each list once.
    return _header(name, tuple(m.header() for m in boxes))


def build_message(row: Any, sender: Mailbox) -> OutgoingMessage:
    """The e-mail of an outbox row, ready for ``smtplib``.

    UTF-8 subject and display names are RFC 2047-encoded by ``email.policy.SMTP``;
    the body is UTF-8 base64; the Message-ID is derived from the natural key.

    Args:
        row: An ``outbox`` row (ORM object or Core row with the same columns).
        sender: The From mailbox.

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
    msg.set_raw("From", _address_header("From", (sender,)))
    msg.set_raw("To", _address_header("To", tuple(to)))
    if cc:
        msg.set_raw("Cc", _address_header("Cc", tuple(cc)))
    msg.set_raw("Subject", _header("Subject", one_line(row.subject)))
    msg.set_raw("Date", format_datetime(dt.datetime.now(TIMEZONE)))
    msg.set_raw("Message-ID", message_id(row.natural_key, sender.addr.rpartition("@")[2]))
    msg.set_raw("Auto-Submitted", "auto-generated")  # RFC 3834: no auto-replies to reminders
    msg.set_content(row.body, charset="utf-8", cte="base64")
    for path in row.attachments or ():
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError:
            raise MessageError(f"附件无法读取：{file.name}") from None
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=file.name)
    return msg


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


def _is_connection_error(exc: Exception) -> bool:
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


def describe_error(exc: BaseException) -> str:
    """A short, masked description of a sending error (no addresses, no phones)."""
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
    return mask_contacts(one_line(text))[:500]


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
        if self.fixed is not None:
            return self.fixed
        if programme_id not in self.cache:
            from review_calendar.domain.programmes import ProgrammeError, load_programme_file
            from review_calendar.settings import get_settings

            try:
                office = load_programme_file(get_settings().programmes_dir / f"{programme_id}.yaml").office
                self.cache[programme_id] = mailbox(self.name or office.division, office.sender)
            except ProgrammeError:
                self.cache[programme_id] = None
        box = self.cache[programme_id]
        if box is None:
            raise MessageError(f"找不到项目 {programme_id} 的配置，无法确定发件人")
        return box


def pending_count(url: str, programme_id: str | None = None) -> int:
    """Messages queued or failed (waiting for delivery).

    Args:
        url: Review database URL.
        programme_id: Only this programme's messages (None: all).
    """
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(PENDING))
    if programme_id is not None:
        stmt = stmt.where(OutboxMessage.programme_id == programme_id)
    with get_engine(url).connect() as conn:
        return int(conn.execute(stmt).scalar_one())


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
) -> DeliveryReport:
    """Send every queued or failed message, oldest first, each in its own transaction.

    Per message: claim the row, build the message, hand it to the server, mark
    it sent (or failed, with the reason) and commit at once (module docstring).

    ``fast_commit`` lets those commits return before the database has flushed
    them to disk (SQLite ``synchronous=NORMAL`` in WAL mode for this batch's
    connection; PostgreSQL ``synchronous_commit=off`` for these transactions).
    The database stays consistent and an application crash loses nothing; only
    a power loss or a crash of the database server may forget the last "sent"
    marks, and those messages go out again with the same Message-ID. It is what
    makes 3,000 messages fit in a few seconds (one fsync per message otherwise).

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

    Returns:
        Counts; ``server_unreachable`` when the batch stopped on a connection
        error (call :meth:`DeliveryReport.raise_for_outage` to fail the task).

    Raises:
        InvalidAddress: ``sender`` is not a plain addr-spec.
    """
    senders = _Senders(sender, sender_name)
    table = OutboxMessage.__table__
    report = DeliveryReport()
    started = time.monotonic()
    stmt = select(table).where(table.c.status.in_(PENDING)).order_by(table.c.created_on, table.c.id)
    if programme_id is not None:
        stmt = stmt.where(table.c.programme_id == programme_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    pace = _Pace(rate_per_second)
    with get_engine(url).connect() as conn:
        pending = list(conn.execute(stmt))
        conn.rollback()
        with _commit_mode(conn, fast_commit) as setup:
            for row in pending:
                with conn.begin():
                    if setup:
                        conn.exec_driver_sql(setup)
                    if not _deliver_one(conn, row, send, senders, pace, report):
                        break
    report.remaining = pending_count(url, programme_id)
    report.seconds = time.monotonic() - started
    log.info(
        "Outbox delivery: %d sent, %d failed, %d skipped, %d still waiting, %.1f s%s",
        report.sent,
        report.failed,
        report.skipped,
        report.remaining,
        report.seconds,
        " (stopped: SMTP server unreachable)" if report.server_unreachable else "",
    )
    return report


class _Pace:
    """Spaces the sends to at most ``rate`` per second."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_slot = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if now < self.next_slot:
            time.sleep(self.next_slot - now)
        self.next_slot = max(now, self.next_slot) + self.interval


def _deliver_one(
    conn: Connection,
    row: Any,
    send: Callable[[EmailMessage], Any],
    senders: _Senders,
    pace: _Pace,
    report: DeliveryReport,
) -> bool:
    """Claim, send and mark one message inside the caller's transaction; False stops the batch."""
    table = OutboxMessage.__table__
    this = table.c.id == row.id
    # Claim: only one delivery can move a pending row (see the module docstring).
    claim = update(table).where(this, table.c.status.in_(PENDING)).values(attempts=table.c.attempts + 1)
    if conn.execute(claim).rowcount != 1:
        report.skipped += 1
        return True
    report.attempted += 1

    def fail(error: str) -> bool:
        conn.execute(update(table).where(this).values(status="failed", last_error=error))
        report.failed += 1
        report.failures.append(
            {"id": row.id, "kind": row.kind, "region_code": row.region_code, "error": error}
        )
        log.warning("Outbox message %d (%s) not sent: %s", row.id, row.kind, error)
        return True

    try:
        msg = build_message(row, senders(row.programme_id))
    except MessageError as exc:
        return fail(mask_contacts(str(exc)))
    pace.wait()
    try:
        refused = send(msg)
    except Exception as exc:
        error = describe_error(exc)
        if not _is_connection_error(exc):
            return fail(error)
        # The row keeps its status (queued or failed) with the error; the rest stay untouched.
        conn.execute(update(table).where(this).values(last_error=error))
        report.server_unreachable, report.error = True, error
        log.error("SMTP server unreachable, batch stopped: %s", error)
        return False
    note = f"部分收件人被拒收（{len(refused)} 个）" if isinstance(refused, dict) and refused else ""
    conn.execute(
        update(table).where(this).values(status="sent", sent_at=dt.datetime.now(dt.UTC), last_error=note)
    )
    report.sent += 1
    return True
