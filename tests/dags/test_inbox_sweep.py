"""The ``inbox_sweep`` DAG: every 10 minutes on Chinese working days, the sweep then the send step."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pytest

pytestmark = pytest.mark.dagbag
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "inbox_sweep.py"
TZ = pendulum.timezone("Asia/Shanghai")


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert not bag.import_errors
    return bag.dags["inbox_sweep"]


def _walk(timetable, after: dt.datetime, count: int) -> list[str]:
    from airflow.timetables.base import DataInterval, TimeRestriction

    restriction = TimeRestriction(earliest=pendulum.datetime(2024, 1, 1, tz=TZ), latest=None, catchup=True)
    last, out = DataInterval.exact(pendulum.instance(after)), []
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        out.append(info.run_after.in_timezone(TZ).isoformat())
        last = info.data_interval
    return out


def test_the_sweep_sends_what_it_queued_one_run_at_a_time(dag) -> None:
    assert dag.get_task("sweep").downstream_task_ids == {"send_emails"}
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.timetable.summary == "工作日每 10 分钟"


def test_runs_every_ten_minutes_through_a_working_day(dag) -> None:
    runs = _walk(dag.timetable, dt.datetime(2024, 4, 1, 16, 3, tzinfo=TZ), 3)

    assert runs == ["2024-04-01T16:10:00+08:00", "2024-04-01T16:20:00+08:00", "2024-04-01T16:30:00+08:00"]


def test_friday_evening_is_followed_by_monday_midnight(dag) -> None:
    runs = _walk(dag.timetable, dt.datetime(2024, 3, 29, 23, 45, tzinfo=TZ), 3)

    assert runs == ["2024-03-29T23:50:00+08:00", "2024-04-01T00:00:00+08:00", "2024-04-01T00:10:00+08:00"]


def test_national_day_is_skipped_and_the_make_up_sunday_swept(dag) -> None:
    """2024: Oct 1-7 holidays; Sunday Sep 29 and Saturday Oct 12 are make-up working days."""
    before_holiday = _walk(dag.timetable, dt.datetime(2024, 9, 30, 23, 50, tzinfo=TZ), 1)
    weekend = _walk(dag.timetable, dt.datetime(2024, 9, 28, 12, 0, tzinfo=TZ), 1)

    assert before_holiday == ["2024-10-08T00:00:00+08:00"]
    assert weekend == ["2024-09-29T00:00:00+08:00"]


def test_without_catchup_the_latest_passed_slot_runs_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.timetables.base import TimeRestriction
    from review_calendar_airflow import timetables

    moment = dt.datetime(2024, 4, 6, 10, 4, tzinfo=TZ)  # Qingming (Apr 4-6): the last slot was Apr 3 23:50
    monkeypatch.setattr(timetables, "_now", lambda: moment.astimezone(dt.UTC))
    restriction = TimeRestriction(earliest=pendulum.datetime(2024, 1, 1, tz=TZ), latest=None, catchup=False)

    first = timetables.WorkingDayIntervalTimetable(10).next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction
    )

    assert first.run_after.in_timezone(TZ).isoformat() == "2024-04-03T23:50:00+08:00"


def test_the_timetable_serialises_and_is_registered() -> None:
    from airflow import plugins_manager
    from airflow.serialization.serialized_objects import decode_timetable, encode_timetable
    from review_calendar_airflow.timetables import WorkingDayIntervalTimetable

    restored = decode_timetable(encode_timetable(WorkingDayIntervalTimetable(10)))

    assert restored.serialize() == {"every_minutes": 10}
    assert (
        "review_calendar_airflow.timetables.WorkingDayIntervalTimetable"
        in plugins_manager.get_timetables_plugins()
    )
