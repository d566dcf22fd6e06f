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

    generated = spec_expectations(spec)
    checks = {_target(e): e for e in generated if e["meta"]["severity"] == "critical"}

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
    for order in spec.column_orders:
        pair = checks[("expect_column_pair_values_a_to_be_greater_than_b", order.larger, ())]
        assert (pair["kwargs"]["column_B"], pair["kwargs"]["or_equal"]) == (order.smaller, True)
        assert pair["meta"]["field"] == order.field
    warnings = [e for e in generated if e["meta"]["severity"] == "warning"]
    assert {
        e["kwargs"]["column"]: (e["kwargs"]["min_value"], e["kwargs"]["max_value"]) for e in warnings
    } == {c.key: c.usual for c in spec.columns if c.usual is not None}
    assert {e["meta"]["code"] for e in warnings} <= {"GATE_VALUE_IMPLAUSIBLE"}


@pytest.mark.parametrize("dataset_id", SUITES)
def test_suite_file_repeats_no_bound_or_column_order_of_the_spec(dataset_id: str) -> None:
    """A bound (hard or soft) and a column order are the spec's alone: no file writes a second one."""
    spec = get_dataset(dataset_id)
    bounded = {c.key for c in spec.columns if c.kind in ("number", "int", "percent") or c.usual is not None}
    ordered = {frozenset((o.larger, o.smaller)) for o in spec.column_orders}

    written = load_suite(dataset_id, EXPECTATIONS)["expectations"]

    assert [e for e in written if "between" in e["type"] and e["kwargs"].get("column") in bounded] == []
    assert [
        e for e in written if frozenset((e["kwargs"].get("column_A"), e["kwargs"].get("column_B"))) in ordered
    ] == []


def test_the_spec_column_orders_are_intake_rules_and_gate_checks() -> None:
    """Plan end ≥ start and completed ≤ started are declared once and checked at both ends."""
    from review_calendar.intake.row_rules import RowContext

    spec = get_dataset("progress_report")
    (order,) = spec.column_orders
    record = {"projects_started": 2, "projects_completed": 5}

    problems = [p for check in spec.row_checks for p in check(record, RowContext())]

    assert [(p.column, p.code, p.message) for p in problems if p.code == "VALUE_INCONSISTENT"] == [
        ("projects_completed", "VALUE_INCONSISTENT", "竣工项目数5大于开工项目数2，请核对。")
    ]
    (pair,) = [e for e in spec_expectations(spec) if e["type"].startswith("expect_column_pair")]
    assert pair["meta"]["message_zh"] == "竣工项目数{value_b}大于开工项目数{value}。"
    assert ("period_end", "period_start") in {
        (o.larger, o.smaller) for o in get_dataset("development_plan").column_orders
    }


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
