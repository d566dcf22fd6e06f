"""Deadlines moved by a holiday arrangement published after they were announced.

The State Council publishes a year's holidays late in the previous year, often
after a cycle's dates were recorded (announced) with the fallback calendar. When
the arrangement is added to ``config/holidays.yaml``, :func:`recompute_deadlines`
(``review-calendar deadlines recompute``, and the cycle and reminder DAGs before
they act) compares each recorded instance with what the table now gives:

- a deadline moves later when the arrangement says so, and is never shortened
  (a newly published make-up working day does not pull it earlier);
- a file judged late becomes on time when it arrived by the new date; nothing
  is ever judged again against the county;
- each expected submitter of a moved instance gets one e-mail (outbox kind
  ``deadline_moved``, keyed by the new date: re-running queues nothing new).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.domain.calendar import WorkingCalendar, default_calendar
from review_calendar.domain.schedule import DeadlineMove, deadline_moves, judged_again
from review_calendar.store.db import session_scope
from review_calendar.store.tables.intake import ObligationInstanceRow, Submission

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recomputed:
    """What one recomputation did.

    Attributes:
        moves: Every recorded instance of the cycle with its announced and computed date.
        rejudged: Submissions turned from late to on time.
        queued: E-mails queued (0 on a re-run).
    """

    moves: tuple[DeadlineMove, ...]
    rejudged: int
    queued: int

    @property
    def moved(self) -> tuple[DeadlineMove, ...]:
        """The instances whose deadline moved later."""
        return tuple(m for m in self.moves if m.moved)


def announced_dues(session: Session, programme_id: str, cycle_year: int | None = None) -> dict[str, dt.date]:
    """Effective due dates recorded (announced) for a programme, by instance key."""
    stmt = select(ObligationInstanceRow).where(ObligationInstanceRow.programme_id == programme_id)
    if cycle_year is not None:
        stmt = stmt.where(ObligationInstanceRow.cycle_year == cycle_year)
    return {
        f"{r.programme_id}/{r.cycle_year}/{r.obligation_id}/{r.period}": r.effective_due
        for r in session.scalars(stmt)
    }


def recompute_deadlines(
    url: str,
    programme: Programme,
    cycle_year: int,
    *,
    as_of: dt.date,
    calendar: WorkingCalendar | None = None,
    notify: bool = True,
) -> Recomputed:
    """Move a cycle's recorded deadlines to what the holiday table now gives (never earlier).

    Args:
        url: Review database URL.
        programme: The programme.
        cycle_year: The cycle.
        as_of: The planning day of the e-mails.
        calendar: The working calendar (default: the process's); it learns the announced dates,
            so every instance computed afterwards in this process keeps them.
        notify: Queue the e-mails to the counties concerned.

    Returns:
        The moves, the files judged again and the e-mails queued.
    """
    calendar = calendar or default_calendar()
    rejudged = queued = 0
    with session_scope(url) as session:
        announced = announced_dues(session, programme.id, cycle_year)
        moves = deadline_moves(programme, cycle_year, announced, calendar)
        for move in moves:
            if not move.moved:
                continue
            i = move.instance
            row = session.scalars(
                select(ObligationInstanceRow).where(
                    ObligationInstanceRow.programme_id == i.programme_id,
                    ObligationInstanceRow.cycle_year == i.cycle_year,
                    ObligationInstanceRow.obligation_id == i.obligation_id,
                    ObligationInstanceRow.period == i.period,
                )
            ).one()
            row.effective_due = move.effective
            rejudged += _rejudge(session, move)
            log.warning("Deadline of %s moved from %s to %s", i.key, move.announced, move.effective)
            if notify:
                queued += _tell(session, programme, move, as_of)
    calendar.announce({m.instance.key: m.effective for m in moves})
    return Recomputed(tuple(moves), rejudged, queued)


def install_announced(url: str, programme_id: str, calendar: WorkingCalendar | None = None) -> None:
    """Teach the process's calendar the announced dates, so no later computation shortens them."""
    with session_scope(url) as session:
        (calendar or default_calendar()).announce(announced_dues(session, programme_id))


def _rejudge(session: Session, move: DeadlineMove) -> int:
    from review_calendar.store.queries import instance_filter

    count = 0
    late = select(Submission).where(*instance_filter(Submission, move.instance), Submission.is_late.is_(True))
    for sub in session.scalars(late):
        if judged_again(sub.received_on, sub.is_late, move.effective):
            sub.is_late = False
            count += 1
    return count


def _tell(session: Session, programme: Programme, move: DeadlineMove, as_of: dt.date) -> int:
    from review_calendar.notify.outbox import queue
    from review_calendar.notify.recipients import ContactBook
    from review_calendar.notify.render import render_deadline_moved
    from review_calendar.store.queries import expected_submitters

    instance = move.instance
    book = ContactBook.load(session, programme, instance.cycle_year)
    queued = 0
    seen: set[str] = set()
    for submitter in expected_submitters(session, programme, instance):
        if submitter.region_code in seen:
            continue
        seen.add(submitter.region_code)
        rec = book.resolve(submitter)
        if not rec.to:
            log.warning("Deadline change of %s not sent: region %s has no valid contact", instance.key,
                        submitter.region_code)  # fmt: skip
            continue
        rendered = render_deadline_moved(
            programme,
            instance,
            announced=move.announced,
            region_name=submitter.region_name,
            as_of=as_of,
            via_city=book.region_name(submitter.city_code) if rec.via_city else None,
        )
        queued += queue(
            session,
            kind="deadline_moved",
            programme_id=programme.id,
            instance_key=instance.key,
            region_code=submitter.region_code,
            stage=f"moved_to_{move.effective.isoformat()}",
            to=rec.to,
            subject=rendered.subject,
            body=rendered.body,
            created_on=as_of,
        )
    return queued


def refresh_deadlines(url: str, programme: Programme, as_of: dt.date, *, notify: bool = True) -> int:
    """Before a cycle or reminder run acts: recompute every recorded cycle still in reach, learn the dates.

    Cycles whose recorded deadlines all lie more than a year before ``as_of`` are left alone.

    Returns:
        How many deadlines moved.
    """
    import datetime as dt

    horizon = as_of - dt.timedelta(days=366)
    with session_scope(url) as session:
        years = sorted(
            set(
                session.scalars(
                    select(ObligationInstanceRow.cycle_year).where(
                        ObligationInstanceRow.programme_id == programme.id,
                        ObligationInstanceRow.effective_due >= horizon,
                    )
                )
            )
        )
    moved = 0
    for year in years:
        moved += len(recompute_deadlines(url, programme, year, as_of=as_of, notify=notify).moved)
    install_announced(url, programme.id)
    return moved
