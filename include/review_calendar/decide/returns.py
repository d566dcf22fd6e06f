"""Reviewers read what needs reading: each accepted file is a proposal to accept it, or to return it.

A file that passed intake can still be wrong in substance (a plan's 总体思路 or
保障措施 that says nothing). For an obligation marked ``needs_reading`` in its
programme file (development plans, re-review materials), every accepted file
becomes a proposal of kind ``submission_review`` (outcome
``submission_accepted``, state ``proposed``) with the region, the file and a
link to the instance's page, recorded in the file's own transaction. One
proposal per file: a re-run proposes nothing again, a corrected file (a new
submission) is a new proposal.

The reviewer approves it (nothing more happens) or returns it, with a comment
and a new due date (the Required Action's ``退回补充材料``, or a change to
``submission_returned``): :func:`apply_return` records the return
(:mod:`review_calendar.store.due_changes`), so the region shows 退回修改 until a
corrected file arrives (:mod:`review_calendar.aggregate.states`); the county's
e-mail is queued by :mod:`review_calendar.tasks.returns`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.decide.proposals import record_proposal
from review_calendar.domain.programmes import find_instance
from review_calendar.domain.verdicts import Verdict
from review_calendar.store.due_changes import save_change
from review_calendar.store.tables.intake import Submission
from review_calendar.store.tables.registry import Region
from review_calendar.store.tables.review import DecisionReview

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.tables.decisions import Decision

#: The decision kind of a submission a reviewer reads.
KIND = "submission_review"
#: Where the reviewers' pages show an instance's files (under the Airflow UI's plugin prefix).
PAGES_PREFIX = "/review-calendar/programmes"


@dataclass(frozen=True, slots=True)
class ReturnedFile:
    """A file a reviewer returned, with what the county is told.

    Attributes:
        instance: The obligation instance the file was for.
        region_code: The county.
        region_name: Its name.
        submission_id: The returned file.
        file_name: The file as the county named it.
        received_on: When the returned file was received.
        comment: The reviewer's comment (what to correct).
        new_due: The new due date (None: none was set).
        decided_by: The reviewer.
        new: The return was recorded now (False: recorded before; nothing to send again).
        receipt_no: The file's 受理编号 ("" for a file received before receipts were numbered).
    """

    instance: ObligationInstance
    region_code: str
    region_name: str
    submission_id: int
    file_name: str
    received_on: dt.date
    comment: str
    new_due: dt.date | None
    decided_by: str
    new: bool
    receipt_no: str = ""


def instance_link(instance: ObligationInstance) -> str:
    """The path of an instance's page in the reviewers' pages (its files, states and documents)."""
    return f"{PAGES_PREFIX}/{instance.programme_id}/{instance.cycle_year}/{instance.obligation_id}/{instance.period}"


def review_subject(instance: ObligationInstance, region_code: str, submission_id: int) -> str:
    """The proposal's subject: one per file (``obligation/period/region/submission``)."""
    return f"{instance.obligation_id}/{instance.period}/{region_code}/{submission_id}"


def review_proposal(
    programme: Programme, instance: ObligationInstance, sub: Submission, region_name: str
) -> Verdict:
    """The proposal to accept one file after reading it (a reviewer may return it instead)."""
    obligation = programme.obligation(instance.obligation_id)
    when = "按时" if not sub.is_late else "逾期"
    reason = (
        f"{region_name}报送的“{instance.title}”文件“{sub.file_name}”已通过校验并受理"
        f"（{sub.received_on.isoformat()}收到，{when}），请审阅内容：拟通过审阅；内容不符合要求的可退回修改，"
        "写明修改意见和新的截止日期"
    )
    figures: dict[str, Any] = {
        "state": "proposed",
        "region_code": sub.region_code,
        "region_name": region_name,
        "submission_id": sub.id,
        "file_name": sub.file_name,
        "received_on": sub.received_on.isoformat(),
        "is_late": bool(sub.is_late),
        "obligation": instance.obligation_id,
        "obligation_title": instance.title,
        "period": instance.period,
        "due": instance.effective_due.isoformat(),
        "link": instance_link(instance),
    }
    return Verdict(
        review_subject(instance, sub.region_code or "-", sub.id),
        "submission_accepted",
        reason,
        f"programmes/{programme.id}.yaml: obligations.{obligation.id}.needs_reading",
        obligation.clause,
        figures,
    )


