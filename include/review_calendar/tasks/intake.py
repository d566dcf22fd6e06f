"""Taking files in: the orchestration that crosses stages, each file atomic, stored in bulk.

Intake reads and row-checks a batch (:mod:`review_calendar.intake`), the store
keeps each file and its rows (:mod:`review_calendar.store.accept`), the decision
log records the acceptance, and the notify stage queues the receipt (回执) or
the rejection notice; none of these stages calls another, this module does.
Files are stored in the order they were received, so the one received last is
in force (:mod:`review_calendar.store.accept`).

Files are stored many to a transaction, each file atomic (:mod:`review_calendar.tasks.storing`).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Mapping, Sequence
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
    progress: Callable[[int], None] | None = None,
    run_id: str = "",
    notify_on: dt.date | None = None,
    hints: Mapping[Path, str | None] | None = None,
    received_at: Mapping[Path, dt.datetime] | None = None,
) -> Any:
    """Take in a batch of files for one obligation instance: read, row-check, store, decide, notify.

    Each file is read and checked against its dataset spec (no Great
    Expectations at intake), then stored atomically: its copy first, then its
    rows, its acceptance decision and its notice in a SAVEPOINT of its own, many
    files to a transaction (:func:`~review_calendar.tasks.storing.store_chunk`).

    Args:
        url: Review database URL (migrated).
        settings: Folders (quarantine, accepted).
        programme: The programme.
        instance: The obligation instance the files are for.
        files: Paths of the files.
        names: The names the submitters gave the files (default: the paths' names).
        received_on: Date of receipt, for files the operator received on that day (default:
            each file's receipt time, :func:`~review_calendar.intake.inbox.receipt_time`).
        move: Remove each file from where it was once it is stored (inbox sweeps).
        progress: Called with the number of files read (progress bar).
        run_id: The run recorded with each acceptance decision (audit trail).
        notify_on: Queue a receipt (回执) for every accepted file and a rejection notice for
            every rejected one, dated this day (None: no notices).
        hints: The region code of each file's upload folder, by path (an inbox sweep's
            :class:`~review_calendar.intake.inbox.InboxScan`).
        received_at: The moment each file was received, by path (an inbox sweep's); it
            overrides ``received_on``.

    A moved file is removed only when it is a regular file inside the inbox,
    unchanged since it was listed (a file replaced meanwhile waits for the next
    sweep) and was read (a file over the size limit stays where it arrived).

    Returns:
        The batch's :class:`~review_calendar.intake.ingest.IngestReport`: what was
        accepted, rejected (with every error) and already known.
    """
    from sqlalchemy.exc import OperationalError

    from review_calendar.intake import ingest
    from review_calendar.intake.attachments import pair_attachments
    from review_calendar.intake.inbox import receipt_order, region_hint
    from review_calendar.store.accept import intake_scope
    from review_calendar.store.db import session_scope
    from review_calendar.store.faults import database_fault
    from review_calendar.tasks import storing

    try:
        with session_scope(url) as session:
            scope = intake_scope(session, programme, instance)
    except OperationalError as exc:
        raise database_fault(exc, url) from exc
    moments = _receipt_times(files, received_on, received_at)
    # In the order received: the file received last is stored last and is in force.
    given = dict(zip(files, names, strict=True)) if names else {}
    files = sorted((p for p in files if p in moments), key=lambda p: (moments[p], receipt_order(p))) + [
        p for p in files if p not in moments
    ]
    names = [given[p] for p in files] if names else None
    listed = {p: _signature(p) for p in files} if move else {}
    # Documents (the plan's text, its approval) go with the sheet of their folder, never read as sheets.
    folder_of = {p: (hints.get(p) if hints and p in hints else region_hint(p)) for p in files}
    pairing = pair_attachments(files, [folder_of[p] for p in files])
    sheets = pairing.sheets
    batch = ingest.parse_batch(
        programme,
        instance,
        sheets,
        scope,
        names=[given.get(p, p.name) for p in sheets] if names else None,
        received_on=received_on,
        progress=progress,
        hints=hints,
        received_at=moments,
    )
    report = ingest.IngestReport(instance.key, duplicates=batch.duplicates)
    for outcome in batch.unreadable:
        report.add(outcome)
    if move:
        for path in batch.recorded:
            _remove(settings, path, listed.get(path))
    for path in batch.recorded:
        # The sheet is known already: its documents join the region's accepted file.
        pairing.alone[folder_of[path]].extend(pairing.by_sheet.pop(path, []))
    # A city's file split per county is several parts of one path: removed after its last part.
    last_part = {parsed.path: index for index, parsed in enumerate(batch.parsed)}
    size = storing.STORE_CHUNK
    for start in range(0, len(batch.parsed), size):
        chunk = batch.parsed[start : start + size]
        documents_of = [pairing.by_sheet.get(parsed.path, []) for parsed in chunk]
        outcomes = storing.store_chunk(
            url, settings, programme, instance, chunk, documents_of, run_id, notify_on
        )
        # Only once the chunk is committed do its files leave the inbox.
        for index, parsed, outcome, documents in zip(
            range(start, start + len(chunk)), chunk, outcomes, documents_of, strict=True
        ):
            if outcome is None:
                report.add(ingest.FileOutcome(file=parsed.name, status="duplicate", sha256=parsed.sha256))
                continue
            report.add(outcome)
            if (
                move
                and parsed.data is not None
                and outcome.status != "failed"
                and last_part[parsed.path] == index
            ):
                _remove(settings, parsed.path, listed.get(parsed.path))
                if outcome.status == "accepted":
                    for doc in documents:
                        _remove(settings, doc, listed.get(doc))
    for region, documents in pairing.alone.items():
        if region is not None and documents:
            _attach_to_accepted(url, settings, programme, instance, region, documents, moments, move=move)
    log.info("Intake %s: %s", instance.key, report.counts())
    return report


def _receipt_times(
    files: Sequence[Path], received_on: dt.date | None, received_at: Mapping[Path, dt.datetime] | None
) -> dict[Path, dt.datetime]:
    """When each file was received: as given, else the start of ``received_on``, else its receipt time now.

    A file gone meanwhile has none (it is reported as taken in by another run).
    """
    import datetime as dt

    from review_calendar.domain.calendar import TZ
    from review_calendar.intake.inbox import receipt_time

    out = {}
    for path in files:
        if received_at and path in received_at:
            out[path] = received_at[path]
        elif received_on is not None:
            out[path] = dt.datetime.combine(received_on, dt.time(0), tzinfo=TZ)
        else:
            try:
                out[path] = receipt_time(path)
            except OSError:
                continue
    return out


def _received(path: Path, moments: Mapping[Path, dt.datetime]) -> dt.date:
    from review_calendar.intake.inbox import received_on as day_received

    return moments[path].date() if path in moments else day_received(path)


def _attach_to_accepted(
    url: str,
    settings: Any,
    programme: Any,
    instance: Any,
    region: str,
    documents: Sequence[Path],
    moments: Mapping[Path, dt.datetime],
    *,
    move: bool,
) -> None:
    """Documents sent alone join the region's accepted file of the instance; without one they wait."""
    from review_calendar.store.attachments import keep_attachments, refresh_awaiting
    from review_calendar.store.db import session_scope
    from review_calendar.store.queries import accepted_regions
    from review_calendar.tasks.storing import check_documents

    with session_scope(url) as session:
        submission = accepted_regions(session, instance).get(region)
        if submission is None:
            log.info("%d document(s) of %s wait for the region's summary sheet", len(documents), region)
            return
        checked = check_documents(documents)
        for doc in checked:
            keep_attachments(session, settings, instance, submission, [doc], _received(doc.path, moments))
        refresh_awaiting(session, programme, instance, submission)
    if move:
        for doc in checked:
            _remove(settings, doc.path, None)


def _signature(path: Path) -> tuple[int, int, int, int] | None:
    """Inode, size and modification/status-change times (not following a link); None when gone."""
    try:
        info = path.lstat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _remove(settings: Any, path: Path, listed: tuple[int, int, int, int] | None) -> None:
    """Remove a taken-in file from the inbox, if it is still the file that was listed.

    Nothing outside the inbox and no link is ever removed; a file replaced since
    it was listed is left for the next sweep.
    """
    from review_calendar.intake.inbox import is_inside

    if not is_inside(path, settings.inbox_dir):
        log.warning("Not removing %s: not a regular file inside the inbox", path.name)
        return
    if listed is not None and _signature(path) != listed:
        log.info("Not removing %s: it changed after it was listed (judged at the next sweep)", path.name)
        return
    path.unlink(missing_ok=True)


def sweep_instance(
    settings: Any,
    programme: Any,
    instance: Any,
    *,
    as_of: dt.date,
    run_id: str = "",
    settle_seconds: float | None = None,
    look_interval: float | None = None,
    seen_at: dt.datetime | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Sweep one instance's inbox: take in every stable file received by ``as_of``, report the rest.

    A file's receipt time is the earlier of its ctime and the time a sweep first
    saw it (kept in the database by content, so a file moved inside its region's
    folders keeps it): a later sweep never moves it forward, and a file's
    modification time is never read. A first sighting is never earlier than the
    file's ctime (except in a simulated year, ``settings.simulated_year``), so a
    back-fill (a sweep for a moment before a file arrived, or before another sweep
    first saw it) leaves that file for the next live sweep and lists it as ``later``.

    Links are never followed, files in ambiguous places are reported with the
    reason (log, the returned summary and ``reports/inbox/<key>.json``, kept
    for the reviewers' pages), files still being written wait for the next sweep.

    Args:
        settings: Folders and database.
        programme: The programme.
        instance: The obligation instance.
        as_of: The day of the sweep (notices are dated by it).
        run_id: Recorded with each acceptance decision.
        settle_seconds: Age at which a file counts as complete without a second look.
        look_interval: Seconds between the two looks at a younger file.
        seen_at: The sweep's (logical) time (default: the end of ``as_of``, or now).

    Returns:
        The :class:`~review_calendar.intake.ingest.IngestReport` and the sweep
        summary: ``unplaced`` ([{path, reason}]), ``waiting`` (names of files
        still being written), ``later`` ([{file, received_at}] of files received
        after the sweep's moment), ``too_large`` (names of files over the size limit
        answered by an earlier sweep, still there), ``temporary`` (count of upload tools' files left
        alone) and ``stray`` ([{path, reason}] of the cycle's folder that belong
        to no instance; the same for every instance of the cycle).
    """
    from review_calendar.intake import inbox
    from review_calendar.tasks.sightings import answered_too_large, first_seen_at, logical_time, sweep_horizon

    scan = inbox.scan_inbox(settings, instance)
    timing = {
        k: v
        for k, v in (("settle_seconds", settle_seconds), ("look_interval", look_interval))
        if v is not None
    }
    seen_at = seen_at or logical_time(as_of)
    first_seen = first_seen_at(settings, instance, scan.files, seen_at, scan.hints, scan.misplaced)
    horizon = sweep_horizon(seen_at)
    due = [p for p in scan.files if p in first_seen and first_seen[p] <= horizon]
    later = [p for p in scan.files if p in first_seen and first_seen[p] > horizon]
    too_large = answered_too_large(settings, instance, due, scan.hints)  # answered once, still there
    stable, waiting = inbox.stable_files([p for p in due if p not in too_large], **timing)
    moments = {}
    for p in stable:
        try:
            moments[p] = inbox.receipt_time(p, first_seen[p])
        except OSError:
            continue  # gone meanwhile: taken in by another run
    report = ingest_files(
        settings.db_url, settings, programme, instance, [p for p in stable if p in moments],
        move=True, run_id=run_id, notify_on=as_of, hints=scan.hints, received_at=moments,
    )  # fmt: skip
    answered_too_large(settings, instance, [p for p in moments if p.exists()], scan.hints, mark=True)
    from review_calendar.intake.inbox_outside import cycle_instances

    stray = inbox.stray_entries(settings, cycle_instances(programme, instance.cycle_year))
    summary = {
        "unplaced": [u.to_dict() for u in scan.unplaced],
        "waiting": [p.name for p in waiting],
        "later": [{"file": p.name, "received_at": first_seen[p].isoformat()} for p in later],
        "too_large": [p.name for p in too_large],
        "temporary": len(scan.temporary),
        "stray": [u.to_dict() for u in stray],
    }
    for u in [*scan.unplaced, *stray]:
        log.warning("Inbox %s: %s not taken in: %s", instance.key, u.path, u.reason)
    if waiting:
        log.info(
            "Inbox %s: %d file(s) still being written, left for the next sweep", instance.key, len(waiting)
        )
    if later:
        log.info("Inbox %s: %d file(s) received after %s, left for a later sweep", instance.key, len(later),
                 seen_at.isoformat())  # fmt: skip
    _store_unplaced(settings, instance, summary["unplaced"] + summary["stray"], as_of)
    return report, summary


def _store_unplaced(settings: Any, instance: Any, unplaced: list[dict[str, str]], as_of: dt.date) -> None:
    """Keep the sweep's unplaced list where the reviewers' pages can show it (replaced each sweep)."""
    target = settings.reports_dir / "inbox" / f"{instance.key.replace('/', '_')}.json"
    if not unplaced and not target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {"instance": instance.key, "as_of": as_of.isoformat(), "unplaced": unplaced}
    target.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
