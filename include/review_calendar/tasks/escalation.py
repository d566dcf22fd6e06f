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


def follow_up_rectifications(
    as_of: str, programme_id: str | None = None, *, dry_run: bool = False
) -> dict[str, Any]:
    """Check every open rectification follow-up and queue its notice and reminders of the day.

    Runs after the inbox sweep, so a report that arrived overnight counts and its
    region is not reminded.

    Args:
        as_of: The planning day (ISO date).
        programme_id: Only this programme (None: every programme with a rectification report).
        dry_run: Compute and describe, write nothing.

    Returns:
        ``{"as_of", "dry_run", "queued", "programmes": {id: {"states": {cluster: state}, "queued"}}}``.
    """
    from review_calendar.decide.rectification import OBLIGATION, check_follow_ups
    from review_calendar.domain.calendar import default_calendar
    from review_calendar.domain.programmes import load_programmes
    from review_calendar.intake.templates import template_for
    from review_calendar.notify.follow_ups import plan_follow_up_reminders
    from review_calendar.store.db import session_scope, upgrade

    settings = get_settings()
    day = dt.date.fromisoformat(as_of)
    upgrade(settings.db_url)
    calendar = default_calendar()
    totals: dict[str, Any] = {"as_of": as_of, "dry_run": dry_run, "queued": 0, "programmes": {}}
    # Templates are kept per due date: each states its follow-up's own deadline.
    folder = settings.home / "templates" / "follow_ups"
    for pid, programme in load_programmes(settings.programmes_dir).items():
        if programme_id not in (None, pid) or OBLIGATION not in {o.id for o in programme.obligations}:
            continue
        with session_scope(settings.db_url) as session:
            states = check_follow_ups(session, programme, day)
            plan = plan_follow_up_reminders(
                session, programme, day, calendar,
                template_for=lambda i, p=programme: template_for(p, i, folder=folder / i.effective_due.isoformat()),
            )  # fmt: skip
            if dry_run:
                session.rollback()
        totals["queued"] += plan.queued
        totals["programmes"][pid] = {
            "states": {f.cluster_id: s.state for f, s in states},
            "queued": plan.queued,
        }
    return totals
