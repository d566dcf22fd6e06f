"""Timetables that delegate to the calendar engine (``review_calendar.domain.schedule``).

Registered through ``plugins/review_calendar_plugin.py`` so they serialise.
``airflow.sdk.EventsTimetable`` does not serialise on Airflow 3.3.0-3.3.2, and
our dates depend on the Chinese working-day calendar anyway.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
from pendulum import instance as pendulum_instance

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.timetables.base import TimeRestriction
    from airflow.utils.types import DagRunType
    from pendulum import DateTime


def _now() -> dt.datetime:
    """The scheduler's present moment (one place, so tests can ask at an exact instant)."""
    return dt.datetime.now(dt.UTC)


def _load_programme(programme_id: str) -> Any:
    from review_calendar.domain.programmes import load_programme

    return load_programme(programme_id)


class DeadlineTimetable(Timetable):
    """One run per instance of an obligation, after its effective (working-day) due date.

    The data interval is the submission window: from the day the window opens
    to the end of the effective due date (2024-03-31, a Sunday, moves to
    2024-04-01; the run starts at 2024-04-02 00:00 Asia/Shanghai).
    """

    def __init__(self, programme_id: str, obligation_id: str) -> None:
        self.programme_id = programme_id
        self.obligation_id = obligation_id
        self.description = f"{programme_id}/{obligation_id}: after each effective due date (working days)"

    @property
    def summary(self) -> str:
        return f"截止日后运行 ({self.obligation_id})"

    def serialize(self) -> dict[str, Any]:
        return {"programme_id": self.programme_id, "obligation_id": self.obligation_id}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(data["programme_id"], data["obligation_id"])

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        # A manual run with a logical date covers the latest window closed by run_after; one
        # without a logical date has no interval and names its cycle in the params.
        from review_calendar.domain.runs import latest_deadline_run
        from review_calendar.domain.schedule import next_deadline_run

        programme = _load_programme(self.programme_id)
        run = latest_deadline_run(programme, self.obligation_id, run_after) or next_deadline_run(
            programme, self.obligation_id, None, run_after
        )
        if run is None:
            return DataInterval.exact(run_after)
        return DataInterval(pendulum_instance(run.start), pendulum_instance(run.end))

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        """The next window to run; without catch-up the latest closed one at once, as Airflow's own timetables.

        A DAG unpaused after a deadline runs that cycle now instead of waiting a
        year for the next one; windows skipped in between are not run.
        """
        from review_calendar.domain.runs import latest_deadline_run
        from review_calendar.domain.schedule import next_deadline_run

        programme = _load_programme(self.programme_id)
        earliest = restriction.earliest
        after = last_automated_data_interval.end if last_automated_data_interval else None
        run = None
        if not restriction.catchup:
            now = _now()
            latest = latest_deadline_run(programme, self.obligation_id, now)
            if (
                latest
                and (after is None or latest.end > after)
                and (earliest is None or latest.end >= earliest)
            ):
                run = latest
            earliest = max(earliest, now) if earliest else now
        run = run or next_deadline_run(programme, self.obligation_id, after, earliest)
        if run is None:
            return None
        if restriction.latest is not None and run.end > restriction.latest:
            return None
        return DagRunInfo.interval(start=pendulum_instance(run.start), end=pendulum_instance(run.end))

    def generate_run_id(
        self, *, run_type: DagRunType, run_after: DateTime, data_interval: DataInterval | None, **extra: Any
    ) -> str:
        """A scheduled run is named by the cycle year and period it serves: ``scheduled__2025_H1__<run_after>``.

        ASCII only: Airflow checks every run id against ``[scheduler] allowed_run_id_pattern``
        (``^[A-Za-z0-9_.~:+-]+$``); the moment keeps it unique. Other runs, and a window that
        is no instance of the obligation, keep Airflow's own id.
        """
        from airflow.utils.types import DagRunType

        from review_calendar.domain.schedule import resolve_instance

        default = super().generate_run_id(
            run_type=run_type, run_after=run_after, data_interval=data_interval, **extra
        )
        if run_type != DagRunType.SCHEDULED or data_interval is None:
            return default
        try:
            instance = resolve_instance(
                _load_programme(self.programme_id),
                self.obligation_id,
                year=None,
                period=None,
                interval_end=data_interval.end,
            )
        except ValueError:
            return default
        cycle = f"{instance.cycle_year}_{instance.period}"
        return DagRunType.SCHEDULED.generate_run_id(suffix=f"{cycle}__{run_after.isoformat()}")


class WorkingDayTimetable(Timetable):
    """One run per Chinese working day at a fixed time (Asia/Shanghai), holidays and 调休 respected."""

    def __init__(self, hour: int = 9, minute: int = 0) -> None:
        self.hour = hour
        self.minute = minute
        self.description = f"工作日 {hour:02d}:{minute:02d}（北京时间，节假日顺延，调休上班日运行）"

    @property
    def summary(self) -> str:
        return f"工作日 {self.hour:02d}:{self.minute:02d}"

    def serialize(self) -> dict[str, Any]:
        return {"hour": self.hour, "minute": self.minute}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(int(data["hour"]), int(data["minute"]))

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        from review_calendar.domain.runs import previous_working_day_run
        from review_calendar.domain.schedule import next_working_day_run

        return _next_slot_run(
            last_automated_data_interval,
            restriction,
            lambda after: next_working_day_run(after, self.hour, self.minute),
            lambda now: previous_working_day_run(now, self.hour, self.minute),
        )


class WorkingDayIntervalTimetable(Timetable):
    """A run every ``every_minutes`` minutes through each Chinese working day (Asia/Shanghai), holidays skipped.

    Slots start at 00:00 Beijing time; weekends and holidays have none, make-up
    working days (调休) have all. Without catch-up the latest slot that has
    passed runs at once and missed ones are skipped, as cron schedules do.
    """

    def __init__(self, every_minutes: int = 10) -> None:
        if not 1 <= every_minutes <= 1440:
            raise ValueError("every_minutes must be between 1 and 1440")
        self.every_minutes = every_minutes
        self.description = f"工作日每 {every_minutes} 分钟（北京时间，节假日不运行，调休上班日运行）"

    @property
    def summary(self) -> str:
        return f"工作日每 {self.every_minutes} 分钟"

    def serialize(self) -> dict[str, Any]:
        return {"every_minutes": self.every_minutes}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(int(data["every_minutes"]))

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        from review_calendar.domain.runs import next_working_slot, previous_working_slot

        return _next_slot_run(
            last_automated_data_interval,
            restriction,
            lambda after: next_working_slot(after, self.every_minutes),
            lambda now: previous_working_slot(now, self.every_minutes),
        )


def _next_slot_run(
    last: DataInterval | None,
    restriction: TimeRestriction,
    next_slot: Callable[[dt.datetime], dt.datetime],
    previous_slot: Callable[[dt.datetime], dt.datetime],
) -> DagRunInfo | None:
    """The next run of a slot timetable: the first slot after the last run (or the start date).

    Without catch-up the last slot that has passed runs at once and missed ones are
    skipped (as cron schedules do); nothing runs past the end date.
    """
    if last is not None:
        after = last.end
    elif restriction.earliest is None:
        return None
    else:
        after = restriction.earliest - dt.timedelta(microseconds=1)
    if not restriction.catchup:
        after = max(after, previous_slot(_now()) - dt.timedelta(microseconds=1))
    run_at = pendulum_instance(next_slot(after))
    if restriction.latest is not None and run_at > restriction.latest:
        return None
    return DagRunInfo.exact(run_at)
