"""One region's (or one cluster's) page: everything the review calendar holds about it.

For every programme that covers the region and every cycle year with data: each
obligation instance the region owes (or sent files for), its state on the day
asked about (the one state rule, :func:`~review_calendar.aggregate.states.submission_state`),
every file version with its received day, result, errors and what superseded
it, and the returns and extensions granted with their comments; then the
decisions about the region or its clusters (who decided, when and why) and the
communication log (every notice, reminder, escalation and gap report with its
delivery outcome, contact data masked by :mod:`review_calendar.domain.privacy`).

The view is as of ``today``: files received, messages queued and decisions
taken after it are left out, so a reviewer looking at an earlier day sees what
was known then.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.aggregate.states import submission_state
from review_calendar.domain.calendar import TZ
from review_calendar.domain.labels import (
    DELIVERY_STATUSES,
    DUE_CHANGE_KINDS,
    FILE_STATUSES,
    LEVELS,
    MESSAGE_KINDS,
    SMTP_FAILURES,
    SMTP_REPLIES,
    label,
    period_label,
    stage_label,
)
from review_calendar.domain.privacy import mask_email, mask_text
from review_calendar.domain.programmes import instances_for_year
from review_calendar.reviewer_pages.common import cycle_years, messages_as_of
from review_calendar.reviewer_pages.deciders import decided_by_name
from review_calendar.reviewer_pages.decisions import NOT_DECISIONS, DecisionItem, beijing_time, decision_items
from review_calendar.store.due_changes import region_dues
from review_calendar.store.queries import expected_submitters
from review_calendar.store.tables.decisions import Decision
from review_calendar.store.tables.intake import DueChange, Submission, SubmissionError
from review_calendar.store.tables.mail import OutboxMessage
from review_calendar.store.tables.registry import Cluster, Enrolment, Region

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = [
    "ChangeLine",
    "ClusterLine",
    "ErrorLine",
    "FileLine",
    "InstanceLine",
    "MessageLine",
    "ProgrammeSection",
    "RegionPage",
    "YearSection",
    "cluster_region",
    "region_view",
]

#: Findings listed under one file on the region page; the file's history page (one click) lists them all.
MAX_ERRORS = 50


@dataclass(frozen=True, slots=True)
class ErrorLine:
    """One finding of a file: where (sheet, row, column), the value and the message."""

    sheet: str
    row: int | None
    column: str
    value: str
    message: str
    severity: str


@dataclass(frozen=True, slots=True)
class FileLine:
    """One version of a file the region sent for an instance.

    ``errors`` holds the first :data:`MAX_ERRORS` of its ``problem_count``
    recorded findings (errors and warnings); ``error_count`` is the number of
    errors intake counted when it judged the file.
    """

    id: int
    file_name: str
    received_on: dt.date
    status: str
    status_label: str
    is_late: bool
    error_count: int
    superseded_by: str
    errors: tuple[ErrorLine, ...]
    problem_count: int = 0

    @property
    def all_listed(self) -> bool:
        """Whether every recorded finding is in ``errors``."""
        return len(self.errors) >= self.problem_count


@dataclass(frozen=True, slots=True)
class ChangeLine:
    """A return for correction or an extension: the region's own due date, and why."""

    kind_label: str
    file_name: str
    due: dt.date | None
    comment: str
    decided_by: str
    decided_at: str
    #: Who decided by name (the roster's), ``decided_by`` being the login.
    decided_by_name: str = ""


@dataclass(frozen=True, slots=True)
class InstanceLine:
    """One obligation instance the region owes (or sent files for), with its state and history."""

    obligation_id: str
    period: str
    title: str
    period_label: str
    effective_due: dt.date
    owed: bool
    state: str
    state_label: str
    files: tuple[FileLine, ...]
    changes: tuple[ChangeLine, ...]


@dataclass(frozen=True, slots=True)
class YearSection:
    """A cycle year of a programme: ``has_cycle`` is False when nothing was recorded for it."""

    year: int
    has_cycle: bool
    instances: tuple[InstanceLine, ...]


