"""The calendar engine against the documented due-date examples and the cycle/validity rules."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from review_calendar.domain.calendar import (
    HolidayTableError,
    WorkingCalendar,
    cycle_year_of,
    due_date,
    expires_in_year,
    extend_validity,
    parse_holiday_table,
    pilot_period_ok,
    statutory_date,
    valid_until,
)

pytestmark = pytest.mark.unit
D = dt.date


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(
    ("statutory", "effective"),
    [
        pytest.param(D(2024, 3, 31), D(2024, 4, 1), id="2024-03-31-sunday-moves-to-monday"),
        pytest.param(D(2023, 4, 30), D(2023, 5, 4), id="2023-04-30-labour-day-holiday"),
        pytest.param(D(2023, 7, 15), D(2023, 7, 17), id="2023-07-15-saturday"),
        pytest.param(D(2025, 3, 31), D(2025, 3, 31), id="2025-03-31-monday-stays"),
        pytest.param(D(2024, 6, 30), D(2024, 7, 1), id="2024-06-30-sunday"),
        pytest.param(D(2024, 7, 15), D(2024, 7, 15), id="2024-07-15-monday"),
        pytest.param(D(2025, 1, 15), D(2025, 1, 15), id="2025-01-15-wednesday"),
        pytest.param(D(2024, 10, 1), D(2024, 10, 8), id="national-day-week"),
    ],
)
def test_due_date_moves_to_next_working_day(calendar: WorkingCalendar, statutory: D, effective: D) -> None:
    assert due_date(statutory, "next_working_day", calendar) == effective


def test_make_up_working_saturday_counts_as_working_day(calendar: WorkingCalendar) -> None:
    # 2023-05-06 (Saturday) was a 调休 working day after the Labour Day holiday.
    assert calendar.is_working_day(D(2023, 5, 6)) is True


def test_due_date_without_shift_rule_keeps_statutory_date(calendar: WorkingCalendar) -> None:
    assert due_date(D(2024, 3, 31), "none", calendar) == D(2024, 3, 31)


def test_year_without_data_falls_back_to_weekends_with_one_warning(
    calendar: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="review_calendar.domain.calendar")

    saturday = calendar.next_working_day(D(2031, 5, 3))
    again = calendar.next_working_day(D(2031, 10, 4))

    assert (saturday, again) == (D(2031, 5, 5), D(2031, 10, 6))
    assert [r.message for r in caplog.records].count(
        "No holiday data for 2031: counting weekends and the fixed-date holidays"
        " (Jan 1, May 1-2, Oct 1-3). Add the year to the holiday table."
    ) == 1
    assert calendar.source_for(2031) == "weekends-only"
    assert "2031" in calendar.warnings([2031])[0]


def test_configured_year_extends_the_library(tmp_path: Path) -> None:
    table = tmp_path / "holidays.yaml"
    table.write_text(
        "2031:\n  holidays: [2031-05-01, 2031-05-02]\n  workdays: [2031-05-10]\n", encoding="utf-8"
    )
    calendar = WorkingCalendar.from_file(table)

    assert calendar.source_for(2031) == "configured"
    assert calendar.next_working_day(D(2031, 5, 1)) == D(2031, 5, 5)
    assert calendar.is_working_day(D(2031, 5, 10)) is True


def test_configured_year_overrides_library_data(tmp_path: Path) -> None:
    table = tmp_path / "holidays.yaml"
    table.write_text("2025:\n  holidays: [2025-03-31]\n", encoding="utf-8")

    assert due_date(D(2025, 3, 31), "next_working_day", WorkingCalendar.from_file(table)) == D(2025, 4, 1)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("2031: {holidays: [2031-13-01]}", "month must be in 1..12", id="bad-date"),
        pytest.param(
            "2031: {holidays: [May 1st]}", "2031.holidays: 'May 1st' is not a date", id="not-a-date"
        ),
        pytest.param("2031: {holidays: [2030-05-01]}", "is not in 2031", id="date-of-other-year"),
        pytest.param("abc: {holidays: []}", "year key 'abc' is not a year", id="bad-year"),
        pytest.param("2031: {holiday: []}", "must have only", id="unknown-key"),
        pytest.param("[1, 2]", "expected a mapping of years", id="not-a-mapping"),
    ],
)
def test_malformed_holiday_table_names_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(HolidayTableError, match="holidays.yaml") as err:
        parse_holiday_table(text)
    assert fragment in str(err.value)


def test_missing_holiday_file_means_library_only(tmp_path: Path) -> None:
    assert WorkingCalendar.from_file(tmp_path / "absent.yaml").configured == {}


def test_full_year_report_belongs_to_previous_cycle() -> None:
    assert statutory_date(2024, 1, 15, year_offset=1) == D(2025, 1, 15)
    assert cycle_year_of(D(2025, 1, 15), year_offset=1) == 2024


def test_working_days_between_counts_only_working_days(calendar: WorkingCalendar) -> None:
    # 2024-04-01 (Mon) to 2024-04-08 (Mon): Qingming 4-6 off, 4-7 (Sun) make-up working day.
    assert calendar.working_days_between(D(2024, 4, 1), D(2024, 4, 8)) == 4
    assert calendar.add_working_days(D(2024, 4, 1), 4) == D(2024, 4, 8)


@pytest.mark.parametrize(
    ("recognised", "years", "end"),
    [
        pytest.param(D(2022, 11, 30), 3, D(2025, 11, 29), id="three-years"),
        pytest.param(D(2016, 3, 10), 3, D(2019, 3, 9), id="2016-pilots"),
        pytest.param(D(2024, 2, 29), 3, D(2027, 2, 28), id="leap-day"),
    ],
)
def test_valid_until_is_the_day_before_the_anniversary(recognised: D, years: int, end: D) -> None:
    assert valid_until(recognised, years) == end


def test_passed_re_review_extends_by_three_years() -> None:
    assert extend_validity(D(2025, 11, 29), 3) == D(2028, 11, 29)


def test_re_review_is_due_in_the_year_validity_ends() -> None:
    assert expires_in_year(D(2025, 11, 29), 2025) and not expires_in_year(D(2025, 11, 29), 2024)


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        pytest.param(2024, 2026, True, id="three-years"),
        pytest.param(2024, 2027, False, id="four-years"),
        pytest.param(2025, 2024, False, id="end-before-start"),
    ],
)
def test_pilot_period_at_most_three_years(start: int, end: int, ok: bool) -> None:
    assert pilot_period_ok(start, end, 3) is ok


@pytest.mark.parametrize(
    ("statutory", "effective"),
    [
        pytest.param(D(2028, 4, 30), D(2028, 5, 3), id="2028-04-30-sunday-then-labour-day-1-2-may"),
        pytest.param(D(2028, 12, 31), D(2029, 1, 2), id="2028-12-31-sunday-then-new-year"),
        pytest.param(D(2028, 10, 1), D(2028, 10, 4), id="2028-national-day-1-3-oct"),
        pytest.param(D(2028, 3, 31), D(2028, 3, 31), id="2028-03-31-friday-stays"),
    ],
)
def test_year_without_data_keeps_the_fixed_date_holidays(
    calendar: WorkingCalendar, statutory: D, effective: D
) -> None:
    """A year the State Council has not yet arranged keeps 元旦, 劳动节 (1-2 May) and 国庆节 (1-3 Oct)."""
    assert calendar.source_for(2028) == "weekends-only"
    assert due_date(statutory, "next_working_day", calendar) == effective


def test_cycle_warns_only_for_years_its_due_dates_touch(calendar: WorkingCalendar) -> None:
    """The 2026 Apr 30 table (第十六条) lies wholly in 2026, which has data: no warning for 2027.

    Programme A's 2026 cycle has its Jan 15 full-year report in 2027: that year is warned.
    """
    from review_calendar.domain.programmes import load_programme
    from review_calendar.domain.schedule import cycle_warnings

    miit = cycle_warnings(load_programme("miit_sme_cluster"), 2026, calendar)
    hebei = cycle_warnings(load_programme("hebei_smart_cluster"), 2026, calendar)

    assert miit == []
    assert len(hebei) == 1
    assert hebei[0].startswith("2027 年")
