"""Who decided, by name, and the decision DAG's runs that asked, in words.

A decision records the reviewer's login and, since answers are taken with the
roster, the name shown then (``decided_by_name``); older records and the ledger
of returns and extensions hold the login only, named here by the roster
(:func:`review_calendar.domain.people.display_name`). The runs of
``decisions__<programme>`` are named by Airflow (``asset_triggered__<moment>``)
or by us (``ask_again__2025_Y__decision17_round1``); pages name them by the
cycle year, the period and the round instead: ``2025 年度审定 · 第 1 次询问``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.domain.labels import period_label
from review_calendar.domain.people import display_name
from review_calendar.store.tables.review import DecisionReview

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.people import Person
    from review_calendar.store.tables.decisions import Decision

__all__ = [
    "ReviewRun",
    "cycle_run_words",
    "cycle_words",
    "decided_by_name",
    "review_run_words",
    "review_runs",
]


def decided_by_name(login: str, recorded: str = "", roster: Mapping[str, Person] | None = None) -> str:
    """The reviewer's name as recorded with the answer, else by the roster, else the login."""
    if recorded and recorded != login:
        return recorded
    return display_name(login, roster) if login else ""


def cycle_words(cycle_year: int, period: str = "") -> str:
    """``2025 年度上半年``; the whole year is ``2025 年度`` (titles omit 全年)."""
    return f"{cycle_year} 年度{period_label(period or 'Y')}"


def cycle_run_words(cycle_year: int, period: str = "") -> str:
    """``2025 年度上半年审查运行``: a cycle DAG run named by what it serves."""
    return f"{cycle_words(cycle_year, period)}审查运行"


def review_run_words(cycle_year: int, period: str, round_: int) -> str:
    """``2025 年度审定 · 第 2 次询问``: a run of the decision DAG named by the proposal it asked."""
    return f"{cycle_words(cycle_year, period)}审定 · 第 {round_} 次询问"


@dataclass(frozen=True, slots=True)
class ReviewRun:
    """One Required Action asked about a proposal: its run in words and where Airflow shows it.

    ``path`` is relative to the Airflow UI's base (the Required Action of that task instance).
    """

    dag_id: str
    run_id: str
    words: str
    path: str
    open: bool


def _path(review: DecisionReview) -> str:
    from urllib.parse import quote

    mapped = f"/mapped/{review.map_index}" if review.map_index is not None and review.map_index >= 0 else ""
    return (f"dags/{quote(review.dag_id, safe='')}/runs/{quote(review.run_id, safe='')}"
            f"/tasks/{quote(review.task_id, safe='')}{mapped}/required_actions")  # fmt: skip


def review_runs(session: Session, decisions: Iterable[Decision]) -> dict[int, tuple[ReviewRun, ...]]:
    """Decision id → the Required Actions asked about it, first round first."""
    by_id = {d.id: d for d in decisions}
    if not by_id:
        return {}
    stmt = (
        select(DecisionReview)
        .where(DecisionReview.decision_id.in_(list(by_id)))
        .order_by(DecisionReview.decision_id, DecisionReview.round)
    )
    out: dict[int, list[ReviewRun]] = {}
    for review in session.scalars(stmt):
        d = by_id[review.decision_id]
        period = str((d.figures or {}).get("period") or "")
        out.setdefault(d.id, []).append(
            ReviewRun(
                review.dag_id,
                review.run_id,
                review_run_words(d.cycle_year, period, review.round),
                _path(review),
                review.answer is None,
            )  # fmt: skip
        )
    return {k: tuple(v) for k, v in out.items()}
