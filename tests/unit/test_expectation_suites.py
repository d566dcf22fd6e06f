"""The suite files in ``expectations/``: they load into GX, name real columns and documented codes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from review_calendar.gate.errors import GATE_CODES
from review_calendar.gate.suites import COMPANION_DATASETS
from review_calendar.intake import CODES, DATASETS, get_dataset
from review_calendar.intake.expectations import SuiteError, load_suite, suite_columns, suite_path
from review_calendar.intake.templates import TEMPLATE_DATASETS
from tests.unit.gate_cases import EXPECTATIONS

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

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
    ("provincial", "name"),
    [
        pytest.param(False, "progress_report.json", id="row-level"),
        pytest.param(True, "progress_report__provincial.json", id="provincial"),
    ],
)
def test_suite_path_names_the_row_level_and_the_provincial_suite(
    tmp_path: Path, provincial: bool, name: str
) -> None:
    assert suite_path("progress_report", tmp_path, provincial=provincial) == tmp_path / name


@pytest.mark.parametrize(
    ("meta", "complaint"),
    [
        pytest.param({"code": "X", "message_zh": "错"}, "severity", id="no-severity"),
        pytest.param({"severity": "fatal", "code": "X", "message_zh": "错"}, "severity", id="bad-severity"),
        pytest.param({"severity": "warning", "message_zh": "错"}, "code", id="no-code"),
        pytest.param({"severity": "warning", "code": "X"}, "message_zh", id="no-message"),
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
