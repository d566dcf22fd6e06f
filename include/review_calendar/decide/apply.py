"""Applying the decision rules of an instance to the review database.

:mod:`review_calendar.decide.rules` holds the pure rules; this module gathers
their inputs from our records (scores, submissions, reviewers' findings, the
subsidy ledger), records every verdict once with its rule and figures, and
(unless a dry run) applies it: enrolment status and validity, claw-backs,
grants.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from review_calendar.decide.rules import (
    ReReviewInput,
    Verdict,
    bulletin_ranking,
    evaluation_verdict,
    re_review_verdict,
    record_decision,
    stage_target_progress,
    subsidy_for_claim,
)
from review_calendar.store.db import upsert
from review_calendar.store.frames import load_instance_frame
from review_calendar.store.models import (
    Aggregate,
    Cluster,
    Enrolment,
    Evaluation,
    Finding,
    Submission,
    Subsidy,
)
from review_calendar.store.queries import find_instance

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

log = logging.getLogger(__name__)
ACTIVE = ("active", "extended")


def _enrolments_in_cycle(
    session: Session, programme: Programme, year: int
) -> list[tuple[Enrolment, Cluster]]:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stmt = (
        select(Enrolment, Cluster)
        .join(Cluster, Cluster.id == Enrolment.cluster_id)
        .where(
            Enrolment.programme_id == programme.id,
            Enrolment.recognised_on <= end,
            Enrolment.valid_until >= start,
        )
        .order_by(Cluster.region_code, Cluster.id)
    )
    return [(e, c) for e, c in session.execute(stmt) if e.status in ACTIVE]


def decide_evaluations(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool
) -> dict[str, Any]:
    """Evaluation outcome of every enrolled cluster (seed 000 五): continue, rectify, revoke + claw back."""
    scores = {
        e.cluster_id: e
        for e in session.scalars(
            select(Evaluation).where(
                Evaluation.programme_id == programme.id, Evaluation.cycle_year == instance.cycle_year
            )
        )
    }
    outcomes: dict[str, int] = {}
    for enrolment, cluster in _enrolments_in_cycle(session, programme, instance.cycle_year):
        granted = session.scalar(
            select(func.coalesce(func.sum(Subsidy.amount_wan_yuan), 0.0)).where(
                Subsidy.programme_id == programme.id,
                Subsidy.beneficiary == cluster.id,
                Subsidy.kind == "granted",
            )
        )
        score = scores.get(cluster.id)
        verdict = evaluation_verdict(
            programme,
            cluster.id,
            score.score if score else None,
            bool(score and score.violation),
            float(granted or 0),
        )
        verdict.figures.update(cluster=cluster.name, region_code=cluster.region_code)
        record_decision(session, programme.id, instance.cycle_year, "evaluation", verdict, run_id)
        outcomes[verdict.outcome] = outcomes.get(verdict.outcome, 0) + 1
        if dry_run:
            continue
        if verdict.outcome == "revoke":
            enrolment.status, enrolment.status_reason = "revoked", verdict.reason
            clawback = verdict.figures.get("clawback_wan_yuan") or 0.0
            if clawback:
                upsert(session, Subsidy, [{
                    "programme_id": programme.id, "beneficiary": cluster.id, "region_code": cluster.region_code,
                    "cycle_year": instance.cycle_year, "kind": "clawback", "amount_wan_yuan": clawback,
                    "rule": verdict.rule}], ["programme_id", "beneficiary", "cycle_year", "kind"])  # fmt: skip
                record_decision(session, programme.id, instance.cycle_year, "clawback",
                                Verdict(cluster.id, "clawback", f"追回补贴资金 {clawback:g} 万元", verdict.rule,
                                        verdict.clause, {"amount_wan_yuan": clawback}), run_id)  # fmt: skip
        elif verdict.outcome == "rectify":
            enrolment.status_reason = verdict.reason
    return {"kind": "evaluation", "outcomes": outcomes, "dry_run": dry_run}


def _rows_by_region(frame: Any) -> dict[str, dict[str, Any]]:
    if frame.empty:
        return {}
    return {r["region_code"]: r for r in frame.to_dict("records")}


def decide_re_reviews(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool
) -> dict[str, Any]:
    """Three-year re-review (seed 002 第十六条, 第十七条): extend by three years or revoke."""
    year = instance.cycle_year
    materials = _rows_by_region(load_instance_frame(session, instance, "rereview_materials"))
    annual_ids = [o.id for o in programme.obligations if o.dataset == "annual_info_table"]
    annual = find_instance(programme, year, annual_ids[0]) if annual_ids else None
    table_rows = _rows_by_region(load_instance_frame(session, annual)) if annual else {}
    history = {}
    for back in (2, 1):
        if annual is None:
            break
        try:
            past = find_instance(programme, year - back, annual.obligation_id)
        except KeyError:
            continue
        for code, row in _rows_by_region(load_instance_frame(session, past)).items():
            history.setdefault(code, []).append(row)
    on_time = {
        s.region_code: not s.is_late
        for s in session.scalars(
            select(Submission).where(
                Submission.programme_id == programme.id, Submission.cycle_year == year,
                Submission.obligation_id == (annual.obligation_id if annual else ""), Submission.status == "accepted",
            )
        )
    }  # fmt: skip
    outcomes: dict[str, int] = {}
    expiring = [
        (e, c)
        for e, c in session.execute(
            select(Enrolment, Cluster)
            .join(Cluster, Cluster.id == Enrolment.cluster_id)
            .where(Enrolment.programme_id == programme.id)
        )
        if e.valid_until.year == year and e.status in ACTIVE
    ]
    for enrolment, cluster in sorted(expiring, key=lambda ec: ec[1].id):
        m = materials.get(cluster.region_code, {})
        t = table_rows.get(cluster.region_code, {})
        past = history.get(cluster.region_code, [])
        outputs = [m.get(f"output_year{i}_yi") for i in (1, 2, 3)] if m else []
        indicators = {k: v for k, v in t.items() if k not in ("region_code",)}
        indicators["output_yi"] = outputs or (
            [*[p.get("output_yi") for p in past], t.get("output_yi")] if t else []
        )
        for key in ("output_growth", "sme_rd_growth"):
            indicators[key] = [*[p.get(key) for p in past], t.get(key)] if t else []
        findings = tuple(
            session.scalars(select(Finding.condition).where(
                Finding.programme_id == programme.id, Finding.cluster_id == cluster.id,
                Finding.cycle_year >= enrolment.recognised_on.year))
        ) + (("major_incident",) if t.get("major_incident") == "是" else ())  # fmt: skip
        data = ReReviewInput(
            cluster_id=cluster.id, applied=m.get("applies") == "是",
            targets_total=m.get("targets_total"), targets_completed=m.get("targets_completed"),
            indicators=indicators, annual_table_on_time=on_time.get(cluster.region_code, False), findings=findings,
        )  # fmt: skip
        verdict = re_review_verdict(programme, data, enrolment.valid_until)
        verdict.figures.update(cluster=cluster.name, region_code=cluster.region_code)
        record_decision(session, programme.id, year, "re_review", verdict, run_id)
        outcomes[verdict.outcome] = outcomes.get(verdict.outcome, 0) + 1
        if dry_run:
            continue
        if verdict.outcome == "extend":
            enrolment.valid_until = dt.date.fromisoformat(verdict.figures["new_valid_until"])
            enrolment.status, enrolment.status_reason = "extended", verdict.reason
        else:
            enrolment.status, enrolment.status_reason = "revoked", verdict.reason
    return {"kind": "re_review", "outcomes": outcomes, "expiring": len(expiring), "dry_run": dry_run}


def decide_subsidies(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool
) -> dict[str, Any]:
    """Langfang subsidies per claim (seed 004) and the year's stage-target progress."""
    frame = load_instance_frame(session, instance, "subsidy_claims")
    total, counts = 0.0, {"platforms": 0, "demonstration_firms": 0, "pilot_firms": 0}
    for r in frame.to_dict("records"):
        once = bool(session.scalar(select(func.count()).select_from(Subsidy).where(
            Subsidy.programme_id == programme.id, Subsidy.beneficiary == r["firm_name"], Subsidy.kind == "granted",
            Subsidy.cycle_year < instance.cycle_year)))  # fmt: skip
        eligible = float(r.get("equipment_wan") or 0) + float(r.get("software_wan") or 0)
        amount, why = subsidy_for_claim(
            programme.subsidy_rules, r["category"], eligible, float(r.get("claimed_wan") or 0), once
        )
        metric = {"平台": "platforms", "示范": "demonstration_firms", "试点": "pilot_firms"}.get(
            r["category"]
        )
        if metric:
            counts[metric] += 1
        verdict = Verdict(r["firm_name"], "granted" if amount else "refused", f"核定奖补 {amount:g} 万元：{why}",
                          f"programmes/{programme.id}.yaml: subsidy_rules[{r['category']}]",
                          next((s.clause for s in programme.subsidy_rules if s.category == r["category"]), ""),
                          {"eligible_wan_yuan": eligible, "claimed_wan_yuan": r.get("claimed_wan"), "amount_wan_yuan": amount,
                           "region_code": r["region_code"], "category": r["category"]})  # fmt: skip
        record_decision(session, programme.id, instance.cycle_year, "subsidy", verdict, run_id)
        total += amount
        if not dry_run and amount:
            upsert(session, Subsidy, [{"programme_id": programme.id, "beneficiary": r["firm_name"],
                                       "region_code": r["region_code"], "cycle_year": instance.cycle_year,
                                       "kind": "granted", "amount_wan_yuan": amount, "rule": verdict.rule}],
                   ["programme_id", "beneficiary", "cycle_year", "kind"])  # fmt: skip
    counts["pilot_or_demonstration_firms"] = counts["pilot_firms"] + counts["demonstration_firms"]
    progress = stage_target_progress(programme.stage_targets, instance.cycle_year, counts)
    base = {"programme_id": programme.id, "cycle_year": instance.cycle_year, "obligation_id": instance.obligation_id,
            "period": instance.period, "region_code": programme.region_code}  # fmt: skip
    upsert(session, Aggregate,
           [{**base, "metric": f"stage_{p['metric']}", "value": float(p["actual"]),
             "text": f"{p['title']}：{p['actual']}/{p['minimum']:g}（{'达标' if p['met'] else '未达标'}）"} for p in progress]
           + [{**base, "metric": "subsidy_total_wan_yuan", "value": total, "text": "核定奖补合计（万元）"}],
           ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"])  # fmt: skip
    return {"kind": "subsidy", "claims": len(frame), "total_wan_yuan": total, "stage_targets": progress}


def publish_bulletin(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str
) -> dict[str, Any]:
    """Quarterly bulletin ranking (seed 001: 每季度通报), bases without a counselling visit flagged."""
    frame = load_instance_frame(session, instance, "henan_quarterly")
    ranking = (
        bulletin_ranking(frame.to_dict("records"), programme.bulletin_indicators, key="region_code")
        if len(frame)
        else []
    )
    base = {"programme_id": programme.id, "cycle_year": instance.cycle_year, "obligation_id": instance.obligation_id,
            "period": instance.period}  # fmt: skip
    rows = [{**base, "region_code": r["region_code"], "metric": "bulletin_rank", "value": float(r["rank"]),
             "text": ("本季度无专家指导" if r["no_counselling_visit"] else "")} for r in ranking]  # fmt: skip
    upsert(
        session,
        Aggregate,
        rows,
        ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"],
    )
    return {
        "kind": "bulletin",
        "ranked": len(ranking),
        "no_visit": sum(r["no_counselling_visit"] for r in ranking),
    }
