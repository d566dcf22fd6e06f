"""Which reminder, if any, a lagging submitter gets on a given day.

Pure functions over a :class:`~review_calendar.domain.programmes.ReminderSchedule`,
an effective due date and the working calendar. The source documents fix the due dates
(e.g. 冀工信产业〔2016〕93号 五: 7月15日、1月15日前报送) but say nothing about
reminders; the schedule is programme data (``reminders:`` in the programme
file) and the rules here are ours:

- reminders go out on working days only (officials read them at work);
- a ``before_N`` reminder whose day falls on a weekend or holiday goes out on
  the last working day before it, so the notice period is never shortened;
  when several fall on the same working day, the one closest to the deadline
  names the stage;
- after the effective due date, a reminder every ``overdue_every_working_days``
  working days, named by the working days overdue (``overdue_3``,
  ``overdue_6``...), until ``stop_after_days`` working days overdue;
- overdue reminders escalate: the city bureau's leader in charge is copied from
  ``escalate_city_after_days`` working days overdue (the city bureaus guide and
  supervise the pilots, 冀工信产业〔2016〕93号 一), the province's responsible
  division from ``escalate_province_after_days`` (the division receives the
  submissions, 同上 七).

All "days overdue" limits of the schedule count working days, like the
statutory time limits they follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import ReminderSchedule

Escalation = Literal["none", "city", "province"]
ESCALATION_ORDER: dict[str, int] = {"none": 0, "city": 1, "province": 2}


@dataclass(frozen=True, slots=True)
class Stage:
    """The reminder due on one day for one obligation instance.

    Attributes:
        name: ``before_14``... ``before_1``, ``due_day``, ``overdue_<working days>``;
            part of the outbox natural key, so one reminder per stage and recipient.
        days_left: Calendar days until the effective due date (negative when overdue).
        working_days_overdue: Working days after the effective due date (0 before it).
        escalation: Who is copied: ``none``, ``city`` (the city bureau's leader in
            charge) or ``province`` (the city leader and the province's division).
    """

    name: str
    days_left: int
    working_days_overdue: int
    escalation: Escalation

    @property
    def overdue(self) -> bool:
        """True once the effective due date has passed."""
        return self.days_left < 0


def escalation_for(schedule: ReminderSchedule, working_days_overdue: int) -> Escalation:
    """Who is copied on a reminder that many working days overdue.

    Args:
        schedule: The obligation's reminder schedule.
        working_days_overdue: Working days after the effective due date (0 or less: not overdue).

    Returns:
        ``none`` before the due date has passed or below the city threshold,
        ``city`` from ``escalate_city_after_days``, ``province`` from
        ``escalate_province_after_days``.
    """
    if working_days_overdue <= 0:
        return "none"
    if working_days_overdue >= schedule.escalate_province_after_days:
        return "province"
    if working_days_overdue >= schedule.escalate_city_after_days:
        return "city"
    return "none"


def reminder_stage(
    schedule: ReminderSchedule, effective_due: dt.date, as_of: dt.date, calendar: WorkingCalendar
) -> Stage | None:
    """The reminder stage due on ``as_of``, or None when no reminder goes out that day.

    Args:
        schedule: The obligation's reminder schedule (``Programme.reminders_for``).
        effective_due: The effective due date (statutory date moved to a working day).
        as_of: The day the reminders are planned for (Asia/Shanghai calendar date).
        calendar: The working calendar (make-up working days count as working days).

    Returns:
        The stage, or None on a non-working day, between scheduled reminders,
        and after ``stop_after_days`` working days overdue.
    """
    if not calendar.is_working_day(as_of):
        return None
    days_left = (effective_due - as_of).days
    if days_left > 0:
        # Reminder days up to (not including) the next working day are sent today.
        next_working = calendar.next_working_day(as_of + dt.timedelta(days=1))
        covered = {days_left - offset for offset in range((next_working - as_of).days)}
        due_today = sorted(n for n in covered if n >= 1 and n in schedule.days_before)
        if not due_today:
            return None
        return Stage(f"before_{due_today[0]}", days_left, 0, "none")
    if days_left == 0:
        return Stage("due_day", 0, 0, "none") if schedule.on_due_day else None
    overdue = calendar.working_days_between(effective_due, as_of)
    if overdue > schedule.stop_after_days or overdue % schedule.overdue_every_working_days:
        return None
    return Stage(f"overdue_{overdue}", days_left, overdue, escalation_for(schedule, overdue))
