"""Applying Programme D's rules (:mod:`review_calendar.decide.langfang`) to the review database.

Each claim of the year is proposed once (granted with its amount, or refused);
a reviewer of the city bureau answers it and only an approved grant is booked
in the subsidy ledger (:func:`book_grant`); the stage targets count the distinct firms
recognised so far: every earlier year's claims and the recognitions recorded by
the city (``review-calendar record recognition``), each firm once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from review_calendar.decide.effects import SUBSIDY_KEY, register
from review_calendar.decide.langfang import recognised_counts, stage_target_progress, subsidy_for_claim
from review_calendar.decide.proposals import record_proposal
from review_calendar.domain.labels import CRITERION_RESULTS
from review_calendar.domain.programmes import find_instance
from review_calendar.domain.verdicts import Verdict
from review_calendar.store.db import upsert
from review_calendar.store.facts import facts_of
from review_calendar.store.frames import load_instance_frame
from review_calendar.store.tables.review import Aggregate, Subsidy

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.tables.decisions import Decision

AGGREGATE_KEY = ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"]


def rule_of(programme: Programme, category: str) -> str:
    """Where a category's subsidy band is configured (also marks the ledger rows of that band)."""
    return f"programmes/{programme.id}.yaml: subsidy_rules[{category}]"


def _granted_once_before(session: Session, programme: Programme, firm: str, category: str, year: int) -> bool:
    """``firm`` had this category's grant in an earlier year (a once-only band: once per recognition)."""
    count = session.scalar(
        select(func.count()).select_from(Subsidy).where(
            Subsidy.programme_id == programme.id, Subsidy.beneficiary == firm, Subsidy.kind == "granted",
            Subsidy.cycle_year < year, Subsidy.rule == rule_of(programme, category),
        )
    )  # fmt: skip
    return bool(count)


def _verdict(programme: Programme, claim: Mapping[str, Any], granted_before: bool) -> Verdict:
    """The verdict on one claim (``granted`` with its amount, or ``refused``)."""
    category = claim["category"]
    eligible = float(claim.get("equipment_wan") or 0) + float(claim.get("software_wan") or 0)
    amount, why = subsidy_for_claim(
        programme.subsidy_rules, category, eligible, float(claim.get("claimed_wan") or 0), granted_before
    )
    figures = {"eligible_wan_yuan": eligible, "claimed_wan_yuan": claim.get("claimed_wan"),
               "amount_wan_yuan": amount, "region_code": claim["region_code"], "category": category}  # fmt: skip
    clause = next((s.clause for s in programme.subsidy_rules if s.category == category), "")
    outcome = "granted" if amount else "refused"
    return Verdict(claim["firm_name"], outcome, f"核定奖补 {amount:g} 万元：{why}", rule_of(programme, category),
                   clause, figures)  # fmt: skip


def recognitions_until(session: Session, programme: Programme, instance: ObligationInstance) -> list[tuple]:
    """(firm, category, year) of every claim from the programme's first year to the instance's, and every recorded recognition."""
    out: list[tuple[str, str, int]] = []
    for year in range(programme.first_year, instance.cycle_year + 1):
        try:
            past = find_instance(programme, year, instance.obligation_id, instance.period)
        except KeyError:
            continue
        frame = load_instance_frame(session, past, "subsidy_claims")
        out += (
            [(str(r["firm_name"]), str(r["category"]), year) for r in frame.to_dict("records")]
            if len(frame)
            else []
        )
    out += [(f.subject, f.outcome, f.cycle_year) for f in facts_of(session, programme.id, "recognition")]
    return out


def _record_stage_targets(
    session: Session, programme: Programme, instance: ObligationInstance, counts: dict[str, int], total: float
) -> list[dict[str, Any]]:
    """Store the year's stage-target progress (cumulative distinct counts) and the subsidy total."""
    progress = stage_target_progress(programme.stage_targets, instance.cycle_year, counts)
    base = {"programme_id": programme.id, "cycle_year": instance.cycle_year, "obligation_id": instance.obligation_id,
            "period": instance.period, "region_code": programme.region_code}  # fmt: skip
    rows = []
    for p in progress:
        mark = CRITERION_RESULTS["met" if p["met"] else "not_met"]
        stage = f"{p['stage_year']}年目标" + (
            f"，截至{instance.cycle_year}年" if p["stage_year"] != instance.cycle_year else ""
        )
        text = (
            f"{p['title']}（{stage}，累计认定企业数，每家计一次）：{p['actual']}/{p['minimum']:g}（{mark}）"
        )
        rows.append({**base, "metric": f"stage_{p['metric']}", "value": float(p["actual"]), "text": text})
    rows.append({**base, "metric": "subsidy_total_wan_yuan", "value": total, "text": "核定奖补合计（万元）"})
    upsert(session, Aggregate, rows, AGGREGATE_KEY)
    return progress


def book_grant(session: Session, programme: Programme, decision: Decision, outcome: str, by: str) -> None:
    """Book an approved grant in the subsidy ledger (the effect of a ``subsidy`` proposal; once per claim)."""
    amount = float(decision.figures.get("amount_wan_yuan") or 0)
    if outcome != "granted" or not amount:
        return
    grant = {"programme_id": programme.id, "beneficiary": decision.subject,
             "region_code": decision.figures.get("region_code"), "cycle_year": decision.cycle_year,
             "kind": "granted", "amount_wan_yuan": amount, "rule": decision.rule}  # fmt: skip
    upsert(session, Subsidy, [grant], SUBSIDY_KEY)


register("subsidy", book_grant)


def decide_subsidies(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool
) -> dict[str, Any]:
    """Subsidies per claim and the stage-target progress of the year (cumulative distinct firms).

    Args:
        session: Open session; the caller commits.
        programme: Programme with ``subsidy_rules`` and ``stage_targets``.
        instance: The claims instance.
        run_id: The deciding run, kept with each decision.
        dry_run: Compute the verdicts but record no proposal.

    Returns:
        ``{"kind": "subsidy", "claims": n, "total_wan_yuan": ..., "stage_targets": [...]}``.
    """
    year = instance.cycle_year
    frame = load_instance_frame(session, instance, "subsidy_claims")
    total = 0.0
    for claim in frame.to_dict("records") if len(frame) else []:
        once = _granted_once_before(session, programme, claim["firm_name"], claim["category"], year)
        verdict = _verdict(programme, claim, once)
        verdict.figures["state"] = (
            "proposed"  # booked once a reviewer of the city bureau approves (book_grant)
        )
        total += verdict.figures["amount_wan_yuan"]
        if not dry_run:
            record_proposal(session, programme, year, "subsidy", verdict, run_id)
    counts = recognised_counts(recognitions_until(session, programme, instance), year)
    progress = _record_stage_targets(session, programme, instance, counts, total)
    return {"kind": "subsidy", "claims": len(frame), "total_wan_yuan": total, "stage_targets": progress}
