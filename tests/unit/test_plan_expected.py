"""Who owes a development plan: each pilot in its first cycle year and again after its plan period.

冀工信产业〔2016〕93号 二、七 ask the pilots of a batch for their plans (by Jun 30 of the
first year); a plan covers its period, so it is asked again in the first year after
the period of the last accepted plan, not from every pilot every year.
"""

from __future__ import annotations

import datetime as dt

import pytest

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.store.db import session_scope
from review_calendar.store.models import DatasetRow, Submission
from review_calendar.store.queries import expected_submitters, plan_due
from review_calendar_demo.seed import seed_demo

pytestmark = pytest.mark.unit
A = load_programme("hebei_smart_cluster")
#: Demo pilots: 白沟 (130684) and 玉田 (130229) recognised 2024; 藁城 (130109) recognised 2025.
BAIGOU, YUTIAN, GAOCHENG = "130684", "130229", "130109"


@pytest.mark.parametrize(
    ("first_year", "plan_end", "cycle_year", "due"),
    [
        pytest.param(2025, None, 2025, True, id="first-cycle-year"),
        pytest.param(2024, 2026, 2025, False, id="inside-the-plan-period"),
        pytest.param(2024, 2026, 2026, False, id="last-plan-year"),
        pytest.param(2024, 2026, 2027, True, id="first-year-after-the-plan-period"),
        pytest.param(2021, 2025, 2024, False, id="five-year-plan-of-the-14th-plan"),
        pytest.param(2016, None, 2025, True, id="no-plan-on-record"),
    ],
)
def test_plan_due(first_year: int, plan_end: int | None, cycle_year: int, due: bool) -> None:
    assert plan_due(first_year, plan_end, cycle_year) is due


def test_development_plan_is_owed_by_the_pilots_whose_plan_is_due(migrated_url: str) -> None:
    seed_demo(migrated_url)
    with session_scope(migrated_url) as s:
        # 白沟's plan accepted in 2024 covers 2024-2026; 玉田's plan awaits its approval.
        for n, (region, cluster, end, awaiting) in enumerate(
            [(BAIGOU, "白沟箱包产业集群", 2026, ""), (YUTIAN, "玉田印刷包装产业集群", 2026, "approval")]
        ):
            sub = Submission(
                programme_id=A.id, cycle_year=2024, obligation_id="development_plan", period="Y",
                region_code=region, file_name="p.xlsx", stored_path="x", content_hash=f"p{n}".ljust(64, "0"),
                received_on=dt.date(2024, 6, 20), status="accepted", awaiting=awaiting,
            )  # fmt: skip
            s.add(sub)
            s.flush()
            s.add(
                DatasetRow(
                    submission_id=sub.id, dataset="development_plan", sheet="专项发展规划", row_no=3,
                    region_code=region, data={"cluster_name": cluster, "period_start": 2024, "period_end": end},
                )
            )  # fmt: skip
    owed = {}
    with session_scope(migrated_url) as s:
        for year in (2025, 2026, 2027):
            instance = find_instance(A, year, "development_plan")
            owed[year] = {x.region_code for x in expected_submitters(s, A, instance)}

    assert GAOCHENG in owed[2025]
    assert BAIGOU not in owed[2025] and BAIGOU not in owed[2026]
    assert BAIGOU in owed[2027]
    assert YUTIAN in owed[2025]  # a plan still awaiting its approval covers nothing
    assert GAOCHENG in owed[2026]


def test_the_development_plan_obligation_asks_only_pilots_whose_plan_is_due() -> None:
    assert A.obligation("development_plan").applies_to == "plan_due"
