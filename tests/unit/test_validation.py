"""Great Expectations gates: suite files, row-level batches at intake, the provincial gate.

Everything runs for real: GX on an ephemeral context, the review database on
SQLite and on the PostgreSQL server the tests start (``migrated_url``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from review_calendar.settings import get_settings
from review_calendar.store.queries import find_instance
from review_calendar.intake import CODES, DATASETS, get_dataset
from review_calendar.intake.datasets import parse_cell
from review_calendar.intake.templates import TEMPLATE_DATASETS, example_value
from review_calendar.domain.programmes import ObligationInstance, Programme, load_programme_file, load_programmes
from review_calendar_demo.seed import seed_demo
from review_calendar.store.db import session_scope
from review_calendar.store.models import GateRun, Region
from tests.support.builders import submit
from review_calendar.gate.provincial import (
    COMPANION_DATASETS,
    GATE_CODES,
    PROVINCIAL_GATE,
    GateFailed,
    GateFinding,
    GateResult,
    RowFailure,
    SuiteError,
    load_suite,
    run_gate,
    suite_columns,
    validate_batch,
    validate_per_file_baseline,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EXPECTATIONS = ROOT / "expectations"
YEAR = 2025
# Expected submitters of the 2025 half-year report in the demo (pilots enrolled 2024 and 2025).
EXPECTED = {
    "130109": "藁城宫灯产业集群",
    "130229": "玉田印刷包装产业集群",
    "130322": "昌黎葡萄酒产业集群",
    "130635": "蠡县毛皮产业集群",
    "130684": "白沟箱包产业集群",
}


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def clean_record(dataset_id: str, **changes: object) -> dict[str, object]:
    """One valid record as intake produces it (typed values), from the template's examples."""
    spec = get_dataset(dataset_id)
    record: dict[str, object] = {}
    for column in spec.columns:
        text = example_value(column)
        record[column.key] = parse_cell(column, text) if text else None
    record.update(changes)
    return record


def batch_frame(dataset_id: str, files: int, rows_per_file: int, **changes: object) -> pd.DataFrame:
    """A batch of ``files`` files, each with rows 4.. carrying distinct keys."""
    records = []
    for f in range(files):
        for r in range(rows_per_file):
            record = clean_record(dataset_id, **changes)
            _distinguish(dataset_id, record, r)
            records.append({**record, "_file": f, "_row": 4 + r})
    return pd.DataFrame.from_records(records)


def _distinguish(dataset_id: str, record: dict[str, object], n: int) -> None:
    """Make row ``n`` of a file differ in the dataset's key (so a clean file has no duplicates)."""
    spec = get_dataset(dataset_id)
    if "region_code" in spec.key_columns:
        record["region_code"] = str(130100 + n)
        return
    for key in spec.key_columns:
        column = spec.column(key)
        if column.kind == "text":
            record[key] = f"{record[key]}{n}"
            return
        if column.kind == "code":
            record[key] = f"{record[key]}-{n}"
            return
    raise AssertionError(f"{dataset_id}: no text key to vary")


def set_cell(frame: pd.DataFrame, file: int, row: int, key: str, value: object) -> pd.DataFrame:
    """The frame with one cell changed (object dtype so any value fits)."""
    frame = frame.copy()
    frame[key] = frame[key].astype(object)
    index = frame.index[(frame["_file"] == file) & (frame["_row"] == row)][0]
    frame.at[index, key] = value
    return frame


def located(failures: list[RowFailure]) -> list[tuple[int, int | None, str | None, str]]:
    return [(f.file, f.row, f.column, f.code) for f in failures]


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme_file(get_settings().programmes_dir / "hebei_smart_cluster.yaml")


def with_threshold(programme: Programme, obligation_id: str, threshold: float) -> Programme:
    obligations = [
        o.model_copy(update={"completeness_threshold": threshold}) if o.id == obligation_id else o
        for o in programme.obligations
    ]
    return programme.model_copy(update={"obligations": obligations})


@pytest.fixture
def seeded_url(migrated_url: str) -> str:
    seed_demo(migrated_url)
    return migrated_url


def add_submission(
    url: str,
    instance: ObligationInstance,
    region: str,
    rows: dict[str, list[dict[str, object]]],
    *,
    first_row: int = 4,
) -> int:
    """Insert an accepted submission of ``region`` with rows per dataset; returns its id."""
    return submit(url, instance, region, dt.date(YEAR, 7, 10), rows=rows, first_row=first_row, is_late=False)


def progress_row(region: str, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "region_code": region,
        "cluster_name": EXPECTED.get(region, "某产业集群"),
        "year": YEAR,
        "period": "上半年",
    }
    return clean_record("progress_report", **{**values, **changes})


def half_year(programme: Programme) -> ObligationInstance:
    return find_instance(programme, YEAR, "half_year_report", "Y")


