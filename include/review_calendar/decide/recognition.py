"""Applications: each one checked against the programme's application conditions, as a proposal.

An application (Programme A: 智慧集群建设试点申报) is checked condition by
condition (``programme.recognition.criteria``, with
:func:`~review_calendar.domain.criteria.check_criteria`). The result is a
**proposal** for the reviewers, recorded as a ``recognition`` decision: the
recognition itself is the deciding body's (``recognition.decided_by``: the
province after its review and public notice; for Programme B, MIIT after the
province's first review and recommendation) and is recorded with
``review-calendar enrol`` (:func:`record_enrolment`), never applied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.domain.calendar import valid_until
from review_calendar.domain.criteria import CriterionResult, check_criteria
from review_calendar.domain.labels import CRITERION_RESULTS, OUTCOMES
from review_calendar.domain.verdicts import Verdict
from review_calendar.store.decision_log import record_decision
from review_calendar.store.queries import instance_filter
from review_calendar.store.tables.intake import DatasetRow, Submission
from review_calendar.store.tables.registry import Cluster, Enrolment

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = ["EnrolmentResult", "application_verdict", "propose_recognitions", "record_enrolment"]

_YES_NO = {"是": 1.0, "否": 0.0}


def _indicators(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's values as numbers the criteria compare (是/否 → 1/0)."""
    return {k: _YES_NO.get(v, v) if isinstance(v, str) else v for k, v in record.items()}


def application_verdict(programme: Programme, record: Mapping[str, Any]) -> Verdict:
    """The proposal for one application: every condition met, one not met, or one not determinable.

    Args:
        programme: The programme (its ``recognition`` conditions and deciding body).
        record: The application's row (``pilot_application`` keys).

    Returns:
        ``propose_recognition`` (all conditions met: submit to the review),
        ``not_eligible`` (a condition not met) or ``undetermined`` (a value
        missing); the figures list each condition with its value and result.

    Raises:
        ValueError: The programme has no recognition conditions.
    """
    recognition = programme.recognition
    if recognition is None or not recognition.criteria:
        raise ValueError(f"programme {programme.id!r} has no application conditions")
    results = check_criteria(recognition.criteria, _indicators(record))
    failed = [r for r in results if r.met is False]
    unknown = [r for r in results if r.met is None]
    outcome = "not_eligible" if failed else "undetermined" if unknown else "propose_recognition"
    named = "、".join(r.title for r in failed or unknown)
    reason = {
        "propose_recognition": f"申报条件{len(results)}项全部符合，建议提交{recognition.decided_by}评审；"
        "认定以评审考察和公示结果为准。",
        "not_eligible": f"不符合申报条件：{named}。",
        "undetermined": f"无法判断：{named}未填报，待人工核实。",
    }[outcome]
    return Verdict(
        subject=f"{record.get('region_code')}/{record.get('cluster_name')}",
        outcome=outcome,
        reason=f"{OUTCOMES[outcome]}。{reason}",
        rule=f"programmes/{programme.id}.yaml: recognition.criteria",
        clause=recognition.clause,
        figures={
            "region_code": record.get("region_code"),
            "cluster_name": record.get("cluster_name"),
            "decided_by": recognition.decided_by,
            "steps": list(recognition.steps),
            "conditions": [_condition(r) for r in results],
            "state": "proposed",
        },
    )


def _condition(result: CriterionResult) -> dict[str, Any]:
    code = "unknown" if result.met is None else "met" if result.met else "not_met"
    return {
        "id": result.id,
        "title": result.title,
        "value": result.value,
        "threshold": result.threshold,
        "result": code,
        "label": CRITERION_RESULTS[code],
    }


