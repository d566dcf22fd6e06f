"""Due dates one region owes instead of its instance's: extensions granted and files returned.

A reviewer who grants a county's request for more time (延期申请) or returns an
accepted file for correction (退回修改) changes what that region owes, not the
instance's due date for everyone. Each answered decision is one row
(:class:`~review_calendar.store.models.DueChange`, keyed by the decision), so
applying an answer twice writes nothing new. The submission-state rule and the
reminders read them through :func:`region_dues`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.store.queries import instance_filter
from review_calendar.store.tables.intake import DueChange

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance

KINDS = ("extension", "return")


@dataclass(frozen=True, slots=True)
class RegionDue:
    """What changed one region's due date for one instance.

    Attributes:
        extended_to: The latest extension granted (None: the instance's due date stands).
        returns: The new due date of each returned file, by submission id (None: no date set).
    """

    extended_to: dt.date | None = None
    returns: dict[int, dt.date | None] = field(default_factory=dict)


def save_change(
    session: Session,
    *,
    decision_id: int,
    instance: ObligationInstance,
    region_code: str,
    kind: str,
    due: dt.date | None,
    submission_id: int | None = None,
    comment: str = "",
    decided_by: str = "",
) -> tuple[DueChange, bool]:
    """Record the due-date change a decision made; the same decision again updates its row.

    Returns:
        The row and whether it is new.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown due change {kind!r}; expected one of {KINDS}")
    values = {
        "programme_id": instance.programme_id,
        "cycle_year": instance.cycle_year,
        "obligation_id": instance.obligation_id,
        "period": instance.period,
        "region_code": region_code,
        "kind": kind,
        "submission_id": submission_id,
        "due": due,
        "comment": comment,
        "decided_by": decided_by,
    }
    row = session.scalar(select(DueChange).where(DueChange.decision_id == decision_id))
    if row is not None:
        for name, value in values.items():
            setattr(row, name, value)
        return row, False
    row = DueChange(decision_id=decision_id, **values)
    session.add(row)
    session.flush()
    return row, True


def region_dues(session: Session, instance: ObligationInstance) -> dict[str, RegionDue]:
    """The due-date changes of every region of ``instance`` (regions without one are absent)."""
    rows = session.scalars(
        select(DueChange).where(*instance_filter(DueChange, instance)).order_by(DueChange.id)
    )
    extended: dict[str, dt.date] = {}
    returns: dict[str, dict[int, dt.date | None]] = {}
    for row in rows:
        if row.kind == "extension" and row.due is not None:
            extended[row.region_code] = row.due  # the latest grant wins
        elif row.kind == "return" and row.submission_id is not None:
            returns.setdefault(row.region_code, {})[row.submission_id] = row.due
    return {
        code: RegionDue(extended.get(code), returns.get(code, {})) for code in set(extended) | set(returns)
    }


def changed_instances(session: Session, programme_id: str, cycle_year: int) -> set[str]:
    """The keys (``programme/year/obligation/period``) of a cycle's instances some region owes by its own date."""
    rows = session.execute(
        select(DueChange.obligation_id, DueChange.period)
        .where(DueChange.programme_id == programme_id, DueChange.cycle_year == cycle_year)
        .distinct()
    )
    return {f"{programme_id}/{cycle_year}/{o}/{p}" for o, p in rows}
