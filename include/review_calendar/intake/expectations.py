"""Expectation suites: load a suite file, type a frame for it, run it, word a failing row.

The provincial gate (:mod:`review_calendar.gate`) runs a suite per dataset,
``expectations/<dataset>__provincial.json``, by a plain function on an ephemeral
Great Expectations context that returns something small, and words each typed
failure as a Chinese message naming dataset, region, row and field. Row checks
at intake never use Great Expectations: each row rule is declared once, in the
dataset spec (:mod:`review_calendar.intake.datasets`), and checked as a file
is read (:mod:`review_calendar.intake.rows`).

Each expectation of a suite carries ``meta``: ``severity`` (``critical`` stops:
the file is rejected or the aggregation does not run; ``warning`` is reported
and lets it proceed), a stable ``code`` and ``message_zh``, a Chinese sentence
with the placeholders ``{row}``, ``{header}``, ``{value}``, ``{headers}``,
``{header_b}`` and ``{value_b}``; optionally ``field``, the column a failure is
reported on when it is not the expectation's first column.

Great Expectations is imported only inside :class:`SuiteRunner`: the import
takes seconds and DAG files must parse fast; it is imported without the
libraries only its distribution expectations use (:mod:`.gx_import`). Its default result formats return
at most a sample of ~200 failing rows; suites run with ``COMPLETE`` results and
``unexpected_index_column_names`` on a positional column, so every failing row
is identified.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from review_calendar.domain.privacy import mask_contact
from review_calendar.intake.datasets import get_dataset

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    import pandas as pd

    from review_calendar.intake.spec import Dataset

__all__ = [
    "BATCH_COLUMNS",
    "POSITION",
    "SEVERITIES",
    "MessageValues",
    "Outcome",
    "Severity",
    "SuiteError",
    "SuiteRunner",
    "TypeProblem",
    "as_int",
    "header_of",
    "is_blank",
    "load_suite",
    "render_failure",
    "show_value",
    "suite_columns",
    "suite_path",
    "typed_frame",
]

Severity = Literal["critical", "warning"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning")

#: Bookkeeping columns of a frame (index of its file, 1-based spreadsheet row), never a reported field.
BATCH_COLUMNS = ("_file", "_row")
#: Positional column added to every frame a suite runs on; failing rows are reported by it.
POSITION = "_pos"

#: ``(position in the frame, column key, the raw value)`` of a value of the wrong type.
TypeProblem = tuple[int, str, object]

_PLACEHOLDERS = frozenset({"row", "header", "value", "headers", "header_b", "value_b"})
_NUMERIC_KINDS = frozenset({"number", "int", "percent", "year"})
_WHOLE_KINDS = frozenset({"int", "year"})
_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [POSITION],
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
}


class SuiteError(ValueError):
    """A suite file is missing or invalid, or an expectation could not run; the message names the file."""


def suite_path(dataset_id: str, expectations_dir: Path) -> Path:
    """Where the provincial suite of a dataset lives.

    Args:
        dataset_id: A key of ``DATASETS``.
        expectations_dir: The folder of suites (``Settings.expectations_dir``).

    Returns:
        ``<dir>/<dataset>__provincial.json``.
    """
    return expectations_dir / f"{dataset_id}__provincial.json"


def load_suite(dataset_id: str, expectations_dir: Path) -> dict[str, Any]:
    """Read and check one suite file (the JSON that ``gx.ExpectationSuite(**data)`` takes).

    Args:
        dataset_id: A key of ``DATASETS``.
        expectations_dir: The folder of suites (``Settings.expectations_dir``).

    Returns:
        The suite as a dict: ``name``, ``meta``, ``expectations`` (each with
        ``type``, ``kwargs`` and ``meta`` holding severity, code, message_zh).

    Raises:
        SuiteError: Missing file, invalid JSON, or an expectation without a
            valid severity, code or message, or with an unknown placeholder.
        KeyError: Unknown dataset.
    """
    get_dataset(dataset_id)
    path = suite_path(dataset_id, expectations_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"{path.name}: suite file not found in {expectations_dir}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{path.name}: cannot be read as JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise SuiteError(f"{path.name}: expected an object with a 'name'")
    expectations = data.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteError(f"{path.name}: 'expectations' must be a list")
    for number, exp in enumerate(expectations):
        _check_expectation(f"{path.name}: expectations[{number}]", exp)
    return data


def _check_expectation(where: str, exp: object) -> None:
    """Raise :class:`SuiteError` (prefixed with ``where``) unless ``exp`` is a complete expectation."""
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
        names = {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}
    except ValueError as exc:
        raise SuiteError(f"{where}: meta.message_zh is not a valid template: {exc}") from None
    if names - _PLACEHOLDERS:
        raise SuiteError(f"{where}: unknown placeholders {sorted(names - _PLACEHOLDERS)} in message_zh")


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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one expectation found.

    Attributes:
        type: The expectation type (``expect_column_values_to_not_be_null``...).
        kwargs: Its arguments (``column``, ``column_list``, bounds...).
        meta: Its ``meta`` (severity, code, message_zh, optional field).
        success: Whether every row passed.
        positions: :data:`POSITION` of every failing row.
        unexpected_count: How many rows failed, as GX counts them.
        error: Message of the exception the expectation raised, if it could not run.
    """

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    success: bool
    positions: list[int]
    unexpected_count: int
    error: str | None


