"""Storing intake files in bulk: the chunk's transaction, what it knows of the instance, rows written together.

Intake stores many files per transaction (``tasks.storing``), each file atomic.
:func:`begin_intake` opens the transaction and reads once what
``store.accept.record_submission`` would otherwise ask per file (:class:`IntakeBatch`);
:func:`set_aside_ids` and :func:`write_later` let a chunk's rows be inserted with
one statement per table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, or_, select, text

from review_calendar.store.queries import instance_filter
from review_calendar.store.tables.decisions import Decision
from review_calendar.store.tables.intake import (
    DatasetRow,
    ObligationInstanceRow,
    Receipt,
    Submission,
    SubmissionError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance
    from review_calendar.intake.ingest import ParsedFile

__all__ = [
    "IntakeBatch",
    "acceptance_subject",
    "begin_intake",
    "dataset_rows",
    "lock_instance",
    "read_batch",
    "set_aside_ids",
    "write_later",
]


@dataclass
class IntakeBatch:
    """What the transaction storing a chunk of files knows of the instance, read once.

    Intake stores many files per transaction (``tasks.intake``); instead of
    asking the database per file, :func:`record_submission` looks here and keeps
    it up to date. Read again (:func:`read_batch`) after a file's SAVEPOINT was
    rolled back.

    Attributes:
        by_hash: The instance's submissions by region code and content hash (the unique key).
        in_force: The accepted submission of each region.
        next_seq: The next receipt number of the instance.
        decisions: The instance's acceptance decisions by subject.
        ids: Ids set aside for new submissions (:func:`set_aside_ids`): while
            set, nothing is flushed per file and the chunk's rows are written
            together (:func:`write_later`). None: each file is flushed as it is recorded.
        later: While storing a chunk together: the rows of its receipts,
            issues and datasets, inserted by :func:`write_later` in one
            statement per table. None: added to the session as they come.
    """

    by_hash: dict[tuple[str | None, str], Submission] = field(default_factory=dict)
    in_force: dict[str | None, Submission] = field(default_factory=dict)
    next_seq: int = 1
    decisions: dict[str, Decision] = field(default_factory=dict)
    ids: Iterator[int] | None = None
    later: dict[type, list[dict[str, Any]]] | None = None


def write_later(session: Session, batch: IntakeBatch) -> None:
    """Write what a chunk stored together left for later: its submissions first, then one INSERT per table."""
    session.flush()
    for model in (Receipt, SubmissionError, DatasetRow):
        rows = (batch.later or {}).get(model)
        if rows:
            session.execute(insert(model), rows)
            rows.clear()


def set_aside_ids(session: Session, count: int) -> Iterator[int] | None:
    """``count`` submission ids no other transaction will use, so a chunk's rows need no flush per file.

    PostgreSQL: drawn from the id's sequence. SQLite: the ids after the largest,
    safe because the chunk's transaction holds the write lock (``BEGIN
    IMMEDIATE``, :func:`begin_intake`). None when the sequence is not found.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        sequence = connection.execute(text("SELECT pg_get_serial_sequence('submissions', 'id')")).scalar()
        if sequence is None:
            return None
        drawn = connection.execute(
            text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
            {"seq": sequence, "n": count},
        )
        return iter(drawn.scalars().all())
    start = (session.scalar(select(func.max(Submission.id))) or 0) + 1
    return iter(range(start, start + count))


def acceptance_subject(instance: ObligationInstance, region_code: str | None, sha256: str) -> str:
    """The subject of a file's acceptance decision: ``obligation/period/region (or -)/first 12 of the hash``."""
    return f"{instance.obligation_id}/{instance.period}/{region_code or '-'}/{sha256[:12]}"


def read_batch(session: Session, instance: ObligationInstance, chunk: Sequence[ParsedFile]) -> IntakeBatch:
    """What storing ``chunk`` needs of the instance, read once: its submissions, receipt count and decisions.

    Only what the chunk's files can meet is read (the submissions of their regions
    or with their bytes, the acceptance decisions of their subjects), so each
    chunk reads about as much as it stores, however many files the instance
    already holds.
    """
    batch = IntakeBatch()
    regions = {p.region_code for p in chunk if p.region_code is not None}
    hashes = {p.sha256 for p in chunk}
    for sub in session.scalars(
        select(Submission).where(
            *instance_filter(Submission, instance),
            or_(Submission.region_code.in_(regions), Submission.content_hash.in_(hashes)),
        )
    ):
        batch.by_hash[(sub.region_code, sub.content_hash)] = sub
        if sub.status == "accepted":
            batch.in_force[sub.region_code] = sub
    batch.next_seq = (
        session.scalar(select(func.max(Receipt.seq)).where(*instance_filter(Receipt, instance))) or 0
    ) + 1
    subjects = {acceptance_subject(instance, p.region_code, p.sha256) for p in chunk}
    batch.decisions = {
        d.subject: d
        for d in session.scalars(
            select(Decision).where(
                Decision.programme_id == instance.programme_id,
                Decision.cycle_year == instance.cycle_year,
                Decision.kind == "acceptance",
                Decision.subject.in_(subjects),
            )
        )
    }
    return batch


def begin_intake(session: Session, instance: ObligationInstance, chunk: Sequence[ParsedFile]) -> IntakeBatch:
    """Open the transaction that stores a chunk of files of ``instance``, its SAVEPOINTs inside it.

    On SQLite the transaction is begun explicitly (``BEGIN IMMEDIATE``, taking the
    write lock at once): the pysqlite driver begins one only before a write, so
    a first SAVEPOINT would otherwise open the transaction itself and its
    release would commit it. On PostgreSQL the instance's row is locked, which
    serialises concurrent intake of the instance (as ``store.accept.record_submission`` does).

    Args:
        session: A session with no statement run yet.
        instance: The obligation instance.
        chunk: The files about to be stored.

    Returns:
        What the transaction knows of the instance (:func:`read_batch`), for
        :func:`record_submission`.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    lock_instance(session, instance)
    return read_batch(session, instance, chunk)


def lock_instance(session: Session, instance: ObligationInstance) -> None:
    """Lock the instance's row until the transaction ends (PostgreSQL; SQLite locks the file anyway)."""
    session.execute(
        select(ObligationInstanceRow.id)
        .where(*instance_filter(ObligationInstanceRow, instance))
        .with_for_update()
    )


def dataset_rows(submission_id: int, parsed: ParsedFile) -> list[dict[str, Any]]:
    """One ``dataset_rows`` row (its columns) per record of every dataset of the file."""
    return [
        dict(
            submission_id=submission_id,
            dataset=dataset_id,
            sheet=parsed.sheets.get(dataset_id, ""),
            row_no=int(r.get("_row") or n),
            region_code=r.get("region_code") or parsed.region_code,
            data=_jsonable(r),
        )
        for dataset_id, records in parsed.records.items()
        for n, r in enumerate(records, start=1)
    ]


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """A record as stored: dates as ISO text, without the ``_row`` bookkeeping."""
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in record.items()
        if not k.startswith("_")
    }