def submit_all_progress(url: str, instance: ObligationInstance, skip: tuple[str, ...] = ()) -> None:
    for region in EXPECTED:
        if region not in skip:
            add_submission(url, instance, region, {"progress_report": [progress_row(region)]})


def gate(
    url: str, programme: Programme, instance: ObligationInstance, tmp_path: Path, run_id: str = "r1"
) -> GateResult:
    with session_scope(url) as session:
        known = set(session.scalars(select(Region.code)))
        return run_gate(
            session,
            programme,
            instance,
            run_id=run_id,
            expectations_dir=EXPECTATIONS,
            reports_dir=tmp_path / "reports",
            known_region_codes=known,
        )


def codes_of(findings: list[GateFinding]) -> list[str]:
    return sorted({f.code for f in findings})


# ---------------------------------------------------------------------------
# Suite files
# ---------------------------------------------------------------------------

SUITES = [
    pytest.param(d, provincial, id=f"{d}{'__provincial' if provincial else ''}")
    for d in DATASETS
    for provincial in (False, True)
]


@pytest.mark.parametrize(("dataset_id", "provincial"), SUITES)
def test_every_suite_file_loads_into_gx(dataset_id: str, provincial: bool) -> None:
    import great_expectations as gx

    data = load_suite(dataset_id, EXPECTATIONS, provincial=provincial)

    suite = gx.ExpectationSuite(**data)

    assert len(suite.expectations) == len(data["expectations"])
    assert all(e.meta["severity"] in ("critical", "warning") for e in suite.expectations)


@pytest.mark.parametrize(("dataset_id", "provincial"), SUITES)
def test_suites_reference_only_existing_dataset_keys(dataset_id: str, provincial: bool) -> None:
    keys = {c.key for c in get_dataset(dataset_id).columns}
    allowed = keys | ({"_file"} if not provincial else set())

    columns = suite_columns(load_suite(dataset_id, EXPECTATIONS, provincial=provincial))

    assert columns <= allowed, columns - allowed


@pytest.mark.parametrize(("dataset_id", "provincial"), SUITES)
def test_suite_codes_are_documented(dataset_id: str, provincial: bool) -> None:
    known = GATE_CODES if provincial else CODES

    used = {
        e["meta"]["code"] for e in load_suite(dataset_id, EXPECTATIONS, provincial=provincial)["expectations"]
    }

    assert used <= set(known), used - set(known)


@pytest.mark.parametrize("dataset_id", [pytest.param(d, id=d) for d in DATASETS])
def test_row_suite_checks_every_required_column_and_the_key(dataset_id: str) -> None:
    spec = get_dataset(dataset_id)
    expectations = load_suite(dataset_id, EXPECTATIONS)["expectations"]

    not_null = {
        e["kwargs"]["column"] for e in expectations if e["type"] == "expect_column_values_to_not_be_null"
    }
    unique = [
        e["kwargs"]["column_list"]
        for e in expectations
        if e["type"] == "expect_compound_columns_to_be_unique"
    ]

    assert {c.key for c in spec.columns if c.required} <= not_null
    assert unique == [["_file", *spec.key_columns]]


def test_companion_datasets_match_the_templates() -> None:
    assert {k: tuple(v[1:]) for k, v in TEMPLATE_DATASETS.items()} == COMPANION_DATASETS


@pytest.mark.parametrize(
    ("meta", "complaint"),
    [
        pytest.param({"code": "X", "message_zh": "错"}, "severity", id="no-severity"),
        pytest.param({"severity": "fatal", "code": "X", "message_zh": "错"}, "severity", id="bad-severity"),
        pytest.param({"severity": "warning", "message_zh": "错"}, "code", id="no-code"),
        pytest.param(
            {"severity": "warning", "code": "X", "message_zh": "{phone}"}, "placeholder", id="bad-placeholder"
        ),
    ],
)
def test_load_suite_rejects_an_invalid_meta(tmp_path: Path, meta: dict[str, str], complaint: str) -> None:
    suite = {
        "name": "progress_report",
        "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "year"}, "meta": meta}],
    }
    (tmp_path / "progress_report.json").write_text(json.dumps(suite), encoding="utf-8")

    with pytest.raises(SuiteError) as caught:
        load_suite("progress_report", tmp_path)

    assert "progress_report.json" in str(caught.value)
    assert complaint in str(caught.value)


def test_missing_suite_file_is_a_suite_error(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="progress_report.json"):
        load_suite("progress_report", tmp_path)


# ---------------------------------------------------------------------------
# Row-level batches
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dataset_id", [pytest.param(d, id=d) for d in DATASETS])
def test_a_clean_batch_passes(dataset_id: str) -> None:
    frame = batch_frame(dataset_id, files=3, rows_per_file=4)

    failures = validate_batch(dataset_id, frame, expectations_dir=EXPECTATIONS)

    assert failures == []