class SuiteRunner:
    """One ephemeral GX context with one pandas data source (analytics and progress bars off).

    Create one per batch and run every suite of the batch on it: the fixed cost
    of a context is paid once, not once per file.
    """

    def __init__(self) -> None:
        from review_calendar.intake.gx_import import import_great_expectations

        gx = import_great_expectations()
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
        self._gx = gx
        self._context = gx.get_context(mode="ephemeral", project_config=config)
        self._source = self._context.data_sources.add_pandas("review_calendar")
        self._assets = 0

    def run(self, data: Mapping[str, Any], frame: pd.DataFrame) -> list[Outcome]:
        """Validate ``frame`` against a suite.

        Args:
            data: A suite as returned by :func:`load_suite`.
            frame: The rows, typed by :func:`typed_frame` (it has the :data:`POSITION` column).

        Returns:
            One outcome per expectation, in the suite's order.
        """
        self._assets += 1
        asset = self._source.add_dataframe_asset(f"{data['name']}_{self._assets}")
        batch = asset.add_batch_definition_whole_dataframe("all_rows").get_batch(
            batch_parameters={"dataframe": frame}
        )
        # A copy: GX normalises the configurations it is given.
        suite = self._gx.ExpectationSuite(**json.loads(json.dumps(dict(data))))
        result = batch.validate(suite, result_format=_RESULT_FORMAT)
        return [_outcome(item) for item in result.results]


def _outcome(item: Any) -> Outcome:
    """The :class:`Outcome` of one GX expectation validation result."""
    config = item.expectation_config
    details = item.result or {}
    positions = [int(entry[POSITION]) for entry in details.get("unexpected_index_list") or ()]
    return Outcome(
        type=config.type,
        kwargs=dict(config.kwargs),
        meta=dict(config.meta or {}),
        success=bool(item.success),
        positions=positions,
        unexpected_count=int(details.get("unexpected_count") or len(positions)),
        error=_exception_message(item.exception_info),
    )


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


def typed_frame(
    frame: pd.DataFrame, spec: Dataset, keep: Sequence[str]
) -> tuple[pd.DataFrame, list[TypeProblem]]:
    """A copy of ``frame`` with every dataset column, values in the types the suites expect.

    Numbers become floats (NaN for blanks); a value that is not a number (or not
    a whole number in a count or year column) becomes NaN and is returned as a
    type problem, so GX never compares text with numbers. Dates become ISO
    strings, other non-null values strings. :data:`POSITION` is added.

    Args:
        frame: Records as intake normalised them (keys = column keys).
        spec: The dataset.
        keep: Further columns to carry over unchanged (``_file``/``_row``, stored metadata).

    Returns:
        ``(frame, problems)``; problems are ``(position, column key, value)``.
    """
    import pandas as pd

    frame = frame.reset_index(drop=True)
    data: dict[str, Any] = {}
    problems: list[TypeProblem] = []
    for column in spec.columns:
        values = frame[column.key].tolist() if column.key in frame.columns else [None] * len(frame)
        if column.kind in _NUMERIC_KINDS:
            numbers, bad = _numbers(values, whole=column.kind in _WHOLE_KINDS)
            data[column.key] = pd.Series(numbers, dtype="float64")
            problems.extend((pos, column.key, values[pos]) for pos in bad)
        else:
            data[column.key] = pd.Series([_text(value) for value in values], dtype="object")
    for name in keep:
        if name not in data:
            data[name] = (
                frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype="object")
            )
    data[POSITION] = pd.Series(range(len(frame)), dtype="int64")
    return pd.DataFrame(data), problems


