"""A rectification decision opens a follow-up: the pilot's 整改报告, with its deadline and its check.

When a reviewer approves an evaluation outcome ``rectify`` (or changes one to
it), :func:`open_rectification` opens one follow-up for that cluster: a row of the
decision log of kind ``rectification_report`` (so it is audited like every
decision and a re-run opens nothing twice) that names the cluster's region and
the deadline, ``evaluation.rectify_days`` days after the decision (provincial
configuration, 冀工信产业〔2016〕93号 五 sets no period), moved past a weekend or
holiday like every deadline.

The report itself is the programme's ad-hoc obligation ``rectification_report``:
intake takes it in whenever it arrives, like any ad-hoc report. What the ad-hoc
obligation lacks, a deadline per cluster, the follow-up adds:
:func:`follow_up_instance` is the instance of one follow-up (its own opening
day and due date) that the reminders plan
(:mod:`review_calendar.notify.follow_ups`), and :func:`report_state` says where
the region stands with the one submission-state rule
(:func:`~review_calendar.aggregate.states.submission_state`): received on time,
late, rejected, missing... A file counts for a follow-up when the region sent
it on or after the day the follow-up opened; it is late when it arrived after
the follow-up's due date.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.aggregate.states import submission_state
from review_calendar.domain.labels import DECISION_KINDS
from review_calendar.domain.programmes import ObligationInstance
from review_calendar.domain.verdicts import Verdict
from review_calendar.store.decision_log import record_decision
from review_calendar.store.tables.decisions import Decision
from review_calendar.store.tables.intake import Submission
from review_calendar.store.tables.registry import Cluster

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.aggregate.states import RegionState
    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import Programme

log = logging.getLogger(__name__)

#: The obligation a rectification report is taken in under, and the decision kind of its follow-up.
OBLIGATION = "rectification_report"
KIND = "rectification_report"
#: The outcome a follow-up is recorded with when it opens.
OPENED = "rectification_open"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One opened follow-up (a row of the decision log of kind ``rectification_report``).

    Attributes:
        id: Its decision-log row.
        programme_id: The programme.
        cycle_year: The evaluated cycle.
        cluster_id: The pilot that must rectify.
        cluster_name: Its name.
        region_code: The region that reports.
        opened_on: The day of the rectification decision.
        statutory_due: ``opened_on`` + the rectification period.
        effective_due: The same, moved past a weekend or holiday.
        evaluation_id: The evaluation decision that opened it.
    """

    id: int
    programme_id: str
    cycle_year: int
    cluster_id: str
    cluster_name: str
    region_code: str
    opened_on: dt.date
    statutory_due: dt.date
    effective_due: dt.date
    evaluation_id: int | None

    @classmethod
    def of(cls, row: Decision) -> FollowUp:
        """The follow-up recorded in a decision-log row."""
        f = row.figures or {}
        return cls(
            id=row.id,
            programme_id=row.programme_id,
            cycle_year=row.cycle_year,
            cluster_id=row.subject,
            cluster_name=str(f.get("cluster") or row.subject),
            region_code=str(f.get("region_code") or ""),
            opened_on=dt.date.fromisoformat(f["opened_on"]),
            statutory_due=dt.date.fromisoformat(f["statutory_due"]),
            effective_due=dt.date.fromisoformat(f["effective_due"]),
            evaluation_id=f.get("evaluation_id"),
        )


def _row(session: Session, programme_id: str, cycle_year: int, cluster_id: str) -> Decision | None:
    return session.scalar(
        select(Decision).where(
            Decision.programme_id == programme_id,
            Decision.cycle_year == cycle_year,
            Decision.kind == KIND,
            Decision.subject == cluster_id,
        )
    )