ROW_CASES = [
    pytest.param(
        "progress_report", {"cluster_name": None}, "cluster_name", "VALUE_REQUIRED", id="required-blank"
    ),
    pytest.param(
        "progress_report",
        {"completed_investment": -5.0},
        "completed_investment",
        "NUMBER_OUT_OF_RANGE",
        id="negative-money",
    ),
    pytest.param("progress_report", {"period": "第三季度"}, "period", "CHOICE_INVALID", id="choice"),
    pytest.param(
        "progress_report", {"region_code": "13068"}, "region_code", "CODE_INVALID", id="region-5-digits"
    ),
    pytest.param(
        "progress_report",
        {"projects_completed": 9},
        "projects_completed",
        "VALUE_INCONSISTENT",
        id="completed-above-started",
    ),
    pytest.param(
        "progress_report",
        {"projects_started": 2.5},
        "projects_started",
        "INTEGER_INVALID",
        id="count-not-whole",
    ),
    pytest.param(
        "progress_report", {"revenue_yi": "八十六"}, "revenue_yi", "NUMBER_INVALID", id="number-is-text"
    ),
    pytest.param("progress_report", {"year": 1899}, "year", "YEAR_INVALID", id="year-out-of-range"),
    pytest.param("contact_list", {"mobile": "23812345678"}, "mobile", "MOBILE_INVALID", id="mobile"),
    pytest.param("contact_list", {"email": "zhangsan@example"}, "email", "EMAIL_INVALID", id="email"),
    pytest.param(
        "contact_list", {"office_phone": "87803218"}, "office_phone", "PHONE_INVALID", id="office-phone"
    ),
    pytest.param("contact_list", {"name": "张" * 31}, "name", "VALUE_TOO_LONG", id="too-long"),
    pytest.param(
        "annual_info_table",
        {"sme_output_share": 1.2},
        "sme_output_share",
        "PERCENT_OUT_OF_RANGE",
        id="share-above-100",
    ),
    pytest.param("evaluation_scores", {"score": 120.0}, "score", "NUMBER_OUT_OF_RANGE", id="score-above-100"),
    pytest.param(
        "evaluation_scores",
        {"violation": "是", "violation_note": None},
        "violation_note",
        "VALUE_REQUIRED",
        id="violation-without-note",
    ),
    pytest.param(
        "development_plan",
        {"approval_date": None},
        "approval_date",
        "VALUE_REQUIRED",
        id="approved-without-date",
    ),
    pytest.param(
        "development_plan",
        {"period_end": 2020},
        "period_end",
        "VALUE_INCONSISTENT",
        id="plan-ends-before-start",
    ),
    pytest.param(
        "development_plan", {"approval_date": "2025/5/20"}, "approval_date", "DATE_INVALID", id="date-not-iso"
    ),
    pytest.param("henan_quarterly", {"base_code": "hn 2012"}, "base_code", "CODE_INVALID", id="base-code"),
    pytest.param(
        "subsidy_claims", {"category": "平台企业"}, "category", "CHOICE_INVALID", id="subsidy-category"
    ),
    pytest.param(
        "rereview_materials",
        {"targets_completed": 9},
        "targets_completed",
        "VALUE_INCONSISTENT",
        id="targets-completed-above-total",
    ),
]


@pytest.mark.parametrize(("dataset_id", "changes", "column", "code"), ROW_CASES)
def test_a_row_failure_is_mapped_to_its_file_row_and_column(
    dataset_id: str, changes: dict[str, object], column: str, code: str
) -> None:
    frame = batch_frame(dataset_id, files=3, rows_per_file=5)
    for key, value in changes.items():
        frame = set_cell(frame, file=1, row=6, key=key, value=value)

    failures = validate_batch(dataset_id, frame, expectations_dir=EXPECTATIONS)

    assert located(failures) == [(1, 6, column, code)]
    assert failures[0].file_index == 1
    header = get_dataset(dataset_id).column(column).header
    assert failures[0].header == header
    assert failures[0].message.startswith("第6行")
    assert f"“{header}”" in failures[0].message
    assert failures[0].severity == "critical"


def test_duplicate_keys_within_a_file_are_reported_on_both_rows() -> None:
    frame = batch_frame("progress_report", files=2, rows_per_file=3)
    frame = set_cell(frame, file=1, row=5, key="region_code", value=frame.at[3, "region_code"])

    failures = validate_batch("progress_report", frame, expectations_dir=EXPECTATIONS)

    assert located(failures) == [(1, 4, None, "ROW_DUPLICATE"), (1, 5, None, "ROW_DUPLICATE")]
    assert "“产业集群名称”" in failures[0].message


