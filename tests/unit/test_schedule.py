"""Scheduling rules behind the timetables, 2023-2027."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from review_calendar.domain.calendar import TZ, WorkingCalendar
from review_calendar.domain.programmes import load_programme_file
from review_calendar.domain.schedule import next_deadline_run, next_working_day_run

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"


def at(y: int, m: int, d: int, h: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=TZ)


@pytest.mark.parametrize(
    ("after", "effective_due"),
    [
        pytest.param(at(2023, 1, 1), "2023-03-31", id="2023"),
        pytest.param(at(2023, 4, 2), "2024-04-01", id="2024-sunday-moved"),
        pytest.param(at(2024, 4, 2), "2025-03-31", id="2025"),
        pytest.param(at(2025, 4, 1), "2026-03-31", id="2026"),
        pytest.param(at(2026, 4, 1), "2027-03-31", id="2027-weekends-only"),
    ],
)
def test_contact_list_runs_after_each_effective_due_date(after: dt.datetime, effective_due: str) -> None:
    programme = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")

    run = next_deadline_run(programme, "contact_list", after, None, WorkingCalendar())

    assert run is not None
    assert run.instance.effective_due.isoformat() == effective_due
    assert run.end == dt.datetime.combine(
        run.instance.effective_due + dt.timedelta(days=1), dt.time.min, tzinfo=TZ
    )
    assert run.start.date() == run.instance.opens_on


def test_first_run_respects_earliest() -> None:
    programme = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")

    run = next_deadline_run(programme, "full_year_report", None, at(2025, 6, 1), WorkingCalendar())

    # Cycle 2024's report closed on 2025-01-16, before the earliest date: next is cycle 2025's.
    assert run is not None
    assert (run.instance.cycle_year, run.instance.effective_due) == (2025, dt.date(2026, 1, 15))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(at(2024, 9, 30, 10), at(2024, 10, 8, 9), id="national-day-skipped"),
        pytest.param(at(2024, 10, 11, 9), at(2024, 10, 12, 9), id="make-up-saturday-runs"),
        pytest.param(at(2025, 3, 31, 8), at(2025, 3, 31, 9), id="same-day-before-nine"),
        pytest.param(at(2027, 1, 1, 12), at(2027, 1, 4, 9), id="2027-weekends-only"),
    ],
)
def test_working_day_runs(after: dt.datetime, expected: dt.datetime) -> None:
    assert next_working_day_run(after, 9, 0, WorkingCalendar()) == expected
