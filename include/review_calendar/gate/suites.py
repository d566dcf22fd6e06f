"""The provincial suites: which suites gate an obligation, and their outcomes as findings.

An obligation's dataset is gated by ``expectations/<dataset>__provincial.json``,
together with the suites of its companion datasets. Suites are loaded and run
by :mod:`review_calendar.intake.expectations`; this module words what they
found for reviewers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_calendar.domain.privacy import mask_text
from review_calendar.gate.errors import GATE_CHECK_ERROR, GateCheck, GateFinding
from review_calendar.gate.frames import region_and_row
from review_calendar.intake.expectations import (
    BATCH_COLUMNS,
    MessageValues,
    header_of,
    load_suite,
    render_failure,
    show_value,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    import pandas as pd

    from review_calendar.intake.expectations import Outcome
    from review_calendar.intake.spec import Dataset

__all__ = [
    "COMPANION_DATASETS",
    "describe_expectation",
    "gated_datasets",
    "load_provincial_suites",
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
    return {d: load_suite(d, expectations_dir) for d in dataset_ids}


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