def test_the_same_key_in_two_files_is_not_a_row_duplicate() -> None:
    frame = batch_frame("progress_report", files=2, rows_per_file=3)

    failures = validate_batch("progress_report", frame, expectations_dir=EXPECTATIONS)

    assert failures == []


def test_more_than_200_failing_rows_are_all_reported() -> None:
    frame = batch_frame("progress_report", files=50, rows_per_file=57)
    bad = frame.index[frame.index % 11 == 0]
    frame["cluster_name"] = frame["cluster_name"].astype(object)
    frame.loc[bad, "cluster_name"] = None
    expected = sorted((int(frame.at[i, "_file"]), int(frame.at[i, "_row"])) for i in bad)

    failures = validate_batch("progress_report", frame, expectations_dir=EXPECTATIONS)

    assert len(frame) == 2850
    assert len(expected) > 200
    assert sorted((f.file, f.row) for f in failures) == expected
    assert {f.code for f in failures} == {"VALUE_REQUIRED"}


def test_contact_values_are_masked_in_messages_but_kept_as_values() -> None:
    frame = set_cell(batch_frame("contact_list", files=1, rows_per_file=2), 0, 5, "mobile", "23812345678")

    [failure] = validate_batch("contact_list", frame, expectations_dir=EXPECTATIONS)

    assert failure.value == "23812345678"
    assert "23812345678" not in failure.message
    assert "238****5678" in failure.message


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        pytest.param("critical", "error", id="critical-rejects"),
        pytest.param("warning", "warning", id="warning-keeps"),
    ],
)
def test_a_row_failure_becomes_an_intake_issue(severity: str, expected: str) -> None:
    failure = RowFailure(2, 7, "mobile", "手机", "123", "MOBILE_INVALID", "第7行“手机”…", severity)  # type: ignore[arg-type]

    issue = failure.to_issue("名单.xlsx", "联系人名单")

    assert (issue.file, issue.sheet, issue.row, issue.column, issue.code, issue.severity) == (
        "名单.xlsx",
        "联系人名单",
        7,
        "手机",
        "MOBILE_INVALID",
        expected,
    )


def test_the_per_file_baseline_finds_the_same_failures() -> None:
    frame = batch_frame("progress_report", files=3, rows_per_file=4)
    frame = set_cell(frame, 2, 5, "period", "Q3")
    frames = [part.drop(columns="_file") for _, part in frame.groupby("_file")]

    baseline = validate_per_file_baseline("progress_report", frames, EXPECTATIONS)

    assert located(baseline) == located(
        validate_batch("progress_report", frame, expectations_dir=EXPECTATIONS)
    )
    assert located(baseline) == [(2, 5, "period", "CHOICE_INVALID")]


def test_a_batch_without_row_numbers_is_refused() -> None:
    frame = batch_frame("progress_report", files=1, rows_per_file=2).drop(columns="_row")

    with pytest.raises(ValueError, match="_row"):
        validate_batch("progress_report", frame, expectations_dir=EXPECTATIONS)


# ---------------------------------------------------------------------------
# Provincial gate
# ---------------------------------------------------------------------------


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


def test_the_html_page_is_written_and_escapes_submitted_values(
    seeded_url: str, programme: Programme, tmp_path: Path
) -> None:
    instance = half_year(programme)
    submit_all_progress(seeded_url, instance, skip=("130635",))
    add_submission(
        seeded_url,
        instance,
        "130635",
        {"progress_report": [progress_row("130635", period="<script>alert(1)</script>")]},
    )

    result = gate(seeded_url, programme, instance, tmp_path, run_id="manual__2025-07-16T08:00:00+00:00")

    path = Path(result.html_path)
    page = path.read_text(encoding="utf-8")
    assert path.parent == tmp_path / "reports" / "hebei_smart_cluster" / "2025" / "gates"
    assert re.fullmatch(r"half_year_report_Y_manual__2025-07-16T08_00_00_00_00-[0-9a-f]{8}\.html", path.name)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "130635 蠡县" in page
    assert "未通过" in page and "报告期" in page
    assert 'lang="zh-CN"' in page and "http" not in page


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


def test_gate_failed_hides_phone_numbers_and_e_mail_addresses() -> None:
    finding = GateFinding(
        "contact_list",
        "130100",
        4,
        "mobile",
        "GATE_DUPLICATE_ROW",
        "与13812345678、zhang@example.gov.cn、0311-87803218重复。",
        "critical",
    )
    result = GateResult(False, [finding], [], {}, "/reports/gate.html")

    message = str(GateFailed.from_result(result))

    assert "主管领导及责任处室负责同志名单 地区130100 第4行 “手机”" in message
    for secret in ("13812345678", "zhang@example.gov.cn", "87803218"):
        assert secret not in message


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
    assert Path(result.html_path).is_file()
    assert result.summary["gate"] == PROVINCIAL_GATE
