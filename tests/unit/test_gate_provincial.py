"""The provincial gate: suites and structural checks over an instance's stored rows, the recorded verdict.

Everything runs for real: GX on an ephemeral context, the review database on
SQLite and on the PostgreSQL server the tests start (``migrated_url``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.domain.programmes import Programme, find_instance, load_programme_file, load_programmes
from review_calendar.gate.errors import GateFailed, GateFinding, GateResult
from review_calendar.gate.provincial import PROVINCIAL_GATE
from review_calendar.gate.suites import COMPANION_DATASETS
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import GateRun
from review_calendar_demo.seed import seed_demo
from tests.unit.gate_cases import (
    EXPECTED,
    YEAR,
    add_submission,
    clean_record,
    codes_of,
    gate,
    half_year,
    progress_row,
    submit_all_progress,
    with_threshold,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme_file(get_settings().programmes_dir / "hebei_smart_cluster.yaml")


@pytest.fixture
def seeded_url(migrated_url: str) -> str:
    seed_demo(migrated_url)
    return migrated_url


def test_a_clean_provincial_dataset_passes_and_is_recorded(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance)

    result = gate(seeded_url, programme, instance, tmp_path)

    assert (result.success, result.critical, result.warnings) == (True, [], [])
    assert result.summary["rows"] == {"progress_report": 5}
    assert result.summary["completeness"]["ratio"] == 1.0
    assert json.loads(json.dumps(result.summary)) == result.summary
    with session_scope(seeded_url) as session:
        run = session.scalars(select(GateRun)).one()
    assert (run.gate, run.run_id, run.success, run.critical_failures, run.html_path) == (
        "provincial",
        "r1",
        True,
        0,
        result.html_path,
    )


def test_the_gate_names_its_page_but_leaves_writing_it_to_the_report(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance)

    result = gate(seeded_url, programme, instance, tmp_path, run_id="manual__2025-07-16T08:00:00+00:00")

    path = Path(result.html_path)
    assert path.parent == tmp_path / "reports" / "hebei_smart_cluster" / "2025" / "gates"
    assert path.name.startswith("half_year_report_Y_manual__2025-07-16T08_00_00_00_00-")
    assert not path.exists()
    assert set(result.region_names) == set(EXPECTED)


def test_two_accepted_submissions_of_one_region_are_critical(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance)
    add_submission(seeded_url, instance, "130229", {"progress_report": [progress_row("130229")]})

    result = gate(seeded_url, programme, instance, tmp_path)

    assert result.success is False
    assert codes_of(result.critical) == ["GATE_DUPLICATE_ROW", "GATE_DUPLICATE_SUBMISSION"]
    assert {f.region_code for f in result.critical} == {"130229"}
    with pytest.raises(GateFailed):
        result.raise_if_failed()


def test_an_unknown_region_code_is_critical_and_located(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance, skip=("130684",))
    add_submission(
        seeded_url,
        instance,
        "130684",
        {"progress_report": [progress_row("130684"), progress_row("139999", cluster_name="某集群")]},
    )

    result = gate(seeded_url, programme, instance, tmp_path)

    unknown = [f for f in result.critical if f.code == "GATE_REGION_UNKNOWN"]
    assert [(f.dataset, f.region_code, f.row, f.field) for f in unknown] == [
        ("progress_report", "139999", 5, "region_code")
    ]
    assert result.success is False


@pytest.mark.parametrize(
    ("project_investments", "critical", "warnings"),
    [
        pytest.param([8000.0, 4500.0], [], [], id="equal"),
        pytest.param([8000.0, 4400.0], [], [], id="within-1-percent"),
        pytest.param([8000.0, 2000.0], ["GATE_TOTAL_MISMATCH"], [], id="short-by-20-percent"),
        pytest.param([], [], ["GATE_PROJECTS_MISSING"], id="no-projects"),
    ],
)
def test_project_investments_must_add_up_to_the_plan_total(
    seeded_url: str,
    programme: Programme,
    tmp_path: Path,
    project_investments: list[float],
    critical: list[str],
    warnings: list[str],
) -> None:
    instance = find_instance(programme, YEAR, "development_plan", "Y")
    for region, cluster in EXPECTED.items():
        plan = clean_record(
            "development_plan", region_code=region, cluster_name=cluster, total_investment=12500.0
        )
        projects = [
            clean_record("plan_projects", region_code=region, project_name=f"项目{n}", investment=amount)
            for n, amount in enumerate(project_investments if region == "130635" else [12500.0])
        ]
        add_submission(seeded_url, instance, region, {"development_plan": [plan], "plan_projects": projects})

    result = gate(seeded_url, programme, instance, tmp_path)

    assert codes_of(result.critical) == critical
    assert codes_of(result.warnings) == warnings
    for finding in result.critical + result.warnings:
        assert (finding.dataset, finding.region_code, finding.row, finding.field) == (
            "development_plan",
            "130635",
            4,
            "total_investment",
        )


def test_a_project_outside_the_plan_period_is_a_warning(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = find_instance(programme, YEAR, "development_plan", "Y")
    for region, cluster in EXPECTED.items():
        plan = clean_record(
            "development_plan", region_code=region, cluster_name=cluster, total_investment=800.0
        )
        year = int(plan["period_end"]) + 1 if region == "130322" else plan["period_start"]  # type: ignore[call-overload]
        project = clean_record("plan_projects", region_code=region, investment=800.0, year=year)
        add_submission(seeded_url, instance, region, {"development_plan": [plan], "plan_projects": [project]})

    result = gate(seeded_url, programme, instance, tmp_path)

    assert result.critical == []
    assert [(f.code, f.dataset, f.region_code, f.field) for f in result.warnings] == [
        ("GATE_PROJECT_OUTSIDE_PERIOD", "plan_projects", "130322", "year")
    ]


def test_warnings_alone_let_the_aggregation_proceed(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance, skip=("130322",))
    add_submission(
        seeded_url,
        instance,
        "130322",
        {"progress_report": [progress_row("130322", planned_investment=1000.0, completed_investment=4000.0)]},
    )

    result = gate(seeded_url, programme, instance, tmp_path)
    result.raise_if_failed()

    assert result.success is True
    assert [(f.code, f.region_code, f.row, f.field) for f in result.warnings] == [
        ("GATE_VALUE_IMPLAUSIBLE", "130322", 4, "completed_investment")
    ]


def test_a_row_rule_of_the_spec_is_a_critical_gate_check(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    """Rows stored past intake are held to the spec's hard bounds and choices (checks generated from it)."""
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance, skip=("130322",))
    add_submission(
        seeded_url,
        instance,
        "130322",
        {"progress_report": [progress_row("130322", projects_started=20_000, projects_completed=1)]},
    )

    result = gate(seeded_url, programme, instance, tmp_path)

    assert [(f.code, f.region_code, f.field) for f in result.critical] == [
        ("GATE_VALUE_OUT_OF_RANGE", "130322", "projects_started")
    ]
    assert "10,000" in result.critical[0].message_zh


