"""Row-level validation of a read table: typed records plus every issue, then accept or reject.

:func:`validate_rows` turns a :class:`~review_calendar.intake.table.RawTable`
into typed records, row by row: each cell is parsed by its column, then the
row is checked against the cycle (year, period), the dataset's own row rules
and the rows above it (duplicates); 合计 rows are compared with the sum of the
rows above them. :func:`read_submission` reads and validates one file.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from review_calendar.intake import issues as E
from review_calendar.intake.columns import parser
from review_calendar.intake.datasets import get_dataset, other_layouts
from review_calendar.intake.identifiers import check_choice
from review_calendar.intake.issues import IntakeIssue, IntakeRejected, IssueFactory, has_errors
from review_calendar.intake.normalize import ValueProblem, to_number, to_text
from review_calendar.intake.reader import ReadLimits, read_table
from review_calendar.intake.row_rules import RowContext

if TYPE_CHECKING:
    from pathlib import Path

    from review_calendar.intake.columns import Column, Parser
    from review_calendar.intake.reader import FileContent
    from review_calendar.intake.spec import Dataset
    from review_calendar.intake.table import RawTable

__all__ = ["Record", "Submission", "is_total_row", "read_submission", "validate_rows"]

log = logging.getLogger(__name__)

Record = dict[str, object]
RawRow = dict[str, str | None]


def validate_rows(
    table: RawTable, dataset: Dataset, context: RowContext | None = None
) -> tuple[list[Record], list[IntakeIssue]]:
    """Typed, normalised records of a table and every row-level issue.

    Args:
        table: What :func:`~review_calendar.intake.reader.read_table` read.
        dataset: The dataset spec the table should follow.
        context: What the rows are checked against: known region codes, the
            expected year and period, the programme's pilot period (None:
            none of these checks).

    Returns:
        ``(records, issues)``: one record per data row (keys = column keys,
        plus ``_row``, the spreadsheet row number; cells with an issue are
        None; 合计 rows are not records), and the table's own cell issues
        followed by the row issues in row order. Any issue with severity
        ``"error"`` means the file must be rejected.

    Raises:
        ValueError: ``context.expected_period`` is not a choice of the
            dataset's period column (a programming error, not bad input).
    """
    rows = _Rows(table, dataset, context or RowContext())
    issues: list[IntakeIssue] = [*table.issues, *_missing_columns(table, dataset, rows.new)]
    records: list[Record] = []
    totals: list[tuple[int, RawRow]] = []
    total_labels = set(dataset.total_row_labels)
    for number, raw in table.rows:
        if is_total_row(raw, total_labels):
            totals.append((number, raw))
            continue
        record, row_issues = rows.check(number, raw)
        issues.extend(row_issues)
        records.append(record)
    issues.extend(_check_totals(dataset, records, totals, rows.bad_cells, rows.new))
    log.debug(
        "intake: validated %s/%s: %d records, %d issues", dataset.id, table.file, len(records), len(issues)
    )
    return records, issues


def is_total_row(raw: RawRow, labels: set[str]) -> bool:
    """Whether a row is a 合计 row: one of its cells says 合计 (总计, 小计).

    Any cell, not only the first filled one: a region code merged down over
    the 合计 row fills that row's code cell, and the row is still no region's.
    """
    return any(v is not None and v.replace(" ", "").replace("\u3000", "") in labels for v in raw.values())


def _missing_columns(table: RawTable, dataset: Dataset, new: IssueFactory) -> list[IntakeIssue]:
    """COLUMN_MISSING for every column of the dataset the table does not have."""
    return [
        new(
            E.COLUMN_MISSING,
            f"缺少“{c.header}”列，请使用下发的模板，补上该列后重新提交。",
            row=table.header_row,
            column=c.header,
        )
        for c in dataset.columns
        if c.header not in table.columns
    ]


def _quote(value: str, limit: int = 50) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


class _Rows:
    """The checks of one table's data rows, with what they remember across rows.

    Attributes:
        new: Issue factory of the table's file and sheet.
        bad_cells: Keys of columns with at least one invalid or missing cell
            (their 合计 cannot be checked).
    """

    def __init__(self, table: RawTable, dataset: Dataset, context: RowContext) -> None:
        self.dataset = dataset
        self.context = context
        self.new = IssueFactory(table.file, table.sheet)
        # Cells the reader refused (a warning, such as a formula's saved result, keeps the value).
        self.flagged = {(i.row, i.column) for i in table.issues if i.severity == "error"}
        self.plan: list[tuple[Column, Parser]] = [
            (c, parser(c, date1904=table.date1904)) for c in dataset.columns if c.header in table.columns
        ]
        known = context.known_region_codes
        # Only looked up: a set the caller gave (one per batch) is used as it is, not copied per file.
        self.known = known if isinstance(known, set | frozenset) or known is None else set(known)
        self.by_key = {c.key: c for c in dataset.columns}
        self.period = self._expected_period()
        self.bad_cells: set[str] = set()
        self.seen: dict[tuple[object, ...], int] = {}

    def _expected_period(self) -> object:
        """The expected period as the period column spells it (``Q1`` → 一季度), None when unchecked."""
        expected, column = self.context.expected_period, self.dataset.period_column
        if expected is None or column is None:
            return None
        period_col = self.by_key[column]
        try:
            return check_choice(expected, period_col.choices, dict(period_col.aliases))
        except ValueProblem:
            raise ValueError(f"expected_period {expected!r} is not one of {period_col.choices}") from None

    def check(self, number: int, raw: RawRow) -> tuple[Record, list[IntakeIssue]]:
        """The record of one data row and its issues, in the order the official reads them.

        Args:
            number: 1-based spreadsheet row.
            raw: The row's texts by header.

        Returns:
            ``(record, issues)``.
        """
        record: Record = {"_row": number}
        row_bad: set[str] = set()
        issues = self._cells(number, raw, record, row_bad)
        issues.extend(self._year(number, record))
        issues.extend(self._period(number, record))
        issues.extend(self._row_rules(number, record, row_bad))
        issues.extend(self._duplicate(number, record))
        return record, issues

    def _cells(self, number: int, raw: RawRow, record: Record, row_bad: set[str]) -> list[IntakeIssue]:
        """Parse each cell into ``record``; blank required cells and unparsable values are issues."""
        issues: list[IntakeIssue] = []
        for column, parse in self.plan:
            header, key = column.header, column.key
            raw_value = raw.get(header)
            record[key] = None
            if (number, header) in self.flagged:
                self.bad_cells.add(key)
                row_bad.add(key)
                continue
            text = to_text(raw_value)
            if text is None:
                if column.required:
                    self.bad_cells.add(key)
                    row_bad.add(key)
                    message = f"第{number}行“{header}”列为必填项，未填写，请补充。"
                    issues.append(self.new(E.VALUE_REQUIRED, message, row=number, column=header))
                continue
            try:
                value = _parse(column, parse, text)
            except ValueProblem as problem:
                self.bad_cells.add(key)
                row_bad.add(key)
                message = f"第{number}行“{header}”列的值“{_quote(raw_value or '')}”{problem.fragment}"
                issues.append(self.new(problem.code, message, row=number, column=header, value=raw_value))
                continue
            record[key] = value
            if self.known is not None and column.kind == "region_code" and value not in self.known:
                message = (
                    f"第{number}行“{header}”列的值“{value}”不是本次报送范围内的行政区划代码，"
                    "请核对（如区划调整，请联系省厅）。"
                )
                issues.append(self.new(E.REGION_UNKNOWN, message, row=number, column=header, value=raw_value))
        return issues

    def _year(self, number: int, record: Record) -> list[IntakeIssue]:
        """YEAR_MISMATCH when the row's year is not the cycle's data year."""
        expected, key = self.context.expected_year, self.dataset.year_column
        if expected is None or key is None:
            return []
        year = record.get(key)
        if not isinstance(year, int) or year == expected:
            return []
        header = self.by_key[key].header
        message = f"第{number}行“{header}”填写的是{year}年，与本次报送的{expected}年度不符，请核对。"
        return [self.new(E.YEAR_MISMATCH, message, row=number, column=header, value=str(year))]

    def _period(self, number: int, record: Record) -> list[IntakeIssue]:
        """OBLIGATION_MISMATCH when the row's period is not the obligation's."""
        key = self.dataset.period_column
        if self.period is None or key is None:
            return []
        period = record.get(key)
        if not isinstance(period, str) or period == self.period:
            return []
        header = self.by_key[key].header
        message = (
            f"第{number}行“{header}”填写的是“{period}”，本次报送的是“{self.period}”，请核对报告期或报送事项。"
        )
        return [self.new(E.OBLIGATION_MISMATCH, message, row=number, column=header, value=period)]

    def _row_rules(self, number: int, record: Record, row_bad: set[str]) -> list[IntakeIssue]:
        """The dataset's rules across the cells of the row (cells already reported are skipped)."""
        issues = []
        for rule in self.dataset.row_checks:
            for problem in rule(record, self.context):
                if problem.column in row_bad:
                    continue
                value = record.get(problem.column)
                issues.append(
                    self.new(
                        problem.code,
                        f"第{number}行：{problem.message}",
                        row=number,
                        column=self.by_key[problem.column].header,
                        value=None if value is None else str(value),
                        severity=problem.severity,
                    )
                )
        return issues

    def _duplicate(self, number: int, record: Record) -> list[IntakeIssue]:
        """ROW_DUPLICATE when an earlier row has the same key columns."""
        keys = self.dataset.key_columns
        key_values = tuple(record.get(k) for k in keys)
        if not keys or any(v is None for v in key_values):
            return []
        earlier = self.seen.setdefault(key_values, number)
        if earlier == number:
            return []
        described = "、".join(f"{self.by_key[k].header}“{v}”" for k, v in zip(keys, key_values, strict=True))
        message = f"第{number}行与第{earlier}行重复（{described}相同），请删除重复行或更正。"
        return [self.new(E.ROW_DUPLICATE, message, row=number, value=" / ".join(str(v) for v in key_values))]


