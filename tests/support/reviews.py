"""Answering a proposal in unit tests the way the decision DAG does, without Airflow.

The round is opened with :func:`review_calendar.store.reviews.ask` under a task
instance name of the test's own, and the answer taken by the real
:func:`review_calendar.tasks.reviews.take_review_answer` (record, apply once,
queue the notice), from the payload Airflow's HITL operator returns.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import select

_runs = itertools.count(1)


def answer(url: str, programme_id: str, kind: str, subject: str, option: str = "批准", by: str = "hebei_reviewer",
           **form: Any) -> dict[str, Any]:  # fmt: skip
    """Ask about the proposal (programme, kind, subject) and take ``option`` with ``form`` as the answer."""
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Decision
    from review_calendar.store.reviews import AskedIn, ask
    from review_calendar.tasks.reviews import REVIEW_TASK, take_review_answer

    run_id = f"test__{next(_runs)}"
    where = AskedIn(f"decisions__{programme_id}", run_id, REVIEW_TASK, 0)
    with session_scope(url) as s:
        decision = s.scalars(select(Decision).where(
            Decision.programme_id == programme_id, Decision.kind == kind, Decision.subject == subject)).one()  # fmt: skip
        ask(s, decision, where)
    payload = {
        "chosen_options": [option],
        "params_input": {"outcome": None, "reason": None, "new_due": None, **form},
        "responded_by_user": {"id": by, "name": by},
        "responded_at": dt.datetime.now(dt.UTC),
    }
    return take_review_answer(programme_id, where.dag_id, run_id, 0, payload)