def _numbers(values: Sequence[object], *, whole: bool) -> tuple[list[float], list[int]]:
    """``values`` as floats (NaN for blanks and bad values) and the positions of the bad ones."""
    numbers: list[float] = []
    bad: list[int] = []
    for pos, value in enumerate(values):
        if is_blank(value):
            numbers.append(math.nan)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if whole and not number.is_integer():
                bad.append(pos)
                number = math.nan
            numbers.append(number)
        else:
            bad.append(pos)
            numbers.append(math.nan)
    return numbers, bad


def _text(value: object) -> str | None:
    """A non-numeric cell as the suites compare it: None for blanks, ISO for dates, else text."""
    if is_blank(value):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)


def is_blank(value: object) -> bool:
    """Whether a cell is empty: None, NaN or only white space."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def as_int(value: object) -> int | None:
    """``value`` as an int (row numbers, positions); None when blank or not a number."""
    if is_blank(value):
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def show_value(value: object, kind: str | None = None) -> str:
    """A value as a Chinese reader expects it: 12500, 86.5, 75%, （空）; long text cut at 50 characters.

    Args:
        value: The value.
        kind: The column kind; ``percent`` shows a fraction as a percentage.
    """
    if is_blank(value):
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


def header_of(spec: Dataset, key: str | None) -> str:
    """The Chinese header of column ``key`` (the key itself if the dataset has no such column)."""
    if key is None:
        return ""
    try:
        return spec.column(key).header
    except KeyError:
        return key


class MessageValues(dict):
    """Values of a ``message_zh`` template; a placeholder without a value renders as empty."""

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
    if is_blank(value):
        return None, show_value(None)
    shown = show_value(value, kind)
    return shown, mask_contact(kind or "", shown)


def render_failure(
    spec: Dataset, frame: pd.DataFrame, outcome: Outcome, pos: int, row: object
) -> tuple[str | None, str | None, str]:
    """Word one failing row of an expectation.

    Args:
        spec: The dataset.
        frame: The typed frame the suite ran on.
        outcome: The failed expectation.
        pos: :data:`POSITION` of the failing row.
        row: Its spreadsheet row, for ``{row}`` (None renders as empty).

    Returns:
        ``(field, stored value, message)``: the column the failure is reported on
        (``meta.field`` or the expectation's first column), the value as text
        (may be contact data: store it, never log it), the Chinese message with
        contact values masked.
    """
    kwargs = outcome.kwargs
    first = kwargs.get("column") or kwargs.get("column_A")
    keys = [k for k in kwargs.get("column_list") or () if k not in BATCH_COLUMNS]
    field = outcome.meta.get("field") or first
    value, shown = _cell(spec, frame, pos, first)
    if keys and first is None:
        parts = [_cell(spec, frame, pos, k) for k in keys]
        value = " / ".join(p[0] or "" for p in parts)
        shown = " / ".join(p[1] for p in parts)
    value_b, shown_b = _cell(spec, frame, pos, kwargs.get("column_B"))
    message = outcome.meta["message_zh"].format_map(
        MessageValues(
            row="" if row is None else row,
            header=header_of(spec, first),
            value=shown,
            headers="、".join(f"“{header_of(spec, k)}”" for k in keys),
            header_b=header_of(spec, kwargs.get("column_B")),
            value_b=shown_b,
        )
    )
    if kwargs.get("column_B") is not None and field == kwargs["column_B"]:
        value = value_b
    return field, value, message
