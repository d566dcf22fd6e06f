"""Accepting a parsed file into the review database, or quarantining it with its reasons.

Every file is recorded with its content hash and the moment it was received.
Order decides which version counts: the region's file received last is in
force, whatever the order intake reads them in; an earlier version sent again
(same bytes, received again later) is in force again, with a new receipt
(:mod:`review_calendar.store.receipts`). The same receipt twice (a re-run) is a
no-op, and so is sending again the version in force. The history is kept. A rejected file is copied to the quarantine folder with its
errors (JSON beside it and rows in ``submission_errors``): never lost.

Order of work per file, so a killed run ends consistent: copy the file to its
content-addressed place (:func:`store_copy`), then write its database rows in
one transaction (:func:`record_submission`, with the caller's acceptance
decision and rejection notice), then (for inbox sweeps) the caller removes it
from the inbox. A file still in the inbox is pending; a re-run finds its hash
recorded and only removes it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from review_calendar.domain.calendar import TZ
from review_calendar.domain.regions import Region as RegionInfo
from review_calendar.intake.filenames import MAX_NAME_BYTES
from review_calendar.intake.ingest import FileOutcome, IntakeScope, ParsedFile
from review_calendar.intake.issues import CODES
from review_calendar.store.bulk import IntakeBatch, acceptance_subject, dataset_rows, lock_instance
from review_calendar.store.projections import project
from review_calendar.store.queries import expected_submitters, instance_filter
from review_calendar.store.receipts import aware, new_receipt, record_receipt
from review_calendar.store.tables.intake import DatasetRow, Submission, SubmissionError
from review_calendar.store.tables.registry import Region

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.settings import Settings

__all__ = [
    "SUFFIX_ROOM",
    "acceptance_record",
    "copy_file",
    "intake_scope",
    "quarantine_name",
    "receipt_moment",
    "record_submission",
    "store_copy",
    "stored_name",
]

#: Room kept for the suffixes added beside a stored file (``.errors.json``, temporary ``.part`` names).
SUFFIX_ROOM = 32


def intake_scope(session: Session, programme: Programme, instance: ObligationInstance) -> IntakeScope:
    """What intake judges the files of ``instance`` against.

    Args:
        session: Review database session.
        programme: The programme.
        instance: The obligation instance.

    Returns:
        The province's regions, the expected submitters' codes and the (region,
        content hash) of the files in force for the instance (a rejected file is judged again: it may
        have been rejected only for its name or folder; a superseded one is read
        again: sent again, it supersedes).
    """
    province = programme.region_prefix
    regions = {
        r.code: RegionInfo(r.code, r.name, r.level, r.parent_code, r.province_code)  # type: ignore[arg-type]
        for r in session.scalars(select(Region).where(Region.code.like(f"{province}%")))
    }
    expected = {s.region_code for s in expected_submitters(session, programme, instance)}
    known = {
        (region, digest)
        for region, digest in session.execute(
            select(Submission.region_code, Submission.content_hash).where(
                *instance_filter(Submission, instance), Submission.status == "accepted"
            )
        )
    }
    return IntakeScope(regions=regions, expected=expected, known_files=known)


def stored_name(prefix: str, name: str) -> str:
    """``prefix + name`` cut to fit the file-name limit, keeping the extension.

    Officials' file names can be long (a whole Chinese sentence); the stored copy and
    its ``.errors.json`` must still be creatable.

    Args:
        prefix: ASCII prefix (region code and content hash).
        name: Safe display name of the file.

    Returns:
        A name of at most 255 - ``SUFFIX_ROOM`` bytes.
    """
    limit = MAX_NAME_BYTES - SUFFIX_ROOM - len(prefix.encode("utf-8"))
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    room = limit - len(ext.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{prefix}{cut}{ext}"


def store_copy(settings: Settings, instance: ObligationInstance, parsed: ParsedFile) -> Path:
    """Copy a file to its content-addressed place: accepted/, or quarantine/ with its errors beside it.

    Args:
        settings: The accepted and quarantine folders.
        instance: The obligation instance.
        parsed: The file.

    The copy is written from the bytes that were judged (``parsed.data``), so
    it is exactly what the database describes even if the inbox file changed
    meanwhile. A file over the size limit was never read: it is not copied and
    stays where it arrived (only its errors are written to quarantine).

    Returns:
        Where the copy is (for a file over the size limit: where it arrived).

    Raises:
        FileNotFoundError: The file vanished (another intake run took it in).
    """
    folder = f"{instance.programme_id}/{instance.cycle_year}/{instance.obligation_id}_{instance.period}"
    if parsed.rejected:
        dest = settings.quarantine_dir / folder / quarantine_name(f"{parsed.sha256[:12]}_", parsed.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        sidecar = {
            "file": parsed.name,
            "sha256": parsed.sha256,
            "errors": [i.to_dict() for i in parsed.issues],
        }
        (dest.parent / f"{dest.name}.errors.json").write_text(
            json.dumps(sidecar, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    else:
        prefix = f"{parsed.region_code}_{parsed.sha256[:12]}_"
        dest = settings.accepted_dir / folder / stored_name(prefix, parsed.name)
    if parsed.data is None and parsed.rejected:
        return parsed.path
    copy_file(parsed.path, dest, parsed.data)
    return dest


#: Extensions a quarantined copy keeps; any other (``.xlsm``, ``.exe``...) gets ``.quarantined``
#: appended, so opening a rejected file from the quarantine folder never runs it.
QUARANTINE_KEEPS = (".xlsx", ".csv", ".txt")


def quarantine_name(prefix: str, name: str) -> str:
    """:func:`stored_name` of a rejected file, made inert unless it is .xlsx, .csv or .txt."""
    stored = stored_name(prefix, name)
    return stored if stored.lower().endswith(QUARANTINE_KEEPS) else f"{stored}.quarantined"


def copy_file(src: Path, dest: Path, data: bytes | None = None) -> None:
    """Copy ``src`` (or write ``data``, its bytes as read) to ``dest`` atomically; idempotent.

    A private temporary name, then a rename.

    Raises:
        FileNotFoundError: ``src`` is gone.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        return
    # A temporary name of its own per run: two runs storing the same file at once
    # must not share (and rename away) one ``.part`` file.
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            if data is not None:
                out.write(data)
            else:
                with src.open("rb") as inp:
                    shutil.copyfileobj(inp, out)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def record_submission(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    parsed: ParsedFile,
    dest: Path,
    batch: IntakeBatch | None = None,
) -> FileOutcome:
    """Write a stored file's submission row, and its errors or its rows, in the caller's transaction.

    An accepted file supersedes the region's earlier accepted file, adds its
    dataset rows and updates the tables its dataset feeds (contacts,
    evaluation scores). Concurrent intake of one instance is serialised by a
    row lock on the instance (PostgreSQL; SQLite locks the file anyway).

    Args:
        session: The file's transaction.
        programme: The programme.
        instance: The obligation instance.
        parsed: The file.
        dest: Where :func:`store_copy` put it.
        batch: What the transaction knows of the instance (:func:`begin_intake`,
            which also took the lock); None asks the database.

    Returns:
        The outcome; ``duplicate`` (nothing written) when the same bytes are
        already accepted or superseded for the same region.

    Raises:
        sqlalchemy.exc.IntegrityError: Another run recorded the same bytes first.
    """
    outcome = _outcome(instance, parsed, dest)
    if batch is None:
        lock_instance(session, instance)
        # The same bytes are the same submission only for the same region: two counties may send one template.
        existing = session.scalar(
            select(Submission).where(
                *instance_filter(Submission, instance),
                Submission.region_code == parsed.region_code,
                Submission.content_hash == parsed.sha256,
            )
        )
    else:
        existing = batch.by_hash.get((parsed.region_code, parsed.sha256))
    received_at = receipt_moment(parsed)
    if existing is not None and existing.status != "rejected":
        if outcome.status == "rejected" or not _sent_again(session, instance, existing, received_at, batch):
            outcome.status, outcome.submission_id = "duplicate", existing.id
            outcome.receipt_no = existing.receipt_no or ""
            return outcome
        return _in_force_again(session, programme, instance, parsed, existing, outcome, received_at, batch)
    submission = _write_submission(session, instance, parsed, outcome, existing, batch)
    outcome.submission_id = submission.id
    if batch is not None:
        batch.by_hash[(parsed.region_code, parsed.sha256)] = submission
    # Every issue is kept with the submission: a rejected file's errors and warnings, an
    # accepted file's warnings (for the reviewer: unusual values, 待补批复, a saved formula...).
    issues = [
        dict(
            submission_id=submission.id, sheet=i.sheet, row=i.row, column=i.column, value=i.value,
            code=i.code, message=i.message, severity=i.severity,
        )
        for i in parsed.issues
    ]  # fmt: skip
    if batch is not None and batch.later is not None:
        batch.later.setdefault(SubmissionError, []).extend(issues)
    else:
        session.add_all(SubmissionError(**i) for i in issues)
    if outcome.status == "rejected":
        if batch is None or batch.ids is None:
            session.flush()
        return outcome
    if batch is not None and batch.later is not None:
        batch.later.setdefault(DatasetRow, []).extend(dataset_rows(submission.id, parsed))
    else:
        session.add_all(DatasetRow(**r) for r in dataset_rows(submission.id, parsed))
    current = _in_force(session, instance, parsed.region_code, submission.id, batch)
    if current is not None and (aware(current.received_at) or received_at) > received_at:
        # Received before the version in force (read late, e.g. it was still uploading): history only.
        submission.status, submission.superseded_by = "superseded", current.id
    else:
        outcome.superseded = _supersede(session, instance, parsed.region_code, submission, batch)
        project(session, programme, instance, submission.id, parsed.records)
    if batch is not None and existing is None:
        # A submission new to the instance has no receipt yet: numbered from the batch's count.
        receipt = new_receipt(
            session, programme, instance, submission, received_at, batch.next_seq, later=batch.later
        )
        batch.next_seq += 1
    else:
        seq = batch.next_seq if batch is not None else None
        receipt, _ = record_receipt(
            session, programme, instance, submission, received_at, seq, batch and batch.later
        )
        if batch is not None:
            batch.next_seq = max(batch.next_seq, receipt.seq + 1)
    outcome.receipt_no = receipt.receipt_no
    return outcome


