"""The daily look at unanswered proposals: escalate them to the division head (entry point of the reminders DAG).

Every programme with a ``review`` block is looked at; the e-mails are queued in
the outbox and sent by the reminders DAG's send step. Nothing is decided.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from review_calendar.settings import get_settings

log = logging.getLogger(__name__)


def escalate_proposals(
    as_of: str, programme_id: str | None = None, *, dry_run: bool = False
) -> dict[str, Any]:
    """Queue the day's escalations of every programme's unanswered proposals.

    Args:
        as_of: The planning day (ISO date).
        programme_id: Only this programme (None: every programme with a ``review`` block).
        dry_run: Compute and describe, write nothing.

    Returns:
        ``{"as_of", "dry_run", "queued", "existing", "programmes": {id: summary}}`` (a dry run
        counts what it would queue).
    """
    from review_calendar.domain.calendar import default_calendar
    from review_calendar.domain.programmes import load_programmes
    from review_calendar.notify.escalation import queue_escalations
    from review_calendar.store.db import session_scope, upgrade

    settings = get_settings()
    day = dt.date.fromisoformat(as_of)
    upgrade(settings.db_url)
    calendar = default_calendar()
    totals: dict[str, Any] = {
        "as_of": as_of,
        "dry_run": dry_run,
        "queued": 0,
        "existing": 0,
        "programmes": {},
    }
    for pid, programme in load_programmes(settings.programmes_dir).items():
        if programme_id not in (None, pid) or programme.review is None:
            continue
        with session_scope(settings.db_url) as session:
            plan = queue_escalations(session, programme, day, calendar)
            if dry_run:
                session.rollback()
        totals["queued"] += plan.queued
        totals["existing"] += plan.existing
        totals["programmes"][pid] = plan.to_dict()
    return totals
