"""The working-day timetables: next runs 2023-2027, serialisation, registration."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

pytestmark = pytest.mark.dagbag
TZ = pendulum.timezone("Asia/Shanghai")


def _restriction(earliest: dt.datetime, catchup: bool = True):
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=pendulum.instance(earliest), latest=None, catchup=catchup)


def _walk(timetable, earliest: dt.datetime, count: int) -> list:
    runs, last = [], None
    for _ in range(count):
        info = timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=_restriction(earliest)
        )
        runs.append(info)
        last = info.data_interval
    return runs


def test_contact_list_runs_the_day_after_each_effective_due_date_2023_2027() -> None:
    from review_calendar_airflow.timetables import DeadlineTimetable

    runs = _walk(
        DeadlineTimetable("hebei_smart_cluster", "contact_list"), dt.datetime(2023, 1, 1, tzinfo=TZ), 5
    )

    assert [r.run_after.in_timezone(TZ).date().isoformat() for r in runs] == [
        "2023-04-01",  # 2023-03-31 Friday
        "2024-04-02",  # 2024-03-31 Sunday → due Monday 2024-04-01
        "2025-04-01",
        "2026-04-01",
        "2027-04-01",  # 2027: weekends-only fallback (Wednesday)
    ]
    assert runs[1].data_interval.start.in_timezone(TZ).date().isoformat() == "2024-03-01"


def test_annual_table_2023_waits_for_the_labour_day_holiday() -> None:
    from review_calendar_airflow.timetables import DeadlineTimetable

    runs = _walk(
        DeadlineTimetable("miit_sme_cluster", "annual_info_table"), dt.datetime(2023, 1, 1, tzinfo=TZ), 1
    )

    assert runs[0].run_after.in_timezone(TZ).date().isoformat() == "2023-05-05"


def test_without_catchup_an_unpaused_cycle_runs_its_latest_closed_window_at_once() -> None:
    from review_calendar_airflow.timetables import DeadlineTimetable

    timetable = DeadlineTimetable("hebei_smart_cluster", "half_year_report")
    restriction = _restriction(dt.datetime(2023, 1, 1, tzinfo=TZ), catchup=False)

    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    following = timetable.next_dagrun_info(
        last_automated_data_interval=first.data_interval, restriction=restriction
    )

    now = pendulum.now("UTC")
    assert first.run_after <= now < following.run_after
    assert first.data_interval.end.in_timezone(TZ).month == 7  # the window of a July 15 report
    assert (following.run_after - first.run_after).in_days() in range(364, 368)


def test_without_catchup_windows_missed_while_paused_are_skipped() -> None:
    from airflow.timetables.base import DataInterval
    from review_calendar_airflow.timetables import DeadlineTimetable

    long_ago = DataInterval(pendulum.datetime(2023, 6, 16, tz=TZ), pendulum.datetime(2023, 7, 18, tz=TZ))
    restriction = _restriction(dt.datetime(2023, 1, 1, tzinfo=TZ), catchup=False)

    info = DeadlineTimetable("hebei_smart_cluster", "half_year_report").next_dagrun_info(
        last_automated_data_interval=long_ago, restriction=restriction
    )

    assert pendulum.now("UTC").subtract(days=366) < info.run_after <= pendulum.now("UTC")


def test_without_catchup_reminders_run_the_last_working_day_slot_at_once() -> None:
    from review_calendar_airflow.timetables import WorkingDayTimetable

    from review_calendar.domain.runs import previous_working_day_run

    restriction = _restriction(dt.datetime(2024, 1, 1, tzinfo=TZ), catchup=False)

    first = WorkingDayTimetable(9, 0).next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction
    )
    following = WorkingDayTimetable(9, 0).next_dagrun_info(
        last_automated_data_interval=first.data_interval, restriction=restriction
    )

    now = pendulum.now("UTC")
    assert first.run_after == previous_working_day_run(now, 9, 0)
    assert following.run_after > now


def test_manual_run_with_a_logical_date_covers_the_latest_closed_window() -> None:
    from review_calendar_airflow.timetables import DeadlineTimetable

    interval = DeadlineTimetable("hebei_smart_cluster", "contact_list").infer_manual_data_interval(
        run_after=pendulum.datetime(2024, 5, 20, 10, tz=TZ)
    )

    assert (
        interval.start.in_timezone(TZ).date().isoformat(),
        interval.end.in_timezone(TZ).date().isoformat(),
    ) == (
        "2024-03-01",
        "2024-04-02",
    )


def test_reminders_run_at_nine_on_working_days_only() -> None:
    from review_calendar_airflow.timetables import WorkingDayTimetable

    runs = _walk(WorkingDayTimetable(9, 0), dt.datetime(2024, 9, 30, 10, tzinfo=TZ), 3)

    assert [r.run_after.in_timezone(TZ).isoformat() for r in runs] == [
        "2024-10-08T09:00:00+08:00",  # National Day holiday skipped
        "2024-10-09T09:00:00+08:00",
        "2024-10-10T09:00:00+08:00",
    ]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda m: m.DeadlineTimetable("miit_sme_cluster", "re_review"), id="deadline"),
        pytest.param(lambda m: m.WorkingDayTimetable(9, 30), id="working-day"),
    ],
)
def test_timetables_serialise_and_are_registered(make) -> None:
    from airflow import plugins_manager
    from airflow.serialization.serialized_objects import decode_timetable, encode_timetable
    from review_calendar_airflow import timetables

    timetable = make(timetables)

    restored = decode_timetable(encode_timetable(timetable))

    assert restored.serialize() == timetable.serialize()
    assert type(restored).__name__ == type(timetable).__name__
    assert (
        f"review_calendar_airflow.timetables.{type(timetable).__name__}"
        in plugins_manager.get_timetables_plugins()
    )
