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
    from review_calendar.store.accept import intake_scope
    from review_calendar.store.db import session_scope

    with session_scope(url) as session:
        scope = intake_scope(session, programme, instance)
    batch = ingest.parse_batch(
        programme, instance, files, scope, names=names, received_on=received_on, progress=progress
    )
    report = ingest.IngestReport(instance.key, duplicates=batch.duplicates)
    if move:
        for path in batch.recorded:
            path.unlink(missing_ok=True)
    if gx:
        ingest.run_row_checks(batch.parsed, settings.expectations_dir)
    for parsed in batch.parsed:
        outcome = _take_in_or_skip(url, settings, programme, instance, parsed, run_id, notify_on)
        if outcome is None:
            report.add(ingest.FileOutcome(file=parsed.name, status="duplicate", sha256=parsed.sha256))
            continue
        report.add(outcome)
        if move:
            parsed.path.unlink(missing_ok=True)
    log.info("Intake %s: %s", instance.key, report.counts())
    return report


def _take_in_or_skip(
    url: str,
    settings: Any,
    programme: Any,
    instance: Any,
    parsed: Any,
    run_id: str,
    notify_on: dt.date | None,
) -> Any:
    """:func:`_take_in_file`, or None when another intake run took the file in first.

    A file gone from the inbox was taken by another run (None); a content hash
    recorded meanwhile makes the file a duplicate.
    """
    from sqlalchemy.exc import IntegrityError

    from review_calendar.intake.ingest import FileOutcome

    try:
        return _take_in_file(url, settings, programme, instance, parsed, run_id, notify_on)
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
) -> Any:
    """Store one parsed file; its rows, acceptance decision and rejection notice in one transaction."""
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.notify.notices import queue_rejection
    from review_calendar.store import accept
    from review_calendar.store.db import session_scope
    from review_calendar.store.decision_log import record_decision

    dest = accept.store_copy(settings, instance, parsed)
    with session_scope(url) as session:
        outcome = accept.record_submission(session, programme, instance, parsed, dest)
        if outcome.status == "duplicate":
            return outcome
        verdict = Verdict(**accept.acceptance_record(programme, instance, outcome))
        record_decision(session, instance.programme_id, instance.cycle_year, "acceptance", verdict, run_id)
        if outcome.status == "rejected" and notify_on is not None and parsed.region_code:
            # In the file's transaction: the official learns why, exactly once.
            queue_rejection(session, programme, instance, outcome.submission_id, created_on=notify_on)
    return outcome
