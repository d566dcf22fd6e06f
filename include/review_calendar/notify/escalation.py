"""Escalation of unanswered proposals to the division head, on working days.

A proposal waits for a named reviewer in a Required Action
(:mod:`review_calendar.store.reviews`). When its open round has waited
``review.escalate_after_working_days`` working days (Chinese holidays and
make-up working days counted by :class:`~review_calendar.domain.calendar.WorkingCalendar`),
the programme's ``review.division_head`` gets an e-mail listing it; after as
many more working days, again (level 2 at 2×N, level 3 at 3×N...). Escalation
asks for an answer and decides nothing: the proposal, its outcome and its round
stay as they are; only the round's ``escalations`` count and ``escalated_on``
day are recorded. Each (round, level) is queued once (the outbox's natural key),
so a re-run of the day queues nothing. The deciding department escalates within
itself: a city scheme's head is the city bureau's (its own ``review`` block).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from review_calendar.domain.calendar import TZ
from review_calendar.domain.labels import DECISION_KINDS, OUTCOMES, label
from review_calendar.domain.verdicts import subject_label
from review_calendar.notify.outbox import queue
from review_calendar.notify.recipients import InvalidAddress, mailbox
from review_calendar.notify.render import Rendered, _body, _subject
from review_calendar.store.reviews import open_rounds

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import Programme
    from review_calendar.store.tables.review import DecisionReview

log = logging.getLogger(__name__)

#: The role the division head is stored under in the outbox (dry runs, reports).
ROLE_HEAD = "处室负责人（督办）"


@dataclass
class EscalationPlan:
    """What one escalation run queued.

    Attributes:
        programme_id: The programme.
        as_of: The day.
        open_rounds: Unanswered rounds looked at.
        queued: Escalation e-mails queued now.
        existing: Escalations already queued (a re-run).
        lines: One line per escalation: level, proposal, working days open (no addresses).
    """

    programme_id: str
    as_of: dt.date
    open_rounds: int = 0
    queued: int = 0
    existing: int = 0
    lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "programme": self.programme_id,
            "as_of": self.as_of.isoformat(),
            "open_rounds": self.open_rounds,
            "queued": self.queued,
            "existing": self.existing,
            "lines": list(self.lines),
        }


@dataclass(frozen=True, slots=True)
class EscalatedProposal:
    """A proposal still unanswered, as the division head's escalation e-mail lists it.

    Attributes:
        kind: The decision kind (a code of :data:`~review_calendar.domain.labels.DECISION_KINDS`).
        cycle_year: The cycle of the proposal.
        subject_name: The cluster (or applicant, county) the proposal is about.
        proposed_outcome: The proposed outcome (a code of :data:`~review_calendar.domain.labels.OUTCOMES`).
        clause: The clause the proposal rests on.
        asked_on: The day the Required Action was asked (Beijing time).
        working_days_open: Working days since then.
        level: 1 for the first escalation, 2 for the second...
        reviewers: Who it is assigned to (Airflow user names).
        where: The task holding the Required Action (``dag_id / run_id / task_id[map_index]``).
    """

    kind: str
    cycle_year: int
    subject_name: str
    proposed_outcome: str
    clause: str
    asked_on: dt.date
    working_days_open: int
    level: int
    reviewers: tuple[str, ...]
    where: str


def render_escalation(
    programme: Programme, proposal: EscalatedProposal, *, head_name: str, as_of: dt.date
) -> Rendered:
    """The e-mail to the division head about a proposal unanswered for too many working days.

    It asks for an answer and decides nothing: the proposal stays open.

    Args:
        programme: The programme (its ``review`` block names the deciding department).
        proposal: The unanswered proposal.
        head_name: The division head as configured.
        as_of: The day of the e-mail.

    Returns:
        Subject and body.
    """
    kind = label(DECISION_KINDS, proposal.kind)
    subject = _subject(
        programme,
        f"待审定事项督办（第{proposal.level}次）：{proposal.cycle_year}年度{kind.removeprefix('年度')}"
        f" — {proposal.subject_name}（已{proposal.working_days_open}个工作日未审定）",
    )
    body = _body(
        "escalation.txt.j2",
        programme=programme,
        office=programme.office,
        authority=programme.review.authority if programme.review else programme.authority,
        head_name=head_name,
        proposal=proposal,
        kind=kind,
        outcome=label(OUTCOMES, proposal.proposed_outcome),
        reviewers="、".join(proposal.reviewers),
        as_of=as_of,
    )
    return Rendered(subject, body)


def asked_on(review: DecisionReview) -> dt.date:
    """The Beijing-time day a round was asked (a naive stored time is UTC, as SQLite returns it)."""
    at = review.asked_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(TZ).date()


def escalation_level(
    asked: dt.date, today: dt.date, every: int, calendar: WorkingCalendar
) -> tuple[int, int]:
    """The escalation level due on ``today`` and the working days the round has been open.

    Working days are counted after the day asked up to ``today`` included, so a
    proposal asked on a Friday before the National Day week is one working day
    open on the Monday after the holiday (or on a make-up working Saturday).

    Args:
        asked: The day the round was asked.
        today: The day of the check.
        every: ``review.escalate_after_working_days``.
        calendar: The working calendar.

    Returns:
        ``(level, working_days_open)``: level 0 means not yet; 1 from ``every`` working
        days, 2 from ``2 × every``...
    """
    open_days = max(calendar.working_days_between(asked, today), 0)
    return open_days // every, open_days


def _where(review: DecisionReview) -> str:
    index = f"[{review.map_index}]" if review.map_index >= 0 else ""
    return f"{review.dag_id} / {review.run_id} / {review.task_id}{index}"


def queue_escalations(
    session: Session, programme: Programme, today: dt.date, calendar: WorkingCalendar | None = None
) -> EscalationPlan:
    """Queue the day's escalations of a programme's unanswered proposals to its division head.

    Nothing is planned on a non-working day (officials read their mail at work);
    the next working day catches up. A round whose level is due and not yet
    escalated gets one e-mail for that level; a round that skipped levels (no run
    for a while) gets the current level only.

    Args:
        session: Open session; the caller commits.
        programme: The programme; without a ``review`` block nothing is escalated.
        today: The planning day (``as_of``), never the wall clock.
        calendar: Working calendar; the default one when omitted.

    Returns:
        Counts and one line per escalation (no addresses).

    Raises:
        InvalidAddress: The configured division head's address is not a plain addr-spec.
    """
    from review_calendar.domain.calendar import default_calendar

    plan = EscalationPlan(programme.id, today)
    rules = programme.review
    if rules is None:
        return plan
    calendar = calendar or default_calendar()
    if not calendar.is_working_day(today):
        return plan
    head = mailbox(rules.division_head.name, rules.division_head.email, ROLE_HEAD, programme.region_code)
    if head is None:
        raise InvalidAddress(f"programme {programme.id}: review.division_head.email is not a plain addr-spec")
    every = rules.escalate_after_working_days
    titles = {o.id: o.title for o in programme.obligations}
    for review, decision in open_rounds(session, programme.id):
        plan.open_rounds += 1
        asked = asked_on(review)
        level, open_days = escalation_level(asked, today, every, calendar)
        if level <= (review.escalations or 0):
            continue
        proposal = EscalatedProposal(
            kind=decision.kind,
            cycle_year=decision.cycle_year,
            subject_name=subject_label(decision.subject, decision.figures, titles),
            proposed_outcome=review.proposed_outcome or decision.outcome,
            clause=decision.clause,
            asked_on=asked,
            working_days_open=open_days,
            level=level,
            reviewers=tuple(rules.reviewers),
            where=_where(review),
        )
        text = render_escalation(programme, proposal, head_name=rules.division_head.name, as_of=today)
        new = queue(
            session,
            kind="escalation",
            programme_id=programme.id,
            instance_key=f"{programme.id}/{decision.cycle_year}/decisions",
            region_code=None,
            stage=f"escalate_{review.id}_{level}",
            to=[head],
            subject=text.subject,
            body=text.body,
            created_on=today,
        )
        review.escalations, review.escalated_on = level, today
        plan.queued += new
        plan.existing += not new
        plan.lines.append(
            f"[{'新' if new else '已在发件箱'}] 第{level}次督办 {proposal.subject_name}：{text.subject}"
        )
    session.flush()
    log.info(
        "Escalations of %s as of %s: %d open rounds, %d new, %d already queued",
        programme.id,
        today,
        plan.open_rounds,
        plan.queued,
        plan.existing,
    )
    return plan
