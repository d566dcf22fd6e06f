"""Which cycle a DAG run serves, from whatever facts the run has (params, Asset events, data interval)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from review_calendar.domain.calendar import TZ, WorkingCalendar
from review_calendar.domain.programmes import Programme, load_programme_file
from review_calendar.domain.runs import (
    CycleUnknown,
    calendar_year,
    latest_deadline_run,
    previous_working_day_run,
    reminder_day,
    resolve_cycle,
)

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
CALENDAR = WorkingCalendar()


def at(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=TZ)


def programme(programme_id: str) -> Programme:
    return load_programme_file(PROGRAMMES / f"{programme_id}.yaml")


def upstream(year: Any, period: str = "Y", programme_id: str = "hebei_smart_cluster") -> dict[str, Any]:
    """The extra that a finished full-year report publishes with its Asset event."""
    return {"programme": programme_id, "obligation": "full_year_report", "cycle_year": year, "period": period}


def resolve(programme_id: str, obligation_id: str, **facts: Any):
    facts.setdefault("params", {})
    facts.setdefault("asset_extras", [])
    facts.setdefault("interval_end", None)
    facts.setdefault("run_after", at(2026, 11, 30, 10))
    return resolve_cycle(programme(programme_id), obligation_id, calendar=CALENDAR, **facts)


@pytest.mark.parametrize(
    ("programme_id", "obligation_id", "facts", "key", "as_of", "source"),
    [
        pytest.param(
            "hebei_smart_cluster", "full_year_report", {"params": {"year": 2025}},
            "hebei_smart_cluster/2025/full_year_report/Y", "2026-11-30", "params",
            id="manual-rerun-without-logical-date-computes-as-of-its-own-day",
        ),
        pytest.param(
            "hebei_smart_cluster", "full_year_report", {"params": {"year": 2025, "as_of": "2026-01-22"}},
            "hebei_smart_cluster/2025/full_year_report/Y", "2026-01-22", "params",
            id="as-of-param-wins",
        ),
        pytest.param(
            "hebei_smart_cluster", "full_year_report",
            {"params": {"year": 2025}, "run_after": at(2026, 1, 3, 9)},
            "hebei_smart_cluster/2025/full_year_report/Y", "2026-01-16", "params",
            id="run-before-the-deadline-computes-as-of-the-day-the-window-closes",
        ),
        pytest.param(
            "henan_demo_base", "quarterly_figures", {"params": {"year": 2025, "period": "Q3"}},
            "henan_demo_base/2025/quarterly_figures/Q3", "2026-11-30", "params",
            id="year-and-period",
        ),
        pytest.param(
            "hebei_smart_cluster", "performance_evaluation",
            {"asset_extras": [upstream(2025)], "run_after": at(2026, 1, 20, 3)},
            "hebei_smart_cluster/2025/performance_evaluation/Y", "2026-03-17", "asset",
            id="asset-event-names-the-cycle-and-the-run-waits-for-its-deadline",
        ),
        pytest.param(
            "hebei_smart_cluster", "performance_evaluation",
            {"asset_extras": [upstream(2025), upstream(2025)]},
            "hebei_smart_cluster/2025/performance_evaluation/Y", "2026-11-30", "asset",
            id="two-events-of-the-same-cycle",
        ),
        pytest.param(
            "hebei_smart_cluster", "performance_evaluation",
            {"params": {"year": 2024}, "asset_extras": [upstream(2025)]},
            "hebei_smart_cluster/2024/performance_evaluation/Y", "2026-11-30", "params",
            id="params-win-over-the-asset-event",
        ),
        pytest.param(
            "hebei_smart_cluster", "full_year_report",
            {"interval_end": at(2026, 1, 16), "run_after": at(2026, 1, 16)},
            "hebei_smart_cluster/2025/full_year_report/Y", "2026-01-16", "interval",
            id="scheduled-run-takes-the-window-that-closes-at-its-interval-end",
        ),
        pytest.param(
            "hebei_smart_cluster", "contact_list",
            {"interval_end": at(2024, 4, 2), "run_after": at(2024, 4, 2)},
            "hebei_smart_cluster/2024/contact_list/Y", "2024-04-02", "interval",
            id="scheduled-run-after-a-sunday-deadline-moved-to-monday",
        ),
    ],
)  # fmt: skip
def test_resolve_cycle(
    programme_id: str, obligation_id: str, facts: dict[str, Any], key: str, as_of: str, source: str
) -> None:
    cycle = resolve(programme_id, obligation_id, **facts)

    assert (cycle.instance.key, cycle.as_of.isoformat(), cycle.source) == (key, as_of, source)


@pytest.mark.parametrize(
    ("programme_id", "obligation_id", "facts", "says"),
    [
        pytest.param(
            "hebei_smart_cluster", "full_year_report", {},
            ["手动触发", "没有填写年度", 'year（年度）', '{"year": 2025}'],
            id="manual-run-without-year-or-logical-date",
        ),
        pytest.param(
            "henan_demo_base", "quarterly_figures", {},
            ["period（期次：Q1、Q2、Q3、Q4）", '"period": "Q1"'],
            id="multi-period-obligation-asks-for-the-period-too",
        ),
        pytest.param(
            "hebei_smart_cluster", "full_year_report", {"params": {"period": "Y"}},
            ["填写了期次 Y，但没有填写年度"],
            id="period-without-year",
        ),
        pytest.param(
            "hebei_smart_cluster", "performance_evaluation", {"asset_extras": [{"obligation": "full_year_report"}]},
            ["没有携带年度（cycle_year）"],
            id="asset-event-without-cycle-year",
        ),
        pytest.param(
            "hebei_smart_cluster", "performance_evaluation", {"asset_extras": [upstream(2024), upstream(2025)]},
            ["多个年度（2024、2025）", "分别触发"],
            id="asset-events-of-two-years",
        ),
        pytest.param(
            "hebei_smart_cluster", "performance_evaluation",
            {"asset_extras": [upstream(2025, programme_id="miit_sme_cluster")]},
            ["没有携带年度"],
            id="asset-event-of-another-programme-is-ignored",
        ),
        pytest.param(
            "hebei_smart_cluster", "full_year_report", {"interval_end": at(2026, 5, 5, 9)},
            ["数据区间结束于 2026-05-05 09:00", "不是本事项任何一期"],
            id="interval-that-is-no-window",
        ),
        pytest.param(
            "hebei_smart_cluster", "full_year_report", {"params": {"year": 2025, "period": "Q2"}},
            ["2025 年度没有期次 Q2"],
            id="period-the-obligation-does-not-have",
        ),
        pytest.param(
            "hebei_smart_cluster", "full_year_report", {"params": {"year": 2025, "as_of": "2025/07/15"}},
            ["as_of 应为日期 YYYY-MM-DD"],
            id="as-of-not-a-date",
        ),
    ],
)  # fmt: skip
def test_a_run_that_cannot_tell_its_cycle_fails_saying_what_to_fill_in(
    programme_id: str, obligation_id: str, facts: dict[str, Any], says: list[str]
) -> None:
    with pytest.raises(CycleUnknown) as raised:
        resolve(programme_id, obligation_id, **facts)

    assert all(text in str(raised.value) for text in says), str(raised.value)


@pytest.mark.parametrize(
    ("year", "run_after", "expected"),
    [
        pytest.param(None, at(2025, 12, 1, 8), 2026, id="december-run-records-the-coming-cycle"),
        pytest.param(2024, at(2025, 12, 1, 8), 2024, id="year-param"),
        pytest.param(None, dt.datetime(2025, 12, 31, 17, tzinfo=dt.UTC), 2027, id="beijing-day-not-utc"),
    ],
)
def test_calendar_year(year: int | None, run_after: dt.datetime, expected: int) -> None:
    assert calendar_year(year, run_after) == expected


@pytest.mark.parametrize(
    ("as_of", "run_after", "expected"),
    [
        pytest.param(None, dt.datetime(2025, 7, 15, 1, tzinfo=dt.UTC), "2025-07-15", id="the-run-s-own-day"),
        pytest.param(
            None, dt.datetime(2025, 7, 14, 17, tzinfo=dt.UTC), "2025-07-15", id="beijing-day-not-utc"
        ),
        pytest.param("2025-03-20", at(2025, 7, 15, 9), "2025-03-20", id="as-of-param"),
    ],
)
def test_reminder_day(as_of: str | None, run_after: dt.datetime, expected: str) -> None:
    assert reminder_day(as_of, run_after).isoformat() == expected


@pytest.mark.parametrize(
    ("moment", "effective_due"),
    [
        pytest.param(at(2026, 11, 30, 19), "2026-03-31", id="latest-closed-this-year"),
        pytest.param(at(2026, 4, 1), "2026-03-31", id="window-closing-at-the-moment-counts"),
        pytest.param(at(2026, 3, 31, 23), "2025-03-31", id="open-window-does-not"),
        pytest.param(at(2024, 4, 1, 12), "2023-03-31", id="sunday-deadline-moved-to-monday-still-open"),
    ],
)
def test_latest_deadline_run(moment: dt.datetime, effective_due: str) -> None:
    run = latest_deadline_run(programme("hebei_smart_cluster"), "contact_list", moment, CALENDAR)

    assert run is not None
    assert run.instance.effective_due.isoformat() == effective_due
    assert run.end <= moment


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(at(2026, 11, 30, 19, 35), at(2026, 11, 30, 9), id="monday-evening-runs-monday-nine"),
        pytest.param(at(2026, 11, 30, 9), at(2026, 11, 30, 9), id="exactly-nine"),
        pytest.param(at(2026, 11, 30, 8, 59), at(2026, 11, 27, 9), id="before-nine-friday"),
        pytest.param(at(2024, 10, 7, 12), at(2024, 9, 30, 9), id="national-day-holiday-skipped"),
        pytest.param(at(2024, 10, 12, 10), at(2024, 10, 12, 9), id="make-up-saturday-counts"),
    ],
)
def test_previous_working_day_run(moment: dt.datetime, expected: dt.datetime) -> None:
    assert previous_working_day_run(moment, 9, 0, CALENDAR) == expected
