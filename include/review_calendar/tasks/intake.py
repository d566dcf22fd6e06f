"""Taking files in: the orchestration that crosses stages, one transaction per file.

Intake reads and row-checks a batch (:mod:`review_calendar.intake`), the store
keeps each file and its rows (:mod:`review_calendar.store.accept`), the decision
log records the acceptance, and the notify stage queues the rejection notice;
none of these stages calls another, this module does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence
    from pathlib import Path

log = logging.getLogger(__name__)


def ingest_files(
    url: str,
    settings: Any,
    programme: Any,
    instance: Any,
    files: Sequence[Path],
    *,
    names: Sequence[str] | None = None,
    received_on: dt.date | None = None,
    move: bool = False,
    gx: bool = True,
    progress: Callable[[int], None] | None = None,
    run_id: str = "",
    notify_on: dt.date | None = None,
) -> Any:
    """Take in a batch of files for one obligation instance: read, row-check, store, decide, notify.

    The files are read and row-checked together (one Great Expectations run per
    dataset), then each is stored in a transaction of its own: its copy, its
    rows, its acceptance decision and its rejection notice commit together.

    Args:
        url: Review database URL (migrated).
        settings: Folders (quarantine, accepted) and the expectations folder.
        programme: The programme.
        instance: The obligation instance the files are for.
        files: Paths of the files.
        names: The names the submitters gave the files (default: the paths' names).
        received_on: Date of receipt (default: each file's modification date, Asia/Shanghai).
        move: Remove each file from where it was once it is stored (inbox sweeps).
        gx: Run the row-level Great Expectations suites over the batch.
        progress: Called with the number of files read (progress bar).
        run_id: The run recorded with each acceptance decision (audit trail).
        notify_on: Queue a rejection notice dated this day for every rejected file (None: no notices).

    Returns:
        The batch's :class:`~review_calendar.intake.ingest.IngestReport`: what was
        accepted, rejected (with every error) and already known.
    """
    from review_calendar.intake import ingest
    from review_calendar.intake.attachments import pair_attachments
    from review_calendar.intake.inbox import region_hint
    from review_calendar.store.accept import intake_scope
    from review_calendar.store.db import session_scope

    with session_scope(url) as session:
        scope = intake_scope(session, programme, instance)
    # Documents (the plan's text, its approval) go with the sheet of their folder, never read as sheets.
    pairing = pair_attachments(files, [region_hint(p) for p in files])
    given = dict(zip(files, names, strict=True)) if names else {}
    sheets = pairing.sheets
    batch = ingest.parse_batch(
        programme, instance, sheets, scope, names=[given.get(p, p.name) for p in sheets] if names else None,
        received_on=received_on, progress=progress,
    )  # fmt: skip
    report = ingest.IngestReport(instance.key, duplicates=batch.duplicates)
    if move:
        for path in batch.recorded:
            path.unlink(missing_ok=True)
    for path in batch.recorded:
        # The sheet is known already: its documents join the region's accepted file.
        pairing.alone[region_hint(path)].extend(pairing.by_sheet.pop(path, []))
    if gx:
        ingest.run_row_checks(batch.parsed, settings.expectations_dir)
    for parsed in batch.parsed:
        documents = pairing.by_sheet.get(parsed.path, [])
        outcome = _take_in_or_skip(url, settings, programme, instance, parsed, run_id, notify_on, documents)
        if outcome is None:
            report.add(ingest.FileOutcome(file=parsed.name, status="duplicate", sha256=parsed.sha256))
            continue
        report.add(outcome)
        if move:
            parsed.path.unlink(missing_ok=True)
            if outcome.status == "accepted":
                for doc in documents:
                    doc.unlink(missing_ok=True)
    for region, documents in pairing.alone.items():
        if region is not None and documents:
            _attach_to_accepted(url, settings, programme, instance, region, documents, received_on, move=move)
    log.info("Intake %s: %s", instance.key, report.counts())
    return report


def _check_documents(documents: Sequence[Path]) -> list[Any]:
    """Each document checked by its size and first bytes (one that vanished is skipped)."""
    from review_calendar.intake.attachments import check_attachment

    checked = []
    for path in documents:
        try:
            checked.append(check_attachment(path))
        except FileNotFoundError:
            log.info("Document %s vanished before intake (taken in by another run)", path.name)
    return checked


def _received(path: Path, received_on: dt.date | None) -> dt.date:
    from review_calendar.intake.inbox import received_on as modified_on

    return received_on or modified_on(path)


def _attach_to_accepted(
    url: str,
    settings: Any,
    programme: Any,
    instance: Any,
    region: str,
    documents: Sequence[Path],
    received_on: dt.date | None,
    *,
    move: bool,
) -> None:
    """Documents sent alone join the region's accepted file of the instance; without one they wait."""
    from review_calendar.store.attachments import keep_attachments, refresh_awaiting
    from review_calendar.store.db import session_scope
    from review_calendar.store.queries import accepted_regions

    with session_scope(url) as session:
        submission = accepted_regions(session, instance).get(region)
        if submission is None:
            log.info("%d document(s) of %s wait for the region's summary sheet", len(documents), region)
            return
        checked = _check_documents(documents)
        for doc in checked:
            keep_attachments(session, settings, instance, submission, [doc], _received(doc.path, received_on))
        refresh_awaiting(session, programme, instance, submission)
    if move:
        for doc in checked:
            doc.path.unlink(missing_ok=True)


def _take_in_or_skip(
    url: str,
    settings: Any,
    programme: Any,
    instance: Any,
    parsed: Any,
    run_id: str,
    notify_on: dt.date | None,
    documents: Sequence[Path] = (),
) -> Any:
    """:func:`_take_in_file`, or None when another intake run took the file in first.

    A file gone from the inbox was taken by another run (None); a content hash
    recorded meanwhile makes the file a duplicate.
    """
    from sqlalchemy.exc import IntegrityError

    from review_calendar.intake.ingest import FileOutcome

    try:
        return _take_in_file(url, settings, programme, instance, parsed, run_id, notify_on, documents)
    except FileNotFoundError:
        log.info("File %s vanished before it was stored (taken in by another run)", parsed.name)
        return None
    except IntegrityError:
        # Another intake run stored the same file first (unique content hash per instance).
        return FileOutcome(file=parsed.name, status="duplicate", sha256=parsed.sha256)


def _take_in_file(
    url: str,
    settings: Any,
    programme: Any,
    instance: Any,
    parsed: Any,
    run_id: str,
    notify_on: dt.date | None,
    documents: Sequence[Path] = (),
) -> Any:
    """Store one parsed file; its rows, documents, acceptance decision and rejection notice in one transaction.

    An accepted file keeps its documents (checked, hashed, copied beside it) and
    learns whether it still awaits an approval (``store.attachments``).
    """
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.notify.notices import queue_rejection
    from review_calendar.store import accept
    from review_calendar.store.attachments import carry_attachments, keep_attachments, refresh_awaiting
    from review_calendar.store.db import session_scope
    from review_calendar.store.decision_log import record_decision
    from review_calendar.store.models import Submission

    dest = accept.store_copy(settings, instance, parsed)
    checked = _check_documents(documents) if not parsed.rejected else []
    with session_scope(url) as session:
        outcome = accept.record_submission(session, programme, instance, parsed, dest)
        if outcome.status == "duplicate":
            return outcome
        if outcome.status == "accepted":
            submission = session.get(Submission, outcome.submission_id)
            if outcome.superseded:
                carry_attachments(session, outcome.superseded, submission.id)
            keep_attachments(session, settings, instance, submission, checked, parsed.received_on)
            awaiting = refresh_awaiting(session, programme, instance, submission)
        record = accept.acceptance_record(programme, instance, outcome)
        if outcome.status == "accepted" and awaiting:
            record["reason"] += "；待补县（市）政府批复（文号、批准日期和批复文件），补齐前不计为已报送"
            record["figures"]["awaiting"] = awaiting
        verdict = Verdict(**record)
        record_decision(session, instance.programme_id, instance.cycle_year, "acceptance", verdict, run_id)
        if outcome.status == "rejected" and notify_on is not None and parsed.region_code:
            # In the file's transaction: the official learns why, exactly once.
            queue_rejection(session, programme, instance, outcome.submission_id, created_on=notify_on)
    return outcome
