"""What the reviewers' pages share: links to the DAGs, the files of a cycle, the years with data."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.domain.calendar import TZ
from review_calendar.store.tables.intake import ObligationInstanceRow, Submission
from review_calendar.store.tables.mail import OutboxMessage

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "Cell",
    "calendar_dag_id",
    "cycle_dag_id",
    "cycle_years",
    "files_by_cell",
    "messages_as_of",
    "sent_by",
]

#: A cell of a cycle: (obligation id, period, region code).
Cell = tuple[str, str, str]


def cycle_dag_id(programme_id: str, obligation_id: str) -> str:
    """The dag_id of the review cycle of one obligation (``dags/review_cycle.py``)."""
    return f"review_cycle__{programme_id}__{obligation_id}"


def calendar_dag_id(programme_id: str) -> str:
    """The dag_id of a programme's calendar DAG (``dags/programme_calendar.py``)."""
    return f"programme_calendar__{programme_id}"


def files_by_cell(session: Session, programme_id: str, year: int) -> dict[Cell, list[Submission]]:
    """Every stored file of a cycle that names its region, any status, by cell.

    The pages pass a cell's files to
    :func:`~review_calendar.aggregate.states.submission_state`, which decides the
    cell's state (corrections and rejected files included).
    """
    stmt = select(Submission).where(
        Submission.programme_id == programme_id,
        Submission.cycle_year == year,
        Submission.region_code.is_not(None),
    )
    out: dict[Cell, list[Submission]] = defaultdict(list)
    for s in session.scalars(stmt):
        out[(s.obligation_id, s.period, s.region_code)].append(s)
    return out


def cycle_years(session: Session, programme_id: str | None = None) -> list[int]:
    """Cycle years that have data (instances or submissions), newest first.

    Args:
        session: Open session on the review database.
        programme_id: Only this programme's years (default: every programme's).
    """
    years: set[int] = set()
    for model in (ObligationInstanceRow, Submission):
        stmt = select(model.cycle_year).distinct()
        if programme_id is not None:
            stmt = stmt.where(model.programme_id == programme_id)
        years.update(y for y in session.scalars(stmt) if y is not None)
    return sorted(years, reverse=True)


def messages_as_of(session: Session, today: dt.date, *where: Any) -> list[OutboxMessage]:
    """The outgoing messages written on or before ``today`` (the pages' as-of day) that match ``where``."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.created_on <= today, *where)))


def sent_by(message: OutboxMessage, today: dt.date) -> bool:
    """Whether a message had been sent by the end of ``today`` (Beijing day; a naive time is UTC)."""
    at = message.sent_at
    if message.status != "sent" or at is None:
        return message.status == "sent" and at is None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(TZ).date() <= today
