"""The provincial suites: they load into GX, name real columns and documented codes.

A suite is its file in ``expectations/`` plus the checks generated from the
dataset spec (``gate.suites.spec_expectations``); no file repeats a generated
check. There are no row-level suites: intake checks rows by the dataset spec alone.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from review_calendar.gate.errors import GATE_CODES
from review_calendar.gate.suites import COMPANION_DATASETS, load_provincial_suites, spec_expectations
from review_calendar.intake import DATASETS, get_dataset
from review_calendar.intake.expectations import SuiteError, load_suite, suite_columns, suite_path
from review_calendar.intake.templates import TEMPLATE_DATASETS
from tests.unit.gate_cases import EXPECTATIONS

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

SUITES = [pytest.param(d, id=f"{d}__provincial") for d in DATASETS]


@pytest.mark.parametrize("dataset_id", SUITES)
def test_every_suite_file_loads_into_gx(dataset_id: str) -> None:
    import great_expectations as gx

    data = load_provincial_suites([dataset_id], EXPECTATIONS)[dataset_id]

    suite = gx.ExpectationSuite(**data)

    assert len(suite.expectations) == len(data["expectations"])
    assert all(e.meta["severity"] in ("critical", "warning") for e in suite.expectations)


@pytest.mark.parametrize("dataset_id", SUITES)
def test_suites_reference_only_existing_dataset_keys(dataset_id: str) -> None:
    keys = {c.key for c in get_dataset(dataset_id).columns}

    columns = suite_columns(load_provincial_suites([dataset_id], EXPECTATIONS)[dataset_id])

    assert columns <= keys, columns - keys


@pytest.mark.parametrize("dataset_id", SUITES)
def test_suite_codes_are_documented(dataset_id: str) -> None:
    suite = load_provincial_suites([dataset_id], EXPECTATIONS)[dataset_id]

    used = {e["meta"]["code"] for e in suite["expectations"]}

    assert used <= set(GATE_CODES), used - set(GATE_CODES)


def _target(expectation: dict) -> tuple:
    kwargs = expectation["kwargs"]
    return (
        expectation["type"],
        kwargs.get("column") or kwargs.get("column_A"),
        tuple(kwargs.get("column_list") or ()),
    )


@pytest.mark.parametrize("dataset_id", SUITES)
def test_suite_file_does_not_repeat_a_rule_of_the_spec(dataset_id: str) -> None:
    generated = {(*_target(e), e["meta"]["code"]) for e in spec_expectations(get_dataset(dataset_id))}

    written = {(*_target(e), e["meta"]["code"]) for e in load_suite(dataset_id, EXPECTATIONS)["expectations"]}

    assert not generated & written


@pytest.mark.parametrize("dataset_id", SUITES)
def test_spec_rules_become_gate_checks(dataset_id: str) -> None:
    spec = get_dataset(dataset_id)

    checks = {_target(e): e for e in spec_expectations(spec)}

    for key in {"region_code", *spec.key_columns}:
        assert ("expect_column_values_to_not_be_null", key, ()) in checks
    assert ("expect_compound_columns_to_be_unique", None, spec.key_columns) in checks
    for column in spec.columns:
        if column.kind == "choice":
            in_set = checks[("expect_column_values_to_be_in_set", column.key, ())]
            assert in_set["kwargs"]["value_set"] == list(column.choices)
        if column.kind in ("number", "int", "percent"):
            between = checks[("expect_column_values_to_be_between", column.key, ())]["kwargs"]
            assert (between["min_value"], between["max_value"]) == column.bounds
    assert all(e["meta"]["severity"] == "critical" for e in checks.values())


def test_companion_datasets_match_the_templates() -> None:
    assert {k: tuple(v[1:]) for k, v in TEMPLATE_DATASETS.items()} == COMPANION_DATASETS


def test_suite_path_names_the_provincial_suite(tmp_path: Path) -> None:
    assert suite_path("progress_report", tmp_path) == tmp_path / "progress_report__provincial.json"


def test_there_are_no_row_level_suites() -> None:
    """Each row rule is declared once, in the dataset spec: no ``<dataset>.json`` repeats it for intake."""
    assert sorted(p.name for p in EXPECTATIONS.glob("*.json") if not p.stem.endswith("__provincial")) == []


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
    (tmp_path / "progress_report__provincial.json").write_text(json.dumps(suite), encoding="utf-8")

    with pytest.raises(SuiteError) as caught:
        load_suite("progress_report", tmp_path)

    assert "progress_report__provincial.json" in str(caught.value)
    assert complaint in str(caught.value)


def test_missing_suite_file_is_a_suite_error(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="progress_report__provincial.json"):
        load_suite("progress_report", tmp_path)