def propose_recognitions(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool = False
) -> dict[str, Any]:
    """Check every accepted application of the instance and record a proposal for the reviewers.

    Nothing is enrolled: the recognition is recorded when decided (:func:`record_enrolment`).

    Returns:
        ``kind`` ``recognition``, the count per outcome and the proposals (subject, outcome).
    """
    obligation = programme.obligation(instance.obligation_id)
    stmt = (
        select(DatasetRow.data)
        .join(Submission, Submission.id == DatasetRow.submission_id)
        .where(
            *instance_filter(Submission, instance),
            Submission.status == "accepted",
            DatasetRow.dataset == obligation.dataset,
        )
    )
    counts: dict[str, int] = {}
    proposals = []
    for (record,) in session.execute(stmt):
        verdict = application_verdict(programme, record)
        counts[verdict.outcome] = counts.get(verdict.outcome, 0) + 1
        proposals.append({"subject": verdict.subject, "outcome": verdict.outcome})
        if not dry_run:
            record_decision(session, programme.id, instance.cycle_year, "recognition", verdict, run_id)
    return {"kind": "recognition", "counts": counts, "proposals": proposals}


@dataclass(frozen=True, slots=True)
class EnrolmentResult:
    """What ``enrol`` did: ``created`` or ``unchanged`` (the same recognition recorded before)."""

    status: str
    cluster_id: str
    recognised_on: dt.date
    valid_until: dt.date


def record_enrolment(
    session: Session,
    programme: Programme,
    region_code: str,
    cluster_name: str,
    recognised_on: dt.date,
    recorded_by: str = "",
) -> EnrolmentResult:
    """Record a recognition decided by the deciding body (idempotent): cluster, enrolment and its decision.

    The cluster is found by its id or by region and name, or created (id ``<region>_<n>``); the
    enrolment is valid for the programme's ``validity.years``. The same
    recognition recorded again changes nothing.

    Raises:
        ValueError: The cluster is already enrolled with another recognition date.
    """
    cluster = session.get(Cluster, cluster_name)
    if cluster is None or cluster.region_code != region_code:
        cluster = session.scalar(
            select(Cluster).where(Cluster.region_code == region_code, Cluster.name == cluster_name)
        )
    if cluster is None:
        taken = set(session.scalars(select(Cluster.id).where(Cluster.id.like(f"{region_code}_%"))))
        cluster_id = next(
            f"{region_code}_{n}" for n in range(1, len(taken) + 2) if f"{region_code}_{n}" not in taken
        )
        cluster = Cluster(id=cluster_id, name=cluster_name, region_code=region_code)
        session.add(cluster)
        session.flush()
    end = valid_until(recognised_on, programme.validity.years)
    existing = session.get(Enrolment, (programme.id, cluster.id))
    if existing is not None:
        if existing.recognised_on != recognised_on:
            raise ValueError(
                f"{cluster_name}已于{existing.recognised_on.isoformat()}认定为{programme.name}，认定日期不一致，请核对"
            )
        return EnrolmentResult("unchanged", cluster.id, existing.recognised_on, existing.valid_until)
    decided_by = programme.recognition.decided_by if programme.recognition else programme.authority
    session.add(
        Enrolment(
            programme_id=programme.id, cluster_id=cluster.id, recognised_on=recognised_on, valid_until=end,
            status="active", status_reason=f"{decided_by}认定",
        )
    )  # fmt: skip
    verdict = Verdict(
        subject=cluster.id,
        outcome="recognised",
        reason=f"{decided_by}认定{cluster_name}，自{recognised_on.isoformat()}起，有效期至{end.isoformat()}。",
        rule="review-calendar enrol (recorded decision)",
        clause=programme.recognition.clause if programme.recognition else programme.validity.clause,
        figures={"region_code": region_code, "cluster_name": cluster_name, "recognised_on": recognised_on.isoformat(),
                 "valid_until": end.isoformat(), "recorded_by": recorded_by},
    )  # fmt: skip
    record_decision(
        session, programme.id, recognised_on.year, "enrolment", verdict, f"enrol:{recorded_by or '-'}"
    )
    session.flush()
    return EnrolmentResult("created", cluster.id, recognised_on, end)
