"""Intake of county submissions: a file arrives, is read, normalised and row-validated.

Pure functions over files on disk; no Airflow, no database. The store
(``review_calendar.store.accept``) keeps an accepted file and its rows, or a
rejected file plus the :class:`IntakeIssue` records of its rejection.

Modules, in the order a file meets them:
    inbox: the inbox folders, pending files, day of receipt, region folder.
    filenames: the submitted name checked and made safe.
    reader: bytes read once, container sniffed, ``read_table``.
    xlsx, delimited: the .xlsx and text containers.
    table: grid → ``RawTable`` (header, columns, merged cells, rows).
    normalize: value normalisers (dates, numbers, percents, phones...).
    columns, datasets: column kinds and dataset specs.
    rows: ``validate_rows`` and ``read_submission``.
    issues: issue type, the issue factory, stable error codes, ``IntakeRejected``.
    templates: the official Excel template of each dataset.
    ingest: one batch: parse, attribute the submitting region, row checks.
"""

from review_calendar.intake.columns import Column
from review_calendar.intake.datasets import DATASETS, get_dataset, other_layouts
from review_calendar.intake.filenames import check_file_name, safe_file_name
from review_calendar.intake.issues import CODES, IntakeIssue, IntakeRejected, has_errors
from review_calendar.intake.normalize import ValueProblem
from review_calendar.intake.reader import ReadLimits, read_table
from review_calendar.intake.row_rules import RowContext
from review_calendar.intake.rows import Submission, read_submission, validate_rows
from review_calendar.intake.spec import Dataset
from review_calendar.intake.table import RawTable

__all__ = [
    "CODES",
    "DATASETS",
    "Column",
    "Dataset",
    "IntakeIssue",
    "IntakeRejected",
    "RawTable",
    "ReadLimits",
    "RowContext",
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