@dataclass(frozen=True, slots=True)
class ProgrammeSection:
    """What the region owes one programme, year by year, and the decisions about it."""

    programme_id: str
    short_name: str
    years: tuple[YearSection, ...]
    decisions: tuple[DecisionItem, ...]


@dataclass(frozen=True, slots=True)
class ClusterLine:
    """A cluster of the region and its enrolments."""

    id: str
    name: str
    enrolments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MessageLine:
    """One message of the communication log, with its delivery outcome (addresses masked)."""

    created_on: dt.date
    kind_label: str
    stage_label: str
    subject: str
    recipients: str
    status: str
    status_label: str
    attempts: int
    sent_at: str
    error: str
    error_meaning: str = ""


@dataclass(frozen=True, slots=True)
class RegionPage:
    """A region's page (or a cluster's: ``cluster`` set, decisions narrowed to it)."""

    code: str
    name: str
    level_label: str
    city_code: str
    city_name: str
    today: dt.date
    clusters: tuple[ClusterLine, ...]
    cluster: ClusterLine | None
    programmes: tuple[ProgrammeSection, ...]
    messages: tuple[MessageLine, ...]


#: An e-mail address or a phone number: what :func:`_masked` hides (a year range stays readable).
_CONTACT = re.compile(r"@|(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def _masked(text: str) -> str:
    """Text of a file's finding with contact data masked (the one rule), other figures left as they are."""
    return mask_text(text) if _CONTACT.search(text) else text


def _errors(session: Session, ids: Iterable[int]) -> dict[int, list[ErrorLine]]:
    stmt = select(SubmissionError).where(SubmissionError.submission_id.in_(list(ids)))
    out: dict[int, list[ErrorLine]] = defaultdict(list)
    for e in sorted(session.scalars(stmt), key=lambda e: (e.submission_id, e.sheet or "", e.row or 0, e.id)):
        out[e.submission_id].append(
            ErrorLine(
                e.sheet or "",
                e.row,
                e.column or "",
                _masked(e.value or ""),
                _masked(e.message),
                e.severity,
            )  # fmt: skip
        )
    return out


def _files(session: Session, files: list[Submission]) -> tuple[FileLine, ...]:
    names = {f.id: f.file_name for f in files}
    errors = _errors(session, names)
    return tuple(
        FileLine(
            id=f.id,
            file_name=f.file_name,
            received_on=f.received_on,
            status=f.status,
            status_label=label(FILE_STATUSES, f.status),
            is_late=f.is_late,
            error_count=f.error_count,
            superseded_by=names.get(f.superseded_by, "") if f.superseded_by else "",
            errors=tuple(errors.get(f.id, ())[:MAX_ERRORS]),
            problem_count=len(errors.get(f.id, ())),
        )
        for f in sorted(files, key=lambda f: (f.received_on, f.id), reverse=True)
    )


def _changes(
    session: Session, instance: ObligationInstance, code: str, today: dt.date
) -> tuple[ChangeLine, ...]:
    stmt = select(DueChange).where(
        DueChange.programme_id == instance.programme_id,
        DueChange.cycle_year == instance.cycle_year,
        DueChange.obligation_id == instance.obligation_id,
        DueChange.period == instance.period,
        DueChange.region_code == code,
    )
    rows = [c for c in session.scalars(stmt) if _day(c.decided_at) <= today]
    names = {
        s.id: s.file_name
        for s in session.scalars(select(Submission).where(Submission.id.in_([c.submission_id for c in rows])))
    }
    return tuple(
        ChangeLine(
            label(DUE_CHANGE_KINDS, c.kind),
            names.get(c.submission_id or 0, ""),
            c.due,
            c.comment,
            c.decided_by,
            beijing_time(c.decided_at),
            decided_by_name(c.decided_by),
        )  # fmt: skip
        for c in sorted(rows, key=lambda c: (_day(c.decided_at), c.id))
    )


def _day(at: dt.datetime | None) -> dt.date:
    """The Beijing day of a stored time (naive = UTC, as SQLite returns it)."""
    if at is None:
        return dt.date.min
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(TZ).date()


def _instance_line(session: Session, programme: Programme, i: ObligationInstance, code: str,
                   files: list[Submission], today: dt.date) -> InstanceLine | None:  # fmt: skip
    owed = code in {s.region_code for s in expected_submitters(session, programme, i)}
    if not owed and not files:
        return None
    if owed:
        verdict = submission_state(files, i, today, region_dues(session, i).get(code))
        state, state_label = verdict.state, verdict.label
    else:
        state, state_label = "not_applicable", "无需报送（收到的文件已记录）"
    return InstanceLine(
        obligation_id=i.obligation_id,
        period=i.period,
        title=i.title,
        period_label=period_label(i.period),
        effective_due=i.effective_due,
        owed=owed,
        state=state,
        state_label=state_label,
        files=_files(session, files),
        changes=_changes(session, i, code, today),
    )


def _year(session: Session, programme: Programme, year: int, code: str, today: dt.date,
          recorded: set[int]) -> YearSection:  # fmt: skip
    stmt = select(Submission).where(
        Submission.programme_id == programme.id,
        Submission.cycle_year == year,
        Submission.region_code == code,
        Submission.received_on <= today,
    )
    by_instance: dict[tuple[str, str], list[Submission]] = defaultdict(list)
    for s in session.scalars(stmt):
        by_instance[(s.obligation_id, s.period)].append(s)
    if year not in recorded:
        return YearSection(year, False, ())
    lines = [
        _instance_line(session, programme, i, code, by_instance.get((i.obligation_id, i.period), []), today)
        for i in instances_for_year(programme, year)
    ]
    return YearSection(year, True, tuple(x for x in lines if x is not None))


def _about(decision: Decision, code: str | None, cluster_ids: set[str]) -> bool:
    """Whether a decision is about one of ``cluster_ids``, or (``code`` given) about the region itself."""
    figures = decision.figures or {}
    if decision.subject.split("/", 1)[0] in cluster_ids or figures.get("cluster") in cluster_ids:
        return True
    parts = decision.subject.split("/")
    return code is not None and (figures.get("region_code") == code or (len(parts) >= 3 and parts[2] == code))


def _decisions(session: Session, programme: Programme, code: str | None, cluster_ids: set[str],
               today: dt.date) -> tuple[DecisionItem, ...]:  # fmt: skip
    stmt = select(Decision).where(Decision.programme_id == programme.id, Decision.kind.not_in(NOT_DECISIONS))
    chosen = [
        d for d in session.scalars(stmt) if _day(d.decided_at) <= today and _about(d, code, cluster_ids)
    ]
    chosen.sort(key=lambda d: (d.cycle_year, _day(d.decided_at), d.id), reverse=True)
    return tuple(decision_items(session, programme, chosen))


def _recipients(boxes: Iterable[Any]) -> str:
    out = []
    for box in boxes or ():
        if isinstance(box, dict):
            who = " ".join(str(x) for x in (box.get("role"), box.get("name")) if x)
            out.append(f"{who} {mask_email(str(box.get('addr') or ''))}".strip())
        else:
            out.append(mask_email(str(box)))
    return "；".join(out)


def error_meaning(error: str) -> str:
    """A delivery error in Chinese words (对方邮箱不存在或拒收…); the server's text is shown after it."""
    if not error:
        return ""
    codes = re.findall(r"(?<!\d)([2-5]\d\d)(?!\d)", error)
    meanings = dict.fromkeys(SMTP_REPLIES[c] for c in codes if c in SMTP_REPLIES)
    if meanings:
        return "；".join(meanings)
    name = error.split(":", 1)[0].strip()
    return SMTP_FAILURES.get(name, "邮件未能送达，原因见下方服务器返回信息")


def _messages(
    session: Session, code: str, programme_ids: set[str], today: dt.date
) -> tuple[MessageLine, ...]:
    where = (OutboxMessage.region_code == code, OutboxMessage.programme_id.in_(programme_ids))
    rows = sorted(messages_as_of(session, today, *where), key=lambda m: (m.created_on, m.id), reverse=True)
    return tuple(
        MessageLine(
            created_on=m.created_on,
            kind_label=label(MESSAGE_KINDS, m.kind),
            stage_label=stage_label(m.stage),
            subject=m.subject,
            recipients=_recipients([*(m.to_addrs or []), *(m.cc_addrs or [])]),
            status=m.status,
            status_label=label(DELIVERY_STATUSES, m.status),
            attempts=m.attempts,
            sent_at=beijing_time(m.sent_at),
            error=mask_text(m.last_error or ""),
            error_meaning=error_meaning(m.last_error or ""),
        )
        for m in rows
    )


def _clusters(session: Session, code: str, programmes: Mapping[str, Programme]) -> tuple[ClusterLine, ...]:
    out = []
    for cluster in session.scalars(select(Cluster).where(Cluster.region_code == code).order_by(Cluster.id)):
        enrolments = session.scalars(select(Enrolment).where(Enrolment.cluster_id == cluster.id))
        out.append(
            ClusterLine(
                cluster.id,
                cluster.name,
                tuple(
                    f"{programmes[e.programme_id].short_name if e.programme_id in programmes else e.programme_id}"
                    f"（{e.recognised_on.isoformat()} 至 {e.valid_until.isoformat()}）"
                    for e in enrolments
                ),
            )
        )
    return tuple(out)


def region_view(
    session: Session,
    programmes: Mapping[str, Programme],
    code: str,
    today: dt.date,
    cluster_id: str | None = None,
) -> RegionPage | None:
    """A region's page as of ``today`` (a cluster's page when ``cluster_id`` is given).

    Args:
        session: Open session on the review database.
        programmes: The deployment's programmes by id (those whose province holds the region are shown).
        code: Region code (for a cluster: the cluster's region).
        today: The day the reviewer looks at; later files, messages and decisions are left out.
        cluster_id: Narrow the decisions to this cluster (its region's obligations are still shown).

    Returns:
        The page, or None when there is no such region (or the cluster is not in it).
    """
    region = session.get(Region, code)
    if region is None:
        return None
    city = (
        session.get(Region, region.parent_code) if region.level == "county" and region.parent_code else region
    )
    clusters = _clusters(session, code, programmes)
    focus = next((c for c in clusters if c.id == cluster_id), None)
    if cluster_id is not None and focus is None:
        return None
    cluster_ids = {focus.id} if focus else {c.id for c in clusters}
    covering = [
        p for p in sorted(programmes.values(), key=lambda p: p.id) if code.startswith(p.region_prefix)
    ]
    sections = []
    for programme in covering:
        recorded = {y for y in cycle_years(session, programme.id) if y <= today.year}
        years = sorted(recorded | {today.year}, reverse=True)
        year_sections = tuple(_year(session, programme, y, code, today, recorded) for y in years)
        decisions = _decisions(session, programme, None if focus else code, cluster_ids, today)
        sections.append(ProgrammeSection(programme.id, programme.short_name, year_sections, decisions))
    return RegionPage(
        code=region.code,
        name=region.name,
        level_label=label(LEVELS, region.level),
        city_code=city.code if city else "",
        city_name=city.name if city else "",
        today=today,
        clusters=clusters,
        cluster=focus,
        programmes=tuple(sections),
        messages=_messages(session, code, {p.id for p in covering}, today),
    )


def cluster_region(session: Session, cluster_id: str) -> str | None:
    """The region code of a cluster (None for an unknown cluster)."""
    return session.scalar(select(Cluster.region_code).where(Cluster.id == cluster_id))
