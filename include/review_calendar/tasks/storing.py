"""Storing parsed files: many to a transaction, each file atomic.

Files are stored :data:`STORE_CHUNK` to a transaction. A chunk's files are first
recorded together in one SAVEPOINT, their rows inserted with one statement per
table (:mod:`review_calendar.store.bulk`); if any of them cannot be written the
chunk goes back whole and its files are stored one at a time, each in a
SAVEPOINT of its own, so a file that cannot be stored is rolled back alone and
the files behind it go on. One commit (one disk sync) serves many files. A
crash rolls back the open chunk whole, so no file is ever half stored, and a
re-run finds the committed ones recorded (their hashes) and stores nothing twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping, Sequence
    from pathlib import Path

log = logging.getLogger(__name__)

#: Files stored in one transaction.
STORE_CHUNK = 250


def check_documents(documents: Sequence[Path]) -> list[Any]:
    """Each document checked by its size and first bytes (one that vanished is skipped)."""
    from review_calendar.intake.attachments import check_attachment

    checked = []
    for path in documents:
        try:
            checked.append(check_attachment(path))
        except FileNotFoundError:
            log.info("Document %s vanished before intake (taken in by another run)", path.name)
    return checked


def store_chunk(
    url: str,
    settings: Any,
    programme: Any,
    instance: Any,
    chunk: Sequence[Any],
    documents_of: Sequence[Sequence[Path]],
    run_id: str,
    notify_on: dt.date | None,
) -> list[Any]:
    """Store a chunk of parsed files in one transaction, each file in a SAVEPOINT of its own.

    Each file is first copied to its place (accepted/ or quarantine/); then, in
    the chunk's transaction, its database rows are written in a SAVEPOINT
    (:func:`_record_file`). A file gone from the inbox was taken by another run
    (None); a content hash recorded meanwhile makes the file a duplicate; a file
    that cannot be copied (full disk, read-only folder) or written (a value the
    database refuses) is ``failed`` with a one-line reason, its SAVEPOINT rolled
    back, and the chunk goes on with the next file. A database that cannot be
    written stops the batch with a :class:`~review_calendar.store.faults.DatabaseFault`
    (the open chunk rolled back whole; earlier chunks stay committed).

    Returns:
        The outcome of each file of ``chunk``, in order (None: taken in by another run).

    Raises:
        DatabaseFault: The review database cannot be written (read-only, locked, gone).
    """
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

    from review_calendar.domain.privacy import mask_text
    from review_calendar.intake.ingest import FileOutcome
    from review_calendar.store import accept, bulk
    from review_calendar.store.db import session_scope
    from review_calendar.store.faults import database_fault, file_problem

    def failed(parsed: Any, message: str) -> Any:
        log.error("Intake %s: %s", instance.key, message)
        error = {"code": "STORAGE_FAILED", "message": message}
        return FileOutcome(file=parsed.name, status="failed", sha256=parsed.sha256, errors=[error])

    outcomes: list[Any] = [None] * len(chunk)
    copies: dict[int, tuple[Path, list[Any]]] = {}
    for i, parsed in enumerate(chunk):
        try:
            dest = accept.store_copy(settings, instance, parsed)
            copies[i] = (dest, check_documents(documents_of[i]) if not parsed.rejected else [])
        except FileNotFoundError:
            log.info("File %s vanished before it was stored (taken in by another run)", parsed.name)
        except OSError as exc:
            outcomes[i] = failed(parsed, file_problem(exc, parsed.name))
    if not copies:
        return outcomes
    try:
        with session_scope(url) as session:
            batch = bulk.begin_intake(session, instance, chunk)
            if len(copies) > 1:
                stored = _store_together(
                    session, settings, programme, instance, chunk, copies, batch, run_id, notify_on
                )
                if stored is not None:
                    for i, outcome in stored.items():
                        outcomes[i] = outcome
                    return outcomes
                # One file could not be written: the chunk went back whole; now one file at a time.
                batch = bulk.read_batch(session, instance, chunk)
            for i, (dest, checked) in copies.items():
                parsed = chunk[i]
                try:
                    with session.begin_nested():
                        outcomes[i] = _record_file(
                            session, settings, programme, instance, parsed, (dest, checked), run_id, notify_on,
                            batch,
                        )  # fmt: skip
                    continue
                except IntegrityError:
                    # Another intake run stored the same file first (unique content hash per instance).
                    outcomes[i] = FileOutcome(file=parsed.name, status="duplicate", sha256=parsed.sha256)
                except OperationalError:
                    raise
                except DBAPIError as exc:
                    reason = mask_text(str(exc.orig))[:200]
                    outcomes[i] = failed(parsed, f"文件“{parsed.name}”无法写入审核数据库：{reason}")
                except OSError as exc:
                    outcomes[i] = failed(parsed, file_problem(exc, parsed.name))
                # The file's SAVEPOINT was rolled back: what the batch knew is read again.
                batch = bulk.read_batch(session, instance, chunk)
    except OperationalError as exc:
        raise database_fault(exc, url) from exc
    return outcomes


def _store_together(
    session: Any,
    settings: Any,
    programme: Any,
    instance: Any,
    chunk: Sequence[Any],
    copies: Mapping[int, tuple[Path, list[Any]]],
    batch: Any,
    run_id: str,
    notify_on: dt.date | None,
) -> dict[int, Any] | None:
    """Record every copied file of a chunk in one SAVEPOINT, their rows written together at its release.

    Submission ids are set aside first (``store.bulk.set_aside_ids``), so no
    file needs a flush of its own: each table gets one multi-row INSERT for the
    chunk. If any file cannot be written, the SAVEPOINT goes back whole and the
    caller records the files one by one, each in a SAVEPOINT of its own.

    Returns:
        The outcome of each file by its index in ``chunk``; None when the chunk went back.

    Raises:
        OperationalError: The database cannot be written (the caller reports a fault).
    """
    from sqlalchemy.exc import DBAPIError, OperationalError

    from review_calendar.domain.privacy import mask_text
    from review_calendar.store import accept, bulk

    if len({(chunk[i].region_code, chunk[i].sha256) for i in copies}) < len(copies):
        # The same bytes twice for one region in one chunk (the unique key): one file at a time decides
        # which counts. The same bytes from two regions are two submissions and stay together.
        return None
    outcomes = {}
    try:
        with session.begin_nested():
            batch.ids = bulk.set_aside_ids(session, len(copies))
            batch.later = {}
            for i, (dest, _) in copies.items():
                outcomes[i] = accept.record_submission(session, programme, instance, chunk[i], dest, batch)
            bulk.write_later(session, batch)
            for i, (_, checked) in copies.items():
                outcomes[i] = _after_record(
                    session,
                    settings,
                    programme,
                    instance,
                    chunk[i],
                    checked,
                    outcomes[i],
                    run_id,
                    notify_on,
                    batch,
                )
    except OperationalError:
        raise
    except (DBAPIError, OSError) as exc:
        log.info(
            "Intake %s: a chunk went back (%s); storing its files one by one",
            instance.key,
            mask_text(str(exc))[:300],
        )
        return None
    finally:
        batch.ids = batch.later = None
    return outcomes


def _record_file(
    session: Any,
    settings: Any,
    programme: Any,
    instance: Any,
    parsed: Any,
    copy: tuple[Path, Sequence[Any]],
    run_id: str,
    notify_on: dt.date | None,
    batch: Any,
) -> Any:
    """Write one copied file's rows, documents, acceptance decision and notice in the caller's SAVEPOINT.

    ``copy`` is where the file's copy is and its checked documents; ``batch`` what
    the chunk's transaction knows of the instance (``store.bulk.IntakeBatch``).

    An accepted file keeps its documents (checked, hashed, copied beside it) and
    learns whether it still awaits an approval (``store.attachments``).
    """
    from review_calendar.store import accept

    dest, checked = copy
    outcome = accept.record_submission(session, programme, instance, parsed, dest, batch)
    return _after_record(
        session, settings, programme, instance, parsed, checked, outcome, run_id, notify_on, batch
    )


def _after_record(
    session: Any,
    settings: Any,
    programme: Any,
    instance: Any,
    parsed: Any,
    checked: Sequence[Any],
    outcome: Any,
    run_id: str,
    notify_on: dt.date | None,
    batch: Any,
) -> Any:
    """What follows a file's recorded submission: its documents, approval, acceptance decision, review and notice."""
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.store import accept
    from review_calendar.store.attachments import carry_attachments, keep_attachments, refresh_awaiting
    from review_calendar.store.decision_log import record_decision
    from review_calendar.store.tables.intake import Submission

    if outcome.status == "duplicate":
        return outcome
    if outcome.status == "accepted":
        submission = batch.by_hash.get((parsed.region_code, parsed.sha256)) or session.get(
            Submission, outcome.submission_id
        )
        if outcome.superseded:
            carry_attachments(session, outcome.superseded, submission.id)
        if checked:
            keep_attachments(session, settings, instance, submission, checked, parsed.received_on)
        awaiting = refresh_awaiting(session, programme, instance, submission)
    record = accept.acceptance_record(programme, instance, outcome)
    if outcome.status == "accepted" and awaiting:
        record["reason"] += "；待补县（市）政府批复（文号、批准日期和批复文件），补齐前不计为已报送"
        record["figures"]["awaiting"] = awaiting
    verdict = Verdict(**record)
    record_decision(
        session, instance.programme_id, instance.cycle_year, "acceptance", verdict, run_id, batch.decisions
    )
    if outcome.status == "accepted" and programme.obligation(instance.obligation_id).needs_reading:
        # An obligation that needs reading: a reviewer accepts or returns the file. (The decide
        # stage is imported only then: a contact list taken in from a cold start needs none of it.)
        from review_calendar.decide.returns import propose_review

        propose_review(session, programme, instance, outcome.submission_id, run_id)
    if outcome.status == "rejected" and notify_on is not None and parsed.region_code:
        from review_calendar.notify.notices import queue_rejection

        # With the file's rows: the official learns why, exactly once.
        queue_rejection(session, programme, instance, outcome.submission_id, created_on=notify_on)
    if outcome.status == "accepted" and notify_on is not None and parsed.region_code:
        from review_calendar.notify.receipts import queue_receipt

        # The 回执 of this receipt, once (its natural key is the receipt's number).
        queue_receipt(session, programme, instance, outcome.submission_id, created_on=notify_on)
    return outcome
