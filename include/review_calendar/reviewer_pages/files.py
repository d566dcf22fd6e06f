"""A matrix cell's file history: every file version a region sent for an instance, with its errors.

What a reviewer sees after one click on a cell: each file version, newest first,
with its received day, its result (已受理, 已退回, 已被更正替代), whether it was
late, the file that replaced it, when intake recorded it (北京时间), and every
reason as sheet, row, column, value and message. Stored paths are never shown:
a file is named by its id, and the pages serve it through their download route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.domain.labels import FILE_STATUSES, SEVERITIES
from review_calendar.reviewer_pages.decisions import beijing_time
from review_calendar.store.tables.intake import Submission, SubmissionError

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance

__all__ = ["ERROR_COLUMNS", "ErrorLine", "FileVersion", "error_lines", "file_history"]

#: The columns of an error list (page, .xlsx and .csv), in the reviewer's words.
ERROR_COLUMNS = ("工作表", "行", "列", "值", "问题", "级别")


@dataclass(frozen=True, slots=True)
class ErrorLine:
    """One reason a file was rejected (or a warning about it)."""

    sheet: str
    row: int | None
    column: str
    value: str
    message: str
    severity: str

    def cells(self) -> tuple[str | int | None, ...]:
        """The line as the cells of :data:`ERROR_COLUMNS`."""
        return (self.sheet, self.row, self.column, self.value, self.message, self.severity)


@dataclass(frozen=True, slots=True)
class FileVersion:
    """One stored file of a region for an instance."""

    id: int
    file_name: str
    received_on: dt.date
    status: str
    is_late: bool
    error_count: int
    superseded_by: int | None
    recorded_at: str
    errors: tuple[ErrorLine, ...]

    @property
    def status_label(self) -> str:
        """已受理, 未通过校验（已退回） or 已被更正文件取代 (``labels.FILE_STATUSES``)."""
        return FILE_STATUSES.get(self.status, self.status)


def error_lines(session: Session, submission_id: int) -> list[ErrorLine]:
    """The errors intake recorded for a file, in sheet, row and column order."""
    stmt = select(SubmissionError).where(SubmissionError.submission_id == submission_id)
    rows = sorted(session.scalars(stmt), key=lambda e: (e.sheet or "", e.row or 0, e.column or "", e.id))
    return [
        ErrorLine(
            sheet=e.sheet or "",
            row=e.row,
            column=e.column or "",
            value="" if e.value is None else str(e.value),
            message=e.message,
            severity=SEVERITIES["warning"] if e.severity == "warning" else "错误",
        )
        for e in rows
    ]


def file_history(session: Session, instance: ObligationInstance, region_code: str) -> list[FileVersion]:
    """Every file a region sent for ``instance``, newest first, each with its errors.

    Args:
        session: Open session on the review database.
        instance: The obligation instance.
        region_code: The region (the matrix row).
    """
    stmt = select(Submission).where(
        Submission.programme_id == instance.programme_id,
        Submission.cycle_year == instance.cycle_year,
        Submission.obligation_id == instance.obligation_id,
        Submission.period == instance.period,
        Submission.region_code == region_code,
    )
    files = sorted(session.scalars(stmt), key=lambda s: (s.received_on, s.id), reverse=True)
    return [
        FileVersion(
            id=s.id,
            file_name=s.file_name,
            received_on=s.received_on,
            status=s.status,
            is_late=bool(s.is_late),
            error_count=int(s.error_count or 0),
            superseded_by=s.superseded_by,
            recorded_at=beijing_time(s.created_at),
            errors=tuple(error_lines(session, s.id)),
        )
        for s in files
    ]
