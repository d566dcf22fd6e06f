"""Which reminder goes out on which day: working days, shifted stages, overdue cadence, escalation."""

from __future__ import annotations

import datetime as dt

import pytest

from review_calendar.domain.calendar import WorkingCalendar
from review_calendar.domain.programmes import ReminderSchedule
from review_calendar.notify.stages import escalation_for, reminder_stage

pytestmark = pytest.mark.unit

CALENDAR = WorkingCalendar()  # chinese-calendar data, no extra table
DEFAULT = ReminderSchedule()  # 14, 7, 3, 1 days before; due day; every 3 working days; city 3, province 10
DUE = dt.date(2025, 7, 15)  # half-year report 2025 (Tuesday), 冀工信产业〔2016〕93号 五


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("as_of", "name", "days_left", "overdue", "escalation"),
    [
        pytest.param("2025-07-01", "before_14", 14, 0, "none", id="14-days-before"),
        pytest.param("2025-07-08", "before_7", 7, 0, "none", id="7-days-before"),
        pytest.param("2025-07-11", "before_3", 4, 0, "none", id="3-days-before-on-saturday-goes-out-friday"),
        pytest.param("2025-07-14", "before_1", 1, 0, "none", id="1-day-before"),
        pytest.param("2025-07-15", "due_day", 0, 0, "none", id="due-day"),
        pytest.param("2025-07-18", "overdue_3", -3, 3, "city", id="3-working-days-overdue-copies-city"),
        pytest.param("2025-07-23", "overdue_6", -8, 6, "city", id="6-working-days-overdue"),
        pytest.param(
            "2025-07-31", "overdue_12", -16, 12, "province", id="12-working-days-overdue-copies-province"
        ),
    ],
)
def test_stage_of_a_reminder_day(
    as_of: str, name: str, days_left: int, overdue: int, escalation: str
) -> None:
    stage = reminder_stage(DEFAULT, DUE, _day(as_of), CALENDAR)

    assert stage is not None
    assert (stage.name, stage.days_left, stage.working_days_overdue, stage.escalation) == (
        name,
        days_left,
        overdue,
        escalation,
    )


@pytest.mark.parametrize(
    "as_of",
    [
        pytest.param("2025-07-09", id="between-scheduled-reminders"),
        pytest.param("2025-07-12", id="saturday"),
        pytest.param("2025-07-16", id="1-working-day-overdue"),
        pytest.param("2025-07-17", id="2-working-days-overdue"),
        pytest.param("2025-06-20", id="25-days-before"),
    ],
)
def test_no_reminder_on_other_days(as_of: str) -> None:
    assert reminder_stage(DEFAULT, DUE, _day(as_of), CALENDAR) is None


def test_reminders_before_a_holiday_go_out_on_the_last_working_day_before_it() -> None:
    # 2023-04-30 moves to 2023-05-04 (Labour Day holiday 04-29..05-03); before_3 and
    # before_1 fall in the holiday, so the closest one goes out on Friday 04-28.
    stage = reminder_stage(DEFAULT, dt.date(2023, 5, 4), dt.date(2023, 4, 28), CALENDAR)

    assert stage is not None
    assert (stage.name, stage.days_left) == ("before_1", 6)


def test_make_up_working_day_counts_as_a_working_day() -> None:
    # Saturday 2023-05-06 was a make-up working day (调休): 2 working days after 05-04.
    schedule = ReminderSchedule(overdue_every_working_days=2)

    stage = reminder_stage(schedule, dt.date(2023, 5, 4), dt.date(2023, 5, 6), CALENDAR)

    assert stage is not None
    assert stage.name == "overdue_2"


def test_reminders_stop_after_the_configured_working_days() -> None:
    schedule = ReminderSchedule(stop_after_days=6)

    last = reminder_stage(schedule, DUE, _day("2025-07-23"), CALENDAR)
    after = reminder_stage(schedule, DUE, _day("2025-07-28"), CALENDAR)

    assert last is not None and last.name == "overdue_6"
    assert after is None


def test_due_day_reminder_can_be_switched_off() -> None:
    assert reminder_stage(ReminderSchedule(on_due_day=False), DUE, DUE, CALENDAR) is None


@pytest.mark.parametrize(
    ("overdue", "expected"),
    [
        pytest.param(0, "none", id="not-overdue"),
        pytest.param(2, "none", id="below-city"),
        pytest.param(3, "city", id="city-threshold"),
        pytest.param(9, "city", id="below-province"),
        pytest.param(10, "province", id="province-threshold"),
    ],
)
def test_escalation_thresholds(overdue: int, expected: str) -> None:
    assert escalation_for(DEFAULT, overdue) == expected
