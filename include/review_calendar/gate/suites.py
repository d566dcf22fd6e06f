"""The provincial suites: which suites gate an obligation, and their outcomes as findings.

An obligation's dataset is gated by ``expectations/<dataset>__provincial.json``,
together with the suites of its companion datasets. The checks that repeat a
row rule of the dataset spec (identifying columns filled, region code format,
drop-down choices, hard bounds of numeric columns, the order of two columns
such as a plan's end and start year, no duplicate key) and the plausibility
warnings of one column (its soft bounds) are not written in the JSON:
:func:`spec_expectations` generates them from the spec when a suite is loaded,
so each rule and bound is declared once. The JSON holds what only the gate
checks (reviewer flags such as a plan not approved).
Suites are loaded and run by :mod:`review_calendar.intake.expectations`; this
module words what they found for reviewers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_calendar.domain.privacy import mask_text
from review_calendar.gate.errors import GATE_CHECK_ERROR, GateCheck, GateFinding
from review_calendar.gate.frames import region_and_row
from review_calendar.intake.columns import show_value as show_bound
from review_calendar.intake.datasets import get_dataset
from review_calendar.intake.expectations import (
    BATCH_COLUMNS,
    MessageValues,
    header_of,
    load_suite,
    render_failure,
    show_value,
)
from review_calendar.intake.identifiers import EMAIL_PATTERN, REGION_CODE_PATTERN

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    import pandas as pd

    from review_calendar.intake.columns import Column
    from review_calendar.intake.expectations import Outcome
    from review_calendar.intake.spec import Dataset

__all__ = [
    "COMPANION_DATASETS",
    "describe_expectation",
    "gated_datasets",
    "load_provincial_suites",
    "spec_expectations",
    "suite_findings",
]

#: Datasets gated together with an obligation's own dataset: the implementation
#: plan's project list belongs to the development plan (冀工信产业〔2016〕93号 二、三).
COMPANION_DATASETS: dict[str, tuple[str, ...]] = {"development_plan": ("plan_projects",)}

_DESCRIBE = {
    "expect_column_values_to_not_be_null": "“{header}”不为空",
    "expect_column_values_to_match_regex": "“{header}”格式正确",
    "expect_column_values_to_be_in_set": "“{header}”在可选范围内",
    "expect_column_values_to_be_between": "“{header}”取值范围",
    "expect_column_value_lengths_to_be_between": "“{header}”长度",
    "expect_compound_columns_to_be_unique": "{headers}不重复",
    "expect_column_pair_values_a_to_be_greater_than_b": "“{header}”不小于“{header_b}”",
}


def gated_datasets(dataset_id: str) -> tuple[str, ...]:
    """An obligation's dataset followed by its companion datasets (:data:`COMPANION_DATASETS`)."""
    return (dataset_id, *COMPANION_DATASETS.get(dataset_id, ()))


def load_provincial_suites(dataset_ids: Iterable[str], expectations_dir: Path) -> dict[str, dict[str, Any]]:
    """The provincial suite of each dataset.

    Args:
        dataset_ids: Keys of ``DATASETS``.
        expectations_dir: Folder of the suites.

    Returns:
        ``{dataset: suite}`` as loaded by ``load_suite``.

    Raises:
        SuiteError: A suite file is missing or invalid.
    """
    suites = {}
    for dataset_id in dataset_ids:
        data = load_suite(dataset_id, expectations_dir)
        generated = spec_expectations(get_dataset(dataset_id))
        suites[dataset_id] = {**data, "expectations": [*generated, *data["expectations"]]}
    return suites


def _expectation(
    kind: str, kwargs: dict[str, Any], code: str, message: str, severity: str = "critical"
) -> dict[str, Any]:
    """One expectation of a suite (the JSON shape ``gx.ExpectationSuite`` takes)."""
    return {
        "type": f"expect_{kind}",
        "kwargs": kwargs,
        "meta": {"severity": severity, "code": code, "message_zh": message},
    }


