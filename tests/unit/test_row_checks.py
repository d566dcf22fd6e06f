"""Row checks at intake: one GX run over all new rows of a batch, failures mapped to file, row and column.

Everything runs for real: GX on an ephemeral context over frames built from
the official template's example values.
"""

from __future__ import annotations

import pandas as pd
import pytest

from review_calendar.intake import DATASETS, get_dataset
from review_calendar.intake.row_checks import RowFailure, validate_batch, validate_per_file_baseline
from tests.unit.gate_cases import EXPECTATIONS, clean_record

pytestmark = pytest.mark.unit


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


def test_a_value_of_the_wrong_kind_is_named_in_chinese() -> None:
    frame = set_cell(batch_frame("progress_report", files=1, rows_per_file=2), 0, 5, "projects_started", 2.5)

    [failure] = validate_batch("progress_report", frame, expectations_dir=EXPECTATIONS)

    assert failure.message.endswith("“2.5”不是有效的整数，请核对。")


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


@pytest.mark.parametrize(
    ("column", "value", "masked"),
    [
        pytest.param("mobile", "23812345678", "“****5678”", id="mobile-keeps-last-four"),
        pytest.param("office_phone", "0311-1780321", "“0311-****0321”", id="phone-keeps-area-and-last-four"),
    ],
)
def test_contact_values_are_masked_in_messages_but_kept_as_values(
    column: str, value: str, masked: str
) -> None:
    frame = set_cell(batch_frame("contact_list", files=1, rows_per_file=2), 0, 5, column, value)

    [failure] = validate_batch("contact_list", frame, expectations_dir=EXPECTATIONS)

    assert failure.value == value
    assert value not in failure.message
    assert masked in failure.message


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


def test_an_empty_batch_has_no_failures() -> None:
    frame = batch_frame("progress_report", files=1, rows_per_file=1).iloc[0:0]

    assert validate_batch("progress_report", frame, expectations_dir=EXPECTATIONS) == []


def test_an_approved_plan_without_its_date_is_kept_awaiting_the_approval() -> None:
    """冀工信产业〔2016〕93号 二: approval by the county government; a missing date is 待补批复, not a rejection."""
    frame = set_cell(batch_frame("development_plan", files=2, rows_per_file=2), 1, 5, "approval_date", None)

    [failure] = validate_batch("development_plan", frame, expectations_dir=EXPECTATIONS)

    assert (failure.file, failure.row, failure.column, failure.code) == (
        1,
        5,
        "approval_date",
        "VALUE_REQUIRED",
    )
    assert failure.severity == "warning"
    assert "待补批复" in failure.message
