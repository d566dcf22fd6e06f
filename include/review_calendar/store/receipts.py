"""Receipts of accepted files (受理编号) and when the inbox first saw each file.

A receipt number reads ``<programme>-<year>-<obligation>[-<period>]-<seq>``,
e.g. ``HSC-2025-DP-0003``: the initials of the programme and the obligation,
the cycle year, the period of a periodic obligation and the receipt's number
within the instance. One row per receipt (:class:`~review_calendar.store.models.Receipt`):
a re-run of the same receipt finds its row, so the number is stable.

The inbox's first sightings (:class:`~review_calendar.store.models.InboxSighting`)
keep the time a sweep first saw a file, so a later sweep never moves a file's
receipt time forward; a sighting is forgotten once its file has left the inbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from review_calendar.domain.calendar import TZ
from review_calendar.store.queries import instance_filter
from review_calendar.store.tables.intake import InboxSighting, Receipt, Submission

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = [
    "aware",
    "first_sightings",
    "forget_sightings",
    "new_receipt",
    "receipt_prefix",
    "record_receipt",
]


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored moment as an aware datetime in Asia/Shanghai (SQLite returns naive UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(TZ)


def _initials(identifier: str) -> str:
    return "".join(part[:1] for part in identifier.split("_") if part).upper()


def receipt_prefix(programme: Programme, instance: ObligationInstance) -> str:
    """``<programme>-<year>-<obligation>[-<period>]``: initials, unique within the programme.

    Two obligations of a programme with the same initials are told apart by
    their position in the programme file.
    """
    initials = [_initials(o.id) for o in programme.obligations]
    index = next(n for n, o in enumerate(programme.obligations) if o.id == instance.obligation_id)
    short = initials[index]
    if initials.count(short) > 1:
        short = f"{short}{index + 1}"
    period = "" if instance.period == "Y" else f"-{instance.period}"
    return f"{_initials(programme.id)}-{instance.cycle_year}-{short}{period}"


def record_receipt(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission: Submission,
    received_at: dt.datetime,
    next_seq: int | None = None,
    later: dict[type, list[dict[str, Any]]] | None = None,
) -> tuple[Receipt | _Numbered, bool]:
    """The receipt of ``submission`` received at ``received_at``: found, or numbered and added.

    The caller holds the instance's row lock (intake's transaction), so numbers
    within an instance never race. The submission carries the number of its
    latest receipt. ``next_seq`` is the instance's next number when the caller
    keeps the count (intake's batch); ``later`` as for :func:`new_receipt`.

    Returns:
        The receipt and whether it is new.
    """
    moment = received_at.astimezone(dt.UTC)
    found = session.scalar(
        select(Receipt).where(Receipt.submission_id == submission.id, Receipt.received_at == moment)
    )
    if found is None:
        # Compared as stored (SQLite keeps naive UTC): any receipt of the same second.
        for r in session.scalars(select(Receipt).where(Receipt.submission_id == submission.id)):
            if aware(r.received_at) == received_at:
                found = r
    if found is not None:
        return found, False
    seq = next_seq or (
        (session.scalar(select(func.max(Receipt.seq)).where(*instance_filter(Receipt, instance))) or 0) + 1
    )
    return new_receipt(session, programme, instance, submission, received_at, seq, later=later), True


@dataclass(frozen=True)
class _Numbered:
    """A receipt left for the caller to insert (``later``): its number and sequence."""

    receipt_no: str
    seq: int


def new_receipt(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission: Submission,
    received_at: dt.datetime,
    seq: int,
    *,
    later: dict[type, list[dict[str, Any]]] | None = None,
) -> Receipt | _Numbered:
    """Add receipt number ``seq`` of the instance for ``submission`` received at ``received_at``.

    The caller knows the submission has no receipt of that moment and that
    ``seq`` is the instance's next number (:func:`record_receipt`, or intake's
    batch, which read the count once under the instance's lock). With ``later``
    the row is appended to ``later[Receipt]`` for the caller to insert (intake
    writes a chunk's rows together) and only the number and sequence are returned.
    """
    row = dict(
        receipt_no=f"{receipt_prefix(programme, instance)}-{seq:04d}",
        submission_id=submission.id,
        programme_id=instance.programme_id,
        cycle_year=instance.cycle_year,
        obligation_id=instance.obligation_id,
        period=instance.period,
        seq=seq,
        region_code=submission.region_code,
        file_name=submission.file_name,
        received_at=received_at.astimezone(dt.UTC),
    )
    if later is not None:
        # Intake's chunk inserts the rows together: no ORM object per file (its cost is most of the receipt's).
        later.setdefault(Receipt, []).append(row)
        submission.receipt_no = row["receipt_no"]
        return _Numbered(row["receipt_no"], seq)
    receipt = Receipt(**row)
    session.add(receipt)
    session.flush()
    submission.receipt_no = receipt.receipt_no
    return receipt


def first_sightings(
    session: Session,
    instance: ObligationInstance,
    keys: Mapping[str, str],
    seen_at: dt.datetime,
    floors: Mapping[str, dt.datetime] | None = None,
    earlier: Mapping[str, str] | None = None,
) -> dict[str, dt.datetime]:
    """When each file was first seen; files not seen before are recorded as seen at ``seen_at``.

    A sighting is never earlier than its file's ``floor`` (its status-change time):
    a sweep for a past moment (a back-fill) records a file that arrived later at
    the time it really arrived.

    Args:
        session: Open session (committed by the caller before intake).
        instance: The instance whose inbox is swept.
        keys: Path under the inbox by sighting key (:func:`~review_calendar.intake.inbox.sighting_key`).
        seen_at: The sweep's (logical) time.
        floors: The earliest sighting of each new key (None or absent: ``seen_at``).
        earlier: For a new key, the key the same file had before it was put in its
            region's folder (its content outside any region folder): its sighting holds.

    Returns:
        The first sighting of each key, Asia/Shanghai.
    """
    wanted = [*keys, *(earlier or {}).values()]
    known = {
        s.file_key: aware(s.first_seen_at)
        for s in session.scalars(select(InboxSighting).where(InboxSighting.file_key.in_(wanted)))
    }
    for key, path in keys.items():
        if key in known:
            continue
        # Moved into its region's folder: seen when it first landed; else now, never before its ctime.
        before = known.get((earlier or {}).get(key, ""))
        moment = before if before is not None else max(seen_at, (floors or {}).get(key, seen_at))
        session.add(
            InboxSighting(
                file_key=key, programme_id=instance.programme_id, cycle_year=instance.cycle_year,
                obligation_id=instance.obligation_id, period=instance.period, path=path,
                first_seen_at=moment.astimezone(dt.UTC),
            )
        )  # fmt: skip
        known[key] = moment.astimezone(TZ)
    session.flush()
    return known  # type: ignore[return-value]


def forget_sightings(session: Session, instance: ObligationInstance, present: set[str]) -> int:
    """Forget the sightings of the instance's files that are no longer in the inbox.

    Returns:
        How many were forgotten.
    """
    gone = [
        k
        for k in session.scalars(
            select(InboxSighting.file_key).where(*instance_filter(InboxSighting, instance))
        )
        if k not in present
    ]
    if gone:
        session.execute(delete(InboxSighting).where(InboxSighting.file_key.in_(gone)))
    return len(gone)
