"""The decision log: every verdict recorded once, keyed by (programme, year, kind, subject).

Acceptance of files, gate runs, evaluations, re-reviews, claw-backs and subsidies
all land in the ``decisions`` table with the rule, the clause and the figures that
decided them, so a reviewer can read why and an auditor can see which run decided.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.store.tables.decisions import Decision

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.verdicts import Verdict


def record_decision(
    session: Session,
    programme_id: str,
    cycle_year: int,
    kind: str,
    verdict: Verdict,
    run_id: str,
    known: dict[str, Decision] | None = None,
) -> bool:
    """Store ``verdict`` keyed by (programme, year, kind, subject).

    A re-run that reaches the same outcome keeps the first record (its run and
    time stay those of the run that decided); a different outcome replaces it and
    keeps the previous outcome in the figures.

    Args:
        session: An open session; the caller commits.
        programme_id: The programme.
        cycle_year: The cycle year the decision belongs to.
        kind: A key of ``domain.labels.DECISION_KINDS`` (``acceptance``, ``gate``, ``evaluation``...).
        verdict: What was decided; its reason is kept in the figures.
        run_id: The run that decided (an Airflow run id or a CLI run name).
        known: The decisions of this programme, year and kind by subject, read
            once by the caller (intake's batch), kept up to date here; None asks
            the database.

    Returns:
        True when something was written.
    """
    if known is not None:
        existing = known.get(verdict.subject)
    else:
        existing = session.scalar(
            select(Decision).where(
                Decision.programme_id == programme_id,
                Decision.cycle_year == cycle_year,
                Decision.kind == kind,
                Decision.subject == verdict.subject,
            )
        )
    figures = {**verdict.figures, "reason": verdict.reason}
    if existing is not None:
        if existing.outcome == verdict.outcome and existing.figures == figures:
            return False
        figures["previous_outcome"] = existing.outcome
        existing.outcome, existing.rule, existing.clause = verdict.outcome, verdict.rule, verdict.clause
        existing.figures, existing.run_id = figures, run_id
        existing.decided_at = dt.datetime.now(dt.UTC)
        return True
    decision = Decision(
        programme_id=programme_id,
        cycle_year=cycle_year,
        kind=kind,
        subject=verdict.subject,
        outcome=verdict.outcome,
        rule=verdict.rule,
        clause=verdict.clause,
        figures=figures,
        run_id=run_id,
    )
    session.add(decision)
    if known is not None:
        known[verdict.subject] = decision
    else:
        session.flush()
    return True