def propose_review(
    session: Session, programme: Programme, instance: ObligationInstance, submission_id: int, run_id: str
) -> bool:
    """Record the proposal to accept an accepted file of an obligation that needs reading.

    Args:
        session: The file's transaction (the caller commits).
        programme: The programme.
        instance: The obligation instance.
        submission_id: The file just accepted.
        run_id: The intake run, kept with the proposal ("" on the command line: ``cli:ingest``).

    Returns:
        True when a proposal was written; False when the obligation needs no reading,
        the file is not an accepted file of a region, or it was proposed (or answered) before.
    """
    if not programme.obligation(instance.obligation_id).needs_reading:
        return False
    sub = session.get(Submission, submission_id)
    if sub is None or sub.status != "accepted" or not sub.region_code:
        return False
    name = session.scalar(select(Region.name).where(Region.code == sub.region_code)) or sub.region_code
    verdict = review_proposal(programme, instance, sub, name)
    # Taken in on the command line there is no run: the proposal still names where it came from.
    return record_proposal(session, programme, instance.cycle_year, KIND, verdict, run_id or "cli:ingest")


def last_answer(session: Session, decision_id: int) -> DecisionReview | None:
    """The round that answered a proposal (approve, change or return), if any."""
    return session.scalar(
        select(DecisionReview)
        .where(
            DecisionReview.decision_id == decision_id,
            DecisionReview.answer.in_(("approve", "change", "return")),
        )
        .order_by(DecisionReview.round.desc())
        .limit(1)
    )


def answered_comment_and_due(session: Session, decision: Decision) -> tuple[str, dt.date | None]:
    """The reviewer's comment and new due date: the answering round's, else the decision's figures."""
    review = last_answer(session, decision.id)
    if review is not None:
        return review.reason or "", review.new_due
    due = (decision.figures or {}).get("new_due")
    return str((decision.figures or {}).get("answer_reason") or ""), dt.date.fromisoformat(
        due
    ) if due else None


def decision_instance(programme: Programme, decision: Decision) -> ObligationInstance:
    """The obligation instance a ``submission_review`` or ``extension`` decision is about."""
    figures = decision.figures or {}
    return find_instance(programme, decision.cycle_year, figures["obligation"], figures.get("period") or "Y")


def apply_return(
    session: Session, programme: Programme, decision: Decision, comment: str, new_due: dt.date | None, by: str
) -> ReturnedFile | None:
    """Record that the reviewer returned the decision's file: the region owes a corrected file.

    Args:
        session: Open session; the caller commits.
        programme: The programme.
        decision: The ``submission_review`` proposal answered.
        comment: What to correct (the reviewer's reason).
        new_due: The new due date (None: the return holds until the correction arrives).
        by: The reviewer.

    Returns:
        The returned file (``new`` False when this return was recorded before), or None when
        the decision is not a file's review.
    """
    figures = decision.figures or {}
    if decision.kind != KIND or not figures.get("submission_id") or not figures.get("region_code"):
        return None
    instance = decision_instance(programme, decision)
    _, new = save_change(
        session,
        decision_id=decision.id,
        instance=instance,
        region_code=figures["region_code"],
        kind="return",
        due=new_due,
        submission_id=int(figures["submission_id"]),
        comment=comment,
        decided_by=by,
    )
    return ReturnedFile(
        instance=instance,
        region_code=figures["region_code"],
        region_name=figures.get("region_name") or figures["region_code"],
        submission_id=int(figures["submission_id"]),
        file_name=figures.get("file_name", ""),
        received_on=dt.date.fromisoformat(figures["received_on"]),
        comment=comment,
        new_due=new_due,
        decided_by=by,
        new=new,
        receipt_no=session.scalar(
            select(Submission.receipt_no).where(Submission.id == int(figures["submission_id"]))
        )
        or "",
    )
