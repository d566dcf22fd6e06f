"""A county's request for more time (延期申请): a proposal to grant it, for a reviewer to decide.

A county asks for a new due date for one obligation instance; the province
records the request (``review-calendar record extension-request`` or the
``record_fact`` form) and it becomes a proposal of kind ``extension``
(outcome ``extension_granted``, state ``proposed``) with the current due date,
the date asked for and the reason. Nothing changes before the answer.

Granted (approved, with the reviewer's own date if the answer gives one): the
region owes the instance by that date (:mod:`review_calendar.store.due_changes`),
so its file is on time until then and it is not reminded as overdue before it.
Refused (``extension_refused``): the original due date stands. The county's
e-mail either way is queued by :mod:`review_calendar.tasks.returns`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.decide.proposals import record_proposal
from review_calendar.decide.returns import decision_instance
from review_calendar.domain.programmes import find_instance
from review_calendar.domain.verdicts import Verdict
from review_calendar.store.due_changes import region_dues, save_change
from review_calendar.store.tables.registry import Region

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.tables.decisions import Decision
    from review_calendar.store.tables.review import RecordedFact

#: The decision kind of a county's request for more time.
KIND = "extension"


@dataclass(frozen=True, slots=True)
class ExtensionAnswer:
    """What the reviewer answered to a request for more time, as the county is told.

    Attributes:
        instance: The obligation instance.
        region_code: The county.
        region_name: Its name.
        granted: True when more time was granted.
        due: The due date now owed: the granted date, or the original one when refused.
        original_due: The due date before the request.
        requested: The date the county asked for.
        reason: The reviewer's reason or note.
        decided_by: The reviewer.
        new: Recorded now (False: a repeated answer, nothing to send again).
    """

    instance: ObligationInstance
    region_code: str
    region_name: str
    granted: bool
    due: dt.date
    original_due: dt.date
    requested: dt.date
    reason: str
    decided_by: str
    new: bool


def current_due(session: Session, instance: ObligationInstance, region_code: str) -> dt.date:
    """The due date a region owes now: the instance's, or a later one an earlier extension granted."""
    granted = region_dues(session, instance).get(region_code)
    if granted is not None and granted.extended_to is not None:
        return max(granted.extended_to, instance.effective_due)
    return instance.effective_due


def extension_proposal(
    programme: Programme, instance: ObligationInstance, fact: RecordedFact, region_name: str, due: dt.date
) -> Verdict:
    """The proposal to grant a recorded request for more time."""
    obligation = programme.obligation(instance.obligation_id)
    requested = fact.on_date
    reason = fact.details.get("reason") or fact.details.get("note") or ""
    figures: dict[str, Any] = {
        "state": "proposed",
        "region_code": fact.subject,
        "region_name": region_name,
        "obligation": instance.obligation_id,
        "obligation_title": instance.title,
        "period": instance.period,
        "current_due": due.isoformat(),
        "requested_due": requested.isoformat(),
        "request_reason": reason,
        "fact_id": fact.id,
        "recorded_by": fact.recorded_by,
    }
    text = (
        f"{region_name}申请将“{instance.title}”的报送截止日期由{due.isoformat()}延至{requested.isoformat()}"
        f"（理由：{reason or '未说明'}）；拟同意延期，审阅人可改定日期或不同意"
    )
    return Verdict(
        f"{instance.obligation_id}/{instance.period}/{fact.subject}/{requested.isoformat()}",
        "extension_granted",
        text,
        f"programmes/{programme.id}.yaml: recorded_facts.extension_request",
        obligation.clause,
        figures,
    )


def propose_extension(session: Session, programme: Programme, fact: RecordedFact, run_id: str) -> bool:
    """Record the proposal of a recorded request for more time; True when something was written.

    The same request recorded again proposes nothing new; another date is another request.
    """
    instance = find_instance(programme, fact.cycle_year, fact.details["obligation"], fact.period or "Y")
    name = session.scalar(select(Region.name).where(Region.code == fact.subject)) or fact.subject
    verdict = extension_proposal(
        programme, instance, fact, name, current_due(session, instance, fact.subject)
    )
    return record_proposal(session, programme, instance.cycle_year, KIND, verdict, run_id)


def apply_extension(
    session: Session,
    programme: Programme,
    decision: Decision,
    outcome: str,
    *,
    new_due: dt.date | None,
    reason: str,
    by: str,
) -> ExtensionAnswer | None:
    """Apply the answer to a request for more time.

    Args:
        session: Open session; the caller commits.
        programme: The programme.
        decision: The ``extension`` proposal answered.
        outcome: ``extension_granted`` or ``extension_refused``.
        new_due: The date the reviewer set instead of the one asked for (None: as asked).
        reason: The reviewer's reason (a refusal's) or note.
        by: The reviewer.

    Returns:
        What the county is told, or None when the decision is not a request for more time.
    """
    figures = decision.figures or {}
    if decision.kind != KIND or outcome not in ("extension_granted", "extension_refused"):
        return None
    instance = decision_instance(programme, decision)
    region = figures["region_code"]
    original = dt.date.fromisoformat(figures["current_due"])
    requested = dt.date.fromisoformat(figures["requested_due"])
    granted = outcome == "extension_granted"
    due = (new_due or requested) if granted else original
    new = True
    if granted:
        _, new = save_change(
            session,
            decision_id=decision.id,
            instance=instance,
            region_code=region,
            kind="extension",
            due=due,
            comment=reason,
            decided_by=by,
        )
    return ExtensionAnswer(
        instance=instance,
        region_code=region,
        region_name=figures.get("region_name") or region,
        granted=granted,
        due=due,
        original_due=original,
        requested=requested,
        reason=reason,
        decided_by=by,
        new=new,
    )
