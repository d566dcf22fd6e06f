"""Provincial aggregation: states per region, sums per city and province, criteria, idempotent writes.

The state rule itself is tabled in ``test_states.py``; here the aggregation's use of it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from review_calendar.aggregate.national import NATIONAL_CODE, national_rollup
from review_calendar.aggregate.states import submission_states
from review_calendar.aggregate.write import aggregate_city, aggregate_province
from review_calendar.domain.programmes import find_instance, load_programme_file
from review_calendar.domain.regions import PROVINCES
from review_calendar.store.db import session_scope
from review_calendar.store.models import Aggregate
from review_calendar.store.queries import Submitter
from review_calendar_demo.regions import synthetic_national
from review_calendar_demo.seed import seed_demo
from tests.support.builders import submit

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
A = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")
B = load_programme_file(PROGRAMMES / "miit_sme_cluster.yaml")
D = load_programme_file(PROGRAMMES / "langfang_digital.yaml")
HALF_YEAR = find_instance(A, 2025, "half_year_report")  # effective due 2025-07-15
AS_OF = dt.date(2025, 7, 31)
ON_TIME, LATE = dt.date(2025, 7, 10), dt.date(2025, 7, 20)
# Programme A's 2025 pilots (data/demo.yaml): two in 保定市, one each in 石家庄, 唐山, 秦皇岛.
GAOCHENG, YUTIAN, CHANGLI, LIXIAN, GAOBEIDIAN = "130109", "130229", "130322", "130635", "130684"


def progress(planned: float, completed: float, revenue: float = 10.0) -> dict[str, list[dict[str, Any]]]:
    return {
        "progress_report": [
            {"planned_investment": planned, "completed_investment": completed, "revenue_yi": revenue,
             "projects_started": 4, "projects_completed": 1, "period": "上半年", "year": 2025}
        ]
    }  # fmt: skip


@pytest.fixture
def url(migrated_url: str) -> str:
    """A migrated review database with the demo province, its clusters and enrolments."""
    seed_demo(migrated_url)
    return migrated_url


def states_on(url: str, as_of: dt.date = AS_OF) -> pd.DataFrame:
    with session_scope(url) as s:
        return submission_states(s, A, HALF_YEAR, as_of)


def province(url: str, programme=A, instance=HALF_YEAR, as_of: dt.date = AS_OF, **kwargs: Any):
    with session_scope(url) as s:
        return aggregate_province(s, programme, instance, as_of, **kwargs)


def aggregate_rows(url: str) -> dict[tuple[str, str], tuple[float | None, str]]:
    with session_scope(url) as s:
        return {(r.region_code, r.metric): (r.value, r.text) for r in s.scalars(select(Aggregate))}


# States


@pytest.mark.parametrize(
    ("files", "state"),
    [
        pytest.param([(ON_TIME, "accepted")], "on_time", id="accepted-before-due"),
        pytest.param([(LATE, "accepted")], "late", id="accepted-after-due"),
        pytest.param([(ON_TIME, "superseded"), (LATE, "accepted")], "on_time_corrected", id="corrected-after-due"),
        pytest.param([(ON_TIME, "rejected")], "rejected", id="only-rejected"),
        pytest.param([], "missing", id="nothing-received"),
    ],
)  # fmt: skip
def test_the_states_frame_gives_each_region_its_state(
    url: str, files: list[tuple[dt.date, str]], state: str
) -> None:
    for received, status in files:
        submit(url, HALF_YEAR, YUTIAN, received, status=status)

    states = states_on(url)

    assert states.set_index("region_code").loc[YUTIAN, "state"] == state


def test_states_have_one_row_per_expected_submitter_with_its_city(url: str) -> None:
    states = states_on(url)

    assert list(states["region_code"]) == [GAOCHENG, YUTIAN, CHANGLI, LIXIAN, GAOBEIDIAN]
    assert list(states["city_name"]) == ["石家庄市", "唐山市", "秦皇岛市", "保定市", "保定市"]
    assert set(states["state"]) == {"missing"}


def test_rejected_state_names_the_last_rejected_file(url: str) -> None:
    submit(url, HALF_YEAR, LIXIAN, ON_TIME, status="rejected", file_name="first.xlsx")
    submit(url, HALF_YEAR, LIXIAN, dt.date(2025, 7, 12), status="rejected", file_name="second.xlsx")

    row = states_on(url).set_index("region_code").loc[LIXIAN]

    assert (row["state"], row["file_name"], row["error_count"]) == ("rejected", "second.xlsx", 3)


def test_nothing_received_before_the_deadline_is_open_and_counted_as_not_reported(url: str) -> None:
    agg = province(url, as_of=dt.date(2025, 7, 1))

    assert agg.window_open is True
    assert set(agg.regions["state"]) == {"open"}
    assert agg.totals["missing"] == 5  # 未报: not reported (yet)
    assert len(agg.lagging) == 5


def test_a_corrected_on_time_file_counts_as_on_time_with_the_correction_s_figures(url: str) -> None:
    submit(url, HALF_YEAR, YUTIAN, ON_TIME, status="superseded", rows=progress(9999, 9999))
    submit(url, HALF_YEAR, YUTIAN, LATE, rows=progress(3000, 1500))

    agg = province(url)

    tangshan = agg.cities.set_index("city_code").loc["130200"]
    assert (tangshan["on_time"], tangshan["late"], tangshan["planned_investment"]) == (1, 0, 3000.0)
    assert aggregate_rows(url)[(YUTIAN, "state")][1] == "on_time_corrected"


# Sums per city and province


@pytest.fixture
def half_year(url: str) -> str:
    """保定: one on time, one rejected; 唐山 on time; 秦皇岛 late; 石家庄 missing."""
    submit(url, HALF_YEAR, LIXIAN, ON_TIME, status="rejected", rows=progress(9999, 9999))
    submit(url, HALF_YEAR, GAOBEIDIAN, ON_TIME, rows=progress(1000, 500, revenue=12.5))
    submit(url, HALF_YEAR, YUTIAN, ON_TIME, rows=progress(3000, 1500, revenue=20.0))
    submit(url, HALF_YEAR, CHANGLI, LATE, rows=progress(2000, 0, revenue=7.5))
    return url


def test_counts_per_state_per_city(half_year: str) -> None:
    agg = province(half_year)

    cities = agg.cities.set_index("city_code")[["expected", "on_time", "late", "missing", "rejected"]]
    assert cities.to_dict("index") == {
        "130100": {"expected": 1, "on_time": 0, "late": 0, "missing": 1, "rejected": 0},
        "130200": {"expected": 1, "on_time": 1, "late": 0, "missing": 0, "rejected": 0},
        "130300": {"expected": 1, "on_time": 0, "late": 1, "missing": 0, "rejected": 0},
        "130600": {"expected": 2, "on_time": 1, "late": 0, "missing": 0, "rejected": 1},
    }


def test_city_sums_only_accepted_data(half_year: str) -> None:
    agg = province(half_year)

    baoding = agg.cities.set_index("city_code").loc["130600"]
    assert (baoding["planned_investment"], baoding["completed_investment"]) == (1000.0, 500.0)


def test_province_sums_every_city(half_year: str) -> None:
    agg = province(half_year)

    assert agg.totals["planned_investment"] == 6000.0
    assert agg.totals["completed_investment"] == 2000.0
    assert agg.totals["revenue_yi"] == 40.0
    assert (agg.totals["expected"], agg.totals["on_time"], agg.totals["late"]) == (5, 2, 1)


@pytest.mark.parametrize(
    ("level", "rate"),
    [
        pytest.param("130600", 0.5, id="city"),
        pytest.param("130300", 0.0, id="city-nothing-completed"),
        pytest.param("130000", 2000 / 6000, id="province-from-sums-not-mean-of-rates"),
    ],
)
def test_completion_rate(half_year: str, level: str, rate: float) -> None:
    province(half_year)

    value, _text = aggregate_rows(half_year)[(level, "completion_rate")]

    assert value == pytest.approx(rate)


def test_city_without_accepted_data_has_no_figures(half_year: str) -> None:
    province(half_year)

    assert aggregate_rows(half_year)[("130100", "planned_investment")] == (None, "")


def test_lagging_regions_are_late_missing_or_rejected_with_their_city(half_year: str) -> None:
    agg = province(half_year)

    lagging = agg.lagging[["city_name", "region_code", "state"]].values.tolist()
    assert lagging == [
        ["石家庄市", GAOCHENG, "missing"],
        ["秦皇岛市", CHANGLI, "late"],
        ["保定市", LIXIAN, "rejected"],
    ]


def test_region_rows_record_the_state_as_text(half_year: str) -> None:
    province(half_year)

    rows = aggregate_rows(half_year)

    assert [rows[(code, "state")][1] for code in (GAOCHENG, YUTIAN, CHANGLI, LIXIAN)] == [
        "missing", "on_time", "late", "rejected",
    ]  # fmt: skip


def test_province_row_uses_the_programme_region_code(half_year: str) -> None:
    province(half_year)

    rows = aggregate_rows(half_year)

    assert rows[("130000", "name")] == (None, "河北省")
    assert rows[("130000", "expected")][0] == 5.0


def test_aggregate_city_summarises_one_city(half_year: str) -> None:
    with session_scope(half_year) as s:
        summary = aggregate_city(s, A, HALF_YEAR, AS_OF, "130600")

    assert summary["city_name"] == "保定市"
    assert (summary["expected"], summary["on_time"], summary["rejected"]) == (2, 1, 1)
    assert summary["figures"]["planned_investment"] == 1000.0
    assert summary["lagging"] == [LIXIAN]


def test_aggregate_city_writes_only_its_own_regions(half_year: str) -> None:
    with session_scope(half_year) as s:
        aggregate_city(s, A, HALF_YEAR, AS_OF, "130600")

    codes = {code for code, _metric in aggregate_rows(half_year)}

    assert codes == {"130600", LIXIAN, GAOBEIDIAN}


# Idempotence


def test_rerun_writes_the_same_rows(half_year: str) -> None:
    province(half_year)
    before = aggregate_rows(half_year)

    province(half_year)

    with session_scope(half_year) as s:
        count = s.scalar(select(func.count()).select_from(Aggregate))
    assert count == len(before)
    assert aggregate_rows(half_year) == before


def test_rerun_removes_a_region_no_longer_expected(half_year: str) -> None:
    province(half_year)
    with session_scope(half_year) as s:
        fewer = [
            Submitter(r.region_code, r.region_name, r.city_code, r.cluster_id, r.cluster)
            for r in submission_states(s, A, HALF_YEAR, AS_OF).itertuples()
            if r.region_code != GAOCHENG
        ]

    province(half_year, submitters=fewer)

    rows = aggregate_rows(half_year)
    assert not any(code == GAOCHENG for code, _metric in rows)
    assert ("130100", "expected") not in rows


@pytest.mark.parametrize(
    ("programme", "obligation", "year"),
    [
        pytest.param(D, "subsidy_claims", 2024, id="city-wide-programme"),
        pytest.param(A, "performance_evaluation", 2025, id="evaluator-is-the-province"),
    ],
)
def test_code_that_is_both_region_and_province_is_written_once(
    url: str, programme: Any, obligation: str, year: int
) -> None:
    instance = find_instance(programme, year, obligation)

    agg = province(url, programme, instance, instance.effective_due + dt.timedelta(days=1))

    assert agg.rows_written == len(aggregate_rows(url))
    assert aggregate_rows(url)[(programme.region_code, "name")][1] != ""


def test_subsidy_claims_sum_per_category(url: str) -> None:
    instance = find_instance(D, 2024, "subsidy_claims")
    claims = [
        {"firm_name": "甲", "category": "试点", "equipment_wan": 500.0, "software_wan": 100.0, "claimed_wan": 100.0},
        {"firm_name": "乙", "category": "平台", "equipment_wan": 1000.0, "software_wan": 0.0, "claimed_wan": 300.0},
    ]  # fmt: skip
    submit(url, instance, "131026", instance.effective_due, rows={"subsidy_claims": claims})

    agg = province(url, D, instance, instance.effective_due)

    assert (agg.totals["claims_pilot"], agg.totals["claims_platform"], agg.totals["claimed_wan"]) == (
        1,
        1,
        400.0,
    )
    assert agg.totals["claimed_share"] == pytest.approx(400 / 1600)


# Programme B: recognition criteria

ANNUAL = {year: find_instance(B, year, "annual_info_table") for year in (2023, 2024, 2025)}
GOOD = {
    "area_km2": 42.0, "output_yi": 58.0, "sme_output_share": 0.82, "leading_industry_share": 0.77,
    "output_growth": 0.14, "sme_rd_growth": 0.12, "invention_patent_growth": 0.2, "patents_per_10k": 18.0,
    "platform_adoption": 0.3, "champion_firms": 2, "specialised_smes": 12, "high_tech_firms": 20,
    "invention_patents": 400, "major_incident": "否", "has_three_year_plan": "是",
}  # fmt: skip
BOTOU, PINGXIANG, XIANGHE = "130981", "130532", "131024"


@pytest.fixture
def annual(url: str) -> str:
    """泊头 meets every criterion for three years; 平乡 lacks platform adoption; 香河 reports only 2025."""
    for instance in ANNUAL.values():
        due = instance.effective_due
        submit(
            url,
            instance,
            BOTOU,
            due,
            rows={"annual_info_table": [{**GOOD, "cluster_name": "泊头铸造产业集群"}]},
        )
        weak = {**GOOD, "cluster_name": "平乡自行车产业集群", "platform_adoption": 0.05}
        submit(url, instance, PINGXIANG, due, rows={"annual_info_table": [weak]})
    submit(url, ANNUAL[2025], XIANGHE, ANNUAL[2025].effective_due,
           rows={"annual_info_table": [{**GOOD, "cluster_name": "香河家具产业集群"}]})  # fmt: skip
    return url


def b_province(url: str):
    instance = ANNUAL[2025]
    return province(url, B, instance, instance.effective_due + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("cluster", "criterion", "met"),
    [
        pytest.param("botou_casting", "output", True, id="three-years-of-output-met"),
        pytest.param("botou_casting", "platform_adoption", True, id="platform-met"),
        pytest.param("pingxiang_bicycle", "platform_adoption", False, id="platform-not-met"),
        pytest.param("pingxiang_bicycle", "area", True, id="other-criteria-still-met"),
        pytest.param("xianghe_furniture", "output", None, id="one-year-only-is-unknown"),
        pytest.param("xianghe_furniture", "area", True, id="single-year-criterion-known"),
        pytest.param("pingquan_fungi", "area", None, id="not-reported"),
    ],
)
def test_criterion_per_cluster(annual: str, cluster: str, criterion: str, met: bool | None) -> None:
    agg = b_province(annual)

    assert agg.clusters.set_index("cluster_id").loc[cluster, criterion] is met


def test_only_clusters_meeting_every_criterion_count_as_met_all(annual: str) -> None:
    agg = b_province(annual)

    assert set(agg.clusters.loc[agg.clusters["met_all"], "cluster_id"]) == {"botou_casting"}
    assert agg.totals["criteria_met_all"] == 1


def test_criteria_counts_are_written_with_their_title(annual: str) -> None:
    b_province(annual)

    value, text = aggregate_rows(annual)[("130000", "criterion_platform_adoption_not_met")]

    assert value == 1.0
    assert text.startswith("工业互联网平台应用普及率")


def test_criteria_summary_counts_unknown(annual: str) -> None:
    agg = b_province(annual)

    output = agg.criteria.set_index("id").loc["output"]

    assert (output["met"], output["not_met"], output["unknown"]) == (2, 0, len(agg.clusters) - 2)


# National roll-up


@pytest.fixture(scope="module")
def national() -> pd.DataFrame:
    """Every county of the synthetic national set, with a state and an output figure."""
    counties = [r for r in synthetic_national(seed=7) if r.level == "county"]
    states = ["on_time", "late", "missing", "rejected"]
    return pd.DataFrame(
        {
            "region_code": [r.code for r in counties],
            "state": [states[i % 4] for i in range(len(counties))],
            "output_yi": [float(i % 50) for i in range(len(counties))],
            "criteria_met_all": [float(i % 3 == 0) for i in range(len(counties))],
        }
    )


def test_rollup_has_one_row_per_province(national: pd.DataFrame) -> None:
    out = national_rollup(None, B, 2025, national)

    assert list(out["province_code"]) == sorted(code for code, _name in PROVINCES)
    assert out.set_index("province_code").loc["130000", "province_name"] == "河北省"


def test_rollup_sums_per_province(national: pd.DataFrame) -> None:
    out = national_rollup(None, B, 2025, national).set_index("province_code")

    expected = national.assign(p=national["region_code"].str[:2] + "0000").groupby("p")
    assert out["expected"].to_dict() == expected.size().to_dict()
    assert out["output_yi"].to_dict() == pytest.approx(expected["output_yi"].sum().to_dict())
    assert out["late"].sum() == (national["state"] == "late").sum()


def test_rollup_of_per_province_parts_equals_rollup_of_the_whole(national: pd.DataFrame) -> None:
    parts = [g for _p, g in national.groupby(national["region_code"].str[:2])]

    assert national_rollup(None, B, 2025, parts).equals(national_rollup(None, B, 2025, national))


def test_rollup_is_stored_under_national_metrics(url: str, national: pd.DataFrame) -> None:
    with session_scope(url) as s:
        national_rollup(s, B, 2025, national)

    rows = aggregate_rows(url)
    assert rows[(NATIONAL_CODE, "national_expected")][0] == len(national)
    assert rows[("130000", "national_name")][1] == "河北省"
    assert not any(not metric.startswith("national_") for _code, metric in rows)
