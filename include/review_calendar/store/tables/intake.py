"""What was asked and what came in: obligation instances (and the due dates some regions owe
instead) and submissions.

A submission comes with its receipts, the inbox's sightings of it, its attachments, its errors
and its rows.

Part of :mod:`review_calendar.store.models`, which holds every table.
"""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# A foreign key of this module refers to ``decisions.id``: its table must be in the metadata too.
from review_calendar.store.tables import decisions  # noqa: F401
from review_calendar.store.tables.base import Base, utc_now

_INSTANCE = ("programme_id", "cycle_year", "obligation_id", "period")
# Partial indexes: their WHERE clause by index name. It is attached for the dialect of each engine
# made (store.db.get_engine) rather than declared here for both: a ``postgresql_where`` here loads
# SQLAlchemy's PostgreSQL dialect in every SQLite command (tens of milliseconds of a county's answer).
PARTIAL_INDEXES = {"uq_submissions_content_no_region": "region_code IS NULL"}


def attach_partial_indexes(dialect: str) -> None:
    """Give each partial index of :data:`PARTIAL_INDEXES` its WHERE clause for ``dialect``.

    Called for every engine made (:func:`review_calendar.store.db.get_engine`, which
    imports this module, so the indexes exist by then), before anything is compiled
    for it; calling it again changes nothing.

    Args:
        dialect: ``sqlite`` or ``postgresql`` (both support partial indexes).
    """
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = PARTIAL_INDEXES.get(str(index.name))
            if where is not None and index.dialect_options[dialect]["where"] is None:
                index.dialect_options[dialect]["where"] = text(where)


class ObligationInstanceRow(Base):
    """One obligation of one cycle and period, with its computed dates and state."""

    __tablename__ = "obligation_instances"
    __table_args__ = (UniqueConstraint("programme_id", "cycle_year", "obligation_id", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="Y")
    title: Mapped[str] = mapped_column(String(128))
    statutory_due: Mapped[dt.date] = mapped_column(Date)
    effective_due: Mapped[dt.date] = mapped_column(Date)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="planned")  # planned, open, closed, aggregated
    # Who was expected at the first aggregation after the close (store.expected): re-runs reproduce the figures.
    expected: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)


class DueChange(Base):
    """A due date one region owes instead of the instance's: an extension granted, or a file returned.

    ``kind`` is ``extension`` (a county's request for more time, granted: ``due`` is the
    granted date) or ``return`` (a reviewer returned the accepted file ``submission_id``
    for correction: ``due`` is the new due date, None when the reviewer set none). One
    row per answered decision, so applying an answer again changes nothing.
    """

    __tablename__ = "due_changes"
    __table_args__ = (
        UniqueConstraint("decision_id"),
        Index("ix_due_changes_instance", "programme_id", "cycle_year", "obligation_id", "period"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="Y")
    region_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(16))  # extension, return
    submission_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(128), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Submission(Base):
    """A received file: its content hash, outcome and where it is kept."""

    __tablename__ = "submissions"
    __table_args__ = (
        # One row per content and region: the same bytes from two regions are two submissions;
        # and one per content without a region, as NULLs never collide in a unique key.
        UniqueConstraint(
            *_INSTANCE, "region_code", "content_hash", name="uq_submissions_instance_region_content"
        ),
        Index("uq_submissions_content_no_region", *_INSTANCE, "content_hash", unique=True),
        Index("ix_submissions_instance_region", *_INSTANCE, "region_code"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="Y")
    region_code: Mapped[str | None] = mapped_column(String(6))
    file_name: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    received_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # accepted, rejected, superseded
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    # What an accepted file still waits for before it counts as submitted ("approval": the
    # county government's approval of a development plan, 冀工信产业〔2016〕93号 二); "" for nothing.
    awaiting: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # When the province received the file (to the second; ``received_on`` is its day in
    # Asia/Shanghai) and the 受理编号 of the receipt in force (accepted files only).
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    receipt_no: Mapped[str | None] = mapped_column(String(64))


class Receipt(Base):
    """One receipt of an accepted file: its 受理编号 and when it was received.

    A file sent again after another version (same bytes) is a new receipt of the
    same submission; a re-run of one receipt finds its row (``submission_id``, ``received_at``).
    """

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("receipt_no"), UniqueConstraint("submission_id", "received_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_no: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    # Declared so one flush writes a submission before the rows that refer to it (intake stores a
    # chunk of files with ids set aside and one flush); never loaded.
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(6))
    file_name: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InboxSighting(Base):
    """When an inbox sweep first saw a file (by content and upload region): its receipt time never moves forward."""

    __tablename__ = "inbox_sightings"
    __table_args__ = (
        Index("ix_inbox_sightings_instance", "programme_id", "cycle_year", "obligation_id", "period"),
    )
    file_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The file was answered and stays where it is (e.g. "too_large": rejected unread): not judged again.
    answered: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Attachment(Base):
    """A document sent with a submission (the plan itself, its approval): kept, hashed, never opened.

    ``status`` is ``kept`` (its type checked by its first bytes, copied beside the
    accepted file) or ``rejected`` (``reason`` says why; the copy is in quarantine).
    """

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("submission_id", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")  # as Receipt.submission
    kind: Mapped[str] = mapped_column(String(16))  # approval, plan
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(8))  # pdf, doc, docx, ofd ("" when unrecognised)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    stored_path: Mapped[str] = mapped_column(Text)
    received_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # kept, rejected
    reason: Mapped[str] = mapped_column(Text, default="")


class SubmissionError(Base):
    """One problem found in a rejected file, in words an official understands."""

    __tablename__ = "submission_errors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")  # as Receipt.submission
    sheet: Mapped[str | None] = mapped_column(String(64))
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8), default="error")


class DatasetRow(Base):
    """A normalised row of an accepted submission (the data the gates and aggregation read)."""

    __tablename__ = "dataset_rows"
    __table_args__ = (UniqueConstraint("submission_id", "sheet", "row_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")  # as Receipt.submission
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    sheet: Mapped[str] = mapped_column(String(64), default="")
    row_no: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
