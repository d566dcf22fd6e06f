"""The review ledger: each Required Action asked about a proposal, and its answer.

A proposal is a row of the decision log in state ``proposed``
(:mod:`review_calendar.domain.verdicts`). Asking a reviewer opens a round
(:class:`~review_calendar.store.models.DecisionReview`) that names the Airflow
task instance holding the Required Action; the answer closes it with who
decided what, when and why. A proposal with an open round is never asked again,
so a re-run of the cycle or of the decision DAG asks nothing twice; an answer
is recorded once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from review_calendar.domain.verdicts import decision_state
from review_calendar.store.tables.decisions import Decision
from review_calendar.store.tables.review import DecisionReview

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.orm import Session

#: The answers a reviewer can give: approve the proposal, change its outcome (with a reason),
#: or return it for more material.
ANSWERS = ("approve", "change", "return")


@dataclass(frozen=True, slots=True)
class AskedIn:
    """The task instance holding a Required Action."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int


def open_round(session: Session, decision_id: int) -> DecisionReview | None:
    """The unanswered round of a proposal, if one is open."""
    return session.scalar(
        select(DecisionReview).where(
            DecisionReview.decision_id == decision_id, DecisionReview.answer.is_(None)
        )
    )


def rounds(session: Session, decision_id: int) -> list[DecisionReview]:
    """Every round of a proposal, oldest first."""
    return list(
        session.scalars(
            select(DecisionReview)
            .where(DecisionReview.decision_id == decision_id)
            .order_by(DecisionReview.round)
        )
    )


def to_ask(
    session: Session,
    programme_id: str,
    *,
    decision_ids: Iterable[int] | None = None,
    cycle_years: Iterable[int] | None = None,
) -> list[Decision]:
    """Proposals of a programme waiting to be asked: state ``proposed`` and no open round.

    Args:
        session: Open session.
        programme_id: The programme.
        decision_ids: Only these decisions (a run asked to ask again about one).
        cycle_years: Only these cycle years (the instances whose Asset started the run).

    Returns:
        The decisions, by cycle year, kind and subject.
    """
    stmt = select(Decision).where(Decision.programme_id == programme_id)
    if decision_ids is not None:
        stmt = stmt.where(Decision.id.in_(list(decision_ids)))
    if cycle_years is not None:
        stmt = stmt.where(Decision.cycle_year.in_(list(cycle_years)))
    open_ids = select(DecisionReview.decision_id).where(DecisionReview.answer.is_(None))
    stmt = stmt.where(Decision.id.not_in(open_ids)).order_by(
        Decision.cycle_year, Decision.kind, Decision.subject
    )
    return [d for d in session.scalars(stmt) if decision_state(d.figures) == "proposed"]


def ask(session: Session, decision: Decision, where: AskedIn, note: str = "") -> DecisionReview:
    """Open the next round of ``decision`` in the task instance ``where``.

    An open round is returned as it is (asking twice records once).
    """
    current = open_round(session, decision.id)
    if current is not None:
        return current
    last = session.scalar(
        select(func.max(DecisionReview.round)).where(DecisionReview.decision_id == decision.id)
    )
    review = DecisionReview(
        decision_id=decision.id,
        round=(last or 0) + 1,
        proposed_outcome=decision.outcome,
        dag_id=where.dag_id,
        run_id=where.run_id,
        task_id=where.task_id,
        map_index=where.map_index,
        note=note,
        reason="",
        escalations=0,
        asked_at=dt.datetime.now(dt.UTC),
    )
    session.add(review)
    session.flush()
    return review


def asked_in(session: Session, where: AskedIn) -> DecisionReview | None:
    """The round asked in that task instance (latest round if several)."""
    return session.scalar(
        select(DecisionReview)
        .where(
            DecisionReview.dag_id == where.dag_id,
            DecisionReview.run_id == where.run_id,
            DecisionReview.task_id == where.task_id,
            DecisionReview.map_index == where.map_index,
        )
        .order_by(DecisionReview.round.desc())
    )


def open_rounds(session: Session, programme_id: str) -> list[tuple[DecisionReview, Decision]]:
    """Every unanswered round of a programme with its proposal, oldest question first."""
    stmt = (
        select(DecisionReview, Decision)
        .join(Decision, Decision.id == DecisionReview.decision_id)
        .where(Decision.programme_id == programme_id, DecisionReview.answer.is_(None))
        .order_by(DecisionReview.asked_at, DecisionReview.id)
    )
    return [(r, d) for r, d in session.execute(stmt)]
