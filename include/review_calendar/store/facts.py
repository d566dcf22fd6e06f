"""Storing recorded facts (:mod:`review_calendar.domain.facts`) and reading them back."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.domain.facts import Fact, checked, natural_key
from review_calendar.store.tables.review import RecordedFact

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def save_fact(
    session: Session, fact: Fact, *, recorded_by: str, source: str, at: dt.datetime | None = None
) -> tuple[RecordedFact, bool]:
    """Record ``fact`` (checked first); the same fact again updates the row instead of adding one.

    Args:
        session: Open session; the caller commits.
        fact: The fact.
        recorded_by: Who records it (the Airflow user who triggered the form, or the CLI's ``--by``).
        source: ``airflow`` or ``cli``.
        at: When (default: now, UTC).

    Returns:
        The row and whether it is new.

    Raises:
        review_calendar.domain.facts.FactError: The fact is incomplete or inconsistent,
            or nobody is named as recording it.
    """
    from review_calendar.domain.facts import FactError

    if not recorded_by.strip():
        raise FactError("请填写记录人")
    fact = checked(fact)
    key = natural_key(fact)
    values = {
        "cycle_year": fact.cycle_year,
        "period": fact.period,
        "subject": fact.subject,
        "on_date": fact.on_date,
        "outcome": fact.outcome,
        "reference": fact.reference,
        "details": fact.details,
        "recorded_by": recorded_by.strip(),
        "recorded_at": at or dt.datetime.now(dt.UTC),
        "source": source,
    }
    row = session.scalar(
        select(RecordedFact).where(
            RecordedFact.programme_id == fact.programme_id,
            RecordedFact.kind == fact.kind,
            RecordedFact.natural_key == key,
        )
    )
    if row is not None:
        for name, value in values.items():
            setattr(row, name, value)
        return row, False
    row = RecordedFact(programme_id=fact.programme_id, kind=fact.kind, natural_key=key, **values)
    session.add(row)
    session.flush()
    return row, True


def facts_of(
    session: Session, programme_id: str, kind: str, *, year: int | None = None, period: str | None = None
) -> list[RecordedFact]:
    """The recorded facts of one kind, optionally of one year and period, oldest first."""
    stmt = select(RecordedFact).where(RecordedFact.programme_id == programme_id, RecordedFact.kind == kind)
    if year is not None:
        stmt = stmt.where(RecordedFact.cycle_year == year)
    if period is not None:
        stmt = stmt.where(RecordedFact.period == period)
    return list(session.scalars(stmt.order_by(RecordedFact.on_date, RecordedFact.id)))
