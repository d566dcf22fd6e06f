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


def _ask_at(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    from review_calendar_airflow import timetables

    monkeypatch.setattr(timetables, "_now", lambda: moment.astimezone(dt.UTC))


def test_reminders_asked_30_s_after_nine_on_a_due_day_keep_that_days_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2024-04-01 (Monday) is the effective due day of the contact list (Mar 31 was a Sunday).

    A scheduler that looks 30 s late must still run the 09:00 reminders of that day, as
    Airflow's cron timetables keep the latest missed run without catch-up.
    """
    from airflow.timetables.base import DataInterval
    from review_calendar_airflow.timetables import WorkingDayTimetable

    _ask_at(monkeypatch, dt.datetime(2024, 4, 1, 9, 0, 30, tzinfo=TZ))
    friday = pendulum.datetime(2024, 3, 29, 9, tz=TZ)
    restriction = _restriction(dt.datetime(2024, 1, 1, tzinfo=TZ), catchup=False)

    after_friday = WorkingDayTimetable(9, 0).next_dagrun_info(
        last_automated_data_interval=DataInterval.exact(friday), restriction=restriction
    )
    first_ever = WorkingDayTimetable(9, 0).next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction
    )

    assert after_friday.run_after.in_timezone(TZ).isoformat() == "2024-04-01T09:00:00+08:00"
    assert first_ever.run_after.in_timezone(TZ).isoformat() == "2024-04-01T09:00:00+08:00"


def test_reminders_asked_30_s_before_nine_run_the_previous_working_day_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.timetables.base import DataInterval
    from review_calendar_airflow.timetables import WorkingDayTimetable

    _ask_at(monkeypatch, dt.datetime(2024, 4, 1, 8, 59, 30, tzinfo=TZ))
    restriction = _restriction(dt.datetime(2024, 1, 1, tzinfo=TZ), catchup=False)

    info = WorkingDayTimetable(9, 0).next_dagrun_info(
        last_automated_data_interval=DataInterval.exact(pendulum.datetime(2024, 3, 29, 9, tz=TZ)),
        restriction=restriction,
    )

    assert info.run_after.in_timezone(TZ).isoformat() == "2024-04-01T09:00:00+08:00"


def test_cycle_asked_30_s_after_the_window_closes_runs_that_years_cycle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """冀工信产业〔2016〕93号 七 (Mar 31): the 2024 window closes 2024-04-02 00:00 (due Monday Apr 1).

    Asked 30 s later, the cycle timetable runs the 2024 cycle, not the 2025 one.
    """
    from airflow.timetables.base import DataInterval
    from review_calendar_airflow.timetables import DeadlineTimetable

    _ask_at(monkeypatch, dt.datetime(2024, 4, 2, 0, 0, 30, tzinfo=TZ))
    timetable = DeadlineTimetable("hebei_smart_cluster", "contact_list")
    restriction = _restriction(dt.datetime(2023, 1, 1, tzinfo=TZ), catchup=False)
    last_year = DataInterval(pendulum.datetime(2023, 3, 1, tz=TZ), pendulum.datetime(2023, 4, 1, tz=TZ))

    after_last_year = timetable.next_dagrun_info(
        last_automated_data_interval=last_year, restriction=restriction
    )
    first_ever = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    then = timetable.next_dagrun_info(
        last_automated_data_interval=after_last_year.data_interval, restriction=restriction
    )

    for info in (after_last_year, first_ever):
        assert (
            info.data_interval.start.in_timezone(TZ).date().isoformat(),
            info.data_interval.end.in_timezone(TZ).isoformat(),
        ) == ("2024-03-01", "2024-04-02T00:00:00+08:00")
    assert then.run_after.in_timezone(TZ).date().isoformat() == "2025-04-01"


def test_cycle_asked_30_s_after_the_apr_30_window_closes_keeps_the_2023_cycle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """工信部企业〔2022〕119号 第十六条 (Apr 30): 2023's table was due 2023-05-04 after Labour Day."""
    from review_calendar_airflow.timetables import DeadlineTimetable

    _ask_at(monkeypatch, dt.datetime(2023, 5, 5, 0, 0, 30, tzinfo=TZ))

    info = DeadlineTimetable("miit_sme_cluster", "annual_info_table").next_dagrun_info(
        last_automated_data_interval=None,
        restriction=_restriction(dt.datetime(2023, 1, 1, tzinfo=TZ), catchup=False),
    )

    assert info.data_interval.end.in_timezone(TZ).isoformat() == "2023-05-05T00:00:00+08:00"


def test_a_scheduled_cycle_run_is_named_by_its_cycle_year_and_period() -> None:
    import re

    from airflow.configuration import conf
    from airflow.utils.types import DagRunType
    from review_calendar_airflow.timetables import DeadlineTimetable

    timetable = DeadlineTimetable("hebei_smart_cluster", "contact_list")
    (info,) = _walk(timetable, dt.datetime(2024, 1, 1, tzinfo=TZ), 1)

    def run_id(run_type: DagRunType, data_interval) -> str:
        return timetable.generate_run_id(
            run_type=run_type, run_after=info.run_after, data_interval=data_interval, partition_key=None
        )

    named = run_id(DagRunType.SCHEDULED, info.data_interval)
    assert named == f"scheduled__2024_Y__{info.run_after.isoformat()}"
    assert re.match(conf.get("scheduler", "allowed_run_id_pattern").strip(), named)
    assert run_id(DagRunType.MANUAL, info.data_interval) == f"manual__{info.run_after.isoformat()}"
    off = type(info.data_interval)(info.data_interval.start, info.data_interval.end.add(days=1))
    assert run_id(DagRunType.SCHEDULED, off) == f"scheduled__{info.run_after.isoformat()}"