@pytest.mark.parametrize(
    ("threshold", "missing", "severity"),
    [
        pytest.param(1.0, ("130109",), "warning", id="default-threshold-gap-is-a-warning"),
        pytest.param(0.9, ("130109",), "critical", id="below-configured-threshold-is-critical"),
        pytest.param(0.8, ("130109",), "warning", id="at-configured-threshold-is-a-warning"),
        pytest.param(0.5, ("130109", "130229", "130322"), "critical", id="far-below-configured-threshold"),
    ],
)
def test_completeness_against_the_threshold(
    seeded_url: str,
    programme: Programme,
    tmp_path: Path,
    threshold: float,
    missing: tuple[str, ...],
    severity: str,
) -> None:
    configured = with_threshold(programme, "half_year_report", threshold)
    instance = half_year(configured)
    submit_all_progress(seeded_url, instance, skip=missing)

    result = gate(seeded_url, configured, instance, tmp_path)

    [finding] = [f for f in result.critical + result.warnings if f.code == "GATE_INCOMPLETE"]
    assert finding.severity == severity
    assert result.success is (severity == "warning")
    assert all(code in finding.message_zh for code in missing)
    assert result.summary["completeness"]["missing"] == list(missing)


def test_an_instance_without_submissions_is_reported_not_crashed(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)

    result = gate(seeded_url, programme, instance, tmp_path)

    assert result.success is True
    assert codes_of(result.warnings) == ["GATE_INCOMPLETE"]
    assert result.summary["completeness"]["accepted"] == 0


