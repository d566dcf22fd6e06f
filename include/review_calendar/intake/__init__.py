"""Intake of county submissions: read, normalise and row-validate spreadsheets.

Pure functions over files on disk; no Airflow, no database. Storage and
quarantine call :func:`read_submission` (or :func:`read_table` +
:func:`validate_rows`) and keep the file plus the
:class:`IntakeIssue` records of a rejection.

Modules:
    issues: issue type, stable error codes, ``IntakeRejected``.
    reader: ``read_table`` for .xlsx and .csv (encoding detected from bytes).
    normalize: value normalisers (dates, numbers, percents, phones...).
    datasets: dataset specs and ``validate_rows``.
    templates: the official Excel template of each dataset.
"""

from review_calendar.intake.datasets import (
    DATASETS,
    Column,
    Dataset,
    Submission,
    get_dataset,
    other_layouts,
    read_submission,
    validate_rows,
)
from review_calendar.intake.issues import CODES, IntakeIssue, IntakeRejected, has_errors
from review_calendar.intake.normalize import ValueProblem
from review_calendar.intake.reader import (
    RawTable,
    ReadLimits,
    check_file_name,
    read_table,
    safe_file_name,
)

__all__ = [
    "CODES",
    "DATASETS",
    "Column",
    "Dataset",
    "IntakeIssue",
    "IntakeRejected",
    "RawTable",
    "ReadLimits",
    "Submission",
    "ValueProblem",
    "check_file_name",
    "get_dataset",
    "has_errors",
    "other_layouts",
    "read_submission",
    "read_table",
    "safe_file_name",
    "validate_rows",
]
