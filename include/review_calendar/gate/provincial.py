"""Great Expectations gates: row-level suites at intake, the provincial gate before aggregation.

Every gate has the same shape (STYLE.md point 10): a suite in
``expectations/`` (JSON, one per dataset), a plain function that runs it on an
ephemeral GX context and returns something small, and a typed failure whose
Chinese message names dataset, region, row and field.

- :func:`validate_batch` runs the row-level suite ``<dataset>.json`` once over
  all new rows of a batch of files (issue 3: "one GX run over all new rows,
  not one GX context per file") and maps every failing row back to its file,
  spreadsheet row and column.
- :func:`run_gate` runs the provincial suite ``<dataset>__provincial.json`` on
  the assembled provincial dataset plus the structural checks that need more
  than one row or table (one accepted submission per region, region codes
  that exist, totals that reconcile, completeness), stores a ``GateRun`` row
  and writes an HTML page for reviewers. :meth:`GateResult.raise_if_failed`
  raises :class:`GateFailed` when a critical finding stops the aggregation.

Each expectation of a suite carries ``meta``: ``severity`` (``critical`` stops:
the file is rejected or the aggregation does not run; ``warning`` is reported
and lets it proceed), a stable ``code`` and ``message_zh``, a Chinese sentence
with the placeholders ``{row}``, ``{header}``, ``{value}``, ``{headers}``,
``{header_b}`` and ``{value_b}``; optionally ``field``, the column a failure is
reported on when it is not the expectation's first column.

Great Expectations is imported only inside the functions that validate: the
import takes seconds and DAG files must parse fast (AIRFLOW3_NOTES.md). Its
default result formats return at most a sample of ~200 failing rows; the
suites run with ``COMPLETE`` results and ``unexpected_index_column_names`` on a
positional column, so every failing row is identified. Row-level results are
never returned to Airflow (XCom); callers get compact dataclasses.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import math
import os
import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from review_calendar.intake.datasets import DATASETS, Dataset, get_dataset
from review_calendar.intake.issues import IntakeIssue

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    import pandas as pd
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Obligation, ObligationInstance, Programme

__all__ = [
    "COMPANION_DATASETS",
    "GATE_CODES",
    "PROVINCIAL_GATE",
    "GateFailed",
    "GateFinding",
    "GateResult",
    "RowFailure",
    "SuiteError",
    "describe_finding",
    "gate_report_path",
    "load_suite",
    "mask_contact",
    "run_gate",
    "suite_columns",
    "suite_path",
    "validate_batch",
    "validate_per_file_baseline",
]

log = logging.getLogger(__name__)

Severity = Literal["critical", "warning"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning")

#: Name of the provincial gate in ``gate_runs.gate``.
PROVINCIAL_GATE = "provincial"

# Codes of the provincial gate (row-level suites use the intake codes of
# ``review_calendar.intake.issues``). Stable: the database and reports keep them.
GATE_VALUE_MISSING = "GATE_VALUE_MISSING"
GATE_FORMAT_INVALID = "GATE_FORMAT_INVALID"
GATE_CHOICE_INVALID = "GATE_CHOICE_INVALID"
GATE_TYPE_INVALID = "GATE_TYPE_INVALID"
GATE_VALUE_OUT_OF_RANGE = "GATE_VALUE_OUT_OF_RANGE"
GATE_SHARE_OUT_OF_RANGE = "GATE_SHARE_OUT_OF_RANGE"
GATE_VALUE_IMPLAUSIBLE = "GATE_VALUE_IMPLAUSIBLE"
GATE_VALUE_INCONSISTENT = "GATE_VALUE_INCONSISTENT"
GATE_DUPLICATE_ROW = "GATE_DUPLICATE_ROW"
GATE_DUPLICATE_SUBMISSION = "GATE_DUPLICATE_SUBMISSION"
GATE_REGION_UNKNOWN = "GATE_REGION_UNKNOWN"
GATE_UNEXPECTED_SUBMITTER = "GATE_UNEXPECTED_SUBMITTER"
GATE_TOTAL_MISMATCH = "GATE_TOTAL_MISMATCH"
GATE_PROJECTS_MISSING = "GATE_PROJECTS_MISSING"
GATE_PROJECT_OUTSIDE_PERIOD = "GATE_PROJECT_OUTSIDE_PERIOD"
GATE_CLAIM_EXCEEDS_INVESTMENT = "GATE_CLAIM_EXCEEDS_INVESTMENT"
GATE_ROLE_MISSING = "GATE_ROLE_MISSING"
GATE_NOT_APPROVED = "GATE_NOT_APPROVED"
GATE_BELOW_REQUIREMENT = "GATE_BELOW_REQUIREMENT"
GATE_VIOLATION_REPORTED = "GATE_VIOLATION_REPORTED"
GATE_INCOMPLETE = "GATE_INCOMPLETE"
GATE_CHECK_ERROR = "GATE_CHECK_ERROR"

#: One line per gate code, in Chinese, for reports and README tables.
GATE_CODES: dict[str, str] = {
    GATE_VALUE_MISSING: "关键字段为空",
    GATE_FORMAT_INVALID: "格式错误",
    GATE_CHOICE_INVALID: "不在可选范围内",
    GATE_TYPE_INVALID: "数据类型错误",
    GATE_VALUE_OUT_OF_RANGE: "数值超出范围",
    GATE_SHARE_OUT_OF_RANGE: "比例不在0%～100%之间",
    GATE_VALUE_IMPLAUSIBLE: "数值明显异常",
    GATE_VALUE_INCONSISTENT: "同一行数据互相矛盾",
    GATE_DUPLICATE_ROW: "不同报送之间行重复",
    GATE_DUPLICATE_SUBMISSION: "同一地区有多份有效报送",
    GATE_REGION_UNKNOWN: "行政区划代码不存在",
    GATE_UNEXPECTED_SUBMITTER: "不在应报送名单内",
    GATE_TOTAL_MISMATCH: "合计数不符",
    GATE_PROJECTS_MISSING: "缺少项目清单",
    GATE_PROJECT_OUTSIDE_PERIOD: "项目年度不在规划期内",
    GATE_CLAIM_EXCEEDS_INVESTMENT: "申请金额超过投资额",
    GATE_ROLE_MISSING: "缺少联系人角色",
    GATE_NOT_APPROVED: "规划未经批准",
    GATE_BELOW_REQUIREMENT: "低于工作要求",
    GATE_VIOLATION_REPORTED: "报告存在违规",
    GATE_INCOMPLETE: "报送不完整",
    GATE_CHECK_ERROR: "检查无法执行",
}

#: Datasets gated together with an obligation's own dataset: the implementation
#: plan's project list belongs to the development plan (seed 000 二、三).
COMPANION_DATASETS: dict[str, tuple[str, ...]] = {"development_plan": ("plan_projects",)}

#: Relative tolerance when project investments are reconciled with a plan's total.
TOTAL_TOLERANCE = 0.01
#: Completed investment above this multiple of the planned one is a warning.
COMPLETION_FACTOR = 3.0

_PLACEHOLDERS = frozenset({"row", "header", "value", "headers", "header_b", "value_b"})
_BATCH_COLUMNS = ("_file", "_row")
_POS = "_pos"
_CONTACT_KINDS = frozenset({"phone", "mobile", "email"})
_NUMERIC_KINDS = frozenset({"number", "int", "percent", "year"})
_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [_POS],
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
}
_HTML_FINDINGS_LIMIT = 2000


class SuiteError(ValueError):
    """A suite file is missing or invalid, or an expectation could not run; the message names the file."""


# ---------------------------------------------------------------------------
# Suites
# ---------------------------------------------------------------------------


def suite_path(dataset_id: str, expectations_dir: Path, *, provincial: bool = False) -> Path:
    """Where the suite of a dataset lives: ``<dataset>.json`` or ``<dataset>__provincial.json``."""
    return expectations_dir / (f"{dataset_id}__provincial.json" if provincial else f"{dataset_id}.json")


def load_suite(dataset_id: str, expectations_dir: Path, *, provincial: bool = False) -> dict[str, Any]:
    """Read and check one suite file (the JSON that ``gx.ExpectationSuite(**data)`` takes).

    Args:
        dataset_id: A key of ``DATASETS``.
        expectations_dir: The folder of suites (``Settings.expectations_dir``).
        provincial: The provincial suite instead of the row-level one.

    Returns:
        The suite as a dict: ``name``, ``meta``, ``expectations`` (each with
        ``type``, ``kwargs`` and ``meta`` holding severity, code, message_zh).

    Raises:
        SuiteError: Missing file, invalid JSON, or an expectation without a
            valid severity, code or message, or with an unknown placeholder.
        KeyError: Unknown dataset.
    """
    get_dataset(dataset_id)
    path = suite_path(dataset_id, expectations_dir, provincial=provincial)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"{path.name}: suite file not found in {expectations_dir}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{path.name}: cannot be read as JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise SuiteError(f"{path.name}: expected an object with a 'name'")
    expectations = data.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{path.name}: 'expectations' must be a non-empty list")
    formatter = string.Formatter()
    for number, exp in enumerate(expectations):
        where = f"{path.name}: expectations[{number}]"
        if not isinstance(exp, dict) or not isinstance(exp.get("type"), str):
            raise SuiteError(f"{where}: needs a 'type'")
        if not isinstance(exp.get("kwargs"), dict):
            raise SuiteError(f"{where}: needs 'kwargs'")
        meta = exp.get("meta")
        if not isinstance(meta, dict):
            raise SuiteError(f"{where}: needs 'meta' with severity, code and message_zh")
        if meta.get("severity") not in SEVERITIES:
            raise SuiteError(f"{where}: meta.severity must be one of {SEVERITIES}")
        if not isinstance(meta.get("code"), str) or not meta["code"]:
            raise SuiteError(f"{where}: meta.code is required")
        message = meta.get("message_zh")
        if not isinstance(message, str) or not message:
            raise SuiteError(f"{where}: meta.message_zh is required")
        try:
            names = {name for _, name, _, _ in formatter.parse(message) if name is not None}
        except ValueError as exc:
            raise SuiteError(f"{where}: meta.message_zh is not a valid template: {exc}") from None
        if names - _PLACEHOLDERS:
            raise SuiteError(f"{where}: unknown placeholders {sorted(names - _PLACEHOLDERS)} in message_zh")
    return data


def suite_columns(data: Mapping[str, Any]) -> set[str]:
    """Every column a suite refers to (``column``, ``column_A/B``, ``column_list``, row conditions' left side).

    Args:
        data: A suite as returned by :func:`load_suite`.

    Returns:
        Column names, including the batch columns ``_file``/``_row`` if used.
    """
    columns: set[str] = set()
    for exp in data["expectations"]:
        kwargs = exp["kwargs"]
        for key in ("column", "column_A", "column_B"):
            if isinstance(kwargs.get(key), str):
                columns.add(kwargs[key])
        columns.update(kwargs.get("column_list") or ())
        condition = kwargs.get("row_condition")
        if isinstance(condition, str):
            columns.update(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:==|!=|>=|<=|>|<)", condition))
        if isinstance(exp["meta"].get("field"), str):
            columns.add(exp["meta"]["field"])
    return columns


# ---------------------------------------------------------------------------
# Running a suite on a frame
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one expectation found: the positions (``_pos``) of every failing row."""

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    success: bool
    positions: list[int]
    unexpected_count: int
    error: str | None


class _GX:
    """One ephemeral GX context with one pandas data source (analytics and progress bars off)."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False,
        )
        self.gx = gx
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self.source = self.context.data_sources.add_pandas("review_calendar")
        self.assets = 0

    def run(self, data: Mapping[str, Any], frame: pd.DataFrame) -> list[_Outcome]:
        """Validate ``frame`` (which has a ``_pos`` column) against the suite ``data``."""
        self.assets += 1
        asset = self.source.add_dataframe_asset(f"{data['name']}_{self.assets}")
        batch = asset.add_batch_definition_whole_dataframe("all_rows").get_batch(
            batch_parameters={"dataframe": frame}
        )
        # A copy: GX normalises the configurations it is given.
        suite = self.gx.ExpectationSuite(**json.loads(json.dumps(dict(data))))
        result = batch.validate(suite, result_format=_RESULT_FORMAT)
        outcomes = []
        for item in result.results:
            config = item.expectation_config
            details = item.result or {}
            positions = [int(entry[_POS]) for entry in details.get("unexpected_index_list") or ()]
            outcomes.append(
                _Outcome(
                    type=config.type,
                    kwargs=dict(config.kwargs),
                    meta=dict(config.meta or {}),
                    success=bool(item.success),
                    positions=positions,
                    unexpected_count=int(details.get("unexpected_count") or len(positions)),
                    error=_exception_message(item.exception_info),
                )
            )
        return outcomes


def _exception_message(info: Any) -> str | None:
    """The first raised exception's message in a GX ``exception_info`` (flat or keyed by metric)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "unknown error")
    return None


def _typed_frame(
    frame: pd.DataFrame, spec: Dataset, keep: Sequence[str]
) -> tuple[pd.DataFrame, list[tuple[int, str, object]]]:
    """A copy of ``frame`` with every dataset column, values in the types the suites expect.

    Numbers become floats (None/NaN for blanks); a value that is not a number
    (or not a whole number in a count or year column) becomes NaN and is
    returned as a type problem, so GX never compares text with numbers. Dates
    become ISO strings, other non-null values strings. ``_pos`` is added.

    Returns:
        ``(frame, problems)``; problems are ``(position, column key, value)``.
    """
    import datetime as dt

    import pandas as pd

    frame = frame.reset_index(drop=True)
    data: dict[str, Any] = {}
    problems: list[tuple[int, str, object]] = []
    for column in spec.columns:
        values = frame[column.key].tolist() if column.key in frame.columns else [None] * len(frame)
        if column.kind in _NUMERIC_KINDS:
            whole = column.kind in ("int", "year")
            numbers: list[float] = []
            for pos, value in enumerate(values):
                if _is_blank(value):
                    numbers.append(math.nan)
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    number = float(value)
                    if whole and not number.is_integer():
                        problems.append((pos, column.key, value))
                        number = math.nan
                    numbers.append(number)
                else:
                    problems.append((pos, column.key, value))
                    numbers.append(math.nan)
            data[column.key] = pd.Series(numbers, dtype="float64")
        else:
            data[column.key] = pd.Series(
                [
                    None
                    if _is_blank(value)
                    else value.isoformat()
                    if isinstance(value, dt.date)
                    else value
                    if isinstance(value, str)
                    else str(value)
                    for value in values
                ],
                dtype="object",
            )
    for name in keep:
        if name not in data:
            data[name] = (
                frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype="object")
            )
    data[_POS] = pd.Series(range(len(frame)), dtype="int64")
    return pd.DataFrame(data), problems


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _show(value: object, kind: str | None = None) -> str:
    """A value as a Chinese reader expects it: 12500, 86.5, 75%, （空）."""
    if _is_blank(value):
        return "（空）"
    if isinstance(value, float | int) and not isinstance(value, bool):
        number = float(value)
        if kind == "percent":
            return f"{number * 100:.4g}%"
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return f"{number:,.4f}".rstrip("0").rstrip(".").replace(",", "")
    text = str(value)
    return text if len(text) <= 50 else text[:50] + "…"