def test_a_value_that_is_not_a_number_is_critical(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance, skip=("130229",))
    add_submission(
        seeded_url, instance, "130229", {"progress_report": [progress_row("130229", revenue_yi="八十亿")]}
    )

    result = gate(seeded_url, programme, instance, tmp_path)

    assert [(f.code, f.region_code, f.field) for f in result.critical] == [
        ("GATE_TYPE_INVALID", "130229", "revenue_yi")
    ]


def test_the_gate_run_is_stored_once_per_run_id(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance, skip=("130109",))
    gate(seeded_url, programme, instance, tmp_path, run_id="scheduled__2025-07-16")
    add_submission(seeded_url, instance, "130109", {"progress_report": [progress_row("130109")]})

    gate(seeded_url, programme, instance, tmp_path, run_id="scheduled__2025-07-16")
    gate(seeded_url, programme, instance, tmp_path, run_id="manual__2025-07-17")

    with session_scope(seeded_url) as session:
        runs = {r.run_id: r for r in session.scalars(select(GateRun))}
    assert sorted(runs) == ["manual__2025-07-17", "scheduled__2025-07-16"]
    assert runs["scheduled__2025-07-16"].warnings == 0
    assert runs["scheduled__2025-07-16"].summary["completeness"]["accepted"] == 5


def test_gate_failed_names_dataset_region_row_and_field(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance, skip=("130684",))
    add_submission(
        seeded_url,
        instance,
        "130684",
        {
            "progress_report": [
                progress_row("130684"),
                progress_row("130684", cluster_name="二号集群", completed_investment=-3.0),
            ]
        },
    )
    result = gate(seeded_url, programme, instance, tmp_path)

    with pytest.raises(GateFailed) as caught:
        result.raise_if_failed()

    message = str(caught.value)
    assert message.startswith(
        "数据质量闸门未通过：智慧集群试点建设进展情况 地区130684 第5行 “已完成投资(万元)”："
    )
    assert "共1项严重问题" in message
    assert result.html_path in message
    assert caught.value.result is result


def test_gate_failed_masks_contact_data_with_the_one_rule() -> None:
    finding = GateFinding(
        "contact_list",
        "130100",
        4,
        "mobile",
        "GATE_DUPLICATE_ROW",
        "与13812345678、zhang@example.gov.cn、0311-87803218重复。",
        "critical",
    )
    result = GateResult(False, [finding], [], {}, "/reports/2025/gates/r_2025-07-16T08_00_00.html")

    message = str(GateFailed.from_result(result))

    assert "主管领导及责任处室负责同志名单 地区130100 第4行 “手机”" in message
    assert "与138****5678、z***@example.gov.cn、0311-****3218重复" in message
    for secret in ("13812345678", "zhang@example.gov.cn", "87803218"):
        assert secret not in message
    assert message.endswith("详见 /reports/2025/gates/r_2025-07-16T08_00_00.html")


GATED = [
    pytest.param(p.id, o.id, d.period, id=f"{p.id}-{o.id}-{d.period}")
    for p in load_programmes(get_settings().programmes_dir).values()
    for o in p.obligations
    if o.dataset
    for d in o.due
]


@pytest.mark.parametrize(("programme_id", "obligation_id", "period"), GATED)
def test_every_gated_obligation_passes_one_clean_submission(
    seeded_url: str, tmp_path: Path, programme_id: str, obligation_id: str, period: str
) -> None:
    some = load_programmes(get_settings().programmes_dir)[programme_id]
    obligation = some.obligation(obligation_id)
    instance = find_instance(some, YEAR, obligation_id, period)
    rows = {obligation.dataset: [clean_record(obligation.dataset, region_code="130684")]}
    for companion in COMPANION_DATASETS.get(obligation.dataset, ()):
        rows[companion] = [clean_record(companion, region_code="130684", investment=800.0)]
    if obligation.dataset == "development_plan":
        rows["development_plan"][0]["total_investment"] = 800.0
    add_submission(seeded_url, instance, "130684", rows)

    result = gate(seeded_url, some, instance, tmp_path)

    assert result.critical == []
    assert result.summary["rows"] == {d: 1 for d in rows}
    assert result.summary["gate"] == PROVINCIAL_GATE