def _parse(column: Column, parse: Parser, text: str) -> object:
    """One cell's typed value, its text within the column's length limit.

    Raises:
        ValueProblem: The value does not fit the column.
    """
    value = parse(text)
    if column.max_length is not None and isinstance(value, str) and len(value) > column.max_length:
        raise ValueProblem(E.VALUE_TOO_LONG, f"超过{column.max_length}个字，请精简。")
    return value


def _check_totals(
    dataset: Dataset,
    records: list[Record],
    totals: list[tuple[int, RawRow]],
    bad_cells: set[str],
    new: IssueFactory,
) -> list[IntakeIssue]:
    """Compare each 合计 row with the sum of the records above it.

    Columns with an invalid cell are skipped (their sum means nothing); a
    difference up to 0.01 is rounding.
    """
    issues: list[IntakeIssue] = []
    for number, raw in totals:
        for column in dataset.columns:
            if column.kind not in ("number", "int") or column.key in bad_cells:
                continue
            text = to_text(raw.get(column.header))
            if text is None:
                continue
            header = column.header
            try:
                stated = to_number(text)
            except ValueProblem as problem:
                message = f"第{number}行（合计）“{header}”列的值“{_quote(text)}”{problem.fragment}"
                issues.append(new(problem.code, message, row=number, column=header, value=text))
                continue
            summed = _sum_above(records, column.key, number)
            if abs(stated - summed) > max(0.011, 1e-9 * abs(summed)):
                message = (
                    f"第{number}行合计的“{header}”为{_show(stated)}，但上面各行相加为{_show(summed)}，"
                    "请核对合计数或明细。"
                )
                issues.append(new(E.TOTAL_MISMATCH, message, row=number, column=header, value=text))
    return issues


