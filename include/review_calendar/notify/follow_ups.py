"""Notices and reminders of the follow-ups a decision opened (a pilot's 整改报告).

Each follow-up (:mod:`review_calendar.decide.rectification`) is owed by one region
by its own due date. It is planned exactly like a dated report
(:mod:`review_calendar.notify.reminders`): the window-opening notice with the
deadline once, the reminders of the programme's schedule before and after it,
the contact fallback to the city and the gap report; the outbox's natural keys
make a re-run of the day queue nothing. A region whose report arrived (on time
or late) is not reminded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from review_calendar.aggregate.states import OUTSTANDING_STATES
from review_calendar.decide.rectification import follow_up_instance, follow_ups, report_state
from review_calendar.notify.recipients import ContactBook
from review_calendar.notify.reminders import InstancePlanner, ReminderPlan
from review_calendar.notify.stages import reminder_stage

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable
    from pathlib import Path

    from sqlalchemy.orm import Session

    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import ObligationInstance, Programme

log = logging.getLogger(__name__)


def plan_follow_up_reminders(
    session: Session,
    programme: Programme,
    as_of: dt.date,
    calendar: WorkingCalendar,
    *,
    template_for: Callable[[ObligationInstance], str | Path | None] | None = None,
) -> ReminderPlan:
    """Queue the day's notices and reminders of a programme's open follow-ups.

    Args:
        session: Open session; the caller commits (or rolls back a dry run).
        programme: The programme.
        as_of: The planning day; nothing is planned on a non-working day.
        calendar: The working calendar.
        template_for: Returns the template file to attach for a follow-up's instance.

    Returns:
        The plan (cycle year 0: follow-ups of any cycle), counts and masked lines.
    """
    from review_calendar.store.queries import Submitter

    plan = ReminderPlan(programme.id, 0, as_of)
    if not calendar.is_working_day(as_of):
        return plan
    books: dict[int, ContactBook] = {}
    for follow_up in follow_ups(session, programme):
        if follow_up.opened_on > as_of or not follow_up.region_code:
            continue
        instance = follow_up_instance(programme, follow_up)
        obligation = programme.obligation(instance.obligation_id)
        stage = reminder_stage(programme.reminders_for(obligation), instance.effective_due, as_of, calendar)
        if stage is None and as_of > instance.effective_due:
            continue
        verdict = report_state(session, programme, follow_up, as_of)
        if verdict.state not in OUTSTANDING_STATES:
            continue
        book = books.get(follow_up.cycle_year)
        if book is None:
            book = books[follow_up.cycle_year] = ContactBook.load(session, programme, follow_up.cycle_year)
        who = book.submitter(follow_up.region_code)
        submitter = Submitter(who.region_code, who.region_name, who.city_code, follow_up.cluster_id,
                              follow_up.cluster_name)  # fmt: skip
        attachment = template_for(instance) if template_for else None
        plan.instances += 1
        opening_day = as_of == calendar.next_working_day(instance.opens_on)
        planner = InstancePlanner(
            session,
            plan,
            book,
            programme,
            instance,
            as_of,
            [str(attachment)] if attachment else [],
            opening_day,
        )
        planner.run(stage, {follow_up.region_code: (submitter, [follow_up.cluster_name], verdict)})
    log.info("Follow-ups of %s as of %s: %d new messages", programme.id, as_of, plan.queued)
    return plan