def receipt_moment(parsed: ParsedFile) -> dt.datetime:
    """When the file was received, to the second (the start of its day when only the day is known)."""
    if parsed.received_at is not None:
        return parsed.received_at.astimezone(TZ).replace(microsecond=0)
    return dt.datetime.combine(parsed.received_on, dt.time(0), tzinfo=TZ)


def _in_force(
    session: Session,
    instance: ObligationInstance,
    region_code: str | None,
    other_than: int,
    batch: IntakeBatch | None = None,
) -> Submission | None:
    """The region's accepted submission of the instance, other than ``other_than``."""
    if batch is not None:
        current = batch.in_force.get(region_code)
        return current if current is not None and current.id != other_than else None
    return session.scalar(
        select(Submission).where(
            *instance_filter(Submission, instance),
            Submission.region_code == region_code,
            Submission.status == "accepted",
            Submission.id != other_than,
        )
    )


def _sent_again(
    session: Session,
    instance: ObligationInstance,
    existing: Submission,
    received_at: dt.datetime,
    batch: IntakeBatch | None = None,
) -> bool:
    """Whether known bytes are an earlier version sent again after the version in force.

    Not when they are in force already, or received no later than they were
    last (a re-run of the same receipt), or before the version in force.
    """
    if existing.status != "superseded":
        return False
    last = aware(existing.received_at) or dt.datetime.combine(existing.received_on, dt.time(0), tzinfo=TZ)
    if received_at <= last:
        return False
    current = _in_force(session, instance, existing.region_code, existing.id, batch)
    return current is None or received_at >= (aware(current.received_at) or received_at)


