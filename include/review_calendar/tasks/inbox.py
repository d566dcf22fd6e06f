"""The inbox sweep: every open instance's inbox taken in, and the files that cannot be placed reported once.

The ``inbox_sweep`` DAG (every 10 minutes on working days), the
``review-calendar inbox sweep`` command and the demo year call :func:`sweep_now`;
the reminders DAG keeps its own morning sweep. Taking a file in is
:func:`review_calendar.tasks.intake.sweep_instance`: a rejection notice is
queued in the file's transaction, and the caller delivers the outbox at once.

A file under an inbox that cannot be placed (:class:`~review_calendar.intake.inbox.Unplaced`)
is e-mailed to the operators once: the files already reported are kept in
``reports/inbox/alerted.json`` (a file that leaves its place and comes back is
reported again), and the alert's outbox key is derived from the files it
lists, so a sweep that dies between queuing and recording queues nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from review_calendar.domain.calendar import TZ
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

#: The outbox kind of the operators' alert about files that cannot be placed.
ALERT_KIND = "inbox_alert"


def sweep_keys(as_of: dt.date, programme_id: str | None = None, year: int | None = None) -> list[str]:
    """The instances to sweep: those open on ``as_of`` (and the year's ad-hoc reports), or every one of ``year``."""
    from review_calendar.domain.programmes import instances_for_year, load_programmes
    from review_calendar.tasks import open_instances

    if year is None:
        return open_instances(as_of.isoformat(), programme_id, ad_hoc=True)
    keys = []
    for pid, programme in load_programmes(get_settings().programmes_dir).items():
        if programme_id in (None, pid):
            keys += [
                i.key
                for i in instances_for_year(programme, year)
                if programme.obligation(i.obligation_id).dataset
            ]
            keys += [f"{pid}/{year}/{o.id}/Y" for o in programme.ad_hoc_obligations if o.dataset]
    return keys


def sweep_now(
    as_of: dt.date | dt.datetime,
    programme_id: str | None = None,
    *,
    year: int | None = None,
    run_id: str = "",
    dry_run: bool = False,
) -> dict[str, Any]:
    """Sweep the inboxes, then queue the operators' alert about files not placed before.

    Args:
        as_of: The sweep's moment (its logical time: a file first seen now is received then),
            or its day (Beijing time; for a past day, its end): files received after it stay pending.
        programme_id: Only this programme (None: all).
        year: Every instance of this cycle year instead of the ones open on ``as_of``.
        run_id: Recorded with each acceptance decision.
        dry_run: Only look: list what would be taken in, take nothing, queue nothing.

    Returns:
        ``instances`` (one entry per instance with files or unplaced ones: ``key``,
        ``accepted`` / ``rejected`` / ``duplicates`` counts, ``accepted_files``,
        ``rejected_files``, ``duplicate_files``, ``unplaced``, ``waiting``, ``later``
        (received after ``as_of``: left for the next live sweep); a dry run ``would_take``),
        the ``totals`` and ``alerted`` (files reported to the operators by this sweep).
    """
    from review_calendar.tasks import ingest_inbox, instance_of

    settings = get_settings()
    day = as_of.astimezone(TZ).date() if isinstance(as_of, dt.datetime) else as_of
    keys = sweep_keys(day, programme_id, year)
    results = []
    reported = (
        "accepted",
        "rejected",
        "duplicates",
        "unplaced",
        "waiting",
        "later",
        "too_large",
        "would_take",
    )
    for key in keys:
        if dry_run:
            result = _look(settings, *instance_of(key))
        else:
            result = ingest_inbox(key, as_of.isoformat(), run_id=run_id)
        if any(result.get(k) for k in reported):
            results.append(result)
    totals = {k: sum(int(r.get(k) or 0) for r in results) for k in ("accepted", "rejected", "duplicates")}
    outside = outside_of(settings, day, programme_id, keys, store=not dry_run)
    totals["unplaced"] = len(_unplaced_of(results, outside))
    alerted = [] if dry_run else alert_unplaced(settings, results, day, outside)
    log.info("Inbox sweep as of %s: %d instance(s), %s", as_of, len(keys), totals)
    return {"as_of": as_of.isoformat(), "swept": len(keys), "instances": results, "totals": totals,
            "outside": outside, "alerted": alerted}  # fmt: skip


def outside_of(
    settings: Any, day: dt.date, programme_id: str | None, keys: list[str], *, store: bool
) -> list[dict[str, str]]:
    """Every file under the swept programmes' inboxes that no instance's sweep looks at, with the reason.

    A file loose in a programme's folder or in a cycle's year folder, in a year folder that
    is no cycle, or in the folder of an instance not open on ``day`` (see
    :mod:`review_calendar.intake.inbox_outside`); the inbox root too when every programme is
    swept. With ``store`` each programme's list is kept for the reviewers' pages
    (``reports/inbox/<programme>.json``, replaced at every sweep).

    Returns:
        ``path``, ``reason`` and ``programme_id`` (``""``: outside every programme) of each.
    """
    from review_calendar.domain.programmes import load_programmes
    from review_calendar.intake.inbox_outside import outside_entries

    programmes = {
        pid: p for pid, p in load_programmes(settings.programmes_dir).items() if programme_id in (None, pid)
    }
    covered = {*keys, *sweep_keys(day, programme_id)}
    found = outside_entries(settings, programmes, day, covered, root_level=programme_id is None)
    for pid, entries in found.items():
        for u in entries:
            log.warning("Inbox %s: %s not taken in: %s", pid or "(root)", u.path, u.reason)
    if store:
        for pid in [*programmes, *([""] if programme_id is None else [])]:
            listing = [u.to_dict() for u in found.get(pid, [])]
            _store_listing(settings, pid or "_root", pid, listing, day)
    return [{**u.to_dict(), "programme_id": pid} for pid, entries in sorted(found.items()) for u in entries]


def _store_listing(
    settings: Any, name: str, owner: str, unplaced: list[dict[str, str]], day: dt.date
) -> None:
    """Keep a list of files not placed for the reviewers' pages (``reports/inbox/<name>.json``)."""
    target = settings.reports_dir / "inbox" / f"{name}.json"
    if not unplaced and not target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {"instance": owner, "as_of": day.isoformat(), "unplaced": unplaced}
    target.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")


def _look(settings: Any, programme: Any, instance: Any) -> dict[str, Any]:
    """A dry run's look at one inbox: what would be taken in and what cannot be placed."""
    from review_calendar.intake import inbox

    scan = inbox.scan_inbox(settings, instance)
    return {
        "key": instance.key,
        "would_take": [_relative(settings.inbox_dir, p) for p in scan.files],
        "unplaced": [u.to_dict() for u in scan.unplaced],
    }


def _unplaced_of(
    results: list[dict[str, Any]], outside: list[dict[str, str]] = ()
) -> dict[str, dict[str, str]]:
    """Every unplaced file of the sweep once (a stray entry is reported by each instance of its cycle)."""
    out: dict[str, dict[str, str]] = {}
    for r in results:
        programme_id = r["key"].split("/")[0]
        for u in [*r.get("unplaced", []), *r.get("stray", [])]:
            out.setdefault(f"{u['path']}\t{u['reason']}", {**u, "programme_id": programme_id})
    for u in outside:
        out.setdefault(f"{u['path']}\t{u['reason']}", dict(u))
    return out


def alert_unplaced(
    settings: Any, results: list[dict[str, Any]], as_of: dt.date, outside: list[dict[str, str]] = ()
) -> list[dict[str, str]]:
    """Queue one alert per programme listing the files not placed that no earlier alert listed.

    Returns:
        The files listed now (``path``, ``reason``, ``programme_id``).
    """
    from review_calendar.notify.outbox import queue
    from review_calendar.store.db import session_scope

    ledger_path = settings.reports_dir / "inbox" / "alerted.json"
    ledger = _read_ledger(ledger_path)
    # A file no longer where it was (moved, taken away) is forgotten: if it comes back, it is reported again.
    ledger = {k: v for k, v in ledger.items() if _still_there(settings.inbox_dir, k.split("\t")[0])}
    fresh = {k: u for k, u in _unplaced_of(results, outside).items() if k not in ledger}
    if not fresh:
        _write_ledger(ledger_path, ledger)
        return []
    if not settings.operators:
        # Not alerted: nobody to tell. The files stay out of the ledger, so the first sweep
        # after an operator address is configured alerts them.
        log.warning(
            "%d file(s) not placed, no operator address configured (REVIEW_CALENDAR_OPERATORS)", len(fresh)
        )
        _write_ledger(ledger_path, ledger)
        return []
    else:
        by_programme: dict[str, list[dict[str, str]]] = {}
        for u in fresh.values():
            by_programme.setdefault(u["programme_id"], []).append(u)
        with session_scope(settings.db_url) as session:
            for pid, files in sorted(by_programme.items()):
                digest = hashlib.sha256(
                    "\n".join(sorted(f"{u['path']}\t{u['reason']}" for u in files)).encode()
                )
                queue(session, kind=ALERT_KIND, programme_id=pid, instance_key=f"{pid}/inbox".lstrip("/"), region_code=None,
                      stage=digest.hexdigest()[:32], to=list(settings.operators), subject=_subject(files),
                      body=_body(files, as_of), created_on=as_of)  # fmt: skip
    ledger.update(dict.fromkeys(fresh, as_of.isoformat()))
    _write_ledger(ledger_path, ledger)
    return list(fresh.values())


def _subject(files: list[dict[str, str]]) -> str:
    return f"[审查日历] 收件箱中有 {len(files)} 个文件无法归入报送事项，请处理"


def _body(files: list[dict[str, str]], as_of: dt.date) -> str:
    lines = [
        f"{as_of.isoformat()} 收件箱巡检发现以下文件无法确定所属报送事项或地区，未予接收（文件仍在原处）：",
        "",
        *(f"- {u['path']}：{u['reason']}" for u in files),
        "",
        "请将文件移入正确的上传文件夹（收件箱/项目/年度/报送事项/地区代码/），下次巡检（10 分钟内）即自动接收；",
        "每个文件只提醒一次，审查日历首页列出全部未归位文件。",
    ]
    return "\n".join(lines)


def _relative(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _still_there(root: Path, relative: str) -> bool:
    try:
        (root / relative).lstat()
    except OSError:
        return False
    return True


def _read_ledger(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_ledger(path: Path, ledger: dict[str, str]) -> None:
    if not ledger and not path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ledger, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