def spec_expectations(spec: Dataset) -> list[dict[str, Any]]:
    """The gate's checks that repeat a row rule of the dataset spec, generated from it.

    Identifying columns (the region code and the key columns) are filled; a
    region code has 6 digits; an e-mail address has the syntax of the one
    address rule (``EMAIL_PATTERN``); a drop-down column holds one of its choices; a
    number, count or percent is within its hard bounds (``Column.bounds``); the
    spec's column orders hold (``Dataset.column_orders``); no two rows of the
    province share a key. These are critical: a row that breaks one was never
    accepted at intake, so at the gate it is an error of the data. A number
    outside its soft bounds (``Column.usual``) is a warning, as at intake: the
    gate's plausibility bound of a column is the spec's, never a second one.

    Args:
        spec: The dataset.

    Returns:
        Expectations in the suite's JSON shape, in template column order.
    """
    keys = {c.key for c in spec.columns}
    out = [
        _expectation(
            "column_values_to_not_be_null",
            {"column": key},
            "GATE_VALUE_MISSING",
            "行政区划代码为空，无法归属地区。"
            if key == "region_code"
            else "标识本行的“{header}”为空，无法汇总。",
        )
        for key in dict.fromkeys(("region_code", *spec.key_columns))
        if key in keys
    ]
    for column in spec.columns:
        if column.kind == "region_code":
            out.append(
                _expectation(
                    "column_values_to_match_regex",
                    {"column": column.key, "regex": f"^{REGION_CODE_PATTERN}$"},
                    "GATE_FORMAT_INVALID",
                    "行政区划代码“{value}”不是6位数字。",
                )
            )
        elif column.kind == "email":
            out.append(
                _expectation(
                    "column_values_to_match_regex",
                    {"column": column.key, "regex": EMAIL_PATTERN},
                    "GATE_FORMAT_INVALID",
                    "电子邮箱“{value}”格式不正确。",
                )
            )
        elif column.kind == "choice":
            out.append(
                _expectation(
                    "column_values_to_be_in_set",
                    {"column": column.key, "value_set": list(column.choices)},
                    "GATE_CHOICE_INVALID",
                    f"值“{{value}}”不在可选范围（{'、'.join(column.choices)}）内。",
                )
            )
        elif column.kind in ("number", "int", "percent"):
            out.append(_bounds_expectation(column))
            if column.usual is not None:
                out.append(_usual_expectation(column))
    for order in spec.column_orders:
        pair = _expectation(
            "column_pair_values_a_to_be_greater_than_b",
            {
                "column_A": order.larger,
                "column_B": order.smaller,
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
            "GATE_VALUE_INCONSISTENT",
            order.message.format(larger="{value}", smaller="{value_b}") + "。",
        )
        pair["meta"]["field"] = order.field
        out.append(pair)
    out.append(
        _expectation(
            "compound_columns_to_be_unique",
            {"column_list": list(spec.key_columns), "ignore_row_if": "any_value_is_missing"},
            "GATE_DUPLICATE_ROW",
            "与其他报送中的行重复（{headers}相同）：同一地区、同一对象只能有一份有效报送。",
        )
    )
    return out


def _bounds_expectation(column: Column) -> dict[str, Any]:
    """The hard bounds of a numeric column as a between expectation (a share: 0 %–100 %)."""
    low, high = column.bounds
    kwargs: dict[str, Any] = {"column": column.key, "min_value": low, "max_value": high}
    if column.kind == "percent" and (low, high) == (0.0, 1.0):
        return _expectation(
            "column_values_to_be_between", kwargs, "GATE_SHARE_OUT_OF_RANGE", "比例{value}不在0%～100%之间。"
        )
    if high is None:
        message = "值{value}不能为负数。" if low == 0 else f"值{{value}}不能小于{show_bound(column, low)}。"
    elif low is None:
        message = f"值{{value}}不能大于{show_bound(column, high)}。"
    else:
        message = f"值{{value}}应在{show_bound(column, low)}～{show_bound(column, high)}之间。"
    return _expectation("column_values_to_be_between", kwargs, "GATE_VALUE_OUT_OF_RANGE", message)


def _usual_expectation(column: Column) -> dict[str, Any]:
    """The soft bounds of a numeric column (``Column.usual``) as a warning, worded as intake's warning."""
    low, high = column.usual or (None, None)
    if low is not None and high is not None:
        usual = f"通常在{show_bound(column, low)}～{show_bound(column, high)}之间"
    elif low is not None:
        usual = f"通常不低于{show_bound(column, low)}"
    else:
        usual = f"通常不超过{show_bound(column, high)}"
    return _expectation(
        "column_values_to_be_between",
        {"column": column.key, "min_value": low, "max_value": high},
        "GATE_VALUE_IMPLAUSIBLE",
        f"“{{header}}”为{{value}}，超出常见范围（{usual}），请核实数值和单位。",
        "warning",
    )


def describe_expectation(spec: Dataset, outcome: Outcome) -> str:
    """What an expectation checks, in Chinese (``“已完成投资(万元)”在0～500万之间``), for the check list.

    Args:
        spec: The dataset the expectation runs on.
        outcome: Its outcome (type and arguments).
    """
    kwargs = outcome.kwargs
    template = _DESCRIBE.get(outcome.type, outcome.type + "（{header}）")
    if outcome.type == "expect_column_values_to_be_between":
        template = "“{header}”" + _bounds_text(spec, kwargs)
    keys = [k for k in kwargs.get("column_list") or () if k not in BATCH_COLUMNS]
    return template.format_map(
        MessageValues(
            header=header_of(spec, kwargs.get("column") or kwargs.get("column_A")),
            header_b=header_of(spec, kwargs.get("column_B")),
            headers="、".join(f"“{header_of(spec, k)}”" for k in keys),
        )
    )


def _bounds_text(spec: Dataset, kwargs: Mapping[str, Any]) -> str:
    """``在0～100之间``, ``不小于1``, ``不大于500万`` for a between expectation (percents as %)."""
    key = kwargs.get("column")
    kind = spec.column(key).kind if key in {c.key for c in spec.columns} else None
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f"在{show_value(low, kind)}～{show_value(high, kind)}之间"
    if low is not None:
        return f"不小于{show_value(low, kind)}"
    return f"不大于{show_value(high, kind)}" if high is not None else "取值范围"


def suite_findings(
    spec: Dataset, frame: pd.DataFrame, outcomes: Iterable[Outcome], reported: set[tuple[int, str]]
) -> tuple[list[GateFinding], list[GateCheck]]:
    """Findings and checks of a provincial suite's outcomes.

    An expectation that could not run is a critical ``GATE_CHECK_ERROR``; a
    failing one gives a finding per failing row, located by region and row
    (one finding for the whole dataset if GX names no rows).

    Args:
        spec: The dataset.
        frame: The typed frame the suite ran on.
        outcomes: The suite's outcomes.
        reported: ``(position, column)`` cells already reported as type problems; skipped.

    Returns:
        ``(findings, checks)``: one check per expectation.
    """
    findings, checks = [], []
    for outcome in outcomes:
        meta = outcome.meta
        check = GateCheck(spec.id, describe_expectation(spec, outcome), meta["severity"], meta["code"])
        checks.append(check)
        if outcome.error is not None:
            check.error = True
            findings.append(_check_error(spec, outcome, check))
        elif not outcome.success:
            check.failures = outcome.unexpected_count or len(outcome.positions) or 1
            findings.extend(_failing_rows(spec, frame, outcome, check, reported))
    return findings, checks


def _check_error(spec: Dataset, outcome: Outcome, check: GateCheck) -> GateFinding:
    """The critical finding of an expectation that could not run (its error text masked)."""
    return GateFinding(
        spec.id,
        None,
        None,
        outcome.kwargs.get("column") or outcome.kwargs.get("column_A"),
        GATE_CHECK_ERROR,
        f"检查“{check.name}”无法执行：{mask_text(outcome.error or '')[:200]}",
        "critical",
    )


def _failing_rows(
    spec: Dataset, frame: pd.DataFrame, outcome: Outcome, check: GateCheck, reported: set[tuple[int, str]]
) -> list[GateFinding]:
    """A finding per failing row of an expectation, or one for the dataset if no rows are named."""
    meta = outcome.meta
    if not outcome.positions:
        return [
            GateFinding(spec.id, None, None, None, meta["code"], check.name + "：未通过。", meta["severity"])
        ]
    findings = []
    for pos in outcome.positions:
        region, row = region_and_row(frame, pos)
        field, _value, message = render_failure(spec, frame, outcome, pos, row)
        if field is not None and (pos, field) in reported:
            continue
        findings.append(GateFinding(spec.id, region, row, field, meta["code"], message, meta["severity"]))
    return findings