def mask_contact(kind: str, text: str) -> str:
    """A phone number or e-mail address with its middle hidden, for messages and logs.

    Args:
        kind: ``mobile``, ``phone`` or ``email`` (anything else is returned unchanged).
        text: The value.

    Returns:
        e.g. ``138****5678``, ``0311-****``, ``z***@example.gov.cn``.
    """
    if kind == "mobile":
        digits = re.sub(r"\D", "", text)
        return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"
    if kind == "phone":
        area = re.match(r"\(?(0\d{2,3})", text)
        return f"{area.group(1)}-****" if area else "****"
    if kind == "email":
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    return text


_SCRUB_PATTERNS = (
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "email"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "mobile"),
    (re.compile(r"\(?0\d{2,3}\)?[- ]?[2-9]\d{6,7}(?:-\d{1,6})?(?!\d)"), "phone"),
)


def _scrub(text: str) -> str:
    """Hide anything that looks like an e-mail address or a phone number (exception texts, logs)."""
    for pattern, kind in _SCRUB_PATTERNS:
        text = pattern.sub(lambda m, k=kind: mask_contact(k, m.group(0)), text)
    return text


class _Message(dict):
    """Template values; a placeholder without a value renders as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def _cell(spec: Dataset, frame: pd.DataFrame, pos: int, key: str | None) -> tuple[str | None, str]:
    """``(value as text for storage, value for messages)``: contact values masked in the latter."""
    if key is None or key not in frame.columns:
        return None, ""
    value = frame.at[pos, key]
    try:
        kind: str | None = spec.column(key).kind
    except KeyError:
        kind = None
    if _is_blank(value):
        return None, _show(None)
    shown = _show(value, kind)
    return shown, mask_contact(kind, shown) if kind in _CONTACT_KINDS else shown


def _header(spec: Dataset, key: str | None) -> str:
    if key is None:
        return ""
    try:
        return spec.column(key).header
    except KeyError:
        return key


def _render(
    spec: Dataset, frame: pd.DataFrame, outcome: _Outcome, pos: int, row: object
) -> tuple[str | None, str | None, str]:
    """``(field, stored value, message)`` of one failing row of an expectation."""
    kwargs = outcome.kwargs
    first = kwargs.get("column") or kwargs.get("column_A")
    keys = [k for k in kwargs.get("column_list") or () if k not in _BATCH_COLUMNS]
    field = outcome.meta.get("field") or first
    value, shown = _cell(spec, frame, pos, first)
    if keys and first is None:
        parts = [_cell(spec, frame, pos, k) for k in keys]
        value = " / ".join(p[0] or "" for p in parts)
        shown = " / ".join(p[1] for p in parts)
    value_b, shown_b = _cell(spec, frame, pos, kwargs.get("column_B"))
    message = outcome.meta["message_zh"].format_map(
        _Message(
            row="" if row is None else row,
            header=_header(spec, first),
            value=shown,
            headers="、".join(f"“{_header(spec, k)}”" for k in keys),
            header_b=_header(spec, kwargs.get("column_B")),
            value_b=shown_b,
        )
    )
    if kwargs.get("column_B") is not None and field == kwargs["column_B"]:
        value = value_b
    return field, value, message


# ---------------------------------------------------------------------------
# Row-level gate (intake)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowFailure:
    """One failing cell or row of a batch, located in its file.

    Attributes:
        file: Index of the file in the batch (the frame's ``_file``).
        row: 1-based spreadsheet row (the frame's ``_row``).
        column: Column key, or None for a rule over several columns (duplicates).
        header: Chinese header of ``column`` (None with it).
        value: The value as text (may be contact data: store it, never log it).
        code: Stable code (the intake codes of ``review_calendar.intake.issues``).
        message: Chinese sentence naming row and column; contact values masked.
        severity: ``critical`` rejects the file, ``warning`` keeps it with a note.
    """

    file: int
    row: int | None
    column: str | None
    header: str | None
    value: str | None
    code: str
    message: str
    severity: Severity

    @property
    def file_index(self) -> int:
        """Alias of :attr:`file` (the index of the file in the batch)."""
        return self.file

    def to_issue(self, file: str, sheet: str | None) -> IntakeIssue:
        """This failure as an intake issue of the named file (critical → ``error``)."""
        return IntakeIssue(
            file,
            sheet,
            self.row,
            self.header,
            self.value,
            self.code,
            self.message,
            "error" if self.severity == "critical" else "warning",
        )


_TYPE_CODES = {
    "number": "NUMBER_INVALID",
    "int": "INTEGER_INVALID",
    "percent": "PERCENT_INVALID",
    "year": "YEAR_INVALID",
}
_KIND_WORDS = {"number": "数值", "int": "整数", "percent": "百分比", "year": "年份"}


def _row_failures(
    spec: Dataset, frame: pd.DataFrame, outcomes: Iterable[_Outcome], reported: set[tuple[int, str]]
) -> list[RowFailure]:
    """Failures of the suite's outcomes; cells in ``reported`` (already a type problem) are skipped."""
    failures = []
    files = frame["_file"].tolist()
    rows = frame["_row"].tolist()
    for outcome in outcomes:
        if outcome.error is not None:
            raise SuiteError(
                f"{spec.id}.json: {outcome.type} on {outcome.kwargs.get('column') or outcome.kwargs.get('column_list')}"
                f" could not run: {_scrub(outcome.error)[:300]}"
            )
        if outcome.success:
            continue
        if not outcome.positions:
            # A table-level expectation cannot say which file or row to reject.
            raise SuiteError(
                f"{spec.id}.json: {outcome.type} failed without identifying rows: not a row-level rule"
            )
        for pos in outcome.positions:
            row = _as_int(rows[pos])
            field, value, message = _render(spec, frame, outcome, pos, row)
            if field is not None and (pos, field) in reported:
                continue
            failures.append(
                RowFailure(
                    file=int(files[pos]),
                    row=row,
                    column=field if field not in _BATCH_COLUMNS else None,
                    header=_header(spec, field) if field else None,
                    value=value,
                    code=outcome.meta["code"],
                    message=message,
                    severity=outcome.meta["severity"],
                )
            )
    return failures


def _as_int(value: object) -> int | None:
    if _is_blank(value):
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _validate_rows(gx: _GX, spec: Dataset, data: Mapping[str, Any], frame: pd.DataFrame) -> list[RowFailure]:
    if frame.empty:
        return []
    missing = [c for c in _BATCH_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the batch frame needs the columns {missing} (file index and spreadsheet row)")
    typed, problems = _typed_frame(frame, spec, _BATCH_COLUMNS)
    failures = []
    for pos, key, raw in problems:
        column = spec.column(key)
        row = _as_int(typed.at[pos, "_row"])
        shown = _show(raw)
        failures.append(
            RowFailure(
                file=int(typed.at[pos, "_file"]),
                row=row,
                column=key,
                header=column.header,
                value=shown,
                code=_TYPE_CODES[column.kind],
                message=f"第{row}行“{column.header}”列的值“{shown}”不是有效的{_KIND_WORDS[column.kind]}，请核对。",
                severity="critical",
            )
        )
    reported = {(pos, key) for pos, key, _ in problems}
    failures.extend(_row_failures(spec, typed, gx.run(data, typed), reported))
    order = {c.key: n for n, c in enumerate(spec.columns)}
    failures.sort(key=lambda f: (f.file, f.row or 0, order.get(f.column or "", len(order)), f.code))
    return failures


def validate_batch(dataset_id: str, frame: pd.DataFrame, *, expectations_dir: Path) -> list[RowFailure]:
    """Run the row-level suite once over all new rows of a batch of files.

    One ephemeral GX context, one pandas batch over every row of every file:
    the fixed cost of GX is paid once per batch, not once per file.

    Args:
        dataset_id: A key of ``DATASETS``.
        frame: The records of the batch's files (keys = column keys, values as
            normalised by intake), with ``_file`` (index of the file in the
            batch) and ``_row`` (1-based spreadsheet row).
        expectations_dir: Folder of the suites.

    Returns:
        Every failing cell or row, sorted by file, row and template column
        order; empty when the batch is clean. All failing rows are reported,
        not GX's default sample.

    Raises:
        SuiteError: The suite file is invalid or one of its expectations
            could not run (a wrong column name, a type GX cannot compare).
        ValueError: ``_file`` or ``_row`` is missing.
        KeyError: Unknown dataset.
    """
    spec = get_dataset(dataset_id)
    data = load_suite(dataset_id, expectations_dir)
    if frame.empty:
        return []
    failures = _validate_rows(_GX(), spec, data, frame)
    log.info(
        "gate: %s batch of %d row(s) in %d file(s): %d failure(s), codes %s",
        dataset_id,
        len(frame),
        frame["_file"].nunique(),
        len(failures),
        ",".join(sorted({f.code for f in failures})),
    )
    return failures


def validate_per_file_baseline(
    dataset_id: str, frames: Sequence[pd.DataFrame], expectations_dir: Path
) -> list[RowFailure]:
    """The slow way, for the benchmark only: one GX context and one run per file.

    GX itself is imported once per process here; in Airflow every task is a
    process of its own, so a per-file design would also pay the import per task.

    Args:
        dataset_id: A key of ``DATASETS``.
        frames: One frame per file (``_row`` required; ``_file`` is set to the
            frame's index in ``frames``).
        expectations_dir: Folder of the suites.

    Returns:
        The failures of all files, as :func:`validate_batch` would report them.
    """
    spec = get_dataset(dataset_id)
    data = load_suite(dataset_id, expectations_dir)
    failures: list[RowFailure] = []
    for index, frame in enumerate(frames):
        if frame.empty:
            continue
        failures.extend(_validate_rows(_GX(), spec, data, frame.assign(_file=index)))
    return failures


# ---------------------------------------------------------------------------
# Provincial gate
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GateFinding:
    """One problem the provincial gate found.

    Attributes:
        dataset: Dataset id.
        region_code: Region of the row (None for a finding about the whole instance).
        row: Spreadsheet row in the region's submitted file, if any.
        field: Column key, if one column is at fault.
        code: Stable gate code (:data:`GATE_CODES`).
        message_zh: What is wrong, in Chinese; contact data masked.
        severity: ``critical`` stops the aggregation, ``warning`` does not.
    """

    dataset: str
    region_code: str | None
    row: int | None
    field: str | None
    code: str
    message_zh: str
    severity: Severity

    def to_dict(self) -> dict[str, object]:
        """The finding as a JSON-ready dict."""
        return {
            "dataset": self.dataset,
            "region_code": self.region_code,
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "message_zh": self.message_zh,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class GateResult:
    """The verdict of one provincial gate run.

    Attributes:
        success: No critical finding: the aggregation may run.
        critical: Findings that stop the aggregation.
        warnings: Findings reported for reviewers.
        summary: Small JSON-ready dict (counts, per-check outcome): safe for XCom.
        html_path: The reviewers' HTML page of this run.
    """

    success: bool
    critical: list[GateFinding]
    warnings: list[GateFinding]
    summary: dict[str, Any]
    html_path: str

    def raise_if_failed(self) -> None:
        """Raise :class:`GateFailed` when a critical finding stops the aggregation."""
        if not self.success:
            raise GateFailed.from_result(self)


class GateFailed(Exception):
    """The provincial gate found critical problems; the aggregation must not run.

    The message is Chinese and names dataset, region, row and field of the
    first critical findings and the HTML page with all of them; it never
    contains phone numbers or e-mail addresses (task logs keep it).

    Attributes:
        result: The gate result (None after unpickling).
    """

    def __init__(self, message: str, result: GateResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (str(self),))

    @classmethod
    def from_result(cls, result: GateResult, *, shown: int = 3) -> GateFailed:
        """The failure of ``result`` with its first ``shown`` critical findings spelled out."""
        parts = [describe_finding(f) for f in result.critical[:shown]]
        more = "；…" if len(result.critical) > shown else ""
        message = (
            f"数据质量闸门未通过：{'；'.join(parts)}{more}；"
            f"共{len(result.critical)}项严重问题，详见 {result.html_path}"
        )
        return cls(_scrub(message), result)


def describe_finding(finding: GateFinding) -> str:
    """``进展情况 地区130683 第5行 “已完成投资(万元)”：…`` (the parts that are known)."""
    spec = DATASETS.get(finding.dataset)
    parts = [spec.title if spec else finding.dataset]
    if finding.region_code:
        parts.append(f"地区{finding.region_code}")
    if finding.row is not None:
        parts.append(f"第{finding.row}行")
    if finding.field:
        parts.append(f"“{_header(spec, finding.field) if spec else finding.field}”")
    return f"{' '.join(parts)}：{finding.message_zh}"


@dataclass
class _Check:
    """One check of the gate, for the summary and the HTML page."""

    dataset: str
    name: str
    severity: Severity
    code: str
    failures: int = 0
    error: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "check": self.name,
            "severity": self.severity,
            "code": self.code,
            "success": self.failures == 0 and not self.error,
            "failures": self.failures,
        }


_DESCRIBE = {
    "expect_column_values_to_not_be_null": "“{header}”不为空",
    "expect_column_values_to_match_regex": "“{header}”格式正确",
    "expect_column_values_to_be_in_set": "“{header}”在可选范围内",
    "expect_column_values_to_be_between": "“{header}”取值范围",
    "expect_column_value_lengths_to_be_between": "“{header}”长度",
    "expect_compound_columns_to_be_unique": "{headers}不重复",
    "expect_column_pair_values_a_to_be_greater_than_b": "“{header}”不小于“{header_b}”",
}


def _bounds_text(spec: Dataset, kwargs: Mapping[str, Any]) -> str:
    """``在0～100之间``, ``不小于1``, ``不大于500万`` for a between expectation (percents as %)."""
    key = kwargs.get("column")
    kind = spec.column(key).kind if key in {c.key for c in spec.columns} else None
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f"在{_show(low, kind)}～{_show(high, kind)}之间"
    if low is not None:
        return f"不小于{_show(low, kind)}"
    return f"不大于{_show(high, kind)}" if high is not None else "取值范围"


def _describe(spec: Dataset, outcome: _Outcome) -> str:
    kwargs = outcome.kwargs
    template = _DESCRIBE.get(outcome.type, outcome.type + "（{header}）")
    if outcome.type == "expect_column_values_to_be_between":
        template = "“{header}”" + _bounds_text(spec, kwargs)
    keys = [k for k in kwargs.get("column_list") or () if k not in _BATCH_COLUMNS]
    text = template.format_map(
        _Message(
            header=_header(spec, kwargs.get("column") or kwargs.get("column_A")),
            header_b=_header(spec, kwargs.get("column_B")),
            headers="、".join(f"“{_header(spec, k)}”" for k in keys),
        )
    )
    return text


def _region_rows(frame: pd.DataFrame, pos: int) -> tuple[str | None, int | None]:
    region = frame.at[pos, "region_code"] if "region_code" in frame.columns else None
    return (None if _is_blank(region) else str(region)), _as_int(
        frame.at[pos, "row_no"] if "row_no" in frame.columns else None
    )


def _gx_findings(
    spec: Dataset, frame: pd.DataFrame, outcomes: Iterable[_Outcome], reported: set[tuple[int, str]]
) -> tuple[list[GateFinding], list[_Check]]:
    """Findings of the provincial suite; cells in ``reported`` (already a type problem) are skipped."""
    findings, checks = [], []
    for outcome in outcomes:
        meta = outcome.meta
        check = _Check(spec.id, _describe(spec, outcome), meta["severity"], meta["code"])
        checks.append(check)
        if outcome.error is not None:
            check.error = True
            findings.append(
                GateFinding(
                    spec.id,
                    None,
                    None,
                    outcome.kwargs.get("column") or outcome.kwargs.get("column_A"),
                    GATE_CHECK_ERROR,
                    f"检查“{check.name}”无法执行：{_scrub(outcome.error)[:200]}",
                    "critical",
                )
            )
            continue
        if outcome.success:
            continue
        check.failures = outcome.unexpected_count or len(outcome.positions) or 1
        if not outcome.positions:
            findings.append(
                GateFinding(
                    spec.id, None, None, None, meta["code"], check.name + "：未通过。", meta["severity"]
                )
            )
        for pos in outcome.positions:
            region, row = _region_rows(frame, pos)
            field, _value, message = _render(spec, frame, outcome, pos, row)
            if field is not None and (pos, field) in reported:
                continue
            findings.append(GateFinding(spec.id, region, row, field, meta["code"], message, meta["severity"]))
    return findings, checks


def _type_findings(
    spec: Dataset, frame: pd.DataFrame, problems: list[tuple[int, str, object]]
) -> list[GateFinding]:
    findings = []
    for pos, key, raw in problems:
        region, row = _region_rows(frame, pos)
        findings.append(
            GateFinding(
                spec.id, region, row, key, GATE_TYPE_INVALID, f"值“{_show(raw)}”不是有效的数值。", "critical"
            )
        )
    return findings


def _check_regions(spec: Dataset, frame: pd.DataFrame, known: set[str]) -> list[GateFinding]:
    """Region codes that do not exist (GB/T 2260 as loaded into ``regions``)."""
    findings = []
    for pos, code in enumerate(frame["region_code"].tolist()):
        if _is_blank(code) or str(code) in known:
            continue
        _, row = _region_rows(frame, pos)
        findings.append(
            GateFinding(
                spec.id,
                str(code),
                row,
                "region_code",
                GATE_REGION_UNKNOWN,
                f"行政区划代码“{_show(code)}”不在本省行政区划表中，请核对（如区划调整，请更新区划表）。",
                "critical",
            )
        )
    return findings


def _check_plan_totals(plans: pd.DataFrame, projects: pd.DataFrame) -> tuple[list[GateFinding], list[_Check]]:
    """Project investments per region equal the plans' declared total (seed 000 二、三: the
    implementation plan lists each project's investment by year)."""
    mismatch = _Check(
        "development_plan",
        "项目计划投资之和与规划计划总投资一致（误差1%以内）",
        "critical",
        GATE_TOTAL_MISMATCH,
    )
    missing = _Check("development_plan", "每个规划都有实施方案项目清单", "warning", GATE_PROJECTS_MISSING)
    outside = _Check("plan_projects", "项目投资年度在规划期内", "warning", GATE_PROJECT_OUTSIDE_PERIOD)
    findings: list[GateFinding] = []
    if plans.empty:
        return findings, [mismatch, missing, outside]
    project_sums = (
        projects.groupby("region_code")["investment"].sum(min_count=1) if not projects.empty else None
    )
    declared = plans.groupby("region_code")["total_investment"].sum(min_count=1)
    first_rows = plans.groupby("region_code")["row_no"].min()
    for region, total in declared.items():
        row = _as_int(first_rows.get(region))
        summed = None if project_sums is None else project_sums.get(region)
        if summed is None or _is_blank(summed):
            findings.append(
                GateFinding(
                    "development_plan",
                    str(region),
                    row,
                    "total_investment",
                    GATE_PROJECTS_MISSING,
                    "未报送实施方案项目清单，无法核对计划总投资。",
                    "warning",
                )
            )
            missing.failures += 1
            continue
        if _is_blank(total):
            continue
        if abs(float(summed) - float(total)) > TOTAL_TOLERANCE * max(abs(float(total)), 1e-9):
            findings.append(
                GateFinding(
                    "development_plan",
                    str(region),
                    row,
                    "total_investment",
                    GATE_TOTAL_MISMATCH,
                    f"计划总投资为{_show(total)}万元，但项目清单各项目计划投资之和为{_show(summed)}万元，"
                    f"相差超过1%，请核对。",
                    "critical",
                )
            )
            mismatch.failures += 1
    if not projects.empty:
        periods = plans.groupby("region_code").agg(start=("period_start", "min"), end=("period_end", "max"))
        for pos, (region, year) in enumerate(zip(projects["region_code"], projects["year"], strict=True)):
            if region not in periods.index or _is_blank(year):
                continue
            start, end = periods.at[region, "start"], periods.at[region, "end"]
            if _is_blank(start) or _is_blank(end) or start <= year <= end:
                continue
            _, row = _region_rows(projects, pos)
            findings.append(
                GateFinding(
                    "plan_projects",
                    str(region),
                    row,
                    "year",
                    GATE_PROJECT_OUTSIDE_PERIOD,
                    f"投资年度{_show(year)}不在规划期{_show(start)}—{_show(end)}年内。",
                    "warning",
                )
            )
            outside.failures += 1
    return findings, [mismatch, missing, outside]


def _check_completion(frame: pd.DataFrame) -> tuple[list[GateFinding], _Check]:
    """Completed investment far above the plan: usually a unit typed wrong (元 for 万元)."""
    check = _Check(
        "progress_report",
        f"已完成投资不超过年度计划投资的{COMPLETION_FACTOR:g}倍",
        "warning",
        GATE_VALUE_IMPLAUSIBLE,
    )
    findings = []
    planned, completed = frame["planned_investment"], frame["completed_investment"]
    suspicious = (
        completed.notna() & planned.notna() & (completed > COMPLETION_FACTOR * planned) & (completed > 0)
    )
    for pos in suspicious[suspicious].index:
        region, row = _region_rows(frame, int(pos))
        findings.append(
            GateFinding(
                "progress_report",
                region,
                row,
                "completed_investment",
                GATE_VALUE_IMPLAUSIBLE,
                f"已完成投资{_show(completed[pos])}万元超过年度计划投资{_show(planned[pos])}万元的"
                f"{COMPLETION_FACTOR:g}倍，请核实单位和数值。",
                "warning",
            )
        )
    check.failures = len(findings)
    return findings, check


def _check_claims(frame: pd.DataFrame) -> tuple[list[GateFinding], _Check]:
    """A subsidy claim above the equipment and software investment it is a share of (seed 004 （四））."""
    check = _Check(
        "subsidy_claims", "申请奖补金额不超过设备和软件投资之和", "critical", GATE_CLAIM_EXCEEDS_INVESTMENT
    )
    findings = []
    invested = frame["equipment_wan"].fillna(0) + frame["software_wan"].fillna(0)
    claimed = frame["claimed_wan"]
    over = claimed.notna() & (claimed > invested)
    for pos in over[over].index:
        region, row = _region_rows(frame, int(pos))
        findings.append(
            GateFinding(
                "subsidy_claims",
                region,
                row,
                "claimed_wan",
                GATE_CLAIM_EXCEEDS_INVESTMENT,
                f"申请奖补金额{_show(claimed[pos])}万元超过设备和软件投资之和{_show(invested[pos])}万元。",
                "critical",
            )
        )
    check.failures = len(findings)
    return findings, check


def _check_contact_roles(frame: pd.DataFrame) -> tuple[list[GateFinding], _Check]:
    """Every city and pilot county names both roles (seed 000 七)."""
    spec = get_dataset("contact_list")
    roles = spec.column("role").choices
    check = _Check("contact_list", "每个地区都填报了主管领导和责任处室负责同志", "warning", GATE_ROLE_MISSING)
    findings = []
    present = (
        frame.dropna(subset=["region_code"]).groupby("region_code")["role"].agg(lambda s: set(s.dropna()))
    )
    for region, have in present.items():
        for role in roles:
            if role not in have:
                findings.append(
                    GateFinding(
                        "contact_list",
                        str(region),
                        None,
                        "role",
                        GATE_ROLE_MISSING,
                        f"缺少“{role}”一行。",
                        "warning",
                    )
                )
    check.failures = len(findings)
    return findings, check


def _check_submissions(
    session: Session, instance: ObligationInstance, dataset: str
) -> tuple[list[GateFinding], _Check, dict[str, list[int]]]:
    """At most one accepted submission per region and instance (a resubmission supersedes)."""
    from sqlalchemy import select

    from review_calendar.store.models import Submission

    check = _Check(dataset, "每个地区只有一份有效报送", "critical", GATE_DUPLICATE_SUBMISSION)
    stmt = (
        select(Submission.region_code, Submission.id)
        .where(
            Submission.programme_id == instance.programme_id,
            Submission.cycle_year == instance.cycle_year,
            Submission.obligation_id == instance.obligation_id,
            Submission.period == instance.period,
            Submission.status == "accepted",
        )
        .order_by(Submission.region_code, Submission.id)
    )
    by_region: dict[str, list[int]] = {}
    for region, sub_id in session.execute(stmt):
        if region:
            by_region.setdefault(region, []).append(sub_id)
    findings = [
        GateFinding(
            dataset,
            region,
            None,
            None,
            GATE_DUPLICATE_SUBMISSION,
            f"该地区有{len(ids)}份有效报送（编号{'、'.join(str(i) for i in ids)}），"
            "应只保留最新一份，其余标记为已被替代。",
            "critical",
        )
        for region, ids in by_region.items()
        if len(ids) > 1
    ]
    check.failures = len(findings)
    return findings, check, by_region


def _completeness_severity(obligation: Obligation) -> Severity:
    """Below the threshold is critical only when the obligation sets a threshold below 1.

    With the default threshold 1.0 every missing submitter would block the
    province: but a missing county is a fact reviewers act on (reminders,
    第十七条(三) for an info table not submitted on time), and the aggregation
    is what lists it, so it must run. A programme that configures a lower
    threshold declares that below it the aggregate is not meaningful.
    """
    return "critical" if obligation.completeness_threshold < 1.0 else "warning"


def _check_completeness(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    obligation: Obligation,
    accepted_regions: set[str],
    names: Mapping[str, str],
) -> tuple[list[GateFinding], list[_Check], dict[str, Any]]:
    from review_calendar.store.queries import expected_submitters

    dataset = obligation.dataset or ""
    threshold = obligation.completeness_threshold
    severity = _completeness_severity(obligation)
    expected = expected_submitters(session, programme, instance)
    done = [s for s in expected if s.region_code in accepted_regions]
    missing = [s for s in expected if s.region_code not in accepted_regions]
    ratio = len(done) / len(expected) if expected else 1.0
    check = _Check(dataset, f"应报送单位报送率不低于{threshold:.0%}", severity, GATE_INCOMPLETE)
    findings: list[GateFinding] = []
    if missing:
        listed = "、".join(
            f"{s.region_code} {s.region_name}{'（' + s.cluster_name + '）' if s.cluster_name else ''}"
            for s in missing[:20]
        )
        more = f"等{len(missing)}个" if len(missing) > 20 else f"共{len(missing)}个"
        below = ratio < threshold
        findings.append(
            GateFinding(
                dataset,
                None,
                None,
                None,
                GATE_INCOMPLETE,
                f"已接收{len(done)}/{len(expected)}个应报送单位的有效报送（{ratio:.0%}）"
                f"{'，低于' if below else '，完整性要求为'}{threshold:.0%}；未报送：{listed}{more}。",
                "critical" if below and severity == "critical" else "warning",
            )
        )
        check.failures = len(missing)
    expected_regions = {s.region_code for s in expected}
    unexpected = _Check(dataset, "报送单位在应报送名单内", "warning", GATE_UNEXPECTED_SUBMITTER)
    if expected_regions:
        for region in sorted(accepted_regions - expected_regions):
            findings.append(
                GateFinding(
                    dataset,
                    region,
                    None,
                    None,
                    GATE_UNEXPECTED_SUBMITTER,
                    f"{names.get(region, '')}不在本期应报送名单内（未入选或已期满），请核实是否纳入汇总。".lstrip(),
                    "warning",
                )
            )
            unexpected.failures += 1
    summary = {
        "expected": len(expected),
        "accepted": len(done),
        "ratio": round(ratio, 4),
        "threshold": threshold,
        "severity": severity,
        "missing": [s.region_code for s in missing[:50]],
    }
    return findings, [check, unexpected], summary


def _safe_run_id(run_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._")[:80] or "run"
    if safe != run_id:
        safe += "-" + hashlib.sha1(run_id.encode("utf-8")).hexdigest()[:8]
    return safe


def gate_report_path(reports_dir: Path, instance: ObligationInstance, run_id: str) -> Path:
    """``reports_dir/<programme>/<year>/gates/<obligation>_<period>_<safe run id>.html``."""
    return (
        reports_dir
        / instance.programme_id
        / str(instance.cycle_year)
        / "gates"
        / f"{instance.obligation_id}_{instance.period}_{_safe_run_id(run_id)}.html"
    )


def run_gate(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    *,
    run_id: str,
    expectations_dir: Path,
    reports_dir: Path,
    known_region_codes: set[str],
) -> GateResult:
    """Run the provincial gate on the assembled dataset of one obligation instance.

    Checks, each with its severity:

    - the provincial GX suite ``<dataset>__provincial.json`` (and that of a
      companion dataset, e.g. ``plan_projects`` with ``development_plan``),
      severity per expectation as in the suite;
    - one accepted submission per region (critical), rows whose key repeats
      across submissions (critical, in the suite), region codes that are in
      ``known_region_codes`` (critical), values that are not numbers (critical);
    - totals that reconcile: per region the project investments add up to the
      plan's total investment within 1 % (critical; a plan without projects is
      a warning), projects outside the plan period (warning), completed
      investment above 3 × planned (warning), subsidy claims above the
      investment (critical), both contact roles per region (warning);
    - completeness: accepted expected submitters / expected. Severity policy:
      when the obligation keeps the default threshold 1.0, any gap is a
      WARNING, because a missing county is a fact for reviewers (reminders,
      revocation under 第十七条(三)) and the aggregation is what lists it.
      When the obligation sets a threshold below 1, falling below it is
      CRITICAL (the programme declared the aggregate meaningless then); gaps
      above it are warnings. Accepted submitters outside the expected list
      are warnings.

    Stores one ``GateRun`` row (upserted on programme, year, obligation,
    period, gate and ``run_id``: a retried task does not duplicate it) and
    writes the HTML page; flushes but does not commit ``session``.

    Args:
        session: Open session on the review database (caller commits).
        programme: The programme.
        instance: The obligation instance to gate.
        run_id: The Airflow run id (names the GateRun row and the HTML page).
        expectations_dir: Folder of the suites.
        reports_dir: Root of the reports (``Settings.reports_dir``).
        known_region_codes: Region codes that exist.

    Returns:
        The gate result; call :meth:`GateResult.raise_if_failed` to stop on
        critical findings.

    Raises:
        ValueError: The obligation has no dataset.
        SuiteError: A provincial suite file is missing or invalid.
    """
    from sqlalchemy import select

    from review_calendar.store.db import upsert
    from review_calendar.store.frames import META_COLUMNS, load_instance_frame
    from review_calendar.store.models import GateRun, Region

    obligation = programme.obligation(instance.obligation_id)
    if not obligation.dataset:
        raise ValueError(f"{instance.key}: obligation {obligation.id!r} has no dataset to gate")
    main = obligation.dataset
    dataset_ids = (main, *COMPANION_DATASETS.get(main, ()))
    suites = {d: load_suite(d, expectations_dir, provincial=True) for d in dataset_ids}

    findings: list[GateFinding] = []
    checks: list[_Check] = []
    frames: dict[str, pd.DataFrame] = {}
    rows: dict[str, int] = {}
    gx: _GX | None = None
    for dataset_id in dataset_ids:
        spec = get_dataset(dataset_id)
        frame, problems = _typed_frame(load_instance_frame(session, instance, dataset_id), spec, META_COLUMNS)
        frames[dataset_id], rows[dataset_id] = frame, len(frame)
        findings.extend(_type_findings(spec, frame, problems))
        if frame.empty:
            continue
        gx = gx or _GX()
        reported = {(pos, key) for pos, key, _ in problems}
        found, done = _gx_findings(spec, frame, gx.run(suites[dataset_id], frame), reported)
        findings.extend(found)
        checks.extend(done)
        region_findings = _check_regions(spec, frame, known_region_codes)
        findings.extend(region_findings)
        checks.append(
            _Check(
                dataset_id, "行政区划代码存在", "critical", GATE_REGION_UNKNOWN, failures=len(region_findings)
            )
        )

    duplicate_findings, duplicate_check, by_region = _check_submissions(session, instance, main)
    findings.extend(duplicate_findings)
    checks.append(duplicate_check)
    if main == "development_plan":
        found, done = _check_plan_totals(frames["development_plan"], frames["plan_projects"])
        findings.extend(found)
        checks.extend(done)
    special = {
        "progress_report": _check_completion,
        "subsidy_claims": _check_claims,
        "contact_list": _check_contact_roles,
    }
    if main in special and not frames[main].empty:
        found, check = special[main](frames[main])
        findings.extend(found)
        checks.append(check)

    codes = {f.region_code for f in findings if f.region_code} | set(by_region)
    names = {r.code: r.name for r in session.scalars(select(Region).where(Region.code.in_(sorted(codes))))}
    found, done, completeness = _check_completeness(
        session, programme, instance, obligation, set(by_region), names
    )
    findings.extend(found)
    checks.extend(done)

    order = {d: n for n, d in enumerate(dataset_ids)}
    findings.sort(
        key=lambda f: (order.get(f.dataset, 99), f.region_code or "", f.row or 0, f.field or "", f.code)
    )
    critical = [f for f in findings if f.severity == "critical"]
    warnings = [f for f in findings if f.severity == "warning"]
    path = gate_report_path(reports_dir, instance, run_id)
    summary: dict[str, Any] = {
        "gate": PROVINCIAL_GATE,
        "instance": instance.key,
        "dataset": main,
        "rows": rows,
        "success": not critical,
        "critical": len(critical),
        "warnings": len(warnings),
        "codes": dict(sorted(Counter(f.code for f in findings).items())),
        "checks": [c.to_dict() for c in checks],
        "completeness": completeness,
        "html_path": str(path),
    }
    _write_html(path, programme, instance, run_id, summary, critical + warnings, names)
    upsert(
        session,
        GateRun,
        [
            {
                "programme_id": instance.programme_id,
                "cycle_year": instance.cycle_year,
                "obligation_id": instance.obligation_id,
                "period": instance.period,
                "gate": PROVINCIAL_GATE,
                "run_id": run_id,
                "success": not critical,
                "critical_failures": len(critical),
                "warnings": len(warnings),
                "summary": summary,
                "html_path": str(path),
            }
        ],
        ["programme_id", "cycle_year", "obligation_id", "period", "gate", "run_id"],
    )
    session.flush()
    log.info(
        "gate: %s run %s: %s, %d critical, %d warning(s), rows %s",
        instance.key,
        run_id,
        "passed" if not critical else "FAILED",
        len(critical),
        len(warnings),
        rows,
    )
    return GateResult(not critical, critical, warnings, summary, str(path))


# ---------------------------------------------------------------------------
# HTML page for reviewers
# ---------------------------------------------------------------------------

_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}
.verdict{padding:.8em 1em;border-radius:4px;font-weight:bold}
.pass{background:#e6f4ea;color:#1e6b34}.fail{background:#fce8e6;color:#a50e0e}.warn{background:#fef7e0;color:#7a5200}
.critical{color:#a50e0e;font-weight:bold}.warning{color:#7a5200}.ok{color:#1e6b34}
.meta td:first-child{width:12em;background:#fafafa}
"""

_SEVERITY_ZH = {"critical": "严重", "warning": "警告"}


def _write_html(
    path: Path,
    programme: Programme,
    instance: ObligationInstance,
    run_id: str,
    summary: Mapping[str, Any],
    findings: Sequence[GateFinding],
    names: Mapping[str, str],
) -> None:
    """Write the reviewers' page atomically; every value is escaped (it comes from submissions)."""
    e = html.escape
    critical, warnings = summary["critical"], summary["warnings"]
    if critical:
        verdict = (
            f'<p class="verdict fail">未通过：{critical}项严重问题，省级汇总已停止。请处理后重新运行。</p>'
        )
    elif warnings:
        verdict = (
            f'<p class="verdict warn">通过（有{warnings}项警告）：汇总继续进行，警告请审核人员核实。</p>'
        )
    else:
        verdict = '<p class="verdict pass">通过：未发现问题，汇总继续进行。</p>'
    completeness = summary["completeness"]
    datasets = "、".join(
        f"{e(DATASETS[d].title)}（{n}行）" if d in DATASETS else f"{e(d)}（{n}行）"
        for d, n in summary["rows"].items()
    )
    meta_rows = [
        ("项目", f"{e(programme.name)}"),
        (
            "报送事项",
            f"{e(instance.title)}（{instance.cycle_year}年度"
            f"{'' if instance.period == 'Y' else '，' + e(instance.period)}）",
        ),
        ("运行编号", e(run_id)),
        ("数据集", datasets),
        ("严重问题", str(critical)),
        ("警告", str(warnings)),
        (
            "报送完整性",
            f"{completeness['accepted']}/{completeness['expected']}（{completeness['ratio']:.0%}），"
            f"要求{completeness['threshold']:.0%}，低于要求时为{_SEVERITY_ZH[completeness['severity']]}",
        ),
    ]
    check_rows = "".join(
        "<tr>"
        f"<td>{e(DATASETS[c['dataset']].title if c['dataset'] in DATASETS else str(c['dataset']))}</td>"
        f"<td>{e(str(c['check']))}</td>"
        f'<td class="{e(str(c["severity"]))}">{_SEVERITY_ZH[str(c["severity"])]}</td>'
        f'<td class="{"ok" if c["success"] else e(str(c["severity"]))}">{"通过" if c["success"] else "未通过"}</td>'
        f'<td class="n">{c["failures"]}</td>'
        "</tr>"
        for c in summary["checks"]
    )
    shown = findings[:_HTML_FINDINGS_LIMIT]
    finding_rows = "".join(
        "<tr>"
        f'<td class="{f.severity}">{_SEVERITY_ZH[f.severity]}</td>'
        f"<td>{e(DATASETS[f.dataset].title if f.dataset in DATASETS else f.dataset)}</td>"
        f"<td>{e(f.region_code or '全省')}{(' ' + e(names[f.region_code])) if f.region_code in names else ''}</td>"
        f'<td class="n">{"" if f.row is None else f.row}</td>'
        f"<td>{e(_header(DATASETS[f.dataset], f.field) if f.dataset in DATASETS and f.field else (f.field or ''))}</td>"
        f"<td>{e(f.message_zh)}</td>"
        f"<td>{e(f.code)}</td>"
        "</tr>"
        for f in shown
    )
    if len(findings) > len(shown):
        finding_rows += f'<tr><td colspan="7">另有{len(findings) - len(shown)}项问题未在本页列出，请在数据库 gate_runs 中查询。</td></tr>'
    if not findings:
        finding_rows = '<tr><td colspan="7">未发现问题。</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>数据质量闸门报告 - {e(instance.title)} {instance.cycle_year}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>数据质量闸门报告：{e(programme.short_name)} {instance.cycle_year}年度 {e(instance.title)}</h1>
{verdict}
<table class="meta">{"".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in meta_rows)}</table>
<h2>检查项</h2>
<table>
<tr><th>数据集</th><th>检查</th><th>严重程度</th><th>结果</th><th>不符合数</th></tr>
{check_rows}
</table>
<h2>问题清单</h2>
<p>“严重”问题阻止省级汇总；“警告”写入本报告，汇总继续进行。行号为报送文件中的行号；联系方式已隐去。</p>
<table>
<tr><th>严重程度</th><th>数据集</th><th>地区</th><th>行</th><th>字段</th><th>说明</th><th>代码</th></tr>
{finding_rows}
</table>
</body>
</html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