def _sum_above(records: list[Record], key: str, number: int) -> float:
    """The sum of ``key`` over the records above spreadsheet row ``number``."""
    return math.fsum(
        float(v) for r in records if r["_row"] < number and isinstance(v := r.get(key), int | float)
    )


@dataclass(frozen=True)
class Submission:
    """An accepted file: its records and anything worth a warning.

    Attributes:
        file: Safe display name.
        dataset_id: The dataset it was read as.
        sheet: Sheet read (None for CSV).
        header_row: 1-based row of the header.
        records: Typed records (see :func:`validate_rows`).
        warnings: Issues with severity ``"warning"``.
        sha256: Hex digest of the file's bytes (storage's content hash).
        size: File size in bytes.
        format: ``"xlsx"`` or ``"csv"``.
        encoding: CSV text encoding, else None.
    """

    file: str
    dataset_id: str
    sheet: str | None
    header_row: int
    records: list[Record]
    warnings: list[IntakeIssue]
    sha256: str
    size: int
    format: str
    encoding: str | None


def read_submission(
    path: Path,
    dataset: str | Dataset,
    *,
    name: str | None = None,
    limits: ReadLimits = ReadLimits(),  # noqa: B008 - frozen, immutable default
    context: RowContext | None = None,
    content: FileContent | None = None,
) -> Submission:
    """Read and row-validate one submitted file: accept it or reject it with every reason.

    Args:
        path: The file on disk.
        dataset: Dataset id or spec.
        name: The submitter's file name when it differs from ``path.name``.
        limits: Reader bounds.
        context: What the rows are checked against (see :func:`validate_rows`).
        content: The file's bytes when already read (:func:`~review_calendar.intake.reader.read_file`).

    Returns:
        The accepted submission.

    Raises:
        IntakeRejected: Any error-severity issue, from reading or from the
            rows; ``sha256`` is set whenever the bytes were read.
    """
    spec = get_dataset(dataset) if isinstance(dataset, str) else dataset
    table = read_table(
        path,
        sheet=spec.sheet,
        expected_columns=spec.headers,
        limits=limits,
        name=name,
        other_layouts=other_layouts(spec.id),
        content=content,
    )
    records, issues = validate_rows(table, spec, context)
    if has_errors(issues):
        log.info(
            "intake: rejected %s as %s: %d issue(s), codes %s",
            table.file,
            spec.id,
            len(issues),
            ",".join(sorted({i.code for i in issues})),
        )
        raise IntakeRejected(issues, sha256=table.sha256)
    return Submission(
        file=table.file,
        dataset_id=spec.id,
        sheet=table.sheet,
        header_row=table.header_row,
        records=records,
        warnings=[i for i in issues if i.severity == "warning"],
        sha256=table.sha256,
        size=table.size,
        format=table.format,
        encoding=table.encoding,
    )
