"""Row checks at intake: the row-level suite of a dataset, run once over all new rows of a batch.

:func:`validate_batch` runs the suite ``<dataset>.json`` once over every row of
every file of a batch (one ephemeral Great Expectations context, not one per
file) and maps every failing row back to its file, spreadsheet row and column.
A critical failure rejects its file; a warning keeps it with a note. Row-level
results stay here: callers turn them into :class:`IntakeIssue` records of their
files and never hand them to Airflow (XCom).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from review_calendar.domain.labels import VALUE_KINDS
from review_calendar.domain.privacy import mask_text
from review_calendar.intake.datasets import get_dataset
from review_calendar.intake.expectations import (
    BATCH_COLUMNS,
    SuiteError,
    SuiteRunner,
    as_int,
    header_of,
    load_suite,
    render_failure,
    show_value,
    typed_frame,
)
from review_calendar.intake.issues import IntakeIssue

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    import pandas as pd

    from review_calendar.intake.expectations import Outcome, Severity, TypeProblem
    from review_calendar.intake.spec import Dataset

__all__ = ["RowFailure", "validate_batch", "validate_per_file_baseline"]

log = logging.getLogger(__name__)

#: Intake code of a value that is not of its column's numeric kind.
TYPE_CODES = {
    "number": "NUMBER_INVALID",
    "int": "INTEGER_INVALID",
    "percent": "PERCENT_INVALID",
    "year": "YEAR_INVALID",
}


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
        """This failure as an intake issue of the named file (critical → ``error``).

        Args:
            file: The file's name as the official sent it.
            sheet: The sheet the rows came from.

        Returns:
            The issue, with the failure's row, header, value, code and message.
        """
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
    failures = _validate_rows(SuiteRunner(), spec, data, frame)
    log.info(
        "row checks: %s batch of %d row(s) in %d file(s): %d failure(s), codes %s",
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
        failures.extend(_validate_rows(SuiteRunner(), spec, data, frame.assign(_file=index)))
    return failures


def _validate_rows(
    runner: SuiteRunner, spec: Dataset, data: Mapping[str, Any], frame: pd.DataFrame
) -> list[RowFailure]:
    """Type the batch, run the suite, and return the failures in file, row and column order."""
    if frame.empty:
        return []
    missing = [c for c in BATCH_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the batch frame needs the columns {missing} (file index and spreadsheet row)")
    typed, problems = typed_frame(frame, spec, BATCH_COLUMNS)
    failures = _type_failures(spec, typed, problems)
    reported = {(pos, key) for pos, key, _ in problems}
    failures.extend(_suite_failures(spec, typed, runner.run(data, typed), reported))
    order = {c.key: n for n, c in enumerate(spec.columns)}
    failures.sort(key=lambda f: (f.file, f.row or 0, order.get(f.column or "", len(order)), f.code))
    return failures


def _type_failures(spec: Dataset, typed: pd.DataFrame, problems: Iterable[TypeProblem]) -> list[RowFailure]:
    """A critical failure for every value that is not of its column's numeric kind."""
    failures = []
    for pos, key, raw in problems:
        column = spec.column(key)
        row = as_int(typed.at[pos, "_row"])
        shown = show_value(raw)
        failures.append(
            RowFailure(
                file=int(typed.at[pos, "_file"]),
                row=row,
                column=key,
                header=column.header,
                value=shown,
                code=TYPE_CODES[column.kind],
                message=f"第{row}行“{column.header}”列的值“{shown}”不是有效的{VALUE_KINDS[column.kind]}，请核对。",
                severity="critical",
            )
        )
    return failures


def _suite_failures(
    spec: Dataset, frame: pd.DataFrame, outcomes: Iterable[Outcome], reported: set[tuple[int, str]]
) -> list[RowFailure]:
    """Failures of the suite's outcomes; cells in ``reported`` (already a type problem) are skipped.

    Raises:
        SuiteError: An expectation could not run, or failed without naming rows
            (a table-level rule cannot say which file to reject).
    """
    failures = []
    files = frame["_file"].tolist()
    rows = frame["_row"].tolist()
    for outcome in outcomes:
        if outcome.error is not None:
            raise SuiteError(
                f"{spec.id}.json: {outcome.type} on {outcome.kwargs.get('column') or outcome.kwargs.get('column_list')}"
                f" could not run: {mask_text(outcome.error)[:300]}"
            )
        if outcome.success:
            continue
        if not outcome.positions:
            raise SuiteError(
                f"{spec.id}.json: {outcome.type} failed without identifying rows: not a row-level rule"
            )
        for pos in outcome.positions:
            row = as_int(rows[pos])
            field, value, message = render_failure(spec, frame, outcome, pos, row)
            if field is not None and (pos, field) in reported:
                continue
            failures.append(
                RowFailure(
                    file=int(files[pos]),
                    row=row,
                    column=field if field not in BATCH_COLUMNS else None,
                    header=header_of(spec, field) if field else None,
                    value=value,
                    code=outcome.meta["code"],
                    message=message,
                    severity=outcome.meta["severity"],
                )
            )
    return failures
