"""What an answered proposal does: the one place a decision changes a cluster's status or money.

The cycle only proposes (:mod:`review_calendar.decide.apply`,
:mod:`~review_calendar.decide.proposals`, :mod:`~review_calendar.decide.recognition`...);
a named reviewer answers in Airflow (:mod:`review_calendar.decide.answers`), and
only then :func:`apply_effect` runs, once, with the outcome the reviewer
approved or chose instead. Each kind lists the outcomes a reviewer may change
to (:data:`ALTERNATIVES`); a kind with no effect here only records the answer.
A decision that belongs to MIIT (工信部企业〔2022〕119号 第十五条, 第十七条) is
not applied: the approved recommendation goes to state ``awaiting_ministry``
and MIIT's answer is recorded later
(:func:`review_calendar.decide.proposals.record_ministry_decision`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from review_calendar.decide.rules import RECOMMENDATIONS, REVOCATIONS
from review_calendar.domain.labels import OUTCOMES
from review_calendar.domain.verdicts import Verdict
from review_calendar.store.db import upsert
from review_calendar.store.decision_log import record_decision
from review_calendar.store.tables.registry import Cluster, Enrolment
from review_calendar.store.tables.review import Subsidy

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme
    from review_calendar.store.tables.decisions import Decision

SUBSIDY_KEY = ["programme_id", "beneficiary", "cycle_year", "kind"]

#: Outcomes a reviewer may choose instead of the proposed one, per decision kind.
ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "evaluation": ("continue", "rectify", "stop_support", "revoke"),
    "re_review": ("extend", "revoke_recognition", "undeterminable"),
    "article17": ("propose_report", "no_report"),
    "recognition": ("propose_recognition", "not_eligible"),
    "base_re_review": ("propose_revoke_title", "keep_title"),
    "subsidy": ("granted", "refused"),
    "bulletin": ("commended", "not_commended"),
    "extension": ("extension_granted", "extension_refused"),
    "submission_review": ("submission_accepted", "submission_returned"),
}

#: What a proposed outcome becomes once the deciding department approves it (the rest keep their code).
DECIDED_AS: dict[str, str] = {"propose_revoke_title": "revoke_title", "propose_recognition": "recognised"}

#: Kinds whose approved outcome is a recommendation to MIIT: state ``awaiting_ministry``, nothing applied.
MINISTRY_OUTCOMES = (*RECOMMENDATIONS, "propose_report")


def alternatives(kind: str, programme: Programme | None = None) -> tuple[str, ...]:
    """The outcomes a reviewer may choose for a proposal of ``kind`` (empty: only approve or return).

    Where MIIT decides the re-review (工信部企业〔2022〕119号 第十五条), the province can
    only recommend: extending or revoking is not among its choices.
    """
    if kind == "re_review" and programme is not None and programme.re_review is not None:
        if programme.re_review.decided_by == "ministry":
            return (*RECOMMENDATIONS, "undeterminable")
    return ALTERNATIVES.get(kind, ())


def _enrolment(session: Session, programme: Programme, decision: Decision) -> Enrolment | None:
    return session.get(Enrolment, (programme.id, decision.subject))


def _claw_back(session: Session, programme: Programme, decision: Decision, by: str) -> None:
    """Book the claw-back of a revoked pilot's subsidy, recorded as a decision of its own (decided by ``by``)."""
    amount = decision.figures.get("clawback_wan_yuan") or 0.0
    if not amount:
        return
    cluster = session.get(Cluster, decision.subject)
    row = {
        "programme_id": programme.id,
        "beneficiary": decision.subject,
        "region_code": cluster.region_code if cluster else decision.figures.get("region_code"),
        "cycle_year": decision.cycle_year,
        "kind": "clawback",
        "amount_wan_yuan": amount,
        "rule": decision.rule,
    }
    upsert(session, Subsidy, [row], SUBSIDY_KEY)
    verdict = Verdict(
        decision.subject,
        "clawback",
        f"{OUTCOMES['clawback']} {amount:g} 万元",
        decision.rule,
        decision.clause,
        {"amount_wan_yuan": amount, "state": "approved", "decided_by": by,
         "decided_at": dt.datetime.now(dt.UTC).isoformat(),
         "region_code": row["region_code"], "cluster": decision.figures.get("cluster", decision.subject)},
    )  # fmt: skip
    record_decision(session, programme.id, decision.cycle_year, "clawback", verdict, decision.run_id)