def _in_force_again(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    parsed: ParsedFile,
    existing: Submission,
    outcome: FileOutcome,
    received_at: dt.datetime,
    batch: IntakeBatch | None = None,
) -> FileOutcome:
    """An earlier version sent again: its submission is in force again, received now, with a new receipt."""
    existing.status, existing.superseded_by = "accepted", None
    existing.file_name = parsed.name
    existing.received_at = received_at.astimezone(dt.UTC)
    existing.received_on = received_at.date()
    existing.is_late = outcome.is_late
    if batch is None or batch.ids is None:
        session.flush()
    outcome.submission_id = existing.id
    outcome.stored_path = existing.stored_path
    outcome.superseded = _supersede(session, instance, existing.region_code, existing, batch)
    project(session, programme, instance, existing.id, parsed.records)
    seq = batch.next_seq if batch is not None else None
    receipt, _ = record_receipt(
        session, programme, instance, existing, received_at, seq, batch and batch.later
    )
    if batch is not None:
        batch.next_seq = max(batch.next_seq, receipt.seq + 1)
    outcome.receipt_no = receipt.receipt_no
    return outcome


def _outcome(instance: ObligationInstance, parsed: ParsedFile, dest: Path) -> FileOutcome:
    """The file's outcome before the database is asked: rejected or accepted, late or on time.

    A file is late when it was received after the instance's effective due date.
    """
    errors = parsed.errors
    return FileOutcome(
        file=parsed.name,
        status="rejected" if errors else "accepted",
        sha256=parsed.sha256,
        region_code=parsed.region_code,
        is_late=not errors and parsed.received_on > instance.effective_due,
        received_on=parsed.received_on.isoformat(),
        received_at=receipt_moment(parsed).isoformat(),
        stored_path=str(dest),
        errors=[i.to_dict() for i in errors],
        warnings=[i.to_dict() for i in parsed.issues if i.severity != "error"],
    )


