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
    from airflow.timetables.base import TimeRestriction
    from pendulum import DateTime


def _load_programme(programme_id: str) -> Any:
    from review_calendar.tasks import load_programme

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
        # A manual run covers the latest window that has closed by run_after
        # (re-running a past cycle uses the params form instead).
        from review_calendar.domain.programmes import instances_for_year
        from review_calendar.domain.schedule import deadline_run

        programme = _load_programme(self.programme_id)
        runs = [
            deadline_run(i)
            for year in range(run_after.year - 2, run_after.year + 1)
            for i in instances_for_year(programme, year)
            if i.obligation_id == self.obligation_id
        ]
        closed = [r for r in runs if r.end <= run_after] or runs[:1]
        last = max(closed, key=lambda r: r.end)
        return DataInterval(pendulum_instance(last.start), pendulum_instance(last.end))

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        from review_calendar.domain.schedule import next_deadline_run

        earliest = restriction.earliest
        if not restriction.catchup:
            now = dt.datetime.now(dt.UTC)
            earliest = max(earliest, now) if earliest else now
        after = last_automated_data_interval.end if last_automated_data_interval else None
        run = next_deadline_run(_load_programme(self.programme_id), self.obligation_id, after, earliest)
        if run is None:
            return None
        if restriction.latest is not None and run.end > restriction.latest:
            return None
        return DagRunInfo.interval(start=pendulum_instance(run.start), end=pendulum_instance(run.end))


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
        from review_calendar.domain.schedule import next_working_day_run

        if last_automated_data_interval is not None:
            after = last_automated_data_interval.end
        elif restriction.earliest is None:
            return None
        else:
            after = restriction.earliest - dt.timedelta(microseconds=1)
        if not restriction.catchup:
            after = max(after, dt.datetime.now(dt.UTC) - dt.timedelta(microseconds=1))
        run_at = pendulum_instance(next_working_day_run(after, self.hour, self.minute))
        if restriction.latest is not None and run_at > restriction.latest:
            return None
        return DagRunInfo.exact(run_at)
