"""The day's window-opening notices, reminders and contact-gap reports of one cycle.

:func:`plan_reminders` looks at every open instance of a cycle on the planning
day (``as_of``, never the wall clock) and queues, for every expected submitter
without an accepted file, what that day calls for; the outbox's natural keys
make a second run of the same day queue nothing. The steps of one instance:

1. who lags: expected submitters without an accepted submission;
2. what the outbox already holds for the instance (a re-run, a notice sent today);
3. per lagging region: recipients (:class:`~review_calendar.notify.recipients.ContactBook`),
   the window-opening notice while the window is open, the reminder of the day's
   stage (:func:`~review_calendar.notify.stages.reminder_stage`);
4. the regions nobody could reach and one gap report to the programme's division.

A region with a due date of its own (a file returned for correction, more time
granted: :func:`~review_calendar.notify.returns.own_due`) is reminded against
that date instead of the instance's, and never as overdue before it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.aggregate.states import OUTSTANDING_STATES, states_by_region
from review_calendar.domain.labels import MESSAGE_KINDS
from review_calendar.domain.programmes import instances_for_year
from review_calendar.notify.notices import rejection_of
from review_calendar.notify.outbox import natural_key, queue
from review_calendar.notify.recipients import ContactBook, ContactGap, Recipients, office_mailbox
from review_calendar.notify.render import (
    Rejection,
    Rendered,
    render_gap_report,
    render_notice,
    render_reminder,
)
from review_calendar.notify.returns import own_due, region_stage
from review_calendar.notify.stages import Stage, reminder_stage
from review_calendar.store.db import session_scope
from review_calendar.store.due_changes import changed_instances, region_dues
from review_calendar.store.queries import expected_submitters, instance_filter
from review_calendar.store.tables.intake import Submission
from review_calendar.store.tables.mail import OutboxMessage

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator

    from sqlalchemy.orm import Session

    from review_calendar.aggregate.states import RegionState
    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.due_changes import RegionDue
    from review_calendar.store.queries import Submitter

log = logging.getLogger(__name__)

#: Submitters the contact list covers: cities and pilot counties (冀工信产业〔2016〕93号 七).
#: Evaluators and the province itself are not reminded by e-mail.
REMINDED_LEVELS = ("county", "city")


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

    For every instance of the cycle whose window is open on ``as_of`` and whose
    submitters are cities or counties, and for every expected submitter without
    an accepted submission: a window-opening notice once while the window is
    open, a reminder when the schedule has a stage that day, and one gap report
    per instance and day to the programme's division listing regions without a
    valid contact. A reminder that would go out the same day as a region's first
    notice is left out (the notice says the same). Nothing is planned on a
    non-working day: officials read their mail at work.

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
        log.info(
            "Reminders of %s %s: %s is not a working day, nothing planned", programme.id, cycle_year, as_of
        )
        return plan
    with session_scope(url) as session:
        book = ContactBook.load(session, programme, cycle_year)
        moved = changed_instances(session, programme.id, cycle_year)
        for instance, stage in _due_instances(programme, cycle_year, as_of, calendar, moved):
            attachment = template_for(instance) if template_for else None
            plan.instances += 1
            opening_day = as_of == calendar.next_working_day(instance.opens_on)
            attachments = [str(attachment)] if attachment else []
            planner = InstancePlanner(
                session, plan, book, programme, instance, as_of, attachments, opening_day
            )
            planner.calendar = calendar
            planner.run(stage)
        if dry_run:
            session.rollback()
    _log_plan(plan)
    return plan


def _due_instances(
    programme: Programme,
    cycle_year: int,
    as_of: dt.date,
    calendar: WorkingCalendar,
    moved: frozenset[str] | set[str] = frozenset(),
) -> Iterator[tuple[ObligationInstance, Stage | None]]:
    """Instances with something to say on ``as_of``, with the day's reminder stage (None: notices only).

    An instance counts when cities or counties submit it (not a meeting), its
    window has opened, and either its deadline has not passed, an overdue
    reminder is due that day, or some region owes it by a date of its own
    (``moved``: the keys of such instances).
    """
    for instance in instances_for_year(programme, cycle_year, calendar):
        obligation = programme.obligation(instance.obligation_id)
        if obligation.submitter not in REMINDED_LEVELS or obligation.kind == "meeting":
            continue
        if instance.opens_on > as_of:
            continue
        stage = reminder_stage(programme.reminders_for(obligation), instance.effective_due, as_of, calendar)
        if stage is None and as_of > instance.effective_due and instance.key not in moved:
            continue
        yield instance, stage


def _log_plan(plan: ReminderPlan) -> None:
    """One summary line per planning run (counts only, no addresses)."""
    log.info(
        "Reminders of %s %s as of %s%s: %d new (%s), %d already queued, %d unreachable, %d contact gaps",
        plan.programme_id,
        plan.cycle_year,
        plan.as_of,
        " (dry run)" if plan.dry_run else "",
        plan.queued,
        ", ".join(f"{k} {v}" for k, v in sorted(plan.by_kind.items())) or "none",
        plan.existing,
        plan.without_recipient,
        plan.gaps,
    )


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
        .where(*instance_filter(Submission, instance))
        .order_by(Submission.received_on, Submission.id)
    )
    latest = {r.region_code: r for r in rows if r.region_code}
    rejected = {code: r for code, r in latest.items() if r.status == "rejected"}
    return {code: rejection_of(session, r.id, r.file_name, r.received_on) for code, r in rejected.items()}


def _lagging(
    session: Session, programme: Programme, instance: ObligationInstance, as_of: dt.date
) -> dict[str, tuple[Submitter, list[str], RegionState]]:
    """Expected submitters that still owe an acceptable file on ``as_of``, with their clusters' names.

    Whom to remind is decided by the one submission-state rule
    (:func:`~review_calendar.aggregate.states.states_by_region`): a region in one of
    the :data:`~review_calendar.aggregate.states.OUTSTANDING_STATES`.
    """
    submitters = expected_submitters(session, programme, instance)
    states = states_by_region(session, instance, as_of, (s.region_code for s in submitters))
    out: dict[str, tuple[Submitter, list[str], RegionState]] = {}
    for s in submitters:
        if states[s.region_code].state not in OUTSTANDING_STATES:
            continue
        _, clusters, _ = out.setdefault(s.region_code, (s, [], states[s.region_code]))
        if s.cluster_name:
            clusters.append(s.cluster_name)
    return out


def _line(kind: str, stage: str, who: str, recipients: Recipients, subject: str, new: bool) -> str:
    """The dry-run line of one message: kind, stage, region, roles and masked addresses, subject."""
    to = "、".join(m.masked() for m in recipients.to)
    cc = f"；抄送 {'、'.join(m.masked() for m in recipients.cc)}" if recipients.cc else ""
    state = "新" if new else "已在发件箱"
    return f"[{state}] {MESSAGE_KINDS[kind]} {stage} {who} → {to}{cc}：{subject}"


@dataclass
class InstancePlanner:
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
    noticed_today: set[str] = field(default_factory=set)
    rejections: dict[str, Rejection] = field(default_factory=dict)
    gaps: dict[tuple[str, str], ContactGap] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)
    active: bool = False
    calendar: WorkingCalendar | None = None
    dues: dict[str, RegionDue] = field(default_factory=dict)

    def run(
        self, stage: Stage | None, lagging: dict[str, tuple[Submitter, list[str], RegionState]] | None = None
    ) -> None:
        """Plan the instance's day: who lags, what is queued already, each region, the gap report.

        ``lagging`` replaces the expected submitters still owing a file when the caller
        knows them (a follow-up owed by one region, :mod:`review_calendar.notify.follow_ups`).
        """
        if lagging is None:
            lagging = _lagging(self.session, self.programme, self.instance, self.as_of)
        if not lagging:
            return
        self._read_outbox()
        self.rejections = latest_rejections(self.session, self.instance)
        self.dues = region_dues(self.session, self.instance)
        # Besides reminder days, only the window's first working day and days with
        # new notices count: otherwise every day of the window would repeat the gap report.
        self.active = stage is not None or self.opening_day
        for code, (submitter, clusters, verdict) in sorted(lagging.items()):
            own = own_due(self.instance, verdict, self.dues.get(code))
            if own is None:
                self._plan_region(stage, code, submitter, clusters)
            elif self.calendar is not None and own.due is not None:
                own_stage = region_stage(self._schedule(), own, self.as_of, self.calendar)
                self.active = self.active or own_stage is not None
                self._plan_region(own_stage, code, submitter, clusters, own.due, own.note)
        if self.active:
            self._report_gaps()

    def _read_outbox(self) -> None:
        """The instance's natural keys already queued and the regions noticed today."""
        outbox = OutboxMessage
        same = outbox.instance_key == self.instance.key
        self.existing = set(self.session.scalars(select(outbox.natural_key).where(same)))
        today = (same, outbox.kind == "notice", outbox.created_on == self.as_of)
        self.noticed_today = set(self.session.scalars(select(outbox.region_code).where(*today)))

    def _schedule(self) -> Any:
        return self.programme.reminders_for(self.programme.obligation(self.instance.obligation_id))

    def _plan_region(
        self,
        stage: Stage | None,
        code: str,
        submitter: Submitter,
        clusters: list[str],
        own_due: dt.date | None = None,
        due_note: str = "",
    ) -> None:
        """The notice and the reminder of one lagging region (or why it cannot be reached).

        A region with a due date of its own (``own_due``, why in ``due_note``) gets no
        window-opening notice (it has sent a file, or asked for more time) and is
        reminded against that date.
        """
        rec = self.book.resolve(submitter, stage.escalation if stage else "none")
        for gap in rec.gaps:
            self.gaps.setdefault((gap.region_code, gap.action), gap)
        who = f"{submitter.region_name}（{code}）"
        if not rec.to:
            self.unreachable.append(f"[未发送] {who}：{self.book.gap_reason(code)}")
            return
        region = {
            "region_name": submitter.region_name,
            "as_of": self.as_of,
            "clusters": clusters,
            "attachment_name": Path(self.attachments[0]).name if self.attachments else None,
            "via_city": self.book.region_name(submitter.city_code) if rec.via_city else None,
        }
        remind = stage is not None
        if own_due is None and self.as_of <= self.instance.effective_due:
            notice = render_notice(self.programme, self.instance, **region)
            noticed = self._put("notice", "open", code, who, Recipients(rec.to, (), rec.via_city), notice)
            self.active = self.active or noticed
            # The notice of the day already says how many days are left.
            if stage is not None and not stage.overdue and (noticed or code in self.noticed_today):
                remind = False
        if remind and stage is not None:
            city_name = self.book.region_name(submitter.city_code)
            rejection = self.rejections.get(code)
            instance = self.instance if own_due is None else replace(self.instance, effective_due=own_due)
            text = render_reminder(
                self.programme, instance, stage, city_name=city_name, rejection=rejection, due_note=due_note,
                **region,
            )  # fmt: skip
            self._put("reminder", stage.name, code, who, rec, text)

    def _report_gaps(self) -> None:
        """Count the unreachable regions and queue the day's gap report to the division."""
        self.plan.without_recipient += len(self.unreachable)
        self.plan.lines.extend(self.unreachable)
        if not self.gaps:
            return
        self.plan.gaps += len(self.gaps)
        gaps = list(self.gaps.values())
        report = render_gap_report(self.programme, self.instance, gaps, as_of=self.as_of)
        office = Recipients((office_mailbox(self.programme),))
        stage = f"gap_{self.as_of.isoformat()}"
        self._put(
            "gap_report", stage, self.programme.region_code, self.programme.office.division, office, report
        )

    def _put(
        self, kind: str, stage: str, region_code: str | None, who: str, rec: Recipients, text: Rendered
    ) -> bool:
        """Queue one message (or, in a dry run, note it); True when it is new."""
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