def _write_submission(
    session: Session,
    instance: ObligationInstance,
    parsed: ParsedFile,
    outcome: FileOutcome,
    existing: Submission | None,
    batch: IntakeBatch | None = None,
) -> Submission:
    """Insert the file's submission row, or update the row of the same bytes rejected before.

    The same bytes rejected before (e.g. only for an unsafe name or the wrong
    upload folder) are judged again: one row per content hash, its old errors dropped.
    """
    fields = {
        "region_code": parsed.region_code,
        "file_name": parsed.name,
        "stored_path": outcome.stored_path,
        "size_bytes": parsed.size,
        "received_on": parsed.received_on,
        "received_at": receipt_moment(parsed).astimezone(dt.UTC),
        "status": outcome.status,
        "is_late": outcome.is_late,
        "row_count": sum(len(r) for r in parsed.records.values()),
        "error_count": len(outcome.errors),
    }
    if existing is not None:
        session.execute(delete(SubmissionError).where(SubmissionError.submission_id == existing.id))
        for key, value in fields.items():
            setattr(existing, key, value)
        submission = existing
    else:
        submission = Submission(
            programme_id=instance.programme_id,
            cycle_year=instance.cycle_year,
            obligation_id=instance.obligation_id,
            period=instance.period,
            content_hash=parsed.sha256,
            **fields,
        )
        if batch is not None and batch.ids is not None:
            submission.id = next(batch.ids)
        session.add(submission)
    if batch is None or batch.ids is None:
        session.flush()
    return submission


def _supersede(
    session: Session,
    instance: ObligationInstance,
    region_code: str | None,
    new: Submission,
    batch: IntakeBatch | None = None,
) -> int | None:
    """Mark the region's earlier accepted submission superseded by ``new``; its id, if any."""
    new_id = new.id
    if batch is not None:
        old = batch.in_force.get(region_code)
        batch.in_force[region_code] = new
        if old is None or old.id == new_id:
            return None
        old.status, old.superseded_by = "superseded", new_id
        return old.id
    previous = session.scalars(
        select(Submission).where(
            *instance_filter(Submission, instance),
            Submission.region_code == region_code,
            Submission.status == "accepted",
            Submission.id != new_id,
        )
    )
    superseded = None
    for old in previous:
        old.status, old.superseded_by = "superseded", new_id
        superseded = old.id
    return superseded


def acceptance_record(
    programme: Programme, instance: ObligationInstance, outcome: FileOutcome
) -> dict[str, Any]:
    """The acceptance or rejection of a file as the fields of an audited decision (kind ``acceptance``).

    Args:
        programme: The programme.
        instance: The obligation instance.
        outcome: The file's outcome, ``accepted`` or ``rejected``.

    Returns:
        ``subject``, ``outcome``, ``reason`` (Chinese), ``rule``, ``clause`` and
        ``figures`` of the decision.
    """
    obligation = programme.obligation(instance.obligation_id)
    if outcome.status == "accepted":
        reason = "逾期提交，予以接收" if outcome.is_late else "按时提交，予以接收"
    else:
        codes = "、".join(sorted({CODES.get(e["code"], e["code"]) for e in outcome.errors}))
        reason = f"退回：{len(outcome.errors)} 处问题（{codes}）"
    return {
        "subject": acceptance_subject(instance, outcome.region_code, outcome.sha256),
        "outcome": outcome.status,
        "reason": reason,
        "rule": f"intake: dataset {obligation.dataset} (intake/datasets.py, expectations/{obligation.dataset}.json)",
        "clause": obligation.clause,
        "figures": {
            "file": outcome.file,
            "submission_id": outcome.submission_id,
            "is_late": outcome.is_late,
            "received_on": outcome.received_on,
            "received_at": outcome.received_at,
            "receipt_no": outcome.receipt_no,
            "errors": len(outcome.errors),
        },
    }
