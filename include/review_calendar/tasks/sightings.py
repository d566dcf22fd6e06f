"""When an inbox sweep first saw each file, and which files a sweep for a given moment takes in.

A file's first sighting is kept in the database by its content, its instance
and its upload folder's region (:func:`~review_calendar.intake.inbox.sighting_key`),
so a file moved or renamed inside its region's folders keeps it. A sighting is
never earlier than the file's status-change time, unless the year is simulated
(``settings.simulated_year``: the demo places its files now and sweeps at past
moments): a back-fill never dates a file earlier than it arrived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = ["LIVE_WINDOW_SECONDS", "answered_too_large", "first_seen_at", "logical_time", "sweep_horizon"]

#: A sweep whose moment is at most this old is live: it also takes the files that arrived since.
LIVE_WINDOW_SECONDS = 30 * 60


def sweep_horizon(seen_at: dt.datetime) -> dt.datetime:
    """The latest first sighting a sweep at ``seen_at`` takes in.

    A live sweep (its moment within :data:`LIVE_WINDOW_SECONDS` of now) takes every
    file present, each at its own time; a back-fill (a past day, a re-run of a past
    run, a simulated year) only the files received by its moment.
    """
    import datetime as dt

    from review_calendar.domain.calendar import TZ

    now = dt.datetime.now(TZ)
    return max(seen_at, now) if seen_at >= now - dt.timedelta(seconds=LIVE_WINDOW_SECONDS) else seen_at


def logical_time(as_of: dt.date) -> dt.datetime:
    """The time a sweep for day ``as_of`` stands for: now, or the end of that day if it has passed.

    A sweep of a past day (the demo's simulated year, a back-fill) sees the files as
    they were at its close; a sweep of today sees them now.
    """
    import datetime as dt

    from review_calendar.domain.calendar import TZ

    end = dt.datetime.combine(as_of, dt.time(23, 59, 59), tzinfo=TZ)
    return min(dt.datetime.now(TZ).replace(microsecond=0), end)


def first_seen_at(
    settings: Any,
    instance: Any,
    files: Sequence[Path],
    seen_at: dt.datetime,
    hints: Mapping[Path, str | None] | None = None,
    misplaced: Sequence[Path] = (),
) -> dict[Path, dt.datetime]:
    """When a sweep first saw each file (recorded now for new ones); sightings of files gone are forgotten.

    A new sighting is never earlier than the file's ctime, unless the year is
    simulated. The ``misplaced`` files (in a folder that names no region; reported,
    not taken in) are remembered too: moved into their region's folder, they keep
    the time they first landed.
    """
    from sqlalchemy.exc import IntegrityError

    from review_calendar.intake.inbox import file_identity, keyed_sighting, region_hint
    from review_calendar.store.db import session_scope
    from review_calendar.store.receipts import first_sightings, forget_sightings

    root = settings.inbox_dir
    keys: dict[Path, tuple[str, str]] = {}
    earlier: dict[str, str] = {}
    for p in [*files, *misplaced]:
        identity = file_identity(root, p)
        if identity is None:
            continue
        hint = None if p in misplaced else hints[p] if hints and p in hints else region_hint(p)
        keys[p] = keyed_sighting(identity, instance.key, hint), _relative(root, p)
        if hint is not None:
            earlier[keys[p][0]] = keyed_sighting(identity, instance.key, None)
    floors = {} if settings.simulated_year else _ctimes(keys)
    for attempt in range(2):
        try:
            with session_scope(settings.db_url) as session:
                seen = first_sightings(session, instance, dict(keys.values()), seen_at, floors, earlier)
                forget_sightings(session, instance, {k for k, _ in keys.values()})
            break
        except IntegrityError:  # a concurrent sweep recorded one first: read it
            if attempt:
                raise
    return {p: seen[k] for p, (k, _) in keys.items() if p in files}


def _relative(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _ctimes(keys: Mapping[Path, tuple[str, str]]) -> dict[str, dt.datetime]:
    """Each file's status-change time by sighting key."""
    import datetime as dt

    from review_calendar.domain.calendar import TZ

    out = {}
    for p, (key, _) in keys.items():
        try:
            out[key] = dt.datetime.fromtimestamp(p.lstat().st_ctime, tz=TZ)
        except OSError:
            continue
    return out


def answered_too_large(
    settings: Any,
    instance: Any,
    files: Sequence[Path],
    hints: Mapping[Path, str | None] | None = None,
    *,
    mark: bool = False,
) -> list[Path]:
    """The files over the size limit already answered (rejected unread; they stay where they arrived).

    With ``mark``, the files over the limit among ``files`` are recorded as answered
    (after intake rejected them). A file replaced or rewritten is a new sighting:
    judged again.
    """
    from sqlalchemy import select

    from review_calendar.intake.inbox import region_hint, sighting_key
    from review_calendar.intake.reader import ReadLimits
    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.intake import InboxSighting

    keys = {}
    for p in files:
        try:
            if p.lstat().st_size <= ReadLimits().max_bytes:
                continue
        except OSError:
            continue
        hint = hints[p] if hints and p in hints else region_hint(p)
        if (key := sighting_key(settings.inbox_dir, p, instance_key=instance.key, hint=hint)) is not None:
            keys[key[0]] = p
    if not keys:
        return []
    with session_scope(settings.db_url) as session:
        rows = session.scalars(select(InboxSighting).where(InboxSighting.file_key.in_(list(keys))))
        if mark:
            for row in rows:
                row.answered = "too_large"
            return [keys[k] for k in keys]
        return [keys[r.file_key] for r in rows if r.answered == "too_large"]
