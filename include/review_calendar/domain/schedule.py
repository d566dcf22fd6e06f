"""When the pipelines run: pure functions behind the Airflow timetables.

The timetables in ``plugins/`` only convert between these dates and Airflow's
run information, so the scheduling rules are tested here without Airflow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from review_calendar.domain.calendar import TZ, WorkingCalendar, default_calendar
from review_calendar.domain.programmes import ObligationInstance, Programme, instances_for_year

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


@dataclass(frozen=True, slots=True)
class DeadlineRun:
    """One run of an obligation's cycle DAG: the window of an instance.

    The window opens at 00:00 on ``opens_on`` and closes at 00:00 on the day
    after the effective due date, when the run is scheduled: a submission made
    on the due day is on time.
    """

    instance: ObligationInstance
    start: dt.datetime
    end: dt.datetime


def deadline_run(instance: ObligationInstance) -> DeadlineRun:
    """The run window of ``instance`` in Asia/Shanghai."""
    start = dt.datetime.combine(instance.opens_on, dt.time.min, tzinfo=TZ)
    end = dt.datetime.combine(instance.effective_due + dt.timedelta(days=1), dt.time.min, tzinfo=TZ)
    return DeadlineRun(instance, start, end)


def next_deadline_run(
    programme: Programme,
    obligation_id: str,
    after: dt.datetime | None,
    earliest: dt.datetime | None,
    calendar: WorkingCalendar | None = None,
    horizon_years: int = 3,
) -> DeadlineRun | None:
    """The first run of an obligation that ends after ``after`` and not before ``earliest``.

    Args:
        programme: The programme.
        obligation_id: The obligation whose deadlines schedule the DAG.
        after: End of the last scheduled run (None for the first run).
        earliest: Runs ending before this are skipped (DAG start date, or now without catch-up).
        calendar: Working calendar (default: configured one).
        horizon_years: How many cycles ahead to look.

    Returns:
        The next run, or None if the programme has no such obligation instance in the horizon.
    """
    calendar = calendar or default_calendar()
    bound = max((x for x in (after, earliest) if x is not None), default=None)
    start_year = bound.astimezone(TZ).year - 2 if bound else programme.first_year
    for year in range(
        max(start_year, programme.first_year), (bound.year if bound else start_year) + horizon_years + 1
    ):
        for instance in instances_for_year(programme, year, calendar):
            if instance.obligation_id != obligation_id:
                continue
            run = deadline_run(instance)
            if after is not None and run.end <= after:
                continue
            if earliest is not None and run.end < earliest:
                continue
            return run
    return None


def next_working_day_run(
    after: dt.datetime, hour: int, minute: int, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The first working day at ``hour:minute`` Asia/Shanghai strictly after ``after``."""
    calendar = calendar or default_calendar()
    local = after.astimezone(TZ)
    day = local.date()
    candidate = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)
    if candidate <= local:
        day += dt.timedelta(days=1)
    day = calendar.next_working_day(day)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def resolve_instance(
    programme: Programme,
    obligation_id: str,
    *,
    year: int | None,
    period: str | None,
    interval_end: dt.datetime | None,
    calendar: WorkingCalendar | None = None,
) -> ObligationInstance:
    """Which instance a DAG run works on.

    An explicit ``year`` (and ``period``) from the run's params wins (re-runs and
    back-fills); otherwise the instance whose window closes at ``interval_end``
    (a run scheduled by :class:`DeadlineTimetable`).

    Raises:
        ValueError: Neither identifies an instance of the obligation.
    """
    calendar = calendar or default_calendar()
    if year is not None:
        candidates = [
            i for i in instances_for_year(programme, year, calendar) if i.obligation_id == obligation_id
        ]
        chosen = [i for i in candidates if period in (None, "", i.period)]
        if not chosen:
            raise ValueError(f"{programme.id}/{obligation_id}: no period {period!r} in {year}")
        return chosen[0]
    if interval_end is not None:
        closes = interval_end.astimezone(TZ).date()
        for y in (closes.year - 1, closes.year, closes.year - 2):
            for i in instances_for_year(programme, y, calendar):
                if i.obligation_id == obligation_id and i.effective_due + dt.timedelta(days=1) == closes:
                    return i
    raise ValueError(
        f"{programme.id}/{obligation_id}: give a year (no scheduled window ends at {interval_end})"
    )


def years_touched(instances: Iterable[ObligationInstance]) -> set[int]:
    """The years whose working days decide the instances' effective due dates.

    Only these years need holiday data: the years from each statutory due date to
    its effective one (Programme A's 2026 cycle touches 2027 through its Jan 15 report;
    Programme B's lies wholly in 2026).
    """
    return {y for i in instances for y in range(i.statutory_due.year, i.effective_due.year + 1)}


def cycle_warnings(
    programme: Programme, cycle_year: int, calendar: WorkingCalendar | None = None
) -> list[str]:
    """Warnings for the years without holiday data that the cycle's due dates actually touch."""
    calendar = calendar or default_calendar()
    return calendar.warnings(years_touched(instances_for_year(programme, cycle_year, calendar)))


def closes_at(instance: ObligationInstance) -> dt.datetime:
    """The moment the submission window of ``instance`` closes (00:00 after the effective due date)."""
    return deadline_run(instance).end


@dataclass(frozen=True, slots=True)
class DeadlineMove:
    """An announced effective due date against the one the current holiday table gives.

    Attributes:
        instance: The instance with its effective due date as it now stands.
        announced: The effective due date announced before (stored when the cycle was recorded).
        computed: The date the current holiday table gives.
    """

    instance: ObligationInstance
    announced: dt.date
    computed: dt.date

    @property
    def effective(self) -> dt.date:
        """The due date that holds: an announced deadline is never shortened."""
        return max(self.announced, self.computed)

    @property
    def moved(self) -> bool:
        """The deadline moves later (counties are told); an earlier computed date moves nothing."""
        return self.effective != self.announced


def deadline_moves(
    programme: Programme,
    cycle_year: int,
    announced: Mapping[str, dt.date],
    calendar: WorkingCalendar | None = None,
) -> list[DeadlineMove]:
    """Compare announced due dates of a cycle with what the holiday table now gives.

    Used after a year's arrangement is added to the holiday table: 2028-04-30 (Sunday)
    announced as 2028-05-03 while 2028 had no data moves to 2028-05-05 if the State
    Council makes May 1-5 a holiday; it stays 2028-05-03 if a make-up working day would
    allow an earlier date.

    Args:
        programme: The programme.
        cycle_year: The cycle.
        announced: Announced effective due dates by instance key (instances without one are left out).
        calendar: The working calendar (default: the configured one); its own announced dates are ignored.

    Returns:
        One entry per announced instance of the cycle.
    """
    calendar = calendar or default_calendar()
    plain = dataclasses.replace(calendar, announced={}, _warned=set())
    moves = []
    for fresh in instances_for_year(programme, cycle_year, plain):
        if fresh.key not in announced:
            continue
        move = DeadlineMove(fresh, announced[fresh.key], fresh.effective_due)
        moves.append(
            dataclasses.replace(move, instance=dataclasses.replace(fresh, effective_due=move.effective))
        )
    return moves


def judged_again(received_on: dt.date, was_late: bool, new_due: dt.date) -> bool:
    """Whether a file judged late becomes on time under a moved deadline (only ever in the county's favour)."""
    return was_late and received_on <= new_due
