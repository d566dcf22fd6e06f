"""第十七条 proposals: every year's grounds for reporting a recognised cluster to MIIT.

工信部企业〔2022〕119号 第十七条 gives MIIT five grounds to revoke a recognition.
They are not only an expiry matter: each year the province sees (三) in its own
records (the 年度培育情况信息表 of 第十六条 missing, rejected and never
corrected, or late against its effective, moved due date), and a reviewer may
record (二), (四) or (五) at any time (``review-calendar findings add``). Each
becomes a proposal (``propose_report``, state ``proposed``, 待审定) in the
decision log with its evidence and basis; nothing is mailed and nothing is
revoked. A proposal a reviewer has answered is never overwritten by a re-run.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.aggregate.states import NOT_ON_TIME_STATES, states_by_region
from review_calendar.decide.rules import ARTICLE_17, annual_table_proposal, article17_proposal
from review_calendar.domain.verdicts import ANSWERED_STATES, decision_state
from review_calendar.store.decision_log import record_decision
from review_calendar.store.queries import expected_submitters
from review_calendar.store.tables.decisions import Decision
from review_calendar.store.tables.registry import Enrolment
from review_calendar.store.tables.review import Finding

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.domain.verdicts import Verdict

#: The decision kind of a 第十七条 proposal.
KIND = "article17"


def answered(session: Session, programme_id: str, year: int, kind: str, subject: str) -> bool:
    """A reviewer (or MIIT) has answered the recorded proposal: a re-run must not overwrite it."""
    row = session.scalar(
        select(Decision).where(
            Decision.programme_id == programme_id,
            Decision.cycle_year == year,
            Decision.kind == kind,
            Decision.subject == subject,
        )
    )
    return row is not None and decision_state(row.figures) in ANSWERED_STATES


def record_proposal(
    session: Session, programme: Programme, year: int, kind: str, verdict: Verdict, run_id: str
) -> bool:
    """Record a proposal unless a reviewer has already answered it; True when something was written."""
    if answered(session, programme.id, year, kind, verdict.subject):
        return False
    return record_decision(session, programme.id, year, kind, verdict, run_id)


def finding_proposal(programme: Programme, finding: Finding) -> Verdict:
    """The proposal of one recorded finding (第十七条（二）, （四） or （五）)."""
    evidence = {"finding_year": finding.cycle_year, "note": finding.note, "recorded_by": finding.recorded_by}
    explanation = f"审阅人记录的情形：{finding.note or ARTICLE_17[finding.condition]}"
    return article17_proposal(programme, finding.cluster_id, finding.condition, evidence, explanation)


def propose_for_finding(
    session: Session, programme: Programme, finding: Finding, run_id: str = "findings-add"
) -> bool:
    """Record the proposal of a finding as soon as it is recorded (any year, not only at expiry)."""
    if programme.re_review is None or programme.re_review.decided_by != "ministry":
        return False
    verdict = finding_proposal(programme, finding)
    verdict.figures.update(cluster=finding.cluster_id)
    return record_proposal(session, programme, finding.cycle_year, KIND, verdict, run_id)


def propose_article17(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool
) -> dict[str, Any]:
    """The year's 第十七条 proposals: (三) for each expected annual table not on time, and the year's findings.

    Args:
        session: Open session; the caller commits.
        programme: A programme whose ``re_review.annual_table`` is ``instance``'s obligation.
        instance: The annual-table instance (its effective due date decides lateness).
        run_id: The deciding run, kept with each proposal.
        dry_run: Accepted for symmetry: proposals change nothing but the log.

    Returns:
        ``{"kind": "article17", "proposals": n, "by_ground": {ground: n}, "dry_run": ...}``.
    """
    year = instance.cycle_year
    # A cluster recognised after the table's due date did not owe it.
    recognised = dict(
        session.execute(
            select(Enrolment.cluster_id, Enrolment.recognised_on).where(
                Enrolment.programme_id == programme.id
            )
        ).all()
    )
    submitters = [
        s
        for s in expected_submitters(session, programme, instance)
        if s.cluster_id and recognised.get(s.cluster_id, dt.date.max) <= instance.effective_due
    ]
    states = states_by_region(session, instance, dt.date.max, [s.region_code for s in submitters])
    proposals: list[Verdict] = []
    for s in submitters:
        state = states[s.region_code].state
        if state in NOT_ON_TIME_STATES:
            verdict = annual_table_proposal(programme, s.cluster_id, state, instance.effective_due)
            verdict.figures.update(cluster=s.cluster_name, region_code=s.region_code)
            proposals.append(verdict)
    findings = session.scalars(
        select(Finding).where(Finding.programme_id == programme.id, Finding.cycle_year == year)
    )
    for finding in findings:
        if finding.condition in ARTICLE_17:
            verdict = finding_proposal(programme, finding)
            verdict.figures.update(cluster=finding.cluster_id)
            proposals.append(verdict)
    by_ground: dict[str, int] = {}
    for verdict in proposals:
        record_proposal(session, programme, year, KIND, verdict, run_id)
        ground = verdict.figures["ground"]
        by_ground[ground] = by_ground.get(ground, 0) + 1
    return {"kind": KIND, "proposals": len(proposals), "by_ground": by_ground, "dry_run": dry_run}


#: Decision kinds that wait for MIIT's word on a cluster (re-review recommendation, 第十七条 proposal).
MINISTRY_KINDS = ("re_review", KIND)


def record_ministry_decision(session: Session, programme: Programme, fact: Any) -> dict[str, Any]:
    """MIIT's decision on a cluster, recorded by the province: the pending records say so, the status follows.

    工信部企业〔2022〕119号 第十五条 (re-review: extended by three years) and 第十七条
    (revocation) are MIIT's decisions; the province records them when they arrive
    (``review-calendar record miit-decision`` or the ``record_fact`` form). The
    cluster's re-review recommendation and 第十七条 proposals of the fact's year get
    state ``ministry_decided`` with the decision, its 文号 and who recorded it; the
    enrolment follows MIIT: ``extend`` moves ``valid_until`` by the programme's
    ``validity.extension_years`` (once: a repeated record does not extend again),
    ``revoke_recognition`` revokes it, ``keep`` changes nothing.

    Args:
        session: Open session.
        programme: The programme (Programme B).
        fact: The stored :class:`~review_calendar.store.models.RecordedFact` (kind ``miit_decision``).

    Returns:
        ``{"updated": n, "enrolment": status or None}``.
    """
    from review_calendar.domain.calendar import extend_validity

    decision = {
        "decision": fact.outcome,
        "reference": fact.reference,
        "date": fact.on_date.isoformat() if fact.on_date else None,
        "recorded_by": fact.recorded_by,
    }
    rows = session.scalars(
        select(Decision).where(
            Decision.programme_id == programme.id,
            Decision.cycle_year == fact.cycle_year,
            Decision.kind.in_(MINISTRY_KINDS),
        )
    ).all()
    updated = 0
    for row in rows:
        if row.subject == fact.subject or row.subject.startswith(f"{fact.subject}/"):
            row.figures = {**row.figures, "state": "ministry_decided", "ministry_decision": decision}
            updated += 1
    enrolment = session.get(Enrolment, (programme.id, fact.subject))
    if enrolment is not None:
        reason = f"工业和信息化部决定（{fact.reference or '文号未记录'}）"
        if fact.outcome == "extend" and enrolment.status_reason != reason:
            enrolment.valid_until = extend_validity(enrolment.valid_until, programme.validity.extension_years)
            enrolment.status, enrolment.status_reason = "extended", reason
        elif fact.outcome == "revoke_recognition":
            enrolment.status, enrolment.status_reason = "revoked", reason
    return {"updated": updated, "enrolment": None if enrolment is None else enrolment.status}