def _evaluation(session: Session, programme: Programme, decision: Decision, outcome: str, by: str) -> None:
    """冀工信产业〔2016〕93号 五: revocation with claw-back, or the support that continues or stops."""
    from zoneinfo import ZoneInfo

    from review_calendar.decide.rectification import open_rectification
    from review_calendar.domain import TIMEZONE

    if outcome == "rectify":  # the rectification report (整改报告) is due from the day of the answer
        open_rectification(session, programme, decision, dt.datetime.now(ZoneInfo(TIMEZONE)).date())
    enrolment = _enrolment(session, programme, decision)
    if enrolment is None:
        return
    reason = decision.figures.get("reason", "")
    if outcome in REVOCATIONS:
        enrolment.status, enrolment.status_reason = "revoked", reason
        _claw_back(session, programme, decision, by)
    elif outcome in ("rectify", "stop_support"):
        enrolment.status_reason = reason


def _re_review(session: Session, programme: Programme, decision: Decision, outcome: str, by: str) -> None:
    """A re-review the department decides itself: extend to the new date, or revoke."""
    enrolment = _enrolment(session, programme, decision)
    if enrolment is None:
        return
    reason = decision.figures.get("reason", "")
    if outcome == "extend" and decision.figures.get("new_valid_until"):
        enrolment.valid_until = dt.date.fromisoformat(decision.figures["new_valid_until"])
        enrolment.status, enrolment.status_reason = "extended", reason
    elif outcome in REVOCATIONS:
        enrolment.status, enrolment.status_reason = "revoked", reason


def _recognition(session: Session, programme: Programme, decision: Decision, outcome: str, by: str) -> None:
    """A recognition the reviewer approved is enrolled from the day of the answer (programme `recognition`)."""
    from review_calendar.decide.recognition import record_enrolment

    if outcome not in ("propose_recognition", "recognised"):
        return
    region = decision.figures.get("region_code")
    name = decision.figures.get("cluster_name") or decision.figures.get("cluster") or decision.subject
    if region:
        record_enrolment(session, programme, region, name, dt.datetime.now(dt.UTC).date(), recorded_by=by)


def _base_re_review(
    session: Session, programme: Programme, decision: Decision, outcome: str, by: str
) -> None:
    """Henan: a base whose re-review failed loses its title once the reviewer approves."""
    enrolment = _enrolment(session, programme, decision)
    if enrolment is not None and outcome in ("propose_revoke_title", "revoke_title"):
        enrolment.status, enrolment.status_reason = "revoked", decision.figures.get("reason", "")


#: The effect of an approved or changed outcome, per decision kind.
EFFECTS: dict[str, Callable[[Session, Programme, Decision, str, str], None]] = {
    "evaluation": _evaluation,
    "re_review": _re_review,
    "recognition": _recognition,
    "base_re_review": _base_re_review,
}


def register(kind: str, effect: Callable[[Session, Programme, Decision, str, str], None]) -> None:
    """Add the effect of a decision kind (modules that propose a kind register what it does)."""
    EFFECTS[kind] = effect


def apply_effect(session: Session, programme: Programme, decision: Decision, outcome: str, by: str) -> str:
    """Apply the answered outcome of ``decision`` and say which state it leaves the decision in.

    Args:
        session: Open session; the caller commits.
        programme: The decision's programme.
        decision: The proposal being answered.
        outcome: The outcome approved (the proposed one) or chosen instead.
        by: Who decided (the reviewer's user name).

    Returns:
        ``awaiting_ministry`` for a recommendation to MIIT (nothing applied), else ``applied``.
    """
    if outcome in MINISTRY_OUTCOMES:
        return "awaiting_ministry"
    effect = EFFECTS.get(decision.kind)
    if effect is not None:
        effect(session, programme, decision, outcome, by)
    return "applied"


def figures_after(decision: Decision, **changes: Any) -> dict[str, Any]:
    """A copy of the decision's figures with ``changes`` (JSON columns change only when reassigned)."""
    return {**(decision.figures or {}), **changes}
