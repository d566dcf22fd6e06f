"""Taking files in: the orchestration that crosses stages, each file atomic, stored in bulk.

Intake reads and row-checks a batch (:mod:`review_calendar.intake`), the store
keeps each file and its rows (:mod:`review_calendar.store.accept`), the decision
log records the acceptance, and the notify stage queues the receipt (回执) or
the rejection notice; none of these stages calls another, this module does.
Files are stored in the order they were received, so the one received last is
in force (:mod:`review_calendar.store.accept`).

Files are stored :data:`STORE_CHUNK` to a transaction, each file in a SAVEPOINT
of its own: a file that cannot be stored is rolled back alone and the files
behind it go on; one commit (one disk sync) serves many files. A crash rolls
back the open chunk whole, so no file is ever half stored, and a re-run finds
the committed ones recorded (their hashes) and stores nothing twice.
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

#: Files stored in one transaction (each in a SAVEPOINT of its own).
STORE_CHUNK = 250


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
    files to a transaction (:func:`_store_chunk`).

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
    for start in range(0, len(batch.parsed), STORE_CHUNK):
        chunk = batch.parsed[start : start + STORE_CHUNK]
        documents_of = [pairing.by_sheet.get(parsed.path, []) for parsed in chunk]
        outcomes = _store_chunk(url, settings, programme, instance, chunk, documents_of, run_id, notify_on)
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

    with session_scope(url) as session:
        submission = accepted_regions(session, instance).get(region)
        if submission is None:
            log.info("%d document(s) of %s wait for the region's summary sheet", len(documents), region)
            return
        checked = _check_documents(documents)
        for doc in checked:
            keep_attachments(session, settings, instance, submission, [doc], _received(doc.path, moments))
        refresh_awaiting(session, programme, instance, submission)
    if move:
        for doc in checked:
            _remove(settings, doc.path, None)


def _store_chunk(
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
    from review_calendar.store import accept
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
            copies[i] = (dest, _check_documents(documents_of[i]) if not parsed.rejected else [])
        except FileNotFoundError:
            log.info("File %s vanished before it was stored (taken in by another run)", parsed.name)
        except OSError as exc:
            outcomes[i] = failed(parsed, file_problem(exc, parsed.name))
    if not copies:
        return outcomes
    try:
        with session_scope(url) as session:
            batch = accept.begin_intake(session, instance)
            if len(copies) > 1:
                stored = _store_together(
                    session, settings, programme, instance, chunk, copies, batch, run_id, notify_on
                )
                if stored is not None:
                    for i, outcome in stored.items():
                        outcomes[i] = outcome
                    return outcomes
                # One file could not be written: the chunk went back whole; now one file at a time.
                batch = accept.read_batch(session, instance)
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
                batch = accept.read_batch(session, instance)
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

    Submission ids are set aside first (``store.accept.set_aside_ids``), so no
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
    from review_calendar.store import accept

    if len({chunk[i].sha256 for i in copies}) < len(copies):
        return None  # the same bytes twice in one chunk: one file at a time decides which counts
    outcomes = {}
    try:
        with session.begin_nested():
            batch.ids = accept.set_aside_ids(session, len(copies))
            batch.later = {}
            for i, (dest, _) in copies.items():
                outcomes[i] = accept.record_submission(session, programme, instance, chunk[i], dest, batch)
            accept.write_later(session, batch)
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
    the chunk's transaction knows of the instance (``store.accept.IntakeBatch``).

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
    from review_calendar.decide.returns import propose_review
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.notify.notices import queue_rejection
    from review_calendar.notify.receipts import queue_receipt
    from review_calendar.store import accept
    from review_calendar.store.attachments import carry_attachments, keep_attachments, refresh_awaiting
    from review_calendar.store.decision_log import record_decision
    from review_calendar.store.models import Submission

    if outcome.status == "duplicate":
        return outcome
    if outcome.status == "accepted":
        submission = batch.by_hash.get(parsed.sha256) or session.get(Submission, outcome.submission_id)
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
    if outcome.status == "accepted":
        # An obligation that needs reading: a reviewer accepts or returns the file.
        propose_review(session, programme, instance, outcome.submission_id, run_id)
    if outcome.status == "rejected" and notify_on is not None and parsed.region_code:
        # With the file's rows: the official learns why, exactly once.
        queue_rejection(session, programme, instance, outcome.submission_id, created_on=notify_on)
    if outcome.status == "accepted" and notify_on is not None and parsed.region_code:
        # The 回执 of this receipt, once (its natural key is the receipt's number).
        queue_receipt(session, programme, instance, outcome.submission_id, created_on=notify_on)
    return outcome


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
    saw it (``seen_at`` of the first sweep that listed it, kept in the database):
    a later sweep never moves it forward, and a file's modification time is never
    read. A back-fill (a sweep for a time before another sweep first saw a file)
    leaves that file pending.

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
        seen_at: The sweep's (logical) time (default: :func:`logical_time` of ``as_of``).

    Returns:
        The :class:`~review_calendar.intake.ingest.IngestReport` and the sweep
        summary: ``unplaced`` ([{path, reason}]), ``waiting`` (names of files
        still being written), ``temporary`` (count of upload tools' files left
        alone) and ``stray`` ([{path, reason}] of the cycle's folder that belong
        to no instance; the same for every instance of the cycle).
    """
    from review_calendar.intake import inbox

    scan = inbox.scan_inbox(settings, instance)
    timing = {
        k: v
        for k, v in (("settle_seconds", settle_seconds), ("look_interval", look_interval))
        if v is not None
    }
    seen_at = seen_at or logical_time(as_of)
    first_seen = _first_seen(settings, instance, scan.files, seen_at)
    due = [p for p in scan.files if p in first_seen and first_seen[p] <= seen_at]
    stable, waiting = inbox.stable_files(due, **timing)
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
    from review_calendar.domain.programmes import instances_for_year

    stray = inbox.stray_entries(settings, instances_for_year(programme, instance.cycle_year))
    summary = {
        "unplaced": [u.to_dict() for u in scan.unplaced],
        "waiting": [p.name for p in waiting],
        "temporary": len(scan.temporary),
        "stray": [u.to_dict() for u in stray],
    }
    for u in [*scan.unplaced, *stray]:
        log.warning("Inbox %s: %s not taken in: %s", instance.key, u.path, u.reason)
    if waiting:
        log.info(
            "Inbox %s: %d file(s) still being written, left for the next sweep", instance.key, len(waiting)
        )
    _store_unplaced(settings, instance, summary["unplaced"] + summary["stray"], as_of)
    return report, summary