def open_rectification(
    session: Session,
    programme: Programme,
    decision: Decision,
    decided_on: dt.date,
    calendar: WorkingCalendar | None = None,
) -> FollowUp | None:
    """Open the follow-up of a rectification decision, once.

    Args:
        session: Open session; the caller commits.
        programme: The programme (must have the ``rectification_report`` obligation and evaluation rules).
        decision: The evaluation decision answered with outcome ``rectify``.
        decided_on: The day of the answer (Beijing time): the period runs from it.
        calendar: Working calendar; the default one when omitted.

    Returns:
        The follow-up (the one opened before when called again: its deadline never
        moves); None when the programme has no rectification report (logged).
    """
    from review_calendar.domain.calendar import default_calendar, due_date

    if programme.evaluation is None or OBLIGATION not in {o.id for o in programme.obligations}:
        log.warning(
            "%s has no %s obligation: no follow-up opened for %s", programme.id, OBLIGATION, decision.subject
        )
        return None
    existing = _row(session, programme.id, decision.cycle_year, decision.subject)
    if existing is not None:
        return FollowUp.of(existing)
    figures = decision.figures or {}
    days = int(figures.get("rectify_days") or programme.evaluation.rectify_days)
    statutory = decided_on + dt.timedelta(days=days)
    obligation = programme.obligation(OBLIGATION)
    effective = due_date(statutory, obligation.deadline_shift, calendar or default_calendar())
    cluster = session.get(Cluster, decision.subject)
    region = figures.get("region_code") or (cluster.region_code if cluster else "")
    name = (
        figures.get("cluster")
        or figures.get("cluster_name")
        or (cluster.name if cluster else decision.subject)
    )
    verdict = Verdict(
        decision.subject,
        OPENED,
        f"{decision.cycle_year}年度绩效评价结果为限期整改（{decided_on.isoformat()}审定），"
        f"整改期限{days}天，请于{effective.isoformat()}前报送整改报告",
        f"programmes/{programme.id}.yaml: evaluation.rectify_days（{DECISION_KINDS['evaluation']}，省级配置）",
        obligation.clause,
        {
            "state": "decided",
            "cluster": name,
            "region_code": region,
            "evaluation_id": decision.id,
            "rectify_days": days,
            "opened_on": decided_on.isoformat(),
            "statutory_due": statutory.isoformat(),
            "effective_due": effective.isoformat(),
            "report_state": "open",
        },
    )
    record_decision(session, programme.id, decision.cycle_year, KIND, verdict, decision.run_id or "")
    row = _row(session, programme.id, decision.cycle_year, decision.subject)
    assert row is not None  # just recorded
    return FollowUp.of(row)


def follow_ups(session: Session, programme: Programme) -> list[FollowUp]:
    """Every follow-up of a programme, by due date and cluster."""
    rows = session.scalars(
        select(Decision).where(Decision.programme_id == programme.id, Decision.kind == KIND)
    )
    return sorted((FollowUp.of(r) for r in rows), key=lambda f: (f.effective_due, f.cluster_id))


def follow_up_instance(programme: Programme, follow_up: FollowUp) -> ObligationInstance:
    """The instance of one follow-up: the report's obligation with the follow-up's own dates.

    Its key is the ad-hoc obligation's under the evaluated cycle; its kind is that of a
    dated report, so notices, templates and reminders state the deadline.
    """
    o = programme.obligation(OBLIGATION)
    return ObligationInstance(
        programme.id, follow_up.cycle_year, o.id, "Y", o.title, "submission", o.submitter, o.via, o.recipient,
        follow_up.statutory_due, follow_up.effective_due, follow_up.opened_on, o.clause, True,
        o.recurrence, o.recurrence_is_configured,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Received:
    """A received report as the state rule reads it, late against the follow-up's due date."""

    id: int | None
    status: str
    received_on: dt.date
    is_late: bool
    file_name: str
    error_count: int
    awaiting: str = ""


def report_state(session: Session, programme: Programme, follow_up: FollowUp, as_of: dt.date) -> RegionState:
    """Where the region stands with its rectification report on ``as_of`` (the one submission-state rule).

    Args:
        session: Open session.
        programme: The programme.
        follow_up: The follow-up.
        as_of: The day asked about.

    Returns:
        ``on_time``, ``late``, ``rejected``, ``missing``, ``open``... with the deciding file.
    """
    files = session.scalars(
        select(Submission).where(
            Submission.programme_id == follow_up.programme_id,
            Submission.obligation_id == OBLIGATION,
            Submission.region_code == follow_up.region_code,
            Submission.received_on >= follow_up.opened_on,
        )
    )
    received = [
        _Received(f.id, f.status, f.received_on, f.received_on > follow_up.effective_due, f.file_name,
                  f.error_count, getattr(f, "awaiting", "") or "")
        for f in files
    ]  # fmt: skip
    return submission_state(received, follow_up_instance(programme, follow_up), as_of)


def check_follow_ups(
    session: Session, programme: Programme, as_of: dt.date
) -> list[tuple[FollowUp, RegionState]]:
    """Record where every follow-up of a programme stands on ``as_of`` (``figures["report_state"]``).

    The state, the deciding file and the day checked are kept on the follow-up's
    decision-log row, so the decisions list and the reports show received / late /
    missing without asking again.

    Returns:
        Each follow-up with its state.
    """
    out = []
    for follow_up in follow_ups(session, programme):
        state = report_state(session, programme, follow_up, as_of)
        row = session.get(Decision, follow_up.id)
        assert row is not None
        changes = {
            "report_state": state.state,
            "report_submission_id": state.file.id if state.file else None,
            "report_received_on": state.file.received_on.isoformat() if state.file else None,
        }
        if any((row.figures or {}).get(k) != v for k, v in changes.items()):
            row.figures = {**(row.figures or {}), **changes, "checked_on": as_of.isoformat()}
        out.append((follow_up, state))
    session.flush()
    return out