def logical_time(as_of: dt.date) -> dt.datetime:
    """The time a sweep for day ``as_of`` stands for: now, or the end of that day if it has passed.

    A sweep of a past day (the demo's simulated year, a back-fill) sees the files as
    they were at its close; a sweep of today sees them now.
    """
    import datetime as dt

    from review_calendar.domain.calendar import TZ

    end = dt.datetime.combine(as_of, dt.time(23, 59, 59), tzinfo=TZ)
    return min(dt.datetime.now(TZ).replace(microsecond=0), end)


def _first_seen(
    settings: Any, instance: Any, files: Sequence[Path], seen_at: dt.datetime
) -> dict[Path, dt.datetime]:
    """When a sweep first saw each file (recorded now for new ones); sightings of files gone are forgotten."""
    from sqlalchemy.exc import IntegrityError

    from review_calendar.intake.inbox import sighting_key
    from review_calendar.store.db import session_scope
    from review_calendar.store.receipts import first_sightings, forget_sightings

    keys = {p: k for p in files if (k := sighting_key(settings.inbox_dir, p)) is not None}
    for attempt in range(2):
        try:
            with session_scope(settings.db_url) as session:
                forget_sightings(session, instance, {k for k, _ in keys.values()})
                seen = first_sightings(session, instance, dict(keys.values()), seen_at)
            break
        except IntegrityError:  # a concurrent sweep recorded one first: read it
            if attempt:
                raise
    return {p: seen[k] for p, (k, _) in keys.items()}


def _store_unplaced(settings: Any, instance: Any, unplaced: list[dict[str, str]], as_of: dt.date) -> None:
    """Keep the sweep's unplaced list where the reviewers' pages can show it (replaced each sweep)."""
    target = settings.reports_dir / "inbox" / f"{instance.key.replace('/', '_')}.json"
    if not unplaced and not target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {"instance": instance.key, "as_of": as_of.isoformat(), "unplaced": unplaced}
    target.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
